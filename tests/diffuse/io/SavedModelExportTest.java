package diffuse.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import diffuse.TestData;
import diffuse.api.ModelException;
import diffuse.model.SavedModelNetwork;
import diffuse.model.TrainSettings;
import diffuse.model.UNet;
import diffuse.sampling.Prediction;
import diffuse.schedule.NoiseSchedule;
import diffuse.train.Trainer;
import diffuse.train.TrainingGraph;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The SavedModel as other runtimes see it: plain TensorFlow calls the exported signature by its
 * names and gets what diffuse computes; the TF Serving layout; the description in assets.extra and
 * the model card; and the shipped models, whose output is still named eps, load as before.
 */
class SavedModelExportTest {
  @TempDir static Path dir;
  /** A tiny v-prediction model trained for 3 steps, its run directory. */
  static Path run;

  static final int N = 5;

  @BeforeAll
  static void trainATinyVModel() throws IOException {
    TrainSettings settings = ModelStoreTest.SETTINGS.toBuilder().prediction(Prediction.V).logNormalNoise(-1.2, 1.2).build();
    ModelInfo info = ModelStoreTest.info(3);
    info = info.withTraining(info.training().withSettings(settings));
    run = dir.resolve("bars-v");
    try (TrainingGraph g = TrainingGraph.builder(new UNet(ModelStoreTest.NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      Trainer t = new Trainer(g, info.schedule().build(), ModelStoreTest.DATA, settings, 2);
      for (int s = 1; s <= 3; s++) {
        t.step(s);
      }
      ModelStore.save(run, info, ModelStoreTest.content(g), true);
    }
  }

  /** Noisy inputs, a time and a label per sample (the null label 2 included). */
  static float[] xs() {
    return ModelStoreTest.input(N);
  }

  static final float[] TS = {0f, 3.5f, 250f, 617.25f, 999f};
  static final int[] YS = {0, 1, 2, 1, 2};

  /** What diffuse's own loader computes for the run. */
  static float[] diffuseOutput(Path model) {
    ModelStore.StoredModel m = ModelStore.open(model);
    double[] ts = new double[N];
    for (int i = 0; i < N; i++) {
      ts[i] = TS[i];
    }
    try (SavedModelNetwork net = new SavedModelNetwork(m.savedModel(), m.info().network(), m.info().prediction(),
        TestData.oneThread(), false)) {
      return net.predict(xs(), ts, YS);
    }
  }

  /**
   * Plain TensorFlow Java: load with tag "serve", call signature "serving_default" with inputs x, t, y
   * by name, read output {@code output} by name. No diffuse class is in this path.
   */
  static float[] plainTensorFlow(Path savedModel, String output) {
    try (SavedModelBundle b = SavedModelBundle.loader(savedModel.toString()).withTags("serve")
        .withConfigProto(TestData.oneThread()).load();
        TFloat32 x = TFloat32.tensorOf(Shape.of(N, 8, 8, 1), DataBuffers.of(xs(), true, false));
        TFloat32 t = TFloat32.vectorOf(TS);
        TInt32 y = TInt32.vectorOf(YS);
        Result r = b.function("serving_default").call(Map.<String, Tensor>of("x", x, "t", t, "y", y))) {
      TFloat32 out = (TFloat32) r.get(output).orElseThrow(() -> new AssertionError("no output " + output
          + " in " + r.keySet()));
      assertEquals(Shape.of(N, 8, 8, 1), out.shape());
      float[] values = new float[N * 64];
      out.copyTo(DataBuffers.of(values, false, false));
      return values;
    }
  }

  @Test
  void plainTensorFlowCallsTheServingExportByNameAndGetsWhatDiffuseComputes() throws IOException {
    Path version = ModelStore.exportServing(run, dir.resolve("serving-a"), "bars");
    float[] want = diffuseOutput(run);
    assertArrayEquals(want, plainTensorFlow(version, "v"));
    // the signature names what the network predicts, and only that
    try (SavedModelBundle b = SavedModelBundle.load(version.toString(), "serve")) {
      Signature sig = b.function("serving_default").signature();
      assertEquals(Set.of("x", "t", "y"), sig.inputNames());
      assertEquals(Set.of("v"), sig.outputNames());
      assertEquals("v:0", sig.getOutputs().get("v").name, "the op behind the output is named like it");
    }
    // the diffuse layout's SavedModel is the same network
    Path exported = dir.resolve("exported-a");
    ModelStore.export(run, exported);
    assertArrayEquals(want, plainTensorFlow(ModelStore.open(exported).savedModel(), "v"));
    assertArrayEquals(want, diffuseOutput(exported));
  }

  @Test
  void theServingLayoutIsNameSlashStepHoldingTheSavedModelItsDescriptionAndCard() throws IOException {
    Path base = dir.resolve("serving-b");
    Path version = ModelStore.exportServing(run, base, "bars");
    assertEquals(base.resolve("bars").resolve("3"), version, "version = the training step");
    assertEquals(List.of("3"), list(base.resolve("bars")), "nothing but the version (no temporary directory)");
    assertEquals(List.of("assets.extra", "saved_model.pb", "variables"), list(version));
    assertEquals(List.of("MODEL_CARD.md", "diffuse.json", "model.json"), list(version.resolve("assets.extra")));
    assertEquals(List.of("variables.data-00000-of-00001", "variables.index"), list(version.resolve("variables")));

    // a version that exists is never replaced: a server may be serving it
    ModelException again = assertThrows(ModelException.class, () -> ModelStore.exportServing(run, base, "bars"));
    assertEquals(version + " exists already (version 3 = the training step); remove it, or export under another"
        + " --name", again.getMessage());
    assertEquals(List.of("3"), list(base.resolve("bars")));
    // the name becomes a directory and a URL segment
    for (String bad : new String[] {"a b", "../up", "", "-x", "a/b"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ModelStore.exportServing(run, base, bad), bad);
      assertTrue(e.getMessage().startsWith("--name must be"), e.getMessage());
    }
    // exporting into the run itself is refused
    assertThrows(IllegalArgumentException.class, () -> ModelStore.exportServing(run, run.getParent(),
        run.getFileName().toString()));
    // the SavedModel loads and computes as the run's
    assertArrayEquals(diffuseOutput(run), plainTensorFlow(version, "v"));
  }

  /** assets.extra/diffuse.json, read as plain JSON, says what model.json says and what the signature is. */
  @Test
  void theDescriptionInAssetsExtraMatchesModelJson() throws IOException {
    Path version = ModelStore.exportServing(run, dir.resolve("serving-c"), "bars");
    ModelInfo info = Json.read(run.resolve(ModelStore.MODEL_JSON), ModelInfo.class);
    JsonObject j = JsonParser.parseString(Files.readString(version.resolve("assets.extra/diffuse.json")))
        .getAsJsonObject();
    assertEquals(1, j.get("format").getAsInt());
    assertEquals("serve", j.get("tag").getAsString());
    assertEquals("serving_default", j.get("signature").getAsString());
    assertEquals("V", j.get("prediction").getAsString());
    assertEquals(info.prediction().name(), j.get("prediction").getAsString());
    assertEquals("v", j.get("output").getAsString());
    assertEquals(Set.of("v"), j.getAsJsonObject("outputs").keySet());
    assertEquals(List.of("x", "t", "y"), List.copyOf(j.getAsJsonObject("inputs").keySet()));
    JsonObject x = j.getAsJsonObject("inputs").getAsJsonObject("x");
    assertEquals("float32", x.get("dtype").getAsString());
    assertEquals("[-1,8,8,1]", x.get("shape").toString());
    assertTrue(x.get("meaning").getAsString().contains("[−1, 1]"), x.toString());
    assertEquals("float32", j.getAsJsonObject("inputs").getAsJsonObject("t").get("dtype").getAsString());
    assertEquals("int32", j.getAsJsonObject("inputs").getAsJsonObject("y").get("dtype").getAsString());
    assertEquals(info.labels(), strings(j.getAsJsonArray("labels")));
    assertEquals(info.nullLabel(), j.get("nullLabel").getAsInt());
    assertEquals("[" + info.architecture().height() + "," + info.architecture().width() + ","
        + info.architecture().channels() + "]", j.get("imageShape").toString());
    JsonObject s = j.getAsJsonObject("schedule");
    assertEquals(info.schedule().kind().name(), s.get("kind").getAsString());
    assertEquals(info.schedule().steps(), s.get("steps").getAsInt());
    NoiseSchedule schedule = info.schedule().build();
    JsonArray alphaBar = s.getAsJsonArray("alphaBar");
    assertEquals(info.schedule().steps(), alphaBar.size());
    for (int t = 0; t < alphaBar.size(); t++) {
      assertEquals(schedule.alphaCumprod(t), alphaBar.get(t).getAsDouble(), 0.0, "ᾱ at " + t);
    }
    assertEquals(info.data().dataset(), j.get("dataset").getAsString());
    assertEquals(info.training().step(), j.get("step").getAsLong());
    // every SavedModel diffuse writes carries it: the run's checkpoint and the diffuse-layout export
    assertEquals(Files.readString(version.resolve("assets.extra/diffuse.json")),
        Files.readString(ModelStore.open(run).savedModel().resolve("assets.extra/diffuse.json")));
  }

  @Test
  void theModelCardIsWrittenFromModelJson() throws IOException {
    Path exported = dir.resolve("exported-d");
    ModelStore.export(run, exported);
    String card = Files.readString(exported.resolve("MODEL_CARD.md"));
    ModelInfo info = ModelStore.open(run).info();
    for (String part : new String[] {"# exported-d: class-conditional diffusion model", "8×8 grayscale images",
        "conditioned on 2 classes", "trained on `bars`", "- Predicts: v = ", "linear, T = 1000",
        "0 = `h`, 1 = `v`; null label 2 = unconditional", "3 steps = 0.75 epochs, batch 16", "noise levels log-normal, ln σ ~ N(-1.2, 1.2²)",
        "\n" + info.training().commands().get(0) + "\n", "generate --model " + exported + " --prompt 'h'",
        "tag `serve` and call signature `serving_default`", "- output `v`: float32",
        "input `y`: int32 [B], the label of each sample, 2 for unconditional", "Not for faces",
        "## Licence of the data", "Unknown to diffuse"}) {
      assertTrue(card.contains(part), "card lacks '" + part + "':\n" + card);
    }
    Path version = ModelStore.exportServing(run, dir.resolve("serving-d"), "bars");
    String served = Files.readString(version.resolve("assets.extra/MODEL_CARD.md"));
    assertTrue(served.startsWith("# bars: "), served);
    assertTrue(served.contains("-e MODEL_NAME=bars tensorflow/serving"), served);
    assertTrue(served.contains("localhost:8501/v1/models/bars:predict"), served);
    assertFalse(served.contains("java -jar"), "diffuse does not read a TF Serving layout:\n" + served);
    assertEquals("MNIST (LeCun, Cortes & Burges): Creative Commons Attribution-Share Alike 3.0.",
        ModelCard.dataLicence("mnist", false));
    assertTrue(ModelCard.dataLicence("fashion-mnist", false).endsWith("MIT licence."));
  }

  /**
   * A SavedModel whose output names another prediction than model.json's is refused by name; an ε
   * and an x_0 network name their outputs eps and x0.
   */
  @Test
  void anOutputThatContradictsModelJsonIsRefusedAndEachPredictionNamesItsOutput() throws IOException {
    ModelStore.StoredModel m = ModelStore.open(run);
    ModelException e = assertThrows(ModelException.class, () -> new SavedModelNetwork(m.savedModel(),
        m.info().network(), Prediction.X0, TestData.oneThread(), false));
    assertEquals("the SavedModel in " + m.savedModel() + " outputs 'v' but model.json says the network predicts x0",
        e.getMessage());
    for (Prediction p : new Prediction[] {Prediction.EPS, Prediction.X0}) {
      ModelInfo info = ModelStoreTest.info(1);
      info = info.withTraining(info.training().withSettings(ModelStoreTest.SETTINGS.toBuilder().prediction(p).build()));
      Path d = dir.resolve("untrained-" + p);
      try (TrainingGraph g = TrainingGraph.builder(new UNet(ModelStoreTest.NET)).config(TestData.oneThread()).build()) {
        g.initialize(1);
        ModelStore.save(d, info, ModelStoreTest.content(g), false);
      }
      try (SavedModelNetwork net = new SavedModelNetwork(ModelStore.open(d).savedModel(), info.network(), p,
          TestData.oneThread(), false)) {
        assertEquals(p == Prediction.EPS ? "eps" : "x0", net.outputKey());
      }
    }
  }

  /**
   * Models exported before the output was named after the prediction name it {@code eps} whatever they
   * predict. {@code tests/fixtures/v-model-output-named-eps} is such an export (a tiny v-predicting network
   * trained two steps and exported by commit b9dc9fb, the one before the renaming; its training command is in its model.json): it loads,
   * is read as the v model its model.json says it is, and computes bit for bit what fetching its "eps" op
   * computes, which is how such models were read before the output was looked up through the signature.
   */
  @Test
  void aModelWhoseOutputIsNamedEpsLoadsAndComputesAsBefore() {
    Path dir = Path.of("tests", "fixtures", "v-model-output-named-eps");
    ModelStore.StoredModel m = ModelStore.open(dir);
    assertEquals(Prediction.V, m.info().prediction());
    int size = m.info().architecture().height() * m.info().architecture().width();
    Random rng = new Random(11);
    float[] x = new float[3 * size];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    float[] t = {999f, 420.5f, 3f};
    int[] y = {1, m.info().nullLabel(), 7};
    float[] before = new float[x.length];
    try (SavedModelBundle b = SavedModelBundle.loader(m.savedModel().toString()).withTags("serve")
        .withConfigProto(TestData.oneThread()).load();
        TFloat32 xT = TFloat32.tensorOf(Shape.of(3, m.info().architecture().height(), m.info().architecture().width(), 1),
            DataBuffers.of(x, true, false));
        TFloat32 tT = TFloat32.vectorOf(t);
        TInt32 yT = TInt32.vectorOf(y);
        Result r = b.session().runner().feed("x", xT).feed("t", tT).feed("y", yT).fetch("eps").run()) {
      assertEquals(Set.of("eps"), b.function("serving_default").signature().outputNames());
      ((TFloat32) r.get(0)).copyTo(DataBuffers.of(before, false, false));
    }
    try (SavedModelNetwork net = new SavedModelNetwork(m.savedModel(), m.info().network(), m.info().prediction(),
        TestData.oneThread(), false)) {
      assertEquals("eps", net.outputKey());
      assertArrayEquals(before, net.predict(x, new double[] {t[0], t[1], t[2]}, y));
    }
  }

  static List<String> list(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  static List<String> strings(JsonArray a) {
    return a.asList().stream().map(e -> e.getAsString()).toList();
  }

  /**
   * The TF Serving export is enough to sample: a sampler fed by plain TensorFlow calling its
   * signature, with the schedule, prediction and null label read from its assets.extra/diffuse.json
   * alone, draws the pixels the model directory draws.
   */
  @Test
  void theServingExportAloneSamplesTheModelDirectorysPixels() throws IOException {
    Path version = ModelStore.exportServing(run, dir.resolve("serving-e"), "bars");
    JsonObject j = JsonParser.parseString(Files.readString(version.resolve("assets.extra/diffuse.json")))
        .getAsJsonObject();
    NoiseSchedule schedule = NoiseSchedule.of(diffuse.schedule.ScheduleKind.valueOf(
        j.getAsJsonObject("schedule").get("kind").getAsString()), j.getAsJsonObject("schedule").get("steps").getAsInt());
    Prediction prediction = Prediction.valueOf(j.get("prediction").getAsString());
    int nullLabel = j.get("nullLabel").getAsInt();
    String output = j.get("output").getAsString();
    diffuse.sampling.SamplerSpec spec = new diffuse.sampling.SamplerSpec(diffuse.sampling.SamplerKind.DPMPP_2M, 4, 0,
        true);
    float[] fromServing;
    try (SavedModelBundle b = SavedModelBundle.loader(version.toString()).withTags(j.get("tag").getAsString())
        .withConfigProto(TestData.oneThread()).load()) {
      diffuse.sampling.Network signature = (x, t, y) -> {
        float[] tf = new float[t.length];
        for (int i = 0; i < t.length; i++) {
          tf[i] = (float) t[i];
        }
        try (TFloat32 xT = TFloat32.tensorOf(Shape.of(y.length, 8, 8, 1), DataBuffers.of(x, true, false));
            TFloat32 tT = TFloat32.vectorOf(tf);
            TInt32 yT = TInt32.vectorOf(y);
            Result r = b.function(j.get("signature").getAsString()).call(Map.<String, Tensor>of("x", xT, "t", tT, "y", yT))) {
          float[] out = new float[x.length];
          ((TFloat32) r.get(output).orElseThrow()).copyTo(DataBuffers.of(out, false, false));
          return out;
        }
      };
      fromServing = new diffuse.sampling.Generator(prediction.denoiser(signature, schedule), schedule, nullLabel, 64)
          .sample(1, 2.0, spec, 3, 0, 2, diffuse.api.Listener.NONE);
    }
    ModelStore.StoredModel m = ModelStore.open(run);
    float[] fromDir;
    try (SavedModelNetwork net = new SavedModelNetwork(m.savedModel(), m.info().network(), m.info().prediction(),
        TestData.oneThread(), false)) {
      NoiseSchedule s = m.info().schedule().build();
      fromDir = new diffuse.sampling.Generator(m.info().prediction().denoiser(net, s), s, m.info().nullLabel(), 64)
          .sample(1, 2.0, spec, 3, 0, 2, diffuse.api.Listener.NONE);
    }
    assertArrayEquals(fromDir, fromServing);
  }

  /**
   * The second signature, metadata: no inputs, and as constants the labels, the null label, what the
   * output is and ᾱ_t, read with plain TensorFlow; model.json rides along in assets.extra.
   */
  @Test
  void theMetadataSignatureCarriesWhatSamplingNeedsBesidesTheNetwork() throws IOException {
    Path version = ModelStore.exportServing(run, dir.resolve("serving-f"), "bars");
    ModelInfo info = Json.read(run.resolve(ModelStore.MODEL_JSON), ModelInfo.class);
    try (SavedModelBundle b = SavedModelBundle.load(version.toString(), "serve");
        Result r = b.function("metadata").call(Map.<String, Tensor>of())) {
      assertEquals(Set.of(), b.function("metadata").signature().inputNames());
      org.tensorflow.types.TString labels = (org.tensorflow.types.TString) r.get("labels").orElseThrow();
      List<String> got = new java.util.ArrayList<>();
      labels.scalars().forEach(v -> got.add(v.getObject()));
      assertEquals(info.labels(), got);
      assertEquals(info.nullLabel(), ((TInt32) r.get("null_label").orElseThrow()).getInt());
      assertEquals("v", ((org.tensorflow.types.TString) r.get("prediction").orElseThrow()).getObject());
      org.tensorflow.types.TFloat64 ab = (org.tensorflow.types.TFloat64) r.get("alpha_bar").orElseThrow();
      NoiseSchedule s = info.schedule().build();
      assertEquals(Shape.of(s.numSteps()), ab.shape());
      for (int t = 0; t < s.numSteps(); t++) {
        assertEquals(s.alphaCumprod(t), ab.getDouble(t), 0.0, "ᾱ at " + t);
      }
    }
    ModelInfo beside = Json.read(version.resolve("assets.extra/model.json"), ModelInfo.class);
    assertEquals(info.labels(), beside.labels());
    assertEquals(info.schedule(), beside.schedule());
  }
}
