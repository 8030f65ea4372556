package diffuse.train;

import diffuse.runtime.Device;
import diffuse.api.Listener;
import diffuse.data.TrainingData;
import diffuse.model.TrainSettings;
import diffuse.api.DiffuseException;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.model.NoiseNet;
import diffuse.schedule.NoiseSchedule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A training run in a run directory: builds or restores the training graph, runs steps until the
 * requested number of epochs, logs the loss to {@code loss.csv}, shows progress, and saves
 * checkpoints periodically, at the end, and when {@link #requestStop()} is called (Ctrl-C).
 */
public final class TrainingRun {
  /** Raised when the run cannot go on; the message is for the user. */
  public static final class TrainingException extends diffuse.api.DiffuseException {
    public TrainingException(String message, Throwable cause) {
      super(Code.FAILED, message, cause);
    }
  }

  /** The task name of this run's progress reports. */
  public static final String TASK = "train";

  private final Path runDir;
  private final ModelInfo initial;
  private final TrainingData data;
  private final boolean resume;
  private final double epochs;
  private final long checkpointEvery;
  private final long snapshotEvery;
  private final Device.Choice device;
  private final String command;
  private final Listener log;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
  private Saver saver = (dir, info, content) -> ModelStore.save(dir, info, content, true);

  /** Writes a checkpoint and returns what model.json then says; the seam where tests inject a failing disk. */
  @FunctionalInterface
  public interface Saver {
    ModelInfo save(Path dir, ModelInfo info, ModelStore.CheckpointContent content) throws IOException;
  }

  /**
   * @param runDir the model directory written to
   * @param info the model's description; its training step is where this run starts, and its
   *     settings say how often to checkpoint ({@link TrainSettings#checkpointInterval}) and to keep a
   *     snapshot ({@link TrainSettings#snapshotInterval})
   * @param resume restore weights, Adam state and EMA from {@code info}'s checkpoint
   * @param epochs total passes over the data the model should have when the run ends
   */
  public TrainingRun(Path runDir, ModelInfo info, TrainingData data, boolean resume, double epochs,
      Device.Choice device, String command, Listener log) {
    this.runDir = runDir;
    this.initial = info;
    this.data = data;
    this.resume = resume;
    this.epochs = epochs;
    this.checkpointEvery = info.training().settings().checkpointInterval();
    this.snapshotEvery = info.training().settings().snapshotInterval();
    this.device = device;
    this.command = command;
    this.log = log;
  }

  /** Where snapshots go: {@code snapshots/} in the run directory. */
  public static final String SNAPSHOTS = "snapshots";

  /**
   * Writes the snapshots of {@code step}, if it is a snapshot step, that are not complete; true if it
   * wrote any. At every multiple of the settings' snapshotEvery (0: never) the run saves a checkpoint and
   * keeps a copy of the model in {@code snapshots/step-STEP} (and of each extra average in
   * {@code snapshots/step-STEP-emaD}), as {@code export} writes it: checkpoints replace each other,
   * snapshots stay, so the metrics can be measured later against images seen (a scaling table). A
   * snapshot that cannot be written is a warning; training goes on. A snapshot is complete once its
   * {@code model.json} and model card are written: one that a crash left unwritten or half-written after
   * its checkpoint is written when the run is resumed (with the interval model.json records, or the one
   * given for runs recorded before it was kept), from that checkpoint, which holds the same weights.
   */
  private boolean snapshot(long step) {
    if (snapshotEvery <= 0 || step % snapshotEvery != 0) {
      return false;
    }
    Path dir = runDir.resolve(SNAPSHOTS);
    String name = String.format("step-%08d", step); // not ckpt-…: that names a checkpoint directory itself
    boolean wrote = false;
    try {
      java.util.Map<Path, Double> copies = new java.util.LinkedHashMap<>();
      copies.put(dir.resolve(name), null);
      for (double d : initial.training().settings().extraEmas()) {
        copies.put(dir.resolve(name + "-ema" + d), d);
      }
      for (var c : copies.entrySet()) {
        if (java.nio.file.Files.exists(c.getKey().resolve(ModelStore.MODEL_JSON))
            && java.nio.file.Files.exists(c.getKey().resolve(diffuse.io.ModelCard.FILE))) {
          continue; // complete: a stop on a snapshot step does not write it twice
        }
        diffuse.io.AtomicFiles.deleteTree(c.getKey()); // what an interrupted export left
        ModelStore.export(runDir, c.getKey(), c.getValue());
        wrote = true;
      }
    } catch (IOException | RuntimeException e) {
      log.warning("could not write the snapshot of step " + step + " in " + dir + ": " + e.getMessage()
          + "; training goes on");
    }
    return wrote;
  }

  /** Replaces how checkpoints are written (tests: a disk that fails). */
  public TrainingRun withSaver(Saver s) {
    this.saver = s;
    return this;
  }

  /** Asks the loop to stop after the current step and save. Safe from any thread. */
  public void requestStop() {
    stop.set(true);
  }

  /**
   * Asks the loop to stop after the current step and waits until {@link #run()} has saved its
   * checkpoint and returned: what a shutdown hook (Ctrl-C) calls, since the JVM halts as soon as its
   * hooks return.
   *
   * @return true if the run ended within the timeout
   */
  public boolean stopAndWait(long timeout, java.util.concurrent.TimeUnit unit) throws InterruptedException {
    requestStop();
    return ended.await(timeout, unit);
  }

  /** Runs to the end (or to a stop request) and returns the description of the saved model. */
  public ModelInfo run() {
    try (RunLock lock = RunLock.acquire(runDir)) {
      return runToTheEnd();
    } finally {
      ended.countDown();
    }
  }

  private ModelInfo runToTheEnd() {
    TrainSettings settings = initial.training().settings();
    NoiseSchedule schedule = initial.schedule().build();
    NoiseNet net = initial.network();
    if (settings.batchSize() % Math.max(1, device.towers().size()) != 0) {
      throw new TrainingException("the batch of " + settings.batchSize() + " does not split evenly over "
          + device.towers().size() + " devices (" + String.join(",", device.towers()) + ")", null);
    }
    try (TrainingGraph graph = TrainingGraph.builder(net)
        .gradClip(settings.gradClip()).config(device.config()).towers(device.towers()).sessionTarget(device.target())
        .lossWeights(settings.minSnrGamma() != null).extraEmas(settings.extraEmas().size()).build()) {
      long startStep = initial.training().step();
      if (resume) {
        ModelStore.StoredModel stored = ModelStore.open(runDir);
        // the run was read before its lock was taken: another process that trained it in between moved it on
        if (!java.util.Objects.equals(stored.info().checkpoint(), initial.checkpoint())) {
          throw new TrainingException(runDir + " moved on from " + initial.checkpoint() + " to "
              + stored.info().checkpoint() + " while this run was being prepared (another train process); resume"
              + " it again", null);
        }
        stored.verifyState(); // first: a state model.json lists but the disk lacks is named by its file
        String prefix = stored.statePrefix();
        if (prefix == null) {
          throw new TrainingException(runDir + " holds no training state (only the exported model), so it cannot be resumed", null);
        }
        removeLeftovers(stored);
        try {
          graph.restoreState(prefix);
        } catch (RuntimeException e) {
          throw new TrainingException("cannot read the training state " + prefix + ": "
              + diffuse.api.DiffuseException.firstLine(e.getMessage()), e);
        }
        // the snapshot due at the checkpoint's step, by the interval the run had when it wrote the checkpoint
        Long had = stored.info().training().settings().snapshotEvery();
        if ((had == null || had == snapshotEvery) && snapshot(startStep)) {
          log.message("wrote the snapshot of step " + startStep + ", which " + runDir.resolve(SNAPSHOTS)
              + " lacked (the run stopped before writing it)");
        }
      } else {
        if (java.nio.file.Files.exists(runDir.resolve(ModelStore.MODEL_JSON))) { // written since it was checked
          throw new TrainingException(runDir + " holds a model now (another train process wrote it while this run"
              + " was being prepared); continue it with train --resume " + runDir, null);
        }
        removeLeftovers(null);
        graph.initialize(settings.seed());
      }
      Trainer trainer = new Trainer(graph, schedule, data, settings, initial.nullLabel());
      long spe = trainer.stepsPerEpoch();
      long totalSteps = Math.round(epochs * spe);
      log.message(String.format("model: %,d parameters, %s; data: %s, %,d images, %d steps/epoch; device: %s",
          graph.parameterCount(), schedule, data.name(), data.size(), spe, device.description()));
      if (startStep >= totalSteps) {
        log.message(String.format("already trained %d steps (%.2f epochs) >= %.2f epochs asked; nothing to do",
            startStep, (double) startStep / spe, epochs));
        return initial;
      }
      return loop(graph, trainer, startStep, totalSteps, spe);
    }
  }

  /** Deletes temporary directories and uncommitted checkpoints that a crash left in the run directory. */
  private void removeLeftovers(ModelStore.StoredModel stored) {
    try {
      List<String> removed = stored != null ? ModelStore.removeLeftovers(stored)
          : ModelStore.removeLeftovers(runDir);
      if (!removed.isEmpty()) {
        log.message("removed what an interrupted save left in " + runDir + ": " + String.join(", ", removed));
      }
    } catch (IOException e) {
      throw new TrainingException("cannot tidy " + runDir + ": " + e.getMessage(), e);
    }
  }

  /**
   * The loop: a step, then its hooks in order — divergence stop, loss log, progress — and the
   * checkpoint policy (every {@code checkpointEvery} steps before the last); at the end, or on a stop
   * request, a final checkpoint.
   */
  private ModelInfo loop(TrainingGraph graph, Trainer trainer, long startStep, long totalSteps, long spe) {
    ModelInfo.Training before = initial.training();
    long started = System.nanoTime();
    ModelInfo current = initial;
    long step = startStep;
    Throughput throughput = new Throughput(before.settings().batchSize(), before.imagesPerSecond());
    try (LossLog lossLog = LossLog.open(runDir, resume, initial.training().step(), log)) {
      List<StepHook> hooks = List.of(new DivergenceStop(runDir), lossLog, new ProgressReport(log));
      while (step < totalSteps && !stop.get() && !log.cancelled()) {
        step++;
        TrainingGraph.StepResult r = trainer.step(step);
        throughput.stepDone();
        double elapsed = (System.nanoTime() - started) / 1e9;
        StepHook.Step s = new StepHook.Step(step, totalSteps, spe, r, before.settings().learningRateAt(step),
            throughput.imagesPerSecond(), elapsed);
        for (StepHook h : hooks) {
          h.afterStep(s);
        }
        // a snapshot is a copy of a checkpoint, so a snapshot step saves one whatever --checkpoint-every says
        boolean due = checkpointEvery > 0 && step % checkpointEvery == 0 || snapshotEvery > 0 && step % snapshotEvery == 0;
        if (due && step < totalSteps) {
          lossLog.sync();
          ModelInfo saved = tryCheckpoint(graph, current, step, spe, throughput.imagesPerSecond(), elapsed, false);
          if (saved != current) {
            snapshot(step);
          }
          current = saved;
        }
      }
    } catch (IOException e) {
      throw new TrainingException("cannot write " + runDir.resolve("loss.csv") + ": " + e.getMessage(), e);
    } finally {
      log.finished(TASK);
    }
    if (stop.get() || log.cancelled()) {
      log.message("stopped at step " + step + "; saving a checkpoint ...");
    }
    ModelInfo saved = tryCheckpoint(graph, current, step, spe, throughput.imagesPerSecond(),
        (System.nanoTime() - started) / 1e9, true);
    snapshot(step);
    log.message(String.format("saved %s (step %d, %.2f epochs, %.0f images/s)", runDir, step, (double) step / spe,
        throughput.imagesPerSecond()));
    return saved;
  }

  private ModelInfo tryCheckpoint(TrainingGraph graph, ModelInfo current, long step, long spe,
      double throughput, double runSeconds, boolean last) {
    ModelInfo.Training before = initial.training();
    List<String> commands = new ArrayList<>(before.commands());
    commands.add(command);
    ModelInfo next = current.withTraining(new ModelInfo.Training(before.settings(), step,
        (double) step / spe, before.wallSeconds() + runSeconds, throughput, device.description(), commands));
    try {
      saver.save(runDir, next, new ModelStore.CheckpointContent() {
        @Override
        public Map<String, float[]> emaWeights() {
          return graph.emaWeights();
        }

        @Override
        public Map<Double, Map<String, float[]>> extraEmaWeights() {
          List<Double> decays = before.settings().extraEmas();
          Map<Double, Map<String, float[]>> out = new java.util.LinkedHashMap<>();
          for (int k = 0; k < decays.size(); k++) {
            out.put(decays.get(k), graph.emaWeights(k + 1));
          }
          return out;
        }

        @Override
        public void saveState(String prefix) {
          graph.saveState(prefix);
        }
      });
      return ModelStore.open(runDir).info();
    } catch (IOException | RuntimeException e) {
      ModelInfo committed = committedSince(current, step);
      if (committed != null) { // it failed after model.json named the new checkpoint: tidying the old one
        log.warning("saved the checkpoint of step " + step + " in " + runDir + " (" + committed.checkpoint()
            + "), but could not tidy after it: " + e.getMessage());
        return committed;
      }
      String kept = current.checkpoint() == null ? "no earlier checkpoint exists"
          : "the previous checkpoint (" + current.checkpoint() + ") is intact";
      String msg = "could not save the checkpoint of step " + step + " in " + runDir + ": " + e.getMessage()
          + "; " + kept;
      if (last) {
        throw new TrainingException(msg, e);
      }
      log.warning(msg + "; training goes on");
      return current;
    }
  }

  /** What model.json on disk describes if it names a checkpoint of {@code step} other than {@code current}'s, else null. */
  private ModelInfo committedSince(ModelInfo current, long step) {
    try {
      ModelInfo onDisk = ModelStore.open(runDir).info();
      return onDisk.training().step() == step && !java.util.Objects.equals(onDisk.checkpoint(), current.checkpoint())
          ? onDisk : null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The step of a loss.csv row, or −1 if the row is not one this run wrote ({@link LossLog#rowStep}). */
  static long rowStep(String line) {
    return LossLog.rowStep(line);
  }
}
