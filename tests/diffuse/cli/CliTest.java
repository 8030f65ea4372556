package diffuse.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.TestCli;
import diffuse.TestCli.Run;
import diffuse.io.Json;
import diffuse.io.ModelStore;
import diffuse.io.Sidecar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end, on a tiny model trained inside the test. */
class CliTest {
  @TempDir static Path shared;
  static Path model;

  static Run run(String... args) {
    return TestCli.run(args);
  }

  /**
   * A PNG's size and pixel values: what must not change (its bytes do, with the settings it carries,
   * which name the command that wrote it).
   */
  static int[] pixels(Path png) throws IOException {
    java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
    int[] values = img.getRaster().getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
    int[] out = new int[values.length + 2];
    out[0] = img.getWidth();
    out[1] = img.getHeight();
    System.arraycopy(values, 0, out, 2, values.length);
    return out;
  }

  @BeforeAll
  static void trainTinyModel() throws IOException {
    Path data = TestData.writeBarsFolder(shared.resolve("bars"), 64, 8);
    model = shared.resolve("run");
    Run r = run("train", "--dataset", "folder:" + data, "--image-size", "8", "--widths", "8,16",
        "--embed-dim", "16", "--groups", "4", "--batch-size", "16", "--epochs", "2", "--timesteps", "50",
        "--warmup", "2", "--checkpoint-every", "3", "--device", "cpu", "--out", model.toString());
    assertEquals(0, r.code(), r.err());
  }

  /** A user's own default scale (meant for generate) never becomes a model's recorded one on export. */
  @Test
  void exportRecordsATypedScaleNotTheUsersDefault() {
    java.util.function.Function<String[], Integer> export = args -> {
      picocli.CommandLine cl = new picocli.CommandLine(new ExportCommand());
      cl.setDefaultValueProvider(new UserDefaults(java.util.Map.of("DIFFUSE_GUIDANCE", "9"), null));
      return cl.execute(args);
    };
    Path plain = shared.resolve("export-user-default");
    assertEquals(0, export.apply(new String[] {model.toString(), "--out", plain.toString()}));
    assertEquals(diffuse.api.Defaults.GUIDANCE, diffuse.io.ModelStore.open(plain).info().defaultGuidance());
    assertEquals(0, export.apply(new String[] {model.toString(), "--out", shared.resolve("export-serving").toString(),
        "--layout", "tf-serving"}), "no --guidance was typed, so none is refused");
    Path typed = shared.resolve("export-typed");
    assertEquals(0, export.apply(new String[] {model.toString(), "--out", typed.toString(), "--guidance", "2.5"}));
    assertEquals(2.5, diffuse.io.ModelStore.open(typed).info().defaultGuidance());
  }

  @Test
  void trainLeavesAModelThatInfoDescribesAndResumeContinues() {
    Run info = run("info", model.toString());
    assertEquals(0, info.code(), info.err());
    assertTrue(info.out().contains("labels       h, v (null label = 2)"), info.out());
    assertTrue(info.out().contains("8 steps = 2.00 epochs"), info.out());
    assertTrue(info.out().contains("folder:"), info.out());
    assertTrue(info.out().contains("sampling     guidance s = 1.5 unless told (the library's default"), info.out());
    // a new run's defaults are the shipped models' recipe: v, AdaGN, EDM's log-normal noise levels
    assertTrue(info.out().contains("objective    predicts v, loss mean squared error"), info.out());
    assertTrue(info.out().contains(", AdaGN (embedding scales"), info.out());
    assertTrue(info.out().contains("noise levels log-normal, ln σ ~ N(-1.2, 1.2²)"), info.out());
    Run resume = run("train", "--resume", model.toString(), "--epochs", "2", "--device", "cpu");
    assertEquals(0, resume.code(), resume.err());
    assertTrue(resume.err().contains("nothing to do"), resume.err());
  }

