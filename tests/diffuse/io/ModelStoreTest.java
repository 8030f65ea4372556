package diffuse.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.data.Dataset;
import diffuse.model.EpsilonGraph;
import diffuse.model.SavedModelDenoiser;
import diffuse.model.UNet;
import diffuse.model.UNetConfig;
import diffuse.schedule.ScheduleKind;
import diffuse.train.TrainSettings;
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
  static final TrainSettings SETTINGS = new TrainSettings(16, 1e-3, 5, 0.1, 0.9, 1.0, 3);
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
    try (TrainingGraph g = new TrainingGraph(new UNet(NET), 1.0, TestData.oneThread())) {
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
    try (SavedModelDenoiser d = new SavedModelDenoiser(m.savedModel(), new UNet(NET), TestData.oneThread())) {
      assertArrayEquals(expected, d.predictNoise(x, 3, 250, y), 1e-6f);
    }
  }

  @Test
  void resumeContinuesStepOptimizerStateAndEmaExactly() throws IOException {
    Map<String, float[]> straightW, straightEma;
    try (TrainingGraph g = new TrainingGraph(new UNet(NET), 1.0, TestData.oneThread())) {
      g.initialize(1);
      Trainer t = trainer(g);
      for (int s = 1; s <= 8; s++) {
        t.step(s);
      }
      straightW = g.weights();
      straightEma = g.emaWeights();
    }
    Map<String, float[]> savedM;
    try (TrainingGraph g = new TrainingGraph(new UNet(NET), 1.0, TestData.oneThread())) {
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
    try (TrainingGraph g = new TrainingGraph(new UNet(NET), 1.0, TestData.oneThread())) {
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
        assertArrayEquals(straightW.get(k), w.get(k), 1e-6f, "weights " + k);
        assertArrayEquals(straightEma.get(k), e.get(k), 1e-6f, "EMA " + k);
      }
    }
  }

  @Test
  void aSaveInterruptedBetweenItsStepsLeavesThePreviousModelLoadable() throws IOException {
    try (TrainingGraph g = new TrainingGraph(new UNet(NET), 1.0, TestData.oneThread())) {
      g.initialize(1);
      ModelStore.save(dir, info(1), content(g), true);
      trainer(g).step(2);
      // crash after the new checkpoint is written but before model.json points at it
      ModelStore.writeCheckpoint(dir, info(2), content(g), true);
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
    try (SavedModelDenoiser d = new SavedModelDenoiser(m.savedModel(), new UNet(NET), TestData.oneThread())) {
      SavedModelDenoiser.Output out = d.predictShaped(input(1), 1, 10, new int[] {0});
      assertArrayEquals(new long[] {1, 8, 8, 1}, out.shape());
      assertTrue(Float.isFinite(out.values()[0]));
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".writing-")), "temporary directory left behind");
    }
  }

  @Test
  void committingRemovesOlderCheckpoints() throws IOException {
    try (TrainingGraph g = new TrainingGraph(new UNet(NET), 1.0, TestData.oneThread())) {
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
    Files.writeString(dir.resolve("model.json"), "{ \"format\": 1, \"architecture\": ");
    assertTrue(assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage().contains("corrupt"));
    Json.writeAtomically(dir.resolve("model.json"), info(5).withCheckpoint("ckpt-00000005"));
    assertTrue(assertThrows(ModelException.class, () -> ModelStore.open(dir)).getMessage().contains("incomplete"));
    Files.createDirectories(dir.resolve("ckpt-00000005/saved_model"));
    Files.writeString(dir.resolve("ckpt-00000005/saved_model/saved_model.pb"), "garbage");
    ModelStore.StoredModel m = ModelStore.open(dir);
    assertThrows(ModelException.class, () -> new SavedModelDenoiser(m.savedModel(), new UNet(NET), TestData.oneThread()));
  }
}
