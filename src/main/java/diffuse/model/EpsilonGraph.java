package diffuse.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import diffuse.sampling.Prediction;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A graph holding only the network f_θ(x, t, y) on plain variables (ε_θ for an ε model), used to
 * write the SavedModel that sampling and any other TensorFlow runtime load. Its inputs are named by
 * {@link GraphNames}; the signature's output, and the op behind it, are named after what the network
 * predicts ({@link GraphNames#outputName}).
 */
public final class EpsilonGraph implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Parameters params;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TFloat32> t;
  private final Placeholder<TInt32> y;
  private final Operand<TFloat32> eps;
  /** The signature's output: {@link #eps} itself for an ε model, else an identity of it named after the prediction. */
  private final Operand<TFloat32> output;
  private final String outputName;
  private final NoiseNet net;

  /** The graph of an ε-prediction network. */
  public EpsilonGraph(NoiseNet net) {
    this(net, Prediction.EPS);
  }

  /** The graph of a network that predicts {@code prediction}, which names the SavedModel's output. */
  public EpsilonGraph(NoiseNet net, Prediction prediction) {
    this.net = net;
    this.outputName = GraphNames.outputName(prediction);
    boolean built = false;
    try {
      Ops tf = Ops.create(graph);
      params = new Parameters(tf, "");
      x = tf.withName(GraphNames.INPUT_X).placeholder(TFloat32.class, Placeholder.shape(net.inputShape()));
      t = tf.withName(GraphNames.INPUT_T).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      y = tf.withName(GraphNames.INPUT_Y).placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      eps = net.build(tf, params::create, x, t, y);
      // the network names its output op "eps"; an x0 or v network's SavedModel shows its own name
      // (an identity: the numbers are the same)
      output = outputName.equals(GraphNames.OUTPUT_EPS) ? eps : tf.withName(outputName).identity(eps);
      built = true;
    } finally {
      if (!built) {
        graph.close(); // a failed construction leaves no native graph behind
      }
    }
  }

  /**
   * What the {@value GraphNames#METADATA_KEY} signature returns, so that the SavedModel alone is
   * enough to sample: the class names (index = label), the null label, what the output is, and ᾱ_t
   * of the training schedule, t = 0 … T−1.
   */
  public record Metadata(java.util.List<String> labels, int nullLabel, Prediction prediction, double[] alphaBar) {}

  private org.tensorflow.op.core.Constant<?>[] metadataOps;

  /** The metadata signature's constants, added to the graph once. */
  private Signature metadataSignature(Metadata m) {
    if (metadataOps == null) {
      Ops tf = Ops.create(graph).withSubScope("metadata");
      metadataOps = new org.tensorflow.op.core.Constant<?>[] {
          tf.withName("labels").constant(org.tensorflow.ndarray.NdArrays.vectorOfObjects(m.labels().toArray(new String[0]))),
          tf.withName("null_label").constant(m.nullLabel()),
          tf.withName("prediction").constant(m.prediction().name().toLowerCase(java.util.Locale.ROOT)),
          tf.withName("alpha_bar").constant(m.alphaBar())};
    }
    return Signature.builder().key(GraphNames.METADATA_KEY)
        .output("labels", metadataOps[0]).output("null_label", metadataOps[1])
        .output("prediction", metadataOps[2]).output("alpha_bar", metadataOps[3]).build();
  }

  /**
   * Writes a SavedModel (tag {@value GraphNames#TAG}, signature {@value GraphNames#SIGNATURE_KEY}:
   * inputs x, t, y, one output named after the prediction) whose variables hold {@code weights}.
   */
  public void exportSavedModel(Path dir, Map<String, float[]> weights) throws IOException {
    exportSavedModel(dir, weights, null);
  }

  /**
   * {@link #exportSavedModel(Path, Map)} with, when {@code metadata} is not null, the second signature
   * {@value GraphNames#METADATA_KEY} of constants.
   */
  public void exportSavedModel(Path dir, Map<String, float[]> weights, Metadata metadata) throws IOException {
    Signature meta = metadata == null ? null : metadataSignature(metadata);
    try (Session session = new Session(graph)) {
      params.load(session, weights);
      Signature signature =
          Signature.builder()
              .key(GraphNames.SIGNATURE_KEY)
              .input(GraphNames.INPUT_X, x)
              .input(GraphNames.INPUT_T, t)
              .input(GraphNames.INPUT_Y, y)
              .output(outputName, output)
              .build();
      SavedModelBundle.Exporter exporter = SavedModelBundle.exporter(dir.toString())
          .withTags(GraphNames.TAG)
          .withSession(session)
          .withSignature(signature);
      if (meta != null) {
        exporter.withSignature(meta);
      }
      exporter.export();
    }
  }

  /** ε for one batch with the given weights, computed in memory (no files); [B·H·W·C] like {@code xs}. */
  public float[] predict(Map<String, float[]> weights, float[] xs, int batch, float timestep, int[] labels) {
    return predictShaped(weights, xs, batch, timestep, labels).values();
  }

  /** ε and the shape of the tensor the graph returned (expected: [B, H, W, C]). */
  public SavedModelNetwork.Output predictShaped(Map<String, float[]> weights, float[] xs, int batch, float timestep,
      int[] labels) {
    float[] ts = new float[batch];
    java.util.Arrays.fill(ts, timestep);
    try (Session session = new Session(graph)) {
      params.load(session, weights);
      try (TFloat32 xT = TFloat32.tensorOf(SavedModelNetwork.batchShape(net, batch),
              org.tensorflow.ndarray.buffer.DataBuffers.of(xs, true, false));
          TFloat32 tT = TFloat32.vectorOf(ts);
          TInt32 yT = TInt32.vectorOf(labels);
          org.tensorflow.Result r = session.runner().feed(x, xT).feed(t, tT).feed(y, yT).fetch(eps).run()) {
        return SavedModelNetwork.Output.of((TFloat32) r.get(0), SavedModelNetwork.batchShape(net, batch));
      }
    }
  }

  @Override
  public void close() {
    graph.close();
  }
}
