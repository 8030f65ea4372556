package diffuse.train;

import diffuse.runtime.Device;
import diffuse.data.TrainingData;
import diffuse.model.TrainSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.data.Dataset;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.schedule.ScheduleKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop's handling of failed saves, NaN losses and stop requests. */
class TrainingRunTest {
  @TempDir Path dir;

  static final Dataset DATA = TestData.bars(64, 8, 2);
  static final Device.Choice CPU = Device.CPU.resolve(1);

  static ModelInfo fresh(long checkpointEvery) {
    TrainSettings s = TrainSettings.builder().batchSize(16).learningRate(1e-3).warmupSteps(2).emaDecay(0.9).seed(3)
        .checkpointEvery(checkpointEvery).build();
    return new ModelInfo(ModelInfo.FORMAT, TestData.tinyNet(8, 1, 2), null,
        new ModelInfo.Schedule(ScheduleKind.LINEAR, 50), List.of("h", "v"), 2,
        new ModelInfo.Data("bars", 64, 8, 8, 1, List.of(32, 32)),
        new ModelInfo.Training(s, 0, 0, 0, 0, "", List.of()), null);
  }

  final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  final diffuse.api.Listener log = new diffuse.io.ConsoleListener(
      new PrintStream(logBytes, true, StandardCharsets.UTF_8), false);

  String log() {
    return logBytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aPeriodicCheckpointThatFailsIsReportedAndTrainingGoesOn() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    TrainingRun run = new TrainingRun(dir, fresh(2), DATA, false, 2, CPU, "test", log).withSaver((d, info, c) -> {
      if (calls.incrementAndGet() == 2) { // the save of step 4
        throw new IOException("No space left on device");
      }
      return ModelStore.save(d, info, c, true);
    });
    ModelInfo end = run.run();
    assertEquals(8, end.training().step());
    assertEquals(4, calls.get(), "saves at steps 2, 4 (failed), 6 and the end");
    assertTrue(log().contains("warning: could not save the checkpoint of step 4 in " + dir
        + ": No space left on device; the previous checkpoint (ckpt-00000002) is intact; training goes on"), log());
    assertEquals(8, ModelStore.open(dir).info().training().step());
  }

  /**
   * A save that fails after model.json names the new checkpoint (removing the old one failed) saved
   * it: the warning says so instead of calling the older checkpoint the intact one, and the last save
   * failing that way is no error.
   */
  @Test
  void aFailureAfterTheCommitIsReportedAsSaved() {
    TrainingRun run = new TrainingRun(dir, fresh(2), DATA, false, 1, CPU, "test", log).withSaver((d, info, c) -> {
      ModelStore.save(d, info, c, true);
      throw new IOException("cannot delete ckpt-…: Device or resource busy");
    });
    ModelInfo end = run.run();
    assertEquals(4, end.training().step());
    assertEquals(end.checkpoint(), ModelStore.open(dir).info().checkpoint());
    assertTrue(log().contains("warning: saved the checkpoint of step 2 in " + dir + " (ckpt-00000002), but could"
        + " not tidy after it: cannot delete ckpt-…: Device or resource busy"), log());
    assertTrue(log().contains("saved the checkpoint of step 4 in " + dir + " (ckpt-00000004)"), log());
    assertFalse(log().contains("intact"), log());
  }

  /** stopAndWait returns only once run() has saved: the checkpoint is on disk when it returns. */
  @Test
  void stopAndWaitReturnsAfterTheCheckpointIsSaved() throws Exception {
    TrainingRun run = new TrainingRun(dir, fresh(0), DATA, false, 50, CPU, "test", log);
    Thread trainer = new Thread(run::run);
    trainer.start();
    while (!java.nio.file.Files.exists(dir.resolve("loss.csv")) || java.nio.file.Files.size(dir.resolve("loss.csv")) < 120) {
      Thread.sleep(20); // a few steps in
    }
    assertTrue(run.stopAndWait(2, java.util.concurrent.TimeUnit.MINUTES));
    long step = ModelStore.open(dir).info().training().step();
    assertTrue(step > 0 && step < 200, "saved at the step it stopped: " + step);
    trainer.join();
  }

