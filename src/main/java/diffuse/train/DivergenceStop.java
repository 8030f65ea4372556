package diffuse.train;

import java.nio.file.Path;

/** Ends the run when the loss stops being a number: the next checkpoint would only save the damage. */
final class DivergenceStop implements StepHook {
  private final Path runDir;

  DivergenceStop(Path runDir) {
    this.runDir = runDir;
  }

  @Override
  public void afterStep(Step s) {
    float loss = s.result().loss();
    if (!Float.isFinite(loss)) {
      throw new TrainingRun.TrainingException("loss became " + loss + " at step " + s.step()
          + "; lower --lr or raise --warmup. The last checkpoint in " + runDir + " is intact.", null);
    }
  }
}
