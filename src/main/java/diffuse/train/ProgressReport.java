package diffuse.train;

import diffuse.api.Listener;

/** Reports each step to the listener (task "train") with the epoch, a smoothed loss and the throughput. */
final class ProgressReport implements StepHook {
  private final Listener log;
  private double ema = Double.NaN;

  ProgressReport(Listener log) {
    this.log = log;
  }

  @Override
  public void afterStep(Step s) {
    float loss = s.result().loss();
    ema = Double.isNaN(ema) ? loss : 0.98 * ema + 0.02 * loss;
    log.progress(TrainingRun.TASK, s.step(), s.totalSteps(), String.format("epoch %d  loss %.4f  %.0f img/s",
        s.epoch(), ema, s.imagesPerSecond()));
  }
}