  /**
   * Autoguidance by the model itself changes nothing (D_guide + s·(D − D_guide) = D): the samples
   * equal the plain conditional ones pixel for pixel; the sidecar records the guide. A guide with
   * other labels, or none at all, is refused naming the option.
   */
  @Test
  void autoguidanceByTheModelItselfDrawsThePlainConditionalSamplesAndIsRecorded() throws IOException {
    Path auto = shared.resolve("auto/guided"), plain = shared.resolve("auto/plain");
    Run a = run("generate", "--model", model.toString(), "--prompt", "h", "-n", "2", "--steps", "4", "--guidance", "3",
        "--guide-model", model.toString(), "--seed", "9", "--device", "cpu", "--out-dir", auto.toString());
    assertEquals(0, a.code(), a.err());
    Run p = run("generate", "--model", model.toString(), "--prompt", "h", "-n", "2", "--steps", "4", "--guidance", "1",
        "--seed", "9", "--device", "cpu", "--out-dir", plain.toString());
    assertEquals(0, p.code(), p.err());
    for (int i = 0; i < 2; i++) {
      assertArrayEquals(pixels(plain.resolve(String.format("h-1-%04d.png", i))),
          pixels(auto.resolve(String.format("h-3-%04d.png", i))), "sample " + i);
    }
    Sidecar s = Json.read(auto.resolve("h-3-0000.json"), Sidecar.class);
    assertEquals(model.toString(), s.guidance().guideModel());
    assertEquals(ModelStore.open(model).info().checkpoint(), s.guidance().guideCheckpoint());
    assertEquals(null, s.guidance().guideCfg());
    // a guide that knows other labels cannot guide
    Path other = shared.resolve("auto/other-labels");
    diffuse.TestData.copyTree(model, other);
    Path json = other.resolve("model.json");
    Files.writeString(json, Files.readString(json).replace("\"h\"", "\"x\""));
    Run bad = run("generate", "--model", model.toString(), "--prompt", "h", "-n", "1", "--steps", "2",
        "--guide-model", other.toString(), "--device", "cpu", "--out", shared.resolve("auto/bad.png").toString());
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("--guide-model") && bad.err().contains("labels"), bad.err());
    Run mixed = run("generate", "--model", model.toString(), "--prompt", "h", "--guide-model", model.toString(),
        "--rescale", "0.5", "--device", "cpu", "--out", shared.resolve("auto/mixed.png").toString());
    assertEquals(2, mixed.code(), mixed.err());
    assertTrue(mixed.err().contains("--guide-model"), mixed.err());
    Run cfgAlone = run("generate", "--model", model.toString(), "--prompt", "h", "--guide-cfg", "2",
        "--device", "cpu", "--out", shared.resolve("auto/cfg.png").toString());
    assertEquals(2, cfgAlone.code(), cfgAlone.err());
    assertTrue(cfgAlone.err().contains("--guide-cfg"), cfgAlone.err());
  }


  @Test
  void generateWritesGridAndSidecarThatReproduceTheImages() throws IOException {
    Path out = shared.resolve("gen/h.png");
    Run r = run("generate", "--model", model.toString(), "--prompt", "an h", "-n", "3", "--steps", "5",
        "--guidance", "2.5", "--seed", "4", "--device", "cpu", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.size(out) > 100);
    Sidecar s = Json.read(shared.resolve("gen/h.json"), Sidecar.class);
    assertEquals("dpm++2m", s.sampler(), "the default sampler");
    assertEquals("trailing", s.spacing());
    assertEquals(5, s.steps());
    assertEquals(4, s.seed());
    assertEquals(0, s.rows().get(0).label());
    assertEquals(2.5, s.rows().get(0).guidance());
    // the sidecar's settings draw the same pixels again
    Path again = shared.resolve("gen/again.png");
    List<String> args = new ArrayList<>(List.of("generate", "--model", s.model(), "--prompt", s.rows().get(0).prompt(),
        "-n", "" + s.rows().get(0).count(), "--sampler", s.sampler(), "--steps", "" + s.steps(),
        "--spacing", s.spacing(), "--guidance", "" + s.rows().get(0).guidance(), "--seed", "" + s.seed(),
        "--device", "cpu", "--out", again.toString()));
    args.add(s.clip() ? "--clip" : "--no-clip");
    assertEquals(null, s.eta(), "dpm++2m has no η");
    assertEquals(0, run(args.toArray(String[]::new)).code());
    assertArrayEquals(pixels(out), pixels(again));
    // another seed, other pixels
    Path other = shared.resolve("gen/other.png");
    assertEquals(0, run("generate", "--model", model.toString(), "--prompt", "h", "-n", "3", "--steps", "5",
        "--guidance", "2.5", "--seed", "5", "--device", "cpu", "--out", other.toString()).code());
    assertFalse(java.util.Arrays.equals(pixels(out), pixels(other)));
  }

  @Test
  void aVPredictionModelWithMinSnrRecordsItselfAndSamplesWithNoFlags() throws IOException {
    Path data = shared.resolve("bars");
    Path vModel = shared.resolve("v-run");
    Run r = run("train", "--dataset", "folder:" + data, "--image-size", "8", "--widths", "8,16",
        "--embed-dim", "16", "--groups", "4", "--batch-size", "16", "--epochs", "1", "--timesteps", "50",
        "--warmup", "2", "--prediction", "v", "--min-snr-gamma", "5", "--no-ada-gn", "--uniform-t", "--device", "cpu",
        "--out", vModel.toString());
    assertEquals(0, r.code(), r.err());
    String json = Files.readString(vModel.resolve("model.json"));
    assertTrue(json.contains("\"prediction\": \"V\"") || json.contains("\"prediction\": \"v\""), json);
    assertTrue(json.contains("\"minSnrGamma\": 5.0"), json);
    Run info = run("info", vModel.toString());
    assertTrue(info.out().contains("objective    predicts v, loss Min-SNR-γ weighted, γ = 5.0"), info.out());
    // the defaults' opt-outs: the bias in place of AdaGN, t uniform
    assertTrue(info.out().contains("GroupNorm 4 groups\n"), info.out());
    assertTrue(info.out().contains("noise levels t uniform over 0 … T−1"), info.out());
    Path out = shared.resolve("v-gen/h.png");
    Run gen = run("generate", "--model", vModel.toString(), "--prompt", "h", "-n", "2", "--steps", "4",
        "--device", "cpu", "--out", out.toString());
    assertEquals(0, gen.code(), gen.err());
    assertTrue(Files.size(out) > 100);
    // resuming keeps the objective: asking for another one is refused
    Run other = run("train", "--resume", vModel.toString(), "--prediction", "eps", "--epochs", "2", "--device", "cpu");
    assertEquals(2, other.code(), other.err());
    assertTrue(other.err().contains("--prediction eps differs from the run's v"), other.err());
    Run logNormal = run("train", "--resume", vModel.toString(), "--p-mean", "-1.2", "--epochs", "2", "--device", "cpu");
    assertEquals(2, logNormal.code(), logNormal.err());
    assertTrue(logNormal.err().contains("--p-mean -1.2 differs from the run's none (t uniform)"), logNormal.err());
    Run uniform = run("train", "--resume", model.toString(), "--uniform-t", "--epochs", "2", "--device", "cpu");
    assertEquals(2, uniform.code(), uniform.err());
    assertTrue(uniform.err().contains("--uniform-t true differs from the run's false"), uniform.err());
    Run both = run("train", "--dataset", "folder:" + data, "--uniform-t", "--p-std", "1", "--out",
        shared.resolve("both").toString());
    assertEquals(2, both.code(), both.err());
    assertTrue(both.err().contains("--uniform-t and log-normal noise levels"), both.err());
  }

  @Test
  void anX0ModelWithCosineDecayRecordsBothAndSamplesWithNoFlags() throws IOException {
    Path data = shared.resolve("bars");
    Path x0Model = shared.resolve("x0-run");
    Run r = run("train", "--dataset", "folder:" + data, "--image-size", "8", "--widths", "8,16",
        "--embed-dim", "16", "--groups", "4", "--batch-size", "16", "--epochs", "2", "--timesteps", "50",
        "--warmup", "2", "--prediction", "x0", "--cosine-decay", "--extra-ema", "0.9999", "--checkpoint-every", "3", "--snapshot-every", "4", "--device", "cpu",
        "--out", x0Model.toString());
    assertEquals(0, r.code(), r.err());
    String json = Files.readString(x0Model.resolve("model.json"));
    String ckpt = com.google.gson.JsonParser.parseString(json).getAsJsonObject().get("checkpoint").getAsString();
    assertTrue(Files.isRegularFile(x0Model.resolve(ckpt).resolve("saved_model-ema0.9999/saved_model.pb")),
        "the extra average is exported with the checkpoint");
    // snapshots stay while checkpoints replace each other: steps 4 and 8, each average, though checkpoints
    // fall every 3 steps (a snapshot step saves one too)
    for (String snap : List.of("step-00000004", "step-00000008", "step-00000004-ema0.9999", "step-00000008-ema0.9999")) {
      assertTrue(Files.isRegularFile(x0Model.resolve("snapshots").resolve(snap).resolve("model.json")), snap + r.err());
    }
    assertEquals(4, ModelStore.open(x0Model.resolve("snapshots/step-00000004")).info().training().step());
    assertEquals(0.9999, ModelStore.open(x0Model.resolve("snapshots/step-00000008-ema0.9999")).info().training().settings()
        .emaDecay());
    assertTrue(json.contains("\"prediction\": \"X0\""), json);
    assertTrue(json.matches("(?s).*\"lrDecaySteps\": \\d+.*"), json);
    // the interval is recorded: a snapshot a crash lost after its checkpoint comes back on a plain --resume
    assertTrue(json.contains("\"snapshotEvery\": 4"), json);
    diffuse.io.AtomicFiles.deleteTree(x0Model.resolve("snapshots/step-00000008"));
    Run again = run("train", "--resume", x0Model.toString(), "--epochs", "2", "--device", "cpu");
    assertEquals(0, again.code(), again.err());
    assertTrue((again.out() + again.err()).contains("wrote the snapshot of step 8"), again.out() + again.err());
    assertEquals(8, ModelStore.open(x0Model.resolve("snapshots/step-00000008")).info().training().step());
    Run info = run("info", x0Model.toString());
    assertTrue(info.out().contains("objective    predicts x0, loss mean squared error"), info.out());
    assertTrue(info.out().contains("lr decay     cosine to 0.00010 at step 8"), info.out());
    assertTrue(info.out().contains("averages     EMA 0.999 (the model), and [0.9999] exported beside it"), info.out());
    Path out = shared.resolve("x0-gen/h.png");
    Run gen = run("generate", "--model", x0Model.toString(), "--prompt", "h", "-n", "2", "--steps", "4",
        "--sampler", "dpm++2m", "--device", "cpu", "--out", out.toString());
    assertEquals(0, gen.code(), gen.err());
    assertTrue(Files.size(out) > 100);
    Run flat = run("train", "--resume", x0Model.toString(), "--no-cosine-decay", "--epochs", "3", "--device", "cpu");
    assertEquals(2, flat.code(), flat.err());
    assertTrue(flat.err().contains("--cosine-decay false differs from the run's true"), flat.err());
    Run otherEma = run("train", "--resume", x0Model.toString(), "--extra-ema", "0.8", "--epochs", "3", "--device", "cpu");
    assertEquals(2, otherEma.code(), otherEma.err());
    assertTrue(otherEma.err().contains("--extra-ema"), otherEma.err());
    // the extra average is exported by its decay, as a model of its own; one longer than the main one differs
    // from it from the first steps on (each average warms up in proportion to its length)
    Path fast = shared.resolve("x0-ema0.9999"), own = shared.resolve("x0-own");
    assertEquals(0, run("export", x0Model.toString(), "--ema", "0.9999", "--out", fast.toString()).code());
    assertEquals(0, run("export", x0Model.toString(), "--out", own.toString()).code());
    assertTrue(Files.readString(fast.resolve("model.json")).contains("\"emaDecay\": 0.9999,"));
    var wFast = ModelStore.readWeights(ModelStore.open(fast));
    var wOwn = ModelStore.readWeights(ModelStore.open(own));
    assertTrue(wFast.keySet().stream().anyMatch(k -> !java.util.Arrays.equals(wFast.get(k), wOwn.get(k))),
        "another average, other weights");
    Run noSuch = run("export", x0Model.toString(), "--ema", "0.7", "--out", shared.resolve("x0-ema0.7").toString());
    assertEquals(2, noSuch.code(), noSuch.err());
    assertTrue(noSuch.err().contains("--ema 0.7 is not an average of"), noSuch.err());
    // the main average exported alone holds no other: its model.json says so, and asking it for one is named
    Run fromExport = run("export", own.toString(), "--ema", "0.9999", "--out", shared.resolve("x0-again").toString());
    assertEquals(2, fromExport.code(), fromExport.err());
    assertTrue(fromExport.err().contains("--ema 0.9999 is not an average of"), fromExport.err());
    Run tooShort = run("train", "--dataset", "folder:" + data, "--image-size", "8", "--widths", "8,16",
        "--embed-dim", "16", "--groups", "4", "--batch-size", "16", "--epochs", "1", "--timesteps", "50",
        "--cosine-decay", "--device", "cpu", "--out", shared.resolve("too-short").toString());
    assertEquals(2, tooShort.code(), tooShort.err());
    assertTrue(tooShort.err().contains("--cosine-decay needs a run longer than its 200 warm-up steps"),
        tooShort.err());
  }

  @Test
  void dpmSolverAndGuidanceMethodsAreOptionsThatTheSidecarRecords() throws IOException {
    Path out = shared.resolve("methods/h.png");
    Run r = run("generate", "--model", model.toString(), "--prompt", "h", "-n", "2", "--sampler", "dpm++2m",
        "--steps", "4", "--guidance-interval", "0.5,20", "--rescale", "0.7", "--negative", "v", "--seed", "3",
        "--device", "cpu", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    Sidecar s = Json.read(shared.resolve("methods/h.json"), Sidecar.class);
    assertEquals("dpm++2m", s.sampler());
    assertEquals(4, s.steps());
    assertEquals(null, s.eta(), "dpm++2m has no eta");
    assertEquals("trailing", s.spacing());
    assertEquals(List.of(0.5, 20.0), s.guidance().interval());
    assertEquals(0.7, s.guidance().rescale());
    assertEquals("v", s.guidance().negative());
    assertEquals(1, s.guidance().negativeLabel());
    // plain CFG on the same sampler draws other pixels, and records no guidance method
    Path plain = shared.resolve("methods/plain.png");
    assertEquals(0, run("generate", "--model", model.toString(), "--prompt", "h", "-n", "2", "--sampler", "dpmpp-2m",
        "--steps", "4", "--seed", "3", "--device", "cpu", "--out", plain.toString()).code());
    assertFalse(java.util.Arrays.equals(pixels(out), pixels(plain)));
    assertEquals(null, Json.read(shared.resolve("methods/plain.json"), Sidecar.class).guidance());
    // each bad value is one line naming its option
    String[][] bad = {{"--rescale", "1.5", "--rescale must be within [0, 1]"},
        {"--guidance-interval", "3", "--guidance-interval takes two noise levels LO,HI or none"},
        {"--guidance-interval", "5,1", "--guidance-interval must be two noise levels 0 <= lo < hi"},
        {"--negative", "digit 7", "--negative prompt is not a class of the model"},
        {"--sampler", "rk4", "ddim, ddpm, dpm++2m, euler or heun"},
        {"--spacing", "cubic", "linspace, uniform, trailing, karras, karras-exact or logsnr"}};
    for (String[] b : bad) {
      Run e = run("generate", "--model", model.toString(), "--prompt", "h", "-n", "1", "--steps", "3", b[0], b[1],
          "--device", "cpu", "--out", shared.resolve("methods/bad.png").toString());
      assertTrue(e.code() != 0, String.join(" ", b));
      assertTrue(e.err().contains(b[2]), b[0] + " " + b[1] + ": " + e.err());
      assertEquals(1, e.err().strip().lines().count(), e.err());
    }
    assertFalse(Files.exists(shared.resolve("methods/bad.png")));
  }

  @Test
  void outDirWritesOnePngAndSidecarPerSampleAndSweepWritesARowPerScale() throws IOException {
    Path dir = shared.resolve("each");
    Run r = run("generate", "--model", model.toString(), "--prompt", "v", "-n", "3", "--steps", "4",
        "--sampler", "ddpm", "--guidance", "3", "--device", "cpu", "--out-dir", dir.toString());
    assertEquals(0, r.code(), r.err());
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(6, s.count());
    }
    Sidecar one = Json.read(dir.resolve("v-3-0002.json"), Sidecar.class);
    assertEquals(2, one.rows().get(0).firstIndex());
    assertEquals("ddpm", one.sampler());
    assertEquals(null, one.eta(), "DDPM has no η; the sidecar must not claim one");
    Path sweep = shared.resolve("sweep.png");
    Run sw = run("sweep", "--model", model.toString(), "--prompt", "h", "--guidance", "0,1,3", "-n", "2",
        "--steps", "3", "--device", "cpu", "--out", sweep.toString());
    assertEquals(0, sw.code(), sw.err());
    assertEquals(3, Json.read(shared.resolve("sweep.json"), Sidecar.class).rows().size());
    // under autoguidance the rows are captioned by its w and the title names the guide
    Path auto = shared.resolve("sweep-auto.png");
    Run sa = run("sweep", "--model", model.toString(), "--prompt", "h", "--guidance", "1,2", "-n", "1",
        "--steps", "2", "--guide-model", model.toString(), "--device", "cpu", "--out", auto.toString());
    assertEquals(0, sa.code(), sa.err());
    Sidecar.Grid g = Json.read(shared.resolve("sweep-auto.json"), Sidecar.class).grid();
    assertEquals(List.of("w = 1", "w = 2"), g.labels());
    assertTrue(g.title().contains(", autoguidance by " + model.getFileName() + ", same noise"), g.title());
  }

  /**
   * Every PNG that generate and sweep write carries its settings (the infotext and the sidecar), and
   * {@code generate --from} draws it again to the same pixels, from the PNG or from its .json: a
   * grid of two prompts in a non-default layout, one image of --out-dir (sample 2 of its seed) and a
   * sweep. The model hash is in the sidecar, the infotext and {@code info}.
   */
  @Test
  void everyPngCarriesItsSettingsAndFromDrawsItAgainToTheSamePixels() throws IOException {
    Path dir = shared.resolve("from");
    Path grid = dir.resolve("grid.png"), each = dir.resolve("each");
    Run r = run("generate", "--model", model.toString(), "--prompt", "h", "--prompt", "v", "-n", "3", "--steps", "4",
        "--guidance", "2.5", "--rescale", "0.5", "--seed", "7", "--columns", "2", "--scale", "2", "--device", "cpu",
        "--out", grid.toString(), "--out-dir", each.toString());
    assertEquals(0, r.code(), r.err());
    String hash = ModelStore.open(model).modelHash();
    assertTrue(hash.matches("[0-9a-f]{10}"), hash);
    Sidecar side = Json.read(dir.resolve("grid.json"), Sidecar.class);
    assertEquals(hash, side.modelHash());
    assertEquals(new Sidecar.Grid("guidance s = 2.5, rescale 0.5, dpm++2m 4 steps, seed 7", List.of("h → h", "v → v"), 2, 2),
        side.grid());
    var text = diffuse.io.Images.pngText(Files.readAllBytes(grid));
    assertEquals(side, Json.fromJson(text.get("diffuse"), Sidecar.class), "the sidecar, inside the PNG");
    assertEquals("h\nSteps: 4, Sampler: dpm++2m, CFG scale: 2.5, Seed: 7, Size: 8x8, Model hash: " + hash
        + ", Model: run, Schedule type: trailing, CFG rescale: 0.5, Prompts: h | v", text.get("parameters"));
    assertTrue(run("info", model.toString()).out().contains("model hash   " + hash + " "));
    // from the PNG, and from the sidecar beside it: the same grid
    Path again = dir.resolve("again.png"), fromJson = dir.resolve("from-json.png");
    Run a = run("generate", "--from", grid.toString(), "--device", "cpu", "--out", again.toString());
    assertEquals(0, a.code(), a.err());
    assertTrue(a.out().contains("wrote " + again + " (6 images)"), a.out());
    assertArrayEquals(pixels(grid), pixels(again));
    assertEquals(0, run("generate", "--from", dir.resolve("grid.json").toString(), "--device", "cpu",
        "--out", fromJson.toString()).code());
    assertArrayEquals(pixels(grid), pixels(fromJson));
    Sidecar replayed = Json.read(dir.resolve("again.json"), Sidecar.class);
    assertEquals(side.rows(), replayed.rows());
    assertEquals(side.guidance(), replayed.guidance());
    // one image of --out-dir: sample 2 of the seed, alone, as a file or into a directory
    Path one = dir.resolve("one.png"), oneDir = dir.resolve("one-dir");
    assertEquals(0, run("generate", "--from", each.resolve("v-2.5-0002.png").toString(), "--device", "cpu",
        "--batch-size", "1", "--out", one.toString(), "--out-dir", oneDir.toString()).code());
    assertArrayEquals(pixels(each.resolve("v-2.5-0002.png")), pixels(one));
    assertArrayEquals(pixels(each.resolve("v-2.5-0002.png")), pixels(oneDir.resolve("v-2.5-0002.png")));
    assertEquals(2, Json.read(dir.resolve("one.json"), Sidecar.class).rows().get(0).firstIndex());
    // a sweep's PNG carries its settings too, and generate --from draws the sweep's grid
    Path sweep = dir.resolve("sweep.png"), sweepAgain = dir.resolve("sweep-again.png");
    assertEquals(0, run("sweep", "--model", model.toString(), "--prompt", "h", "--guidance", "0,1,3", "-n", "2",
        "--steps", "3", "--device", "cpu", "--out", sweep.toString()).code());
    assertTrue(diffuse.io.Images.pngText(Files.readAllBytes(sweep)).get("parameters")
        .contains("CFG scale: \"0.0, 1.0, 3.0\""));
    assertEquals(0, run("generate", "--from", sweep.toString(), "--device", "cpu", "--out", sweepAgain.toString())
        .code());
    assertArrayEquals(pixels(sweep), pixels(sweepAgain));
    // a model exported with its own guidance interval guides in it unless told; every step (none) is replayed as
    // every step, not as the model's interval
    Path own = dir.resolve("own-interval");
    assertEquals(0, run("export", model.toString(), "--out", own.toString(), "--guidance-interval", "0.5,20").code());
    assertTrue(run("info", own.toString()).out().contains("in σ (0.5, 20] unless told"));
    Path inOwn = dir.resolve("in-own.png"), named = dir.resolve("named.png"), none = dir.resolve("none.png");
    String[] same = {"--prompt", "h", "-n", "2", "--steps", "4", "--guidance", "3", "--seed", "9", "--device", "cpu"};
    assertEquals(0, run(concat(new String[] {"generate", "--model", own.toString(), "--out", inOwn.toString()}, same)).code());
    assertEquals(0, run(concat(new String[] {"generate", "--model", own.toString(), "--out", named.toString(),
        "--guidance-interval", "0.5,20"}, same)).code());
    assertEquals(0, run(concat(new String[] {"generate", "--model", own.toString(), "--out", none.toString(),
        "--guidance-interval", "none"}, same)).code());
    assertArrayEquals(pixels(inOwn), pixels(named));
    assertFalse(java.util.Arrays.equals(pixels(inOwn), pixels(none)), "none drew the model's interval");
    assertEquals(List.of(0.5, 20.0), Json.read(dir.resolve("in-own.json"), Sidecar.class).guidance().interval());
    assertNull(Json.read(dir.resolve("none.json"), Sidecar.class).guidance());
    Path noneAgain = dir.resolve("none-again.png");
    assertEquals(0, run("generate", "--from", none.toString(), "--device", "cpu", "--out", noneAgain.toString()).code());
    assertArrayEquals(pixels(none), pixels(noneAgain));
  }

  /**
   * --no-metadata writes PNGs without the settings (and the same pixels); --from such a PNG, a
   * missing file, or --from with a setting of its own, is one line naming the file or option, a
   * non-zero exit and nothing written.
   */
  @Test
  void noMetadataLeavesTheSettingsOutAndFromRefusesWhatItCannotReplay() throws IOException {
    Path dir = shared.resolve("bare");
    Path with = dir.resolve("with.png"), bare = dir.resolve("bare.png"), sweep = dir.resolve("sweep.png");
    String[] args = {"generate", "--model", model.toString(), "--prompt", "h", "-n", "2", "--steps", "3",
        "--device", "cpu", "--out"};
    assertEquals(0, run(concat(args, with.toString())).code());
    assertEquals(0, run(concat(args, bare.toString(), "--no-metadata", "--out-dir", dir.resolve("each").toString()))
        .code());
    assertEquals(0, run("sweep", "--model", model.toString(), "--prompt", "h", "--guidance", "0,2", "-n", "1",
        "--steps", "2", "--device", "cpu", "--no-metadata", "--out", sweep.toString()).code());
    assertEquals(java.util.Map.of(), diffuse.io.Images.pngText(Files.readAllBytes(bare)));
    assertEquals(java.util.Map.of(), diffuse.io.Images.pngText(Files.readAllBytes(sweep)));
    Path first;
    try (var each = Files.list(dir.resolve("each"))) {
      first = each.filter(p -> p.getFileName().toString().endsWith("-0001.png")).findFirst().orElseThrow();
    }
    assertEquals(java.util.Map.of(), diffuse.io.Images.pngText(Files.readAllBytes(first)));
    assertTrue(Files.exists(dir.resolve("bare.json")), "the sidecar file is written all the same");
    assertArrayEquals(pixels(with), pixels(bare));
    Path target = dir.resolve("never.png");
    Run noChunk = run("generate", "--from", bare.toString(), "--device", "cpu", "--out", target.toString());
    assertEquals(2, noChunk.code(), noChunk.err());
    assertEquals("diffuse generate: error: --from " + bare + " carries no settings (no 'diffuse' text chunk:"
        + " written with --no-metadata, or by another tool)", noChunk.err().strip());
    Run missing = run("generate", "--from", dir.resolve("gone.png").toString(), "--out", target.toString());
    assertEquals(2, missing.code(), missing.err());
    assertTrue(missing.err().contains(dir.resolve("gone.png") + " does not exist"), missing.err());
    Run seed = run("generate", "--from", with.toString(), "--seed", "3", "--out", target.toString());
    assertEquals(2, seed.code(), seed.err());
    assertTrue(seed.err().startsWith("generate: --seed cannot be given with --from"), seed.err());
    Run both = run("generate", "--from", with.toString(), "--prompt", "h", "--out", target.toString());
    assertEquals(2, both.code(), both.err());
    for (Run e : List.of(noChunk, missing, seed, both)) {
      assertEquals(1, e.err().strip().lines().count(), e.err());
    }
    assertFalse(Files.exists(target));
  }

  static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** A run from a picocli @-file records the arguments the file held, not the file's name. */
  @Test
  void aRunFromAnAtFileRecordsTheArgumentsItHeld() throws IOException {
    Path dir = Files.createDirectories(shared.resolve("atfile"));
    Path out = dir.resolve("x.png");
    Path args = dir.resolve("args.txt");
    Files.writeString(args, "generate --model " + model + " --prompt 'an h' -n 1 --steps 2\n--device cpu --out " + out
        + "\n");
    Run r = run("@" + args);
    assertEquals(0, r.code(), r.err());
    assertEquals("diffuse generate --model " + model + " --prompt 'an h' -n 1 --steps 2 --device cpu --out " + out,
        Json.read(dir.resolve("x.json"), Sidecar.class).command());
  }

  @Test
  void withoutAModelAPromptThatMnistDoesNotKnowGoesToTheShippedModelThatDoes() throws IOException {
    Path out = shared.resolve("shipped/sneaker.png");
    Run r = run("generate", "--prompt", "sneaker", "-n", "1", "--steps", "2", "--device", "cpu", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("using models" + java.io.File.separator + "fashion-mnist, which knows sneaker"), r.out());
    Sidecar s = Json.read(shared.resolve("shipped/sneaker.json"), Sidecar.class);
    assertTrue(s.model().endsWith("fashion-mnist"), s.model());
    assertEquals("Sneaker", s.rows().get(0).labelName());
    // a prompt no shipped model knows is reported against the default model, MNIST
    Run none = run("generate", "--prompt", "giraffe", "--device", "cpu", "--out", out.toString());
    assertNotEquals(0, none.code(), none.err());
    assertTrue(none.err().contains("unknown prompt 'giraffe'; valid labels: 0, 1, 2"), none.err());
    // with --model the model is the one asked for, known prompt or not
    Run asked = run("generate", "--model", "models/mnist", "--prompt", "sneaker", "--device", "cpu", "--out",
        out.toString());
    assertNotEquals(0, asked.code(), asked.err());
    assertTrue(asked.err().contains("unknown prompt 'sneaker'"), asked.err());
  }

  @Test
  void badInputGivesAClearMessageANonZeroExitAndWritesNothing() throws IOException {
    Path out = shared.resolve("bad/x.png");
    Run unknown = run("generate", "--model", model.toString(), "--prompt", "digit 7", "--device", "cpu", "--out", out.toString());
    assertNotEquals(0, unknown.code());
    assertTrue(unknown.err().contains("unknown prompt 'digit 7'; valid labels: h, v"), unknown.err());
    Run nan = run("generate", "--model", model.toString(), "--prompt", "h", "--guidance", "NaN", "--out", out.toString());
    assertNotEquals(0, nan.code());
    assertTrue(nan.err().contains("finite"), nan.err());
    Run missing = run("generate", "--model", shared.resolve("nothing").toString(), "--prompt", "h", "--out", out.toString());
    assertNotEquals(0, missing.code());
    assertTrue(missing.err().contains("model directory not found"), missing.err());
    Path file = shared.resolve("a-file");
    Files.writeString(file, "x");
    Run unwritable = run("generate", "--model", model.toString(), "--prompt", "h", "--device", "cpu",
        "--out", file.resolve("x.png").toString());
    assertNotEquals(0, unwritable.code());
    assertTrue(unwritable.err().contains("cannot write"), unwritable.err());
    assertFalse(Files.exists(out));
    // a device this machine cannot give: the option as typed, the reason, the way out (the tests run on the CPU build)
    Run gpu = run("generate", "--model", model.toString(), "--prompt", "h", "--device", "gpu", "--out", out.toString());
    assertNotEquals(0, gpu.code());
    assertTrue(gpu.err().contains("--device gpu: no GPU is usable: ") && gpu.err().contains("; or use --device cpu"),
        gpu.err());
    var flags = diffuse.runtime.Device.cpuFlags();
    boolean hasBf16 = flags != null && (flags.contains("avx512_bf16") || flags.contains("amx_bf16"));
    Run bf16 = run("generate", "--model", model.toString(), "--prompt", "h", "--device", hasBf16 ? "gpu" : "cpu",
        "--bf16", "--out", out.toString());
    assertNotEquals(0, bf16.code());
    assertTrue(hasBf16 ? bf16.err().contains("--device gpu: ")
        : bf16.err().contains("--bf16: bf16 needs a CPU with bf16 instructions") && bf16.err().contains("; leave --bf16 off"),
        bf16.err());
    assertFalse(Files.exists(out));
    for (Run r : List.of(unknown, nan, missing, unwritable, gpu, bf16)) {
      assertFalse(r.err().contains("\tat "), "stack trace: " + r.err());
    }
  }

  /** A run that could not take one step is refused before it starts, naming the option, and leaves no run behind. */
  @Test
  void aRunTooSmallForOneStepIsRefused() {
    String bars = "folder:" + shared.resolve("bars");
    Path out = shared.resolve("too-small");
    Run batch = run("train", "--dataset", bars, "--image-size", "8", "--limit", "10", "--batch-size", "16",
        "--widths", "8,16", "--embed-dim", "16", "--groups", "4", "--device", "cpu", "--out", out.toString());
    assertEquals(2, batch.code(), batch.err());
    assertTrue(batch.err().contains("--batch-size 16 is more than the 10 training images (limit 10)"), batch.err());
    Run epochs = run("train", "--dataset", bars, "--image-size", "8", "--batch-size", "16", "--epochs", "0.01",
        "--widths", "8,16", "--embed-dim", "16", "--groups", "4", "--device", "cpu", "--out", out.toString());
    assertEquals(2, epochs.code(), epochs.err());
    assertTrue(epochs.err().contains("--epochs 0.01 is less than one step of 16 images"), epochs.err());
    assertFalse(Files.exists(out.resolve("model.json")));
  }

  @Test
  void anExportedModelDrawsTheSameImagesAndCannotBeResumed() throws IOException {
    Path exported = shared.resolve("exported");
    Run ex = run("export", model.toString(), "--out", exported.toString());
    assertEquals(0, ex.code(), ex.err());
    assertTrue(run("info", exported.toString()).out().contains("exported weights only"));
    assertEquals(ModelStore.open(model).modelHash(), ModelStore.open(exported).modelHash(), "the same weights");
    assertTrue(Files.readString(exported.resolve("MODEL_CARD.md")).contains("generate --model " + exported));
    Path a = shared.resolve("exp/a.png"), b = shared.resolve("exp/b.png");
    assertEquals(0, run("generate", "--model", model.toString(), "--prompt", "v", "-n", "2", "--steps", "3",
        "--device", "cpu", "--out", a.toString()).code());
    assertEquals(0, run("generate", "--model", exported.toString(), "--prompt", "v", "-n", "2", "--steps", "3",
        "--device", "cpu", "--out", b.toString()).code());
    assertArrayEquals(pixels(a), pixels(b));
    Run resume = run("train", "--resume", exported.toString(), "--epochs", "9", "--device", "cpu");
    assertNotEquals(0, resume.code());
    assertTrue(resume.err().contains("no training state"), resume.err());
  }

  /**
   * {@code export --layout tf-serving} writes BASE/NAME/STEP/ (NAME: the run directory's by default)
   * and never replaces a version; a bad layout or name, or --name without the layout, is a one-line
   * error with a non-zero exit that writes nothing.
   */
  @Test
  void exportInTensorFlowServingLayoutAndItsBadInput() throws IOException {
    Path base = shared.resolve("serving");
    long step = ModelStore.open(model).info().training().step();
    Run ex = run("export", model.toString(), "--out", base.toString(), "--layout", "tf-serving");
    assertEquals(0, ex.code(), ex.err());
    Path version = base.resolve("run").resolve(Long.toString(step));
    assertTrue(ex.out().contains("exported " + model + " to " + version), ex.out());
    assertTrue(Files.isRegularFile(version.resolve("saved_model.pb")));
    assertTrue(Files.isRegularFile(version.resolve("assets.extra/diffuse.json")));
    assertTrue(Files.isRegularFile(version.resolve("assets.extra/MODEL_CARD.md")));
    String[][] bad = {
        {"--out", base.toString(), "--layout", "tf-serving"},
        {"--out", base.toString(), "--layout", "zip"},
        {"--out", base.toString(), "--layout", "tf-serving", "--name", "my model"},
        {"--out", shared.resolve("plain").toString(), "--name", "x"}};
    String[] says = {"exists already (version " + step + " = the training step)", "--layout must be diffuse or"
        + " tf-serving, got 'zip'", "--name must be letters", "--name is for --layout tf-serving"};
    for (int i = 0; i < bad.length; i++) {
      List<String> args = new ArrayList<>(List.of("export", model.toString()));
      args.addAll(List.of(bad[i]));
      Run r = run(args.toArray(String[]::new));
      assertNotEquals(0, r.code(), String.join(" ", args));
      assertTrue(r.err().startsWith("diffuse export: error: ") && r.err().contains(says[i]), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
    }
    try (Stream<Path> s = Files.list(base.resolve("run"))) {
      assertEquals(List.of(version), s.toList(), "a refused export leaves nothing behind");
    }
    assertFalse(Files.exists(shared.resolve("plain")));
  }

  @Test
  void teachingPicturesAreWritten() throws IOException {
    Path exact = shared.resolve("pics/exact.png");
    Run field = run("toy", "field", "--exact", "--shape", "mixture", "--classes", "3", "--class", "1",
        "--guidance", "0,1,4", "--out", exact.toString());
    assertEquals(0, field.code(), field.err());
    assertTrue(javax.imageio.ImageIO.read(exact.toFile()).getWidth() > 1000);
    Path paths = shared.resolve("pics/paths.png");
    Run sample = run("toy", "sample", "--exact", "--shape", "mixture", "--class", "0", "--paths", "20",
        "--out", paths.toString());
    assertEquals(0, sample.code(), sample.err());
    assertTrue(Files.size(paths) > 1000);
    Run notExact = run("toy", "field", "--exact", "--shape", "spirals", "--out", exact.toString());
    assertEquals(2, notExact.code());
    assertTrue(notExact.err().contains("--shape mixture"), notExact.err());
    Run imageModel = run("toy", "field", "--model", model.toString(), "--out", exact.toString());
    assertNotEquals(0, imageModel.code());
    assertTrue(imageModel.err().contains("image model"), imageModel.err());
    Run noEpochs = run("toy", "train", "--epochs", "0", "--out", shared.resolve("pics/no-toy").toString());
    assertEquals(2, noEpochs.code(), noEpochs.err());
    assertEquals("diffuse toy train: error: --epochs must be > 0, not 0.0", noEpochs.err().strip(),
        "the subcommand's whole name, and the field at fault");

    Path schedule = shared.resolve("pics/schedule.png");
    assertEquals(0, run("schedule", "--out", schedule.toString()).code());
    assertTrue(Files.size(schedule) > 1000);
    Path noising = shared.resolve("pics/noising.png");
    Run noise = run("noise", "--dataset", "folder:" + shared.resolve("bars"), "--index", "3", "--t", "0,500,999",
        "--out", noising.toString());
    assertEquals(0, noise.code(), noise.err());
    // three 32x32 images (folder images are resized to 32) magnified 4x, 12 px apart, 14 px margins
    assertEquals(3 * 128 + 2 * 12 + 2 * 14, javax.imageio.ImageIO.read(noising.toFile()).getWidth());

    Path gif = shared.resolve("pics/anim.gif");
    Run anim = run("generate", "--model", model.toString(), "--prompt", "h", "-n", "2", "--steps", "4",
        "--device", "cpu", "--animate", gif.toString(), "--out", shared.resolve("pics/anim.png").toString());
    assertEquals(0, anim.code(), anim.err());
    try (var in = javax.imageio.ImageIO.createImageInputStream(gif.toFile())) {
      var reader = javax.imageio.ImageIO.getImageReaders(in).next();
      reader.setInput(in);
      assertEquals(5, reader.getNumImages(true)); // x_T and four steps
    }
  }

  @Test
  void helpAndBadTrainArguments() {
    Run help = run("train", "--help");
    assertEquals(0, help.code());
    assertTrue(help.out().contains("--p-uncond"), help.out());
    assertEquals(0, run("generate", "--help").code());
    assertEquals(0, run("--help").code());

    Run dataset = run("train", "--dataset", "cifar", "--out", shared.resolve("c").toString());
    assertNotEquals(0, dataset.code());
    assertEquals(1, dataset.err().strip().lines().count(), dataset.err());
    assertTrue(dataset.err().contains("unknown dataset 'cifar'"), dataset.err());

    Run missingDir = run("train", "--resume", shared.resolve("no-such-run").toString());
    assertNotEquals(0, missingDir.code());
    assertEquals(1, missingDir.err().strip().lines().count(), missingDir.err());
    assertTrue(missingDir.err().contains("not found"), missingDir.err());

    Run negative = run("train", "--dataset", "mnist", "--epochs", "-1", "--out", shared.resolve("n").toString());
    assertNotEquals(0, negative.code());
    assertEquals(1, negative.err().strip().lines().count(), negative.err());
    assertTrue(negative.err().contains("--epochs"), negative.err());

    Run noFolder = run("train", "--dataset", "folder:" + shared.resolve("nope"), "--out", shared.resolve("m").toString());
    assertNotEquals(0, noFolder.code());
    assertTrue(noFolder.err().contains("image folder not found"), noFolder.err());

    // the network's settings are checked before the data is read (or downloaded): the folder is missing too
    Run widths = run("train", "--dataset", "folder:" + shared.resolve("nope"), "--widths", "30,64", "--out",
        shared.resolve("w").toString());
    assertEquals(2, widths.code(), widths.err());
    assertEquals(1, widths.err().strip().lines().count(), widths.err());
    assertTrue(widths.err().contains("multiple of groups=8, got [30, 64]"), widths.err());

    Run exists = run("train", "--dataset", "mnist", "--out", model.toString());
    assertNotEquals(0, exists.code());
    assertTrue(exists.err().contains("already holds a model; continue it with train --resume "), exists.err());

    Run typo = run("train", "--epoch", "3");
    assertEquals(2, typo.code());
    assertEquals(1, typo.err().strip().lines().count(), typo.err());
    assertTrue(ModelStore.open(model).info().training().step() > 0);
  }

  static Path trainBars(String name, String epochs, String... more) {
    Path dir = shared.resolve(name);
    List<String> args = new ArrayList<>(List.of("train", "--dataset", "folder:" + shared.resolve("bars"), "--image-size",
        "8", "--widths", "8,16", "--embed-dim", "16", "--groups", "4", "--batch-size", "16", "--epochs", epochs,
        "--timesteps", "50", "--warmup", "2", "--checkpoint-every", "3", "--device", "cpu", "--out", dir.toString()));
    args.addAll(List.of(more));
    Run r = run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    return dir;
  }

  /** The first five columns of loss.csv (step, epoch, loss, grad norm, lr); the rest are timings. */
  static List<String> lossRows(Path dir) throws IOException {
    return Files.readAllLines(dir.resolve("loss.csv")).stream().skip(1)
        .map(l -> String.join(",", java.util.Arrays.asList(l.split(",")).subList(0, 5))).toList();
  }

  /** Checksums of the files that hold numbers: weights, Adam moments and EMA (state), EMA weights (SavedModel). */
  static java.util.Map<String, String> dataSums(Path dir) {
    var out = new java.util.TreeMap<String, String>();
    ModelStore.open(dir).info().files().forEach((k, v) -> {
      if (k.contains(".data-")) {
        out.put(k, v.bytes() + ":" + v.crc32c());
      }
    });
    return out;
  }

  @Test
  void resumingTrainsOnExactlyAsAStraightRunWould() throws IOException {
    Path straight = trainBars("straight", "3");
    Path split = trainBars("split", "2");
    Run resume = run("train", "--resume", split.toString(), "--epochs", "3", "--device", "cpu");
    assertEquals(0, resume.code(), resume.err());
    assertEquals(12, ModelStore.open(split).info().training().step());
    // bit for bit: weights, both Adam moments and the EMA (the checkpoint's bytes), and every logged loss
    assertEquals(2, dataSums(straight).size(), dataSums(straight).toString());
    assertEquals(dataSums(straight), dataSums(split));
    assertEquals(lossRows(straight), lossRows(split));
    assertEquals(12, lossRows(split).size());
    // the resumed run kept the run's --checkpoint-every 3 (it saved at step 9, then at the end)
    assertEquals(3L, ModelStore.open(split).info().training().settings().checkpointEvery());
    assertEquals(2, ModelStore.open(split).info().training().commands().size());
  }

  /**
   * A constant-rate run finished on resume with a cooldown (warmup-stable-decay): the rate falls
   * linearly from the step it was at to 0, the cooldown is kept in model.json and ends the run, and
   * a cooldown that would rewrite steps already taken, or epochs past its end, are refused by name.
   */
  @Test
  void aConstantRateRunIsFinishedWithACooldownOnResume() throws IOException {
    Path dir = trainBars("cool", "2"); // 8 steps at 1e-3 after 2 warm-up steps
    Run early = run("train", "--resume", dir.toString(), "--epochs", "3", "--cooldown", "6", "--device", "cpu");
    assertEquals(2, early.code(), early.err());
    assertTrue(early.err().contains("--cooldown") && early.err().contains("the run is at step 8"), early.err());
    Run cool = run("train", "--resume", dir.toString(), "--epochs", "3", "--cooldown", "4", "--device", "cpu");
    assertEquals(0, cool.code(), cool.err());
    List<Double> lr = Files.readAllLines(dir.resolve("loss.csv")).stream().skip(1)
        .map(l -> Double.parseDouble(l.split(",")[4])).toList();
    assertEquals(12, lr.size());
    assertEquals(List.of(1e-3, 1e-3), lr.subList(6, 8), "the constant rate before");
    double[] cooling = lr.subList(8, 12).stream().mapToDouble(Double::doubleValue).toArray();
    org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {1e-3, 0.75e-3, 0.5e-3, 0.25e-3}, cooling, 1e-9);
    var settings = ModelStore.open(dir).info().training().settings();
    assertEquals(8L, settings.cooldownStart());
    assertEquals(12L, settings.cooldownEnd());
    assertTrue(run("info", dir.toString()).out().contains("lr cooldown  linear to 0 from step 8 to 12"));
    Run past = run("train", "--resume", dir.toString(), "--epochs", "4", "--device", "cpu");
    assertEquals(2, past.code(), past.err());
    assertTrue(past.err().contains("--epochs") && past.err().contains("cooldown, which took its learning rate to 0 at step 12"),
        past.err());
    assertEquals(12, ModelStore.open(dir).info().training().step(), "a refused resume trained nothing");
  }

  @Test
  void aResumedRunRefusesFlagsThatWouldChangeItAndStatesOverrides() throws IOException {
    Path dir = trainBars("flags", "1");
    Run lr = run("train", "--resume", dir.toString(), "--epochs", "2", "--lr", "0.5", "--widths", "8,32", "--device", "cpu");
    assertEquals(2, lr.code(), lr.err());
    assertEquals(1, lr.err().strip().lines().count(), lr.err());
    assertTrue(lr.err().contains("--lr 0.5 differs from the run's 0.001"), lr.err());
    assertTrue(lr.err().contains("--widths [8, 32] differs"), lr.err());
    assertEquals(4, ModelStore.open(dir).info().training().step(), "a refused resume trained nothing");
    Run same = run("train", "--resume", dir.toString(), "--epochs", "2", "--lr", "1e-3", "--batch-size", "16",
        "--checkpoint-every", "5", "--device", "cpu");
    assertEquals(0, same.code(), same.err());
    assertTrue(same.err().contains("checkpoints every 5 steps from now on (the run had 3)"), same.err());
    assertEquals(5L, ModelStore.open(dir).info().training().settings().checkpointEvery());
    Run limit = run("train", "--resume", dir.toString(), "--epochs", "3", "--limit", "10", "--device", "cpu");
    assertEquals(2, limit.code(), limit.err());
    assertTrue(limit.err().contains("--limit 10 differs from the run's 64"), limit.err());
  }

  @Test
  void optionsThatWouldDoNothingAreErrors() {
    Path out = shared.resolve("opts/x.png");
    Run ddpmEta = run("generate", "--model", model.toString(), "--prompt", "h", "--sampler", "ddpm", "--eta", "0.5",
        "--device", "cpu", "--out", out.toString());
    assertEquals(2, ddpmEta.code());
    assertTrue(ddpmEta.err().contains("--eta applies to the ddim sampler only"), ddpmEta.err());
    Run defaultEta = run("generate", "--model", model.toString(), "--prompt", "h", "--eta", "0.5", "--device", "cpu",
        "--out", out.toString());
    assertEquals(2, defaultEta.code());
    assertTrue(defaultEta.err().contains("--eta applies to the ddim sampler only; dpm++2m is deterministic"),
        defaultEta.err());
    for (String eta : new String[] {"1.5", "-0.1", "NaN"}) {
      Run bad = run("generate", "--model", model.toString(), "--prompt", "h", "--sampler", "ddim", "--eta", eta,
          "--device", "cpu", "--out", out.toString());
      assertEquals(2, bad.code(), eta);
      assertTrue(bad.err().contains("--eta must be a number within [0, 1]"), bad.err());
    }
    Run size = run("train", "--dataset", "mnist", "--image-size", "32", "--out", shared.resolve("m32").toString());
    assertEquals(2, size.code());
    assertTrue(size.err().contains("--image-size applies to folder:PATH data sets only"), size.err());
    Run csize = run("train-classifier", "--dataset", "fashion-mnist", "--image-size", "16", "--out",
        shared.resolve("c16").toString());
    assertEquals(2, csize.code());
    assertTrue(csize.err().contains("--image-size applies to folder:PATH"), csize.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void trainClassifierThenEvaluateWriteTheirReports() throws IOException {
    Path cls = shared.resolve("bars-classifier");
    Run tc = run("train-classifier", "--dataset", "folder:" + shared.resolve("bars"), "--image-size", "8", "--epochs",
        "2", "--batch-size", "8", "--device", "cpu", "--out", cls.toString());
    assertEquals(0, tc.code(), tc.err());
    assertTrue(tc.out().contains("on 6 images (every 10th image of each class, held out"), tc.out());
    Path eval = shared.resolve("eval");
    Run ev = run("evaluate", "--model", model.toString(), "--classifier", cls.toString(), "--guidance", "0,2", "-n", "6",
        "--sampler", "ddim", "--steps", "3", "--device", "cpu", "--out", eval.toString());
    assertEquals(0, ev.code(), ev.err());
    assertTrue(ev.out().contains("note: the reference and baseline images are the model's own training images"), ev.out());
    assertTrue(ev.out().contains("s = 0 ignores the prompt"), ev.out());
    List<String> csv = Files.readAllLines(eval.resolve("metrics.csv"));
    assertEquals(1 + 2 * 2 + 2, csv.size(), csv.toString()); // header, 2 scales x 2 classes, 2 baseline rows
    // a folder data set has no held-out images, so no KID, density or coverage (their columns stay, empty)
    assertFalse(ev.out().contains("KID/real"), ev.out());
    assertTrue(csv.get(0).endsWith(",accuracy_low95,kid,kid_se,kid_n,density,coverage,dc_n"), csv.get(0));
    for (String row : csv.subList(1, csv.size())) {
      String[] f = row.split(",");
      assertEquals("0", f[f.length - 1], row);
      double low = Double.parseDouble(f[10]);
      assertTrue(low >= 0 && low <= Double.parseDouble(f[4]), "the accuracy bound is below the accuracy: " + row);
    }
    var json = com.google.gson.JsonParser.parseString(Files.readString(eval.resolve("metrics.json"))).getAsJsonObject();
    double total = 0;
    for (var v : json.getAsJsonArray("unconditionalShares")) {
      total += v.getAsDouble();
    }
    assertEquals(1.0, total, 1e-9);
    for (String f : new String[] {"tradeoff.png", "samples-s0.png", "samples-s2.png"}) {
      assertTrue(Files.size(eval.resolve(f)) > 100, f);
    }
    // a second method, then both on one frontier
    Path eval2 = shared.resolve("eval-dpm");
    assertEquals(0, run("evaluate", "--model", model.toString(), "--classifier", cls.toString(), "--guidance", "1,3",
        "-n", "6", "--sampler", "dpm++2m", "--steps", "3", "--guidance-interval", "0.5,50", "--device", "cpu",
        "--out", eval2.toString()).code());
    Path plot = shared.resolve("frontier/f.png");
    Run fr = run("frontier", eval.toString(), eval2.toString(), "--out", plot.toString());
    assertEquals(0, fr.code(), fr.err());
    assertTrue(fr.out().contains("ddim 3 "), fr.out());
    assertTrue(fr.out().contains("dpm++2m 3, CFG in σ (0.5, 50]"), fr.out());
    assertTrue(Files.size(plot) > 1000);
    List<String> rows = Files.readAllLines(shared.resolve("frontier/f.csv"));
    assertEquals(1 + 4, rows.size(), rows.toString()); // header, two scales per method
    // the same through one evaluate call over a grid of methods
    Path grid = shared.resolve("eval-grid");
    Run g = run("evaluate", "--model", model.toString(), "--classifier", cls.toString(), "--guidance", "1,3", "-n", "6",
        "--method", "ddim/3", "--method", "dpm++2m/3/interval=0.5-50", "--device", "cpu", "--out", grid.toString());
    assertEquals(0, g.code(), g.err());
    assertTrue(Files.exists(grid.resolve("ddim-3/metrics.json")));
    assertTrue(Files.exists(grid.resolve("dpmpp2m-3-interval-0-5-50/metrics.json")));
    assertTrue(Files.size(grid.resolve("frontier.png")) > 1000);
    assertTrue(g.out().contains("dpm++2m 3, CFG in σ (0.5, 50]"), g.out());
    Run badMethod = run("evaluate", "--model", model.toString(), "--classifier", cls.toString(), "-n", "6",
        "--method", "ddim/3", "--method", "dpm++2m/3/interval=5", "--device", "cpu", "--out", grid.toString());
    assertEquals(2, badMethod.code(), badMethod.err());
    assertTrue(badMethod.err().contains("--method 'dpm++2m/3/interval=5': cannot read 'interval=5'"), badMethod.err());
    // an option that a method sets itself is refused beside --method, not silently dropped
    Run withSpacing = run("evaluate", "--model", model.toString(), "--classifier", cls.toString(), "-n", "6",
        "--method", "ddim/3", "--spacing", "karras", "--device", "cpu", "--out", grid.toString());
    assertEquals(2, withSpacing.code(), withSpacing.err());
    assertTrue(withSpacing.err().contains("--spacing cannot be given with --method"), withSpacing.err());
    Run missing = run("frontier", shared.resolve("nothing").toString(), "--out", plot.toString());
    assertEquals(1, missing.code());
    assertTrue(missing.err().contains("holds no evaluation"), missing.err());
  }

  /**
   * With no --classifier, evaluate takes the data set's classifier beside the model (as the Java API
   * does), and refuses one that reads images of another size than the model draws.
   */
  @Test
  void evaluateFindsTheClassifierBesideTheModelAndRefusesOneOfAnotherSize() throws IOException {
    Path beside = model.toAbsolutePath().getParent().resolve("folder-classifier");
    Run tc = run("train-classifier", "--dataset", "folder:" + shared.resolve("bars"), "--image-size", "8", "--epochs",
        "1", "--batch-size", "8", "--device", "cpu", "--out", beside.toString());
    assertEquals(0, tc.code(), tc.err());
    Path eval = shared.resolve("eval-beside");
    Run ev = run("evaluate", "--model", model.toString(), "--guidance", "1", "-n", "2", "--sampler", "ddim",
        "--steps", "2", "--device", "cpu", "--out", eval.toString());
    assertEquals(0, ev.code(), ev.err());
    var json = com.google.gson.JsonParser.parseString(Files.readString(eval.resolve("metrics.json"))).getAsJsonObject();
    assertEquals(beside.toString(), json.get("classifier").getAsString());
    Path big = shared.resolve("bars-classifier-16");
    assertEquals(0, run("train-classifier", "--dataset", "folder:" + shared.resolve("bars"), "--image-size", "16",
        "--epochs", "1", "--batch-size", "8", "--device", "cpu", "--out", big.toString()).code());
    Run wrong = run("evaluate", "--model", model.toString(), "--classifier", big.toString(), "--guidance", "1", "-n",
        "2", "--steps", "2", "--device", "cpu", "--out", shared.resolve("eval-16").toString());
    assertEquals(2, wrong.code(), wrong.err());
    assertTrue(wrong.err().contains("reads 16x16x1 images, the model draws 8x8x1"), wrong.err());
    assertEquals(1, wrong.err().strip().lines().count(), wrong.err());
  }

  @Test
  void benchTwinSummarisesRatiosAndNamesAMissingTwin() {
    assertEquals("training, batch 128: we run at 2.00x the twin's speed (min 1.00x, max 3.00x, 3 rounds)",
        BenchTwinCommand.summary("training, batch 128", List.of(3.0, 1.0, 2.0)));
    assertEquals(1.5, BenchTwinCommand.median(new double[] {1, 2}), 1e-12);
    assertEquals("compute: 120.0 GFLOP/s (training counted as 3 forwards), 50 % of the 240 GFLOP/s peak",
        BenchCommand.flopLine(1.2e11, 240.0));
    Run missing = run("bench", "twin", "--twin", shared.resolve("no-twin.py").toString(), "--device", "cpu");
    assertEquals(1, missing.code(), missing.err());
    assertTrue(missing.err().contains("no-twin.py is not there; give its path with --twin"), missing.err());
    assertEquals(1, missing.err().strip().lines().count(), missing.err());
  }

  /**
   * The twin runs as the network measured on our side: train's defaults (AdaGN, v, log-normal noise levels)
   * for training, the model's own for the forward; a twin of another size, or a model that is not the twin's
   * network, is refused before any timing. A stand-in python records its arguments and answers as the twin.
   */
  @Test
  void benchTwinRunsTheTwinAsTheNetworkItMeasures() throws IOException {
    Path calls = shared.resolve("twin-calls.txt");
    Path python = shared.resolve("fake-python");
    Files.writeString(python, "#!/bin/sh\necho \"$@\" >> " + calls + "\n"
        + "echo '{\"median_ms\": 2, \"min_ms\": 1, \"max_ms\": 3, \"params\": 1791617}'\n");
    assertTrue(python.toFile().setExecutable(true));
    Path twin = shared.resolve("torch_twin.py");
    Files.writeString(twin, "# stands in for ../shared/bench/torch_twin.py\n");
    String[] small = {"--twin", twin.toString(), "--python", python.toString(), "--rounds", "1", "--train-batch", "2",
        "--train-steps", "1", "--fwd-batch", "2", "--fwd-steps", "1", "--warmup-steps", "0", "--device", "cpu"};
    java.util.function.Function<String[], String[]> bench = extra -> java.util.stream.Stream.concat(
        java.util.stream.Stream.of("bench", "twin"), java.util.stream.Stream.concat(java.util.Arrays.stream(small),
            java.util.Arrays.stream(extra))).toArray(String[]::new);
    Run r = run(bench.apply(new String[] {"--model", "models/mnist"}));
    assertEquals(0, r.code(), r.err());
    List<String> lines = Files.readAllLines(calls);
    assertEquals(2, lines.size(), lines.toString());
    assertTrue(lines.get(0).endsWith(twin + " train 2 1 --threads " + Runtime.getRuntime().availableProcessors()
        + " --warmup 0 --ada-gn --v-lognormal -1.2 1.2"), lines.get(0));
    assertTrue(lines.get(1).contains(" fwd 2 1 ") && lines.get(1).endsWith(" --ada-gn"), lines.get(1));
    assertTrue(r.out().contains("training: the default U-Net (AdaGN, v, log-normal noise levels)"), r.out());

    Run plain = run(bench.apply(new String[] {"--model", "models/mnist", "--plain"}));
    assertEquals(1, plain.code(), plain.err());
    assertTrue(plain.err().contains("the twin's train network has 1,791,617 parameters, ours 1,700,801: not the same"
        + " network"), plain.err());
    assertTrue(Files.readAllLines(calls).get(2).endsWith(" --warmup 0"), "--plain: the twin as it is");
    assertEquals(1, plain.err().strip().lines().count(), plain.err());

    Run other = run(bench.apply(new String[] {"--model", model.toString()}));
    assertEquals(1, other.code(), other.err());
    assertTrue(other.err().contains("is not the twin's network (28x28x1, 10 classes"), other.err());
    assertEquals(1, other.err().strip().lines().count(), other.err());
  }

  @Test
  void benchServeAsksTheServerForTheSamplerItsOfflineBaselineRuns() {
    Run r = run("bench", "serve", "--model", model.toString(), "--clients", "2", "-n", "1", "--seconds", "1",
        "--warmup-seconds", "0", "--sampler", "ddim", "--steps", "1", "--device", "cpu");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("ddim 1 steps") && r.out().contains("offline generate") && r.out().contains(" 0 errors"),
        r.out());
    BenchServeCommand b = new BenchServeCommand();
    b.sampler = "ddim";
    b.guidance = 1.5;
    b.format = "png";
    b.labels = List.of("cat", "dog");
    var body = com.google.gson.JsonParser.parseString(b.body(3, 7, 1, 5)).getAsJsonObject();
    assertEquals("ddim", body.get("sampler").getAsString(), body.toString());
    assertEquals(5, body.get("steps").getAsInt(), body.toString());
    assertEquals("dog", body.get("prompt").getAsString(), "the model's own labels, in turn");
  }

  @Test
  void benchAndToyTrainingRunToTheEnd() throws IOException {
    Run bt = run("bench", "train", "--steps", "2", "--batch-size", "4", "--warmup-steps", "1", "--device", "cpu");
    assertEquals(0, bt.code(), bt.err());
    assertTrue(bt.out().contains("training: "), bt.out());
    Run bs = run("bench", "sample", "--model", model.toString(), "-n", "2", "--no-ddpm", "--device", "cpu");
    assertEquals(0, bs.code(), bs.err());
    assertTrue(bs.out().contains("ddim"), bs.out());
    Run pf = run("bench", "profile", "--mode", "forward", "--model", model.toString(), "--batch-size", "2",
        "--steps", "1", "--warmup-steps", "0", "--device", "cpu");
    assertEquals(0, pf.code(), pf.err());
    assertTrue(pf.out().contains("forward, batch 2") && pf.out().contains("Conv2D") && pf.out().contains("all ops"),
        pf.out());
    Run pt = run("bench", "profile", "--batch-size", "4", "--steps", "1", "--warmup-steps", "0", "--top", "500",
        "--device", "cpu");
    assertEquals(0, pt.code(), pt.err());
    assertTrue(pt.out().contains("ApplyAdam") && pt.out().contains("Conv2DBackpropFilter"), pt.out());
    Path toy = shared.resolve("toy");
    Run tt = run("toy", "train", "--shape", "mixture", "--classes", "2", "--points", "512", "--epochs", "2",
        "--device", "cpu", "--out", toy.toString());
    assertEquals(0, tt.code(), tt.err());
    assertTrue(ModelStore.open(toy).info().isToy());
    Path field = shared.resolve("toy/field.png");
    Run tf = run("toy", "field", "--model", toy.toString(), "--class", "1", "--guidance", "0,3", "--device", "cpu",
        "--out", field.toString());
    assertEquals(0, tf.code(), tf.err());
    assertTrue(javax.imageio.ImageIO.read(field.toFile()).getWidth() > 500);
    Path paths = shared.resolve("toy/paths.png");
    Run ts = run("toy", "sample", "--model", toy.toString(), "--class", "0", "--paths", "10", "--device", "cpu",
        "--out", paths.toString());
    assertEquals(0, ts.code(), ts.err());
    assertTrue(Files.size(paths) > 1000);
  }

  @Test
  void trainingOnTwoVirtualDevicesResumesOnOneAndIsRecorded() throws IOException {
    Path dir = trainBars("replicas", "1", "--devices", "cpu:0,cpu:1");
    var info = ModelStore.open(dir).info();
    assertTrue(info.training().device().startsWith("cpu:0,cpu:1 (2 replicas"), info.training().device());
    Run resume = run("train", "--resume", dir.toString(), "--epochs", "2", "--device", "cpu");
    assertEquals(0, resume.code(), resume.err());
    assertEquals(8, ModelStore.open(dir).info().training().step());
    assertTrue(ModelStore.open(dir).info().training().device().startsWith("cpu ("), "the last run's device is recorded");
    Run odd = run("train", "--resume", dir.toString(), "--epochs", "4", "--devices", "cpu:0,cpu:1,cpu:2", "--device", "cpu");
    assertNotEquals(0, odd.code());
    assertTrue(odd.err().contains("does not split evenly over 3 devices"), odd.err());
    // one device other than the default is placed there, not silently replaced by cpu:0
    Run cpu1 = run("train", "--resume", dir.toString(), "--epochs", "3", "--devices", "cpu:1", "--device", "cpu");
    assertEquals(0, cpu1.code(), cpu1.err());
    assertTrue(ModelStore.open(dir).info().training().device().startsWith("cpu:1 (1 device"),
        ModelStore.open(dir).info().training().device());
    Run bad = run("train", "--resume", dir.toString(), "--epochs", "4", "--devices", "tpu:0", "--device", "cpu");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--devices takes cpu:N or gpu:N"), bad.err());
    Run gpu = run("train", "--resume", dir.toString(), "--epochs", "4", "--devices", "gpu:0,gpu:1", "--device", "cpu");
    assertNotEquals(0, gpu.code());
    assertTrue(gpu.err().contains("needs a usable GPU"), gpu.err());
  }

  @Test
  void trainingAcrossTwoLocalServersOfAClusterSavesAModelThatResumesAlone() throws IOException {
    List<String> hosts = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      try (java.net.ServerSocket sock = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        hosts.add("127.0.0.1:" + sock.getLocalPort());
      }
    }
    diffuse.runtime.ClusterSession.startServer(hosts, 1); // "the other machine"; lives until the JVM exits
    Path dir = trainBars("cluster", "1", "--cluster", String.join(",", hosts), "--task-index", "0");
    assertTrue(ModelStore.open(dir).info().training().device().startsWith("cluster of 2 tasks"),
        ModelStore.open(dir).info().training().device());
    Run resume = run("train", "--resume", dir.toString(), "--epochs", "2", "--device", "cpu");
    assertEquals(0, resume.code(), resume.err());
    assertEquals(8, ModelStore.open(dir).info().training().step());
    Run both = run("train", "--resume", dir.toString(), "--epochs", "3", "--devices", "cpu:0", "--cluster", "a:1");
    assertEquals(2, both.code());
    assertTrue(both.err().contains("not both"), both.err());
  }
}