  @Test
  void theLastSaveFailingIsAnErrorThatNamesTheIntactCheckpoint() {
    AtomicInteger calls = new AtomicInteger();
    TrainingRun run = new TrainingRun(dir, fresh(3), DATA, false, 2, CPU, "test", log).withSaver((d, info, c) -> {
      if (calls.incrementAndGet() == 3) {
        throw new IOException("No space left on device");
      }
      return ModelStore.save(d, info, c, true);
    });
    TrainingRun.TrainingException e = assertThrows(TrainingRun.TrainingException.class, run::run);
    assertTrue(e.getMessage().contains("the previous checkpoint (ckpt-00000006) is intact"), e.getMessage());
    assertEquals(6, ModelStore.open(dir).info().training().step());
  }

  @Test
  void aNonFiniteLossStopsWithAMessageAndKeepsTheLastCheckpoint() throws IOException {
    new TrainingRun(dir, fresh(0), DATA, false, 0.5, CPU, "test", log).run(); // 2 steps, saved at the end only
    ModelInfo saved = ModelStore.open(dir).info();
    // the same data, but image 5 holds a NaN: the loss of the first batch that contains it is NaN
    TrainingData poisoned = new TrainingData() {
      public String name() { return DATA.name(); }
      public int size() { return DATA.size(); }
      public int sampleSize() { return DATA.sampleSize(); }
      public int[] labels() { return DATA.labels(); }
      public List<String> labelNames() { return DATA.labelNames(); }
      public void fill(int[] idx, float[] out) {
        DATA.fill(idx, out);
        for (int b = 0; b < idx.length; b++) {
          if (idx[b] == 5) {
            out[b * sampleSize()] = Float.NaN;
          }
        }
      }
    };
    TrainingRun resumed = new TrainingRun(dir, saved, poisoned, true, 10, CPU, "test", log);
    TrainingRun.TrainingException e = assertThrows(TrainingRun.TrainingException.class, resumed::run);
    assertTrue(e.getMessage().matches("loss became NaN at step \\d+; lower --lr or raise --warmup\\. The last checkpoint in .* is intact\\."),
        e.getMessage());
    assertEquals(2, ModelStore.open(dir).info().training().step());
  }

