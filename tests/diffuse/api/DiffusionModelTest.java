package diffuse.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The front door on the shipped model: builders that name the field, the listener, cancellation, a custom rule. */
class DiffusionModelTest {
  static DiffusionModel model;

  @BeforeAll
  static void open() {
    model = DiffusionModel.open(Path.of("models", "mnist"), RuntimeOptions.cpu(0));
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @Test
  void builderFailuresNameTheirField() {
    assertEquals("prompt", assertThrows(DiffuseException.class, () -> GenerationRequest.builder().build()).field());
    assertEquals("count", assertThrows(DiffuseException.class,
        () -> GenerationRequest.builder().prompt("7").count(0).build()).field());
    assertEquals("sampler", assertThrows(DiffuseException.class,
        () -> GenerationRequest.builder().prompt("7").sampler("rk4").build()).field());
    assertEquals("guidance", assertThrows(DiffuseException.class,
        () -> GenerationRequest.builder().prompt("7").guidance(Double.NaN).build()).field());
    DiffuseException interval = assertThrows(DiffuseException.class,
        () -> GenerationRequest.builder().prompt("7").guidanceInterval(5, 0.3).build());
    assertEquals("guidanceInterval", interval.field());
    assertTrue(interval.getMessage().startsWith("guidanceInterval must be two noise levels 0 <= lo < hi"),
        interval.getMessage());
    assertEquals("rescale", assertThrows(DiffuseException.class,
        () -> GenerationRequest.builder().prompt("7").rescale(1.5).build()).field());
    assertEquals("threads", assertThrows(DiffuseException.class,
        () -> new RuntimeOptions(RuntimeOptions.Device.CPU, -1, RuntimeOptions.Precision.FP32)).field());
    // BF16 where the CPU has no bf16 instructions is refused naming this API's field, not the CLI's --bf16
    var flags = diffuse.runtime.Device.cpuFlags();
    RuntimeOptions bf16 = new RuntimeOptions(RuntimeOptions.Device.CPU, 0, RuntimeOptions.Precision.BF16);
    if (flags != null && !flags.contains("avx512_bf16") && !flags.contains("amx_bf16")) {
      DiffuseException p = assertThrows(DiffuseException.class, () -> DiffusionModel.device(bf16));
      assertEquals("precision", p.field());
      assertTrue(p.getMessage().startsWith("precision BF16: bf16 needs a CPU with bf16") && p.getMessage().endsWith("use FP32"),
          p.getMessage());
    } else {
      assertTrue(DiffusionModel.device(bf16).bf16());
    }
    // likewise a GPU asked for where the build or the machine has none: this API's field, not --device
    RuntimeOptions gpu = new RuntimeOptions(RuntimeOptions.Device.GPU, 0, RuntimeOptions.Precision.FP32);
    if (!diffuse.runtime.CudaLibraries.gpuBuild()) {
      DiffuseException g = assertThrows(DiffuseException.class, () -> DiffusionModel.device(gpu));
      assertEquals("device", g.field());
      assertTrue(g.getMessage().startsWith("device GPU: no GPU is usable: ")
          && g.getMessage().endsWith("; or use RuntimeOptions.Device.CPU") && !g.getMessage().contains("--"), g.getMessage());
    }
    // a training request fails at build(), naming the field as this API spells it
    DiffuseException lr = assertThrows(DiffuseException.class,
        () -> TrainingRequest.newRun("mnist", Path.of("runs/x")).learningRate(-1).build());
    assertEquals("learningRate", lr.field());
    assertTrue(lr.getMessage().startsWith("learningRate must be > 0"), lr.getMessage());
    assertEquals("logNormalNoise", assertThrows(DiffuseException.class,
        () -> TrainingRequest.newRun("mnist", Path.of("runs/x")).logNormalNoise(0, -1).build()).field());
    DiffuseException uniform = assertThrows(DiffuseException.class,
        () -> TrainingRequest.newRun("mnist", Path.of("runs/x")).uniformNoiseLevels().logNormalNoise(0, 1).build());
    assertEquals("uniformNoiseLevels", uniform.field());
    assertTrue(uniform.getMessage().startsWith("uniformNoiseLevels and log-normal"), uniform.getMessage());
    assertEquals("groups", assertThrows(DiffuseException.class,
        () -> TrainingRequest.newRun("mnist", Path.of("runs/x")).groups(3).build()).field());
    TrainingRequest.Builder t = TrainingRequest.newRun("mnist", Path.of("runs/x"));
    assertEquals("warmup", assertThrows(DiffuseException.class, () -> t.warmup(-1).build()).field());
    assertEquals("gradClip", assertThrows(DiffuseException.class, () -> t.warmup(10).gradClip(0).build()).field());
    assertEquals("resBlocks", assertThrows(DiffuseException.class, () -> t.gradClip(1).resBlocks(0).build()).field());
    assertEquals("snapshotEvery", assertThrows(DiffuseException.class, () -> t.resBlocks(2).snapshotEvery(-1).build())
        .field());
    assertEquals("schedule", assertThrows(DiffuseException.class, () -> t.schedule("quadratic")).field());
    assertTrue(t.snapshotEvery(100).schedule("cosine").build().toString().contains("schedule=COSINE"));
    DiffuseException unknown = assertThrows(DiffuseException.class,
        () -> model.generate(GenerationRequest.of("a giraffe", 1)));
    assertTrue(unknown.getMessage().contains("7"), unknown.getMessage()); // lists the labels
  }

  /** The shipped models carry the scale each was measured best at; a request without one samples at it. */
  @Test
  void eachShippedModelSamplesAtItsOwnScale(@org.junit.jupiter.api.io.TempDir Path tmp) throws java.io.IOException {
    assertEquals(1.45, model.defaultGuidance());
    try (DiffusionModel shipped = DiffusionModel.open(Path.of("models", "fashion-mnist"), RuntimeOptions.cpu(0))) {
      assertEquals(2.0, shipped.defaultGuidance());
    }
    // a copy exported at another scale samples at that one, not at the library's default
    Path copy = tmp.resolve("fashion-at-2.5");
    diffuse.io.ModelStore.export(Path.of("models", "fashion-mnist"), copy, null, "test copy", 2.5);
    try (DiffusionModel fashion = DiffusionModel.open(copy, RuntimeOptions.cpu(0))) {
      assertEquals(2.5, fashion.defaultGuidance());
      Generation g = fashion.generate(GenerationRequest.builder().prompt("shirt").count(1).steps(1).build());
      assertEquals(2.5, g.rows().get(0).guidance());
      g = fashion.generate(GenerationRequest.builder().prompt("shirt").count(1).steps(1).guidance(1).build());
      assertEquals(1.0, g.rows().get(0).guidance());
    }
  }

  /**
   * The shipped MNIST model limits its guidance to σ in (0.3, 5] unless told: a request without an interval
   * draws what one naming that interval draws, and records it; every step (said so) draws other images.
   */
  @Test
  void theModelsOwnGuidanceIntervalAppliesUnlessARequestSaysOtherwise() {
    assertEquals(List.of(0.3, 5.0), model.defaultGuidanceInterval());
    GenerationRequest.Builder b = GenerationRequest.builder().prompt("7").count(2).steps(4).seed(5);
    Generation own = model.generate(b.build());
    assertTrue(own.settingsJson().replaceAll("\\s", "").contains("\"interval\":[0.3,5.0]"), own.settingsJson());
    Generation named = model.generate(b.guidanceInterval(0.3, 5).build());
    assertArrayEquals(own.pixels(0), named.pixels(0));
    Generation everyStep = model.generate(b.guidanceAtEveryStep().build());
    assertFalse(everyStep.settingsJson().contains("\"interval\""), everyStep.settingsJson());
    assertFalse(java.util.Arrays.equals(own.pixels(0), everyStep.pixels(0)), "every step drew the interval's images");
    try (DiffusionModel guide = DiffusionModel.open(Path.of("models", "mnist-guide"), RuntimeOptions.cpu(0))) {
      assertEquals(List.of(), guide.defaultGuidanceInterval(), "a model that records none: every step");
    }
  }

  /**
   * A model exported with a guide of its own (model.json {@code sampling.guideModel}) is autoguided by it when a
   * request names no guide: the same pixels as a request naming that guide, CFG and interval; {@code withoutGuide()}
   * draws what the model without a guide draws.
   */
  @Test
  void aModelsOwnGuideAppliesUnlessARequestSaysNone(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path copy = tmp.resolve("mnist-guided");
    Path guide = Path.of("models", "mnist-guide").toAbsolutePath();
    diffuse.io.ModelStore.export(Path.of("models", "mnist"), copy, null, "test copy", 2.0, List.of(1.0, 5.0),
        new diffuse.io.ModelStore.Guide(guide.toString(), 1.2, List.of(2.0, 1000.0)));
    GenerationRequest.Builder b = GenerationRequest.builder().prompt("7").count(2).steps(4).seed(5);
    try (DiffusionModel guided = DiffusionModel.open(copy, RuntimeOptions.cpu(0))) {
      Generation own = guided.generate(b.build());
      String json = own.settingsJson().replaceAll("\\s", "");
      assertTrue(json.contains("\"guideInterval\":[2.0,1000.0]") && json.contains("\"guideCfg\":1.2"), json);
      assertEquals(2.0, own.rows().get(0).guidance());
      Generation named = guided.generate(GenerationRequest.builder().prompt("7").count(2).steps(4).seed(5)
          .guideModel(guide).guideCfg(1.2).guideInterval(2, 1000).guidanceInterval(1, 5).build());
      assertArrayEquals(own.pixels(0), named.pixels(0));
      Generation none = guided.generate(b.withoutGuide().build());
      Generation plain = model.generate(GenerationRequest.builder().prompt("7").count(2).steps(4).seed(5).guidance(2)
          .guidanceInterval(1, 5).build());
      assertArrayEquals(plain.pixels(0), none.pixels(0));
      assertFalse(java.util.Arrays.equals(own.pixels(0), none.pixels(0)), "the guide changed nothing");
    }
  }

  /** An evaluation told no scales measures the model's own beside the usual ones, so it shows what generate gives. */
  @Test
  void anEvaluationMeasuresTheModelsOwnScale() {
    assertEquals(List.of(0.0, 1.0, 1.45, 2.0, 3.0, 5.0), Defaults.evaluateScales(model.defaultGuidance()));
    assertEquals(List.of(0.0, 1.0, 2.0, 3.0, 5.0), Defaults.evaluateScales(2.0));
  }

  /** One progress report per step, a state per step with x and x̂_0 of the batch, and the rows asked for. */
  @Test
  void theListenerSeesEveryStepAndTheRowsComeInOrder() {
    List<StepState> states = new ArrayList<>();
    long[] last = {0, 0};
    Listener l = new Listener() {
      @Override
      public void progress(String task, long done, long total, String status) {
        last[0] = done;
        last[1] = total;
      }

      @Override
      public void step(StepState s) {
        states.add(s);
      }
    };
    Generation g = model.generate(GenerationRequest.builder().prompt("seven").prompt("digit 1").guidance(1.5, 3)
        .count(2).steps(4).build(), l);
    assertEquals(4, g.rows().size()); // prompts outer, scales inner
    assertEquals(List.of("7", "7", "1", "1"), g.rows().stream().map(Generation.Row::labelName).toList());
    assertEquals(List.of(1.5, 3.0, 1.5, 3.0), g.rows().stream().map(Generation.Row::guidance).toList());
    assertEquals(16, states.size());
    assertEquals(16, last[0]);
    assertEquals(16, last[1]);
    StepState s = states.get(5); // row 1, step 2
    assertEquals(1, s.row());
    assertEquals(2, s.step());
    assertEquals(2 * 28 * 28, s.x0().length);
    assertTrue(g.settingsJson().contains("\"steps\": 4"), g.settingsJson());
  }

  @Test
  void aCancelledCallStopsWithTheCancelledCode() {
    Listener cancel = new Listener() {
      @Override
      public boolean cancelled() {
        return true;
      }
    };
    DiffuseException e = assertThrows(DiffuseException.class,
        () -> model.generate(GenerationRequest.of("7", 1), cancel));
    assertEquals(DiffuseException.Code.CANCELLED, e.code());
  }

  /**
   * A custom rule that is classifier-free guidance's own arithmetic draws CFG's pixels exactly; one
   * that ignores the unconditional half draws the plain conditional samples (s = 1) exactly.
   */
  @Test
  void aCustomRuleRunsThroughTheSameGuidedDenoiser() {
    GenerationRequest.Builder base = GenerationRequest.builder().prompt("4").count(2).guidance(2.5).seed(3).steps(5);
    // a rule replaces the whole method, the model's own guidance interval too: CFG at every step
    float[] cfg = model.generate(GenerationRequest.builder().prompt("4").count(2).guidance(2.5).seed(3).steps(5)
        .guidanceAtEveryStep().build()).pixels(0);
    CustomGuidance same = (c, u, s, sigma) -> {
      float[] out = new float[c.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) (u[i] + s * ((double) c[i] - u[i]));
      }
      return out;
    };
    Generation custom = model.generate(base.customGuidance(same).build());
    assertArrayEquals(cfg, custom.pixels(0));
    // a rule replaces the guidance method: asking for both fails at build(), naming the rule
    assertEquals("customGuidance", assertThrows(DiffuseException.class,
        () -> GenerationRequest.builder().prompt("4").customGuidance(same).rescale(0.5).build()).field());
    assertTrue(custom.settingsJson().contains("\"custom\""), custom.settingsJson());
    float[] conditional = model.generate(GenerationRequest.builder().prompt("4").count(2).guidance(1).seed(3).steps(5)
        .build()).pixels(0);
    float[] onlyCond = model.generate(GenerationRequest.builder().prompt("4").count(2).guidance(2.5).seed(3).steps(5)
        .customGuidance((c, u, s, sigma) -> c.clone()).build()).pixels(0);
    assertFalse(java.util.Arrays.equals(cfg, conditional));
    // the conditional half of a doubled batch against a batch of its own: equal up to oneDNN's batch rounding
    assertArrayEquals(conditional, onlyCond, 2e-3f);
    // the rule is asked at every scale, s = 1 included (no conditional-only shortcut)
    int[] calls = {0};
    model.generate(GenerationRequest.builder().prompt("4").count(1).guidance(1).steps(2).customGuidance((c, u, s, sigma) -> {
      calls[0]++;
      return c.clone();
    }).build());
    assertEquals(2, calls[0], "one call per step for the one sample");
    assertEquals("prompt", assertThrows(DiffuseException.class, () -> GenerationRequest.builder().prompt(null)).field());
    assertEquals("customGuidance", assertThrows(DiffuseException.class, () -> model.generate(
        GenerationRequest.builder().prompt("4").rescale(0.5).customGuidance(same).build())).field());
    // autoguidance takes the model's own methods only for the CFG it blends in
    GenerationRequest.Builder auto = GenerationRequest.builder().prompt("4").guideModel(Path.of("models", "mnist-guide"))
        .guidanceInterval(0.3, 5);
    assertEquals("guideModel", assertThrows(DiffuseException.class, auto::build).field());
    auto.guideCfg(1.2).build();
  }

