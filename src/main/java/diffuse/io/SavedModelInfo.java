package diffuse.io;

import diffuse.model.GraphNames;
import diffuse.model.NoiseNet;
import diffuse.schedule.NoiseSchedule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code assets.extra/diffuse.json} inside every SavedModel diffuse writes says: enough to use
 * the SavedModel from any TensorFlow runtime without model.json or diffuse — the signature and the
 * conventions of its inputs and output, what the network predicts, the labels and the null label,
 * and the noise schedule with its ᾱ table. {@code assets.extra} is where TensorFlow Serving keeps
 * files that belong to a model version but that loading ignores (docs/model-format.md).
 *
 * @param format version of this file's layout ({@link #FORMAT})
 * @param tag the SavedModel tag to load
 * @param signature the signature key
 * @param inputs the signature's inputs by key: x, t, y
 * @param output the signature's one output key: eps, x0 or v, what the network predicts
 * @param outputs the output's description, by key
 * @param prediction what the network predicts (EPS, X0 or V: model.json's {@code prediction})
 * @param labels class names, index = the label y
 * @param nullLabel the y meaning "no class" (unconditional; = labels.size())
 * @param imageShape [height, width, channels] of one image, or null for a two-pixel toy model
 * @param schedule the noise schedule the network was trained with
 * @param dataset what it was trained on (model.json's data.dataset)
 * @param step optimisation steps the weights have had
 */
public record SavedModelInfo(
    int format,
    String tag,
    String signature,
    Map<String, TensorSpec> inputs,
    String output,
    Map<String, TensorSpec> outputs,
    String prediction,
    List<String> labels,
    int nullLabel,
    List<Integer> imageShape,
    Schedule schedule,
    String dataset,
    long step) {

  public static final int FORMAT = 1;
  /** Where the file lies inside the SavedModel directory. */
  public static final String PATH = "assets.extra/diffuse.json";

  /**
   * One tensor of the signature.
   *
   * @param dtype TensorFlow's name of the element type
   * @param shape dimensions, −1 where any size goes (the batch)
   * @param meaning what the values are, in words
   */
  public record TensorSpec(String dtype, List<Long> shape, String meaning) {}

  /**
   * The noise schedule: x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε.
   *
   * @param kind LINEAR (β from 1e-4 to 0.02, Ho et al. 2020) or COSINE (Nichol &amp; Dhariwal 2021)
   * @param steps T, the number of training timesteps
   * @param alphaBar ᾱ_t for t = 0 … T−1
   * @param continuousTime how ᾱ is read at a t between two whole timesteps
   */
  public record Schedule(String kind, int steps, double[] alphaBar, String continuousTime) {}

  /** The description of {@code info}'s network and schedule. */
  public static SavedModelInfo of(ModelInfo info) {
    NoiseNet net = info.network();
    List<Long> batch = new ArrayList<>();
    for (long d : net.inputShape().asArray()) {
      batch.add(d);
    }
    int t = info.schedule().steps();
    String image = info.isToy() ? "noisy points, one per row" : "noisy images, NHWC";
    Map<String, TensorSpec> inputs = new LinkedHashMap<>();
    inputs.put(GraphNames.INPUT_X, new TensorSpec("float32", batch, image + ": x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, where clean"
        + " data x_0 is in [−1, 1] (pixel/127.5 − 1) and ε ~ N(0, I); sampling starts from pure noise x ~ N(0, I)"));
    inputs.put(GraphNames.INPUT_T, new TensorSpec("float32", List.of(-1L), "one timestep per sample: the"
        + " continuous training time in [0, " + (t - 1) + "], 0 = clean, " + (t - 1) + " = almost pure noise"
        + " (whole numbers are the training timesteps; fractions in between are allowed)"));
    inputs.put(GraphNames.INPUT_Y, new TensorSpec("int32", List.of(-1L), "one class label per sample: the index"
        + " into labels, or nullLabel = " + info.nullLabel() + " for an unconditional prediction (classifier-free"
        + " guidance with scale s: out = out(y = null) + s·(out(y) − out(y = null)))"));
    String key = GraphNames.outputName(info.prediction());
    String what = switch (info.prediction()) {
      case EPS -> "the noise ε in x_t (x_0 = (x_t − √(1−ᾱ_t)·ε)/√ᾱ_t)";
      case X0 -> "the clean sample x_0 (ε = (x_t − √ᾱ_t·x_0)/√(1−ᾱ_t))";
      case V -> "the velocity v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0 (Salimans & Ho 2022; ε = √(1−ᾱ_t)·x_t + √ᾱ_t·v,"
          + " x_0 = √ᾱ_t·x_t − √(1−ᾱ_t)·v)";
    };
    Map<String, TensorSpec> outputs = Map.of(key, new TensorSpec("float32", batch, what + ", same shape as x"));
    List<Integer> shape = info.isToy() ? null
        : List.of(info.architecture().height(), info.architecture().width(), info.architecture().channels());
    NoiseSchedule s = info.schedule().build();
    Schedule schedule = new Schedule(info.schedule().kind().name(), t, s.alphasCumprod(),
        "between whole timesteps, log σ (σ = √((1−ᾱ)/ᾱ)) is linear in t and ᾱ = 1/(1 + σ²)");
    return new SavedModelInfo(FORMAT, GraphNames.TAG, GraphNames.SIGNATURE_KEY, inputs, key, outputs,
        info.prediction().name(), List.copyOf(info.labels()), info.nullLabel(), shape, schedule,
        info.data() == null ? null : info.data().dataset(), info.training().step());
  }

  /** Writes the description of {@code info} to {@link #PATH} inside the SavedModel directory {@code savedModel}. */
  public static void write(Path savedModel, ModelInfo info) throws IOException {
    AtomicFiles.write(savedModel.resolve(PATH), Json.toJson(of(info)).getBytes(StandardCharsets.UTF_8));
  }

  /** Reads {@link #PATH} of a SavedModel directory; a missing or malformed file is a ModelException naming it. */
  public static SavedModelInfo read(Path savedModel) {
    return Json.read(savedModel.resolve(PATH), SavedModelInfo.class);
  }
}
