package diffuse.io;

import diffuse.api.ModelException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.data.Dataset;
import diffuse.model.EpsilonGraph;
import diffuse.model.SavedModelNetwork;
import diffuse.model.UNet;
import diffuse.model.UNetConfig;
import diffuse.schedule.ScheduleKind;
import diffuse.model.TrainSettings;
import diffuse.train.Trainer;
import diffuse.train.TrainingGraph;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStoreTest {
  @TempDir Path dir;

  static final UNetConfig NET = TestData.tinyNet(8, 1, 2);
  static final TrainSettings SETTINGS = TrainSettings.builder().batchSize(16).learningRate(1e-3).warmupSteps(5)
      .emaDecay(0.9).seed(3).build();
  static final Dataset DATA = TestData.bars(64, 8, 2);

  static ModelInfo info(long step) {
    return new ModelInfo(ModelInfo.FORMAT, NET, null, new ModelInfo.Schedule(ScheduleKind.LINEAR, 1000), List.of("h", "v"),
        2, new ModelInfo.Data("bars", 64, 8, 8, 1, List.of(32, 32)),
        new ModelInfo.Training(SETTINGS, step, step / 4.0, 1.5, 100, "cpu", List.of("test")), null);
  }

  static ModelStore.CheckpointContent content(TrainingGraph g) {
    return new ModelStore.CheckpointContent() {
      @Override
      public Map<String, float[]> emaWeights() {
        return g.emaWeights();
      }

      @Override
      public void saveState(String prefix) {
        g.saveState(prefix);
      }
    };
  }

  static Trainer trainer(TrainingGraph g) {
    return new Trainer(g, new ModelInfo.Schedule(ScheduleKind.LINEAR, 1000).build(), DATA, SETTINGS, 2);
  }

  static float[] input(int n) {
    Random r = new Random(5);
    float[] x = new float[n * 64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  @Test
  void savedModelLoadedInAFreshGraphGivesIdenticalEpsilon() throws IOException {
    Map<String, float[]> ema;
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      Trainer t = trainer(g);
      for (int s = 1; s <= 3; s++) {
        t.step(s);
      }
      ema = g.emaWeights();
      ModelStore.save(dir, info(3), content(g), true);
    }
    ModelStore.StoredModel m = ModelStore.open(dir);
    assertEquals(3, m.info().training().step());
    assertEquals("ckpt-00000003", m.info().checkpoint());
    assertEquals(NET, m.info().architecture());
    assertNotNull(m.statePrefix());
    float[] x = input(3);
    int[] y = {0, 1, 2};
    float[] expected;
    try (EpsilonGraph eg = new EpsilonGraph(new UNet(NET))) {
      expected = eg.predict(ema, x, 3, 250f, y);
    }
    try (SavedModelNetwork d = new SavedModelNetwork(m.savedModel(), new UNet(NET), TestData.oneThread())) {
      assertArrayEquals(expected, d.predict(x, diffuse.sampling.Denoiser.times(250, 3), y), 1e-6f);
    }
    // a batch run as two concurrent halves (17 samples: 8 + 9, each at its own time and label) is
    // the whole batch run at once
    int n = 17;
    float[] xs = input(n);
    int[] ys = new int[n];
    double[] ts = new double[n];
    for (int i = 0; i < n; i++) {
      ys[i] = i % 4;
      ts[i] = 40.5 * i;
    }
    org.tensorflow.proto.ConfigProto two = org.tensorflow.proto.ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(2).setInterOpParallelismThreads(2).build();
    try (SavedModelNetwork whole = new SavedModelNetwork(m.savedModel(), new UNet(NET), two);
        SavedModelNetwork halves = new SavedModelNetwork(m.savedModel(), new UNet(NET), two, true)) {
      float[] want = whole.predict(xs, ts, ys);
      for (int round = 0; round < 3; round++) {
        assertArrayEquals(want, halves.predict(xs, ts, ys), 1e-5f, "round " + round);
      }
      float[] lastOne = whole.predict(java.util.Arrays.copyOfRange(xs, 16 * 64, 17 * 64), new double[] {ts[16]},
          new int[] {ys[16]});
      assertArrayEquals(lastOne, java.util.Arrays.copyOfRange(want, 16 * 64, 17 * 64), 1e-5f, "per sample");
    }
  }

  @Test
  void resumeContinuesStepOptimizerStateAndEmaExactly() throws IOException {
    Map<String, float[]> straightW, straightEma;
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      Trainer t = trainer(g);
      for (int s = 1; s <= 8; s++) {
        t.step(s);
      }
      straightW = g.weights();
      straightEma = g.emaWeights();
    }
    Map<String, float[]> savedM;
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      Trainer t = trainer(g);
      for (int s = 1; s <= 4; s++) {
        t.step(s);
      }
      savedM = g.adamFirstMoments();
      ModelStore.save(dir, info(4), content(g), true);
    }
    ModelStore.StoredModel m = ModelStore.open(dir);
    long step = m.info().training().step();
    assertEquals(4, step);
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.restoreState(m.statePrefix());
      Map<String, float[]> m1 = g.adamFirstMoments();
      for (String k : savedM.keySet()) {
        assertArrayEquals(savedM.get(k), m1.get(k), k);
      }
      Trainer t = trainer(g);
      for (long s = step + 1; s <= 8; s++) {
        t.step(s);
      }
      Map<String, float[]> w = g.weights();
      Map<String, float[]> e = g.emaWeights();
      for (String k : straightW.keySet()) {
        // exactly: one thread per op makes every kernel's arithmetic order fixed
        assertArrayEquals(straightW.get(k), w.get(k), "weights " + k);
        assertArrayEquals(straightEma.get(k), e.get(k), "EMA " + k);
      }
    }
  }

  @Test
  void aSaveInterruptedBetweenItsStepsLeavesThePreviousModelLoadable() throws IOException {
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      ModelStore.save(dir, info(1), content(g), true);
      trainer(g).step(2);
      // crash after the new checkpoint is written but before model.json points at it
      ModelStore.writeCheckpoint(dir, info(2), content(g), true);
      assertEquals("ckpt-00000001", ModelStore.open(dir).info().checkpoint());
      assertEquals(1, ModelStore.open(dir).info().training().step());
      assertTrue(Files.isDirectory(dir.resolve("ckpt-00000002")));

      // crash (here: a failure) in the middle of writing the state
      ModelStore.CheckpointContent failing = new ModelStore.CheckpointContent() {
        @Override
        public Map<String, float[]> emaWeights() {
          return g.emaWeights();
        }

        @Override
        public void saveState(String prefix) {
          throw new IllegalStateException("No space left on device");
        }
      };
      IOException e = assertThrows(IOException.class, () -> ModelStore.save(dir, info(3), failing, true));
      assertTrue(e.getMessage().contains("No space left"));
    }
    ModelStore.StoredModel m = ModelStore.open(dir);
    assertEquals(1, m.info().training().step());
    try (SavedModelNetwork d = new SavedModelNetwork(m.savedModel(), new UNet(NET), TestData.oneThread())) {
      SavedModelNetwork.Output out = d.predictShaped(input(1), new double[] {10}, new int[] {0});
      assertArrayEquals(new long[] {1, 8, 8, 1}, out.shape());
      assertTrue(Float.isFinite(out.values()[0]));
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".writing-")), "temporary directory left behind");
    }
  }

  @Test
  void committingRemovesOlderCheckpoints() throws IOException {
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      ModelStore.save(dir, info(1), content(g), true);
      ModelStore.save(dir, info(2), content(g), false);
    }
    assertEquals(List.of("ckpt-00000002"), ModelStore.checkpoints(dir));
    assertEquals(null, ModelStore.open(dir).statePrefix());
  }

  @Test
  void missingOrCorruptModelsAreClearErrors() throws IOException {
    ModelException missing = assertThrows(ModelException.class, () -> ModelStore.open(dir.resolve("nope")));
    assertTrue(missing.getMessage().contains("not found"));
    assertTrue(assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage().contains("no model.json"));
    Path early = dir.resolve("killed-before-first-save");
    Files.createDirectories(early.resolve(".writing-ckpt-00000002-9a/saved_model"));
    assertTrue(assertThrows(ModelException.class, () -> ModelStore.open(early)).getMessage()
        .contains("holds no saved model yet"));
    assertEquals(List.of(".writing-ckpt-00000002-9a"), ModelStore.removeLeftovers(early));
    Files.writeString(dir.resolve("model.json"), "{ \"format\": 1, \"architecture\": ");
    assertTrue(assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage().contains("corrupt"));
    // a schedule that cannot be built is the file's fault, named, before any network is loaded
    for (String[] bad : new String[][] {{"steps", "0"}, {"kind", "\"QUADRATIC\""}}) {
      Json.writeAtomically(dir.resolve("model.json"), info(5).withCheckpoint("ckpt-00000005"));
      var o = com.google.gson.JsonParser.parseString(Files.readString(dir.resolve("model.json"))).getAsJsonObject();
      o.getAsJsonObject("schedule").add(bad[0], com.google.gson.JsonParser.parseString(bad[1]));
      Files.writeString(dir.resolve("model.json"), o.toString());
      String message = assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage();
      assertTrue(message.contains("model.json has an invalid schedule"), bad[0] + ": " + message);
    }
    // valid JSON without the training settings is named, not a NullPointerException later; without the
    // commands it reads as a run that recorded none
    var noSettings = com.google.gson.JsonParser.parseString(Json.toJson(info(5).withCheckpoint("ckpt-00000005")))
        .getAsJsonObject();
    noSettings.getAsJsonObject("training").remove("settings");
    Files.writeString(dir.resolve("model.json"), noSettings.toString());
    String noSettingsMessage = assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage();
    assertTrue(noSettingsMessage.startsWith(dir.resolve("model.json") + " is corrupt"), noSettingsMessage);
    var noCommands = com.google.gson.JsonParser.parseString(Json.toJson(info(5))).getAsJsonObject();
    noCommands.getAsJsonObject("training").remove("commands");
    assertEquals(List.of(), Json.fromJson(noCommands.toString(), ModelInfo.class).training().commands());
    Json.writeAtomically(dir.resolve("model.json"), info(5).withCheckpoint("ckpt-00000005"));
    assertTrue(assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage().contains("incomplete"));
    Files.createDirectories(dir.resolve("ckpt-00000005/saved_model"));
    Files.writeString(dir.resolve("ckpt-00000005/saved_model/saved_model.pb"), "garbage");
    // the checkpoint's own copy of model.json must be there and agree
    assertTrue(assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage()
        .endsWith("ckpt-00000005/model.json is missing"));
    Json.writeAtomically(dir.resolve("ckpt-00000005/model.json"), info(5).withCheckpoint("ckpt-00000004"));
    assertTrue(assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage()
        .contains("does not describe the checkpoint"));
    Json.writeAtomically(dir.resolve("ckpt-00000005/model.json"), info(5).withCheckpoint("ckpt-00000005"));
    ModelStore.StoredModel m = ModelStore.open(dir);
    assertThrows(ModelException.class, () -> new SavedModelNetwork(m.savedModel(), new UNet(NET), TestData.oneThread()));
  }

  @Test
  void savingTheSameStepTwiceNeverMovesTheCurrentCheckpoint() throws IOException {
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      ModelStore.save(dir, info(3), content(g), true);
      byte[] before = Files.readAllBytes(dir.resolve("ckpt-00000003/saved_model/saved_model.pb"));
      // Ctrl-C right after a periodic save: the same step again. A crash between writing the new
      // checkpoint and committing it must find model.json naming a complete, untouched directory.
      ModelInfo staged = ModelStore.writeCheckpoint(dir, info(3), content(g), true);
      assertEquals("ckpt-00000003-2", staged.checkpoint());
      ModelStore.StoredModel current = ModelStore.open(dir);
      assertEquals("ckpt-00000003", current.info().checkpoint());
      assertArrayEquals(before, Files.readAllBytes(current.savedModel().resolve("saved_model.pb")));
      ModelStore.commit(dir, staged);
      assertEquals("ckpt-00000003-2", ModelStore.open(dir).info().checkpoint());
      assertEquals(List.of("ckpt-00000003-2"), ModelStore.checkpoints(dir));
      // and the third save of that step takes the freed name again
      assertEquals("ckpt-00000003", ModelStore.save(dir, info(3), content(g), true).checkpoint());
    }
  }

  @Test
  void leftoversOfInterruptedSavesAreRemovedAndTheCurrentCheckpointKept() throws IOException {
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      ModelStore.save(dir, info(2), content(g), true);
      ModelStore.writeCheckpoint(dir, info(4), content(g), true); // staged, never committed
    }
    Files.createDirectories(dir.resolve(".writing-ckpt-00000006-1f2e/saved_model"));
    Files.writeString(dir.resolve(".model.json.12345.tmp"), "{");
    List<String> removed = ModelStore.removeLeftovers(ModelStore.open(dir));
    assertEquals(java.util.Set.of("ckpt-00000004", ".writing-ckpt-00000006-1f2e", ".model.json.12345.tmp"),
        java.util.Set.copyOf(removed));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(java.util.Set.of("ckpt-00000002", "model.json"),
          s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
    }
    assertEquals(2, ModelStore.open(dir).info().training().step());
  }

  @Test
  void aDamagedCheckpointFileIsFoundByNameWhenTheModelIsOpened() throws IOException {
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      ModelStore.save(dir, info(1), content(g), true);
    }
    Path data = dir.resolve("ckpt-00000001/saved_model/variables/variables.data-00000-of-00001");
    byte[] good = Files.readAllBytes(data);
    byte[] flipped = good.clone();
    flipped[flipped.length / 2] ^= 0x10; // one bit of one weight: still a valid file for TensorFlow
    Files.write(data, flipped);
    ModelException e = assertThrows(ModelException.class, () -> ModelStore.open(dir));
    assertEquals(data + " is damaged: its checksum does not match the one recorded when it was saved", e.getMessage());
    Files.write(data, java.util.Arrays.copyOf(good, 100));
    assertTrue(assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage()
        .endsWith("variables.data-00000-of-00001 is damaged: 100 bytes, expected " + good.length));
    Files.delete(data);
    assertEquals(data + " is missing", assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage());
    Files.write(data, good);
    assertEquals(1, ModelStore.open(dir).info().training().step());
  }

  @Test
  void aModelsOwnGuidanceScaleIsKeptAndABadOneIsACorruptFile() throws IOException {
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      ModelStore.save(dir.resolve("run"), info(5), content(g), true);
    }
    Path target = dir.resolve("shipped");
    ModelStore.export(dir.resolve("run"), target, null, null, 2.0);
    assertEquals(2.0, ModelStore.open(target).info().defaultGuidance());
    assertEquals(diffuse.api.Defaults.GUIDANCE, ModelStore.open(dir.resolve("run")).info().defaultGuidance());
    Path json = target.resolve(ModelStore.MODEL_JSON);
    String text = Files.readString(json);
    assertTrue(text.contains("\"sampling\": {\n    \"guidance\": 2.0\n  }"), text);
    Files.writeString(json, text.replace("\"guidance\": 2.0", "\"guidance\": \"strong\""));
    ModelException e = assertThrows(ModelException.class, () -> ModelStore.open(target));
    assertTrue(e.getMessage().startsWith(json + " is corrupt"), e.getMessage());
    Files.writeString(json, text.replace("\"guidance\": 2.0", "\"guidance\": Infinity"));
    e = assertThrows(ModelException.class, () -> ModelStore.open(target));
    assertTrue(e.getMessage().startsWith(json + " is corrupt"), e.getMessage());
    assertTrue(e.getMessage().contains("sampling.guidance"), e.getMessage());
  }

  @Test
  void exportReplacesAModelButNeverADirectoryThatIsNotOne() throws IOException {
    try (TrainingGraph g = TrainingGraph.builder(new UNet(NET)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      ModelStore.save(dir.resolve("run"), info(5), content(g), true);
    }
    Path target = dir.resolve("shipped");
    assertEquals("ckpt-00000005", ModelStore.export(dir.resolve("run"), target).info().checkpoint());
    assertEquals(null, ModelStore.open(target).statePrefix());
    // exporting again publishes a new version next to the old one, then switches
    assertEquals("ckpt-00000005-2", ModelStore.export(dir.resolve("run"), target).info().checkpoint());
    assertEquals(List.of("ckpt-00000005-2"), ModelStore.checkpoints(target));
    Path notAModel = dir.resolve("photos");
    Files.createDirectories(notAModel);
    Files.writeString(notAModel.resolve("holiday.jpg"), "x");
    ModelException e = assertThrows(ModelException.class, () -> ModelStore.export(dir.resolve("run"), notAModel));
    assertTrue(e.getMessage().contains("is not a model directory"), e.getMessage());
    assertTrue(Files.exists(notAModel.resolve("holiday.jpg")));
  }

  @Test
  void aGraphWhoseConstructionFailsIsClosed() {
    org.tensorflow.Graph[] seen = new org.tensorflow.Graph[1];
    diffuse.model.NoiseNet broken = new diffuse.model.NoiseNet() {
      public org.tensorflow.ndarray.Shape inputShape() {
        return org.tensorflow.ndarray.Shape.of(-1, 2);
      }

      public int numClasses() {
        return 1;
      }

      public org.tensorflow.Operand<org.tensorflow.types.TFloat32> build(org.tensorflow.op.Ops tf,
          java.util.function.Function<diffuse.model.ParamSpec, org.tensorflow.Operand<org.tensorflow.types.TFloat32>> p,
          org.tensorflow.Operand<org.tensorflow.types.TFloat32> x, org.tensorflow.Operand<org.tensorflow.types.TFloat32> t,
          org.tensorflow.Operand<org.tensorflow.types.TInt32> y) {
        seen[0] = (org.tensorflow.Graph) tf.scope().env();
        throw new IllegalStateException("broken network");
      }
    };
    assertThrows(IllegalStateException.class, () -> new EpsilonGraph(broken));
    assertThrows(IllegalStateException.class, () -> seen[0].operations(), "EpsilonGraph left its graph open");
    seen[0] = null;
    assertThrows(IllegalStateException.class, () -> TrainingGraph.builder(broken)
        .config(TestData.oneThread()).build());
    assertThrows(IllegalStateException.class, () -> seen[0].operations(), "TrainingGraph left its graph open");
  }
}
