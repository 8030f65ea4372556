package diffuse.train;

import java.io.IOException;

/**
 * What the training loop does after each step besides the step itself, one concern per hook: the
 * loss log ({@link LossLog}), the divergence stop ({@link DivergenceStop}), progress
 * ({@link ProgressReport}) and the checkpoint policy (in {@link TrainingRun}). Hooks run in order, on
 * the training thread; one that throws ends the run (the last checkpoint stays intact).
 */
interface StepHook {
  /**
   * One finished step.
   *
   * @param step the 1-based global step just done
   * @param totalSteps the step the run ends at
   * @param stepsPerEpoch steps in one pass over the data
   * @param result its loss and gradient norm
   * @param learningRate the rate the step used
   * @param imagesPerSecond throughput so far ({@link Throughput})
   * @param elapsedSeconds wall time of this run so far
   */
  record Step(long step, long totalSteps, long stepsPerEpoch, TrainingGraph.StepResult result, double learningRate,
      double imagesPerSecond, double elapsedSeconds) {
    /** The 1-based epoch this step belongs to. */
    long epoch() {
      return (step - 1) / stepsPerEpoch + 1;
    }
  }

  void afterStep(Step s) throws IOException;
}