  /**
   * A run is read before its lock is taken: if another process trains it in between, this one
   * refuses instead of restoring the newer state under the older step count (or, for a new run,
   * deleting the other's checkpoints).
   */
  @Test
  void aRunThatMovedOnWhileThisOneWasPreparedIsRefused() throws IOException {
    new TrainingRun(dir, fresh(0), DATA, false, 0.5, CPU, "test", log).run(); // 2 steps
    TrainingRun late = new TrainingRun(dir, ModelStore.open(dir).info(), DATA, true, 2, CPU, "test", log);
    TrainingRun other = new TrainingRun(dir, ModelStore.open(dir).info(), DATA, true, 1, CPU, "test", log);
    assertEquals(4, other.run().training().step());
    TrainingRun.TrainingException e = assertThrows(TrainingRun.TrainingException.class, late::run);
    assertTrue(e.getMessage().contains("moved on from ckpt-00000002 to ckpt-00000004"), e.getMessage());
    assertEquals(4, ModelStore.open(dir).info().training().step());

    // a whole state directory gone is named by a file of it, not taken for an exported model
    Path state = dir.resolve(ModelStore.open(dir).info().checkpoint()).resolve("state");
    try (var files = Files.list(state)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    Files.delete(state);
    String gone = assertThrows(diffuse.api.DiffuseException.class,
        () -> new TrainingRun(dir, ModelStore.open(dir).info(), DATA, true, 2, CPU, "test", log).run()).getMessage();
    assertTrue(gone.contains("state/state."), gone);

    TrainingRun fresh = new TrainingRun(dir.resolve("new"), fresh(0), DATA, false, 0.5, CPU, "test", log);
    new TrainingRun(dir.resolve("new"), fresh(0), DATA, false, 0.25, CPU, "test", log).run();
    e = assertThrows(TrainingRun.TrainingException.class, fresh::run);
    assertTrue(e.getMessage().contains("holds a model now"), e.getMessage());
    assertEquals(1, ModelStore.open(dir.resolve("new")).info().training().step());
  }

  @Test
  void aStopRequestSavesTheStepReachedAndResumeTrimsTheLossLogToTheCheckpoint() throws IOException {
    TrainingRun run = new TrainingRun(dir, fresh(0), DATA, false, 100, CPU, "test", log);
    Thread stopper = new Thread(() -> {
      try {
        while (!Files.exists(dir.resolve("loss.csv")) || Files.readAllLines(dir.resolve("loss.csv")).size() < 4) {
          Thread.sleep(5);
        }
      } catch (Exception ignored) {
        // the run ends anyway
      }
      run.requestStop();
    });
    stopper.start();
    ModelInfo end = run.run();
    long step = end.training().step();
    assertTrue(step >= 3 && step < 400, "stopped at " + step);
    assertTrue(log().contains("stopped at step " + step + "; saving a checkpoint"), log());
    assertEquals(step, ModelStore.open(dir).info().training().step());
    // a crash after the checkpoint leaves rows of steps that the checkpoint does not have
    Files.writeString(dir.resolve("loss.csv"), (step + 1) + ",1.0,0.5,0.1,0.001,100.0,1.0\n" + (step + 2)
        + ",1.0,0.5,0.1,0.001,100.0,1.0\ngarbage\n", java.nio.file.StandardOpenOption.APPEND);
    new TrainingRun(dir, ModelStore.open(dir).info(), DATA, true, (step + 3) / 4.0, CPU, "test", log).run();
    List<Long> steps = Files.readAllLines(dir.resolve("loss.csv")).stream().skip(1)
        .map(l -> Long.parseLong(l.split(",")[0])).toList();
    assertEquals(java.util.stream.LongStream.rangeClosed(1, step + 3).boxed().toList(), steps,
        "every step once, in order");
    assertTrue(log().contains("had 1 unreadable row(s)"), log());
  }

  /**
   * A kill between a snapshot step's checkpoint and its snapshot (here: the snapshot deleted, and one
   * average's left half-written) loses nothing: resuming writes them from that checkpoint; a
   * complete snapshot is not written again.
   */
  @Test
  void aSnapshotThatACrashLeftUnwrittenIsWrittenOnResume() throws IOException {
    TrainSettings s = fresh(0).training().settings().toBuilder().extraEmaDecays(List.of(0.5, 0.7)).snapshotEvery(2L)
        .build();
    ModelInfo info = fresh(0).withTraining(fresh(0).training().withSettings(s));
    new TrainingRun(dir, info, DATA, false, 1, CPU, "test", log).run(); // steps 1 to 4, snapshots at 2 and 4
    Path snaps = dir.resolve(TrainingRun.SNAPSHOTS);
    Path four = snaps.resolve("step-00000004"), gone = snaps.resolve("step-00000004-ema0.5"),
        half = snaps.resolve("step-00000004-ema0.7");
    for (Path p : List.of(snaps.resolve("step-00000002"), four, gone, half)) {
      assertTrue(Files.isRegularFile(p.resolve(ModelStore.MODEL_JSON)), p.toString());
    }
    Files.writeString(four.resolve("marker"), "kept");
    diffuse.io.AtomicFiles.deleteTree(gone);
    Files.delete(half.resolve(diffuse.io.ModelCard.FILE)); // half-written: everything but the card
    new TrainingRun(dir, ModelStore.open(dir).info(), DATA, true, 1, CPU, "test", log).run();
    assertTrue(log().contains("wrote the snapshot of step 4, which " + snaps + " lacked"), log());
    assertEquals(0.5, ModelStore.open(gone).info().training().settings().emaDecay());
    assertEquals(0.7, ModelStore.open(half).info().training().settings().emaDecay());
    assertEquals(4, ModelStore.open(half).info().training().step());
    assertTrue(Files.exists(four.resolve("marker")), "a complete snapshot is not written again");
  }

  @Test
  void lossLogRowsAreRecognised() {
    assertEquals(12, TrainingRun.rowStep("12,0.1875,0.123400,0.50000,0.001,250.0,3.2"));
    assertEquals(-1, TrainingRun.rowStep("12,0.18"));
    assertEquals(-1, TrainingRun.rowStep("x,1,1,1,1,1,1"));
    assertEquals(-1, TrainingRun.rowStep("0,1,1,1,1,1,1"));
  }
}