  /** evaluate on the front door: rows per scale and a yardstick row per class, with the n-independent figures. */
  @Test
  void evaluateMeasuresSamplesBesideTheRealImagesOfTheClass(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    assertEquals("count", assertThrows(DiffuseException.class, () -> EvaluationRequest.builder().count(1)).field());
    // a later guidance(...) replaces the scales, as GenerationRequest's does; a bad one leaves them as they were
    EvaluationRequest.Builder twice = EvaluationRequest.builder().guidance(0, 5).guidance(1, 3);
    assertThrows(DiffuseException.class, () -> twice.guidance(2, Double.NaN));
    assertEquals("method", assertThrows(DiffuseException.class,
        () -> EvaluationRequest.builder().method("dpm++2m/bogus=1").build()).field());
    for (String bad : List.of("foo/10", "dpm++2m/rescale=2")) {
      DiffuseException m = assertThrows(DiffuseException.class, () -> EvaluationRequest.builder().method(bad).build());
      assertEquals("method", m.field(), bad);
      assertTrue(m.getMessage().startsWith("method '" + bad + "': "), m.getMessage());
    }
    Evaluation e = model.evaluate(twice.prompt("digit 7").count(8).method("dpm++2m/3").seed(5).build());
    assertEquals(2, e.rows().size());
    assertEquals(List.of(1.0, 3.0), e.rows().stream().map(Evaluation.Row::scale).toList());
    assertEquals(1, e.real().size());
    Evaluation.Row real = e.real().get(0);
    assertEquals("7", real.label());
    assertEquals(null, real.scale());
    assertTrue(real.accuracy() > 0.8, "real sevens are sevens: " + real);
    for (Evaluation.Row r : e.rows()) {
      assertEquals(8, r.n());
      assertTrue(r.accuracyLow95() <= r.accuracy(), r.toString());
      assertTrue(Double.isFinite(r.kid()) && Double.isFinite(r.coverage()) && Double.isFinite(r.density()), r.toString());
    }
    e.save(dir);
    assertTrue(java.nio.file.Files.isRegularFile(dir.resolve("metrics.json")));
  }

  /** A count whose images no array could hold is refused naming count, before anything is sampled. */
  @Test
  void aCountBeyondWhatOneCallHoldsIsRefused() {
    DiffuseException g = assertThrows(DiffuseException.class,
        () -> model.generate(GenerationRequest.builder().prompt("digit 3").count(3_000_000).build()));
    assertEquals("count", g.field());
    assertTrue(g.getMessage().contains("ask for at most 2,739,137 per call"), g.getMessage());
    DiffuseException e = assertThrows(DiffuseException.class,
        () -> model.evaluate(EvaluationRequest.builder().prompt("digit 3").count(3_000_000).build()));
    assertEquals("count", e.field());
  }

  /** An evaluation stops with CANCELLED once its listener says so, between batches. */
  @Test
  void anEvaluationCanBeCancelled() {
    java.util.concurrent.atomic.AtomicInteger batches = new java.util.concurrent.atomic.AtomicInteger();
    Listener stopAfterOne = new Listener() {
      @Override
      public void progress(String task, long done, long total, String detail) {
        if (task.equals("evaluate")) {
          batches.incrementAndGet();
        }
      }

      @Override
      public boolean cancelled() {
        return batches.get() >= 1;
      }
    };
    DiffuseException e = assertThrows(DiffuseException.class, () -> model.evaluate(EvaluationRequest.builder()
        .prompt("digit 7").guidance(1, 3).count(4).batchSize(2).method("dpm++2m/2").build(), stopAfterOne));
    assertEquals(DiffuseException.Code.CANCELLED, e.code());
    assertEquals(1, batches.get(), "no batch after the cancel");
  }

  /** save writes the settings inside the PNG too, as the CLI's pictures carry them. */
  @Test
  void aSavedPictureCarriesItsSettings(@org.junit.jupiter.api.io.TempDir Path dir) throws java.io.IOException {
    Generation g = model.generate(GenerationRequest.builder().prompt("digit 3").count(2).steps(2).seed(4).build());
    Path png = dir.resolve("three.png");
    g.save(png);
    var text = diffuse.io.Images.pngText(java.nio.file.Files.readAllBytes(png));
    assertTrue(text.get("parameters").contains("Steps: 2"), text.toString());
    assertTrue(text.get("diffuse").contains("\"seed\": 4"), text.toString());
    assertTrue(java.nio.file.Files.isRegularFile(dir.resolve("three.json")));
  }
}
