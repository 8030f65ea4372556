package diffuse.model;

/**
 * Optimisation settings of a training run, recorded in {@code model.json}.
 *
 * @param batchSize images per step
 * @param learningRate Adam's peak learning rate
 * @param warmupSteps steps of linear learning-rate warm-up from 0
 * @param pUncond probability that a label is replaced by the null label (classifier-free guidance)
 * @param emaDecay decay of the weight EMA used for sampling
 * @param gradClip global gradient-norm clipping threshold
 * @param seed seed of every random choice (weights, data order, t, ε, label dropout)
 * @param checkpointEvery steps between periodic checkpoints, 0 = only at the end; null in runs
 *     recorded before it was kept, which {@link #checkpointInterval} reads as the old default
 */
public record TrainSettings(
    int batchSize, double learningRate, int warmupSteps, double pUncond, double emaDecay,
    double gradClip, long seed, Long checkpointEvery) {

  /** The checkpoint interval of runs that did not record one: the CLI's default then and now. */
  public static final long DEFAULT_CHECKPOINT_EVERY = 1000;

  /** Settings with the default checkpoint interval. */
  public TrainSettings(int batchSize, double learningRate, int warmupSteps, double pUncond, double emaDecay,
      double gradClip, long seed) {
    this(batchSize, learningRate, warmupSteps, pUncond, emaDecay, gradClip, seed, DEFAULT_CHECKPOINT_EVERY);
  }

  public TrainSettings {
    require(batchSize >= 1, "batch size must be >= 1, got " + batchSize);
    require(learningRate > 0 && Double.isFinite(learningRate), "learning rate must be > 0, got " + learningRate);
    require(warmupSteps >= 0, "warm-up steps must be >= 0, got " + warmupSteps);
    if (!(pUncond >= 0 && pUncond <= 1)) {
      throw diffuse.error.DiffuseException.badValue("pUncond", "pUncond must be within [0, 1], got " + pUncond);
    }
    require(emaDecay >= 0 && emaDecay < 1, "EMA decay must be within [0, 1), got " + emaDecay);
    require(gradClip > 0 && Double.isFinite(gradClip), "gradient clip must be > 0, got " + gradClip);
    if (checkpointEvery != null && checkpointEvery < 0) {
      throw diffuse.error.DiffuseException.badValue("checkpointEvery", "checkpointEvery must be >= 0, got " + checkpointEvery);
    }
  }

  /** Steps between periodic checkpoints (0: only at the end). */
  public long checkpointInterval() {
    return checkpointEvery == null ? DEFAULT_CHECKPOINT_EVERY : checkpointEvery;
  }

  public TrainSettings withCheckpointEvery(long steps) {
    return new TrainSettings(batchSize, learningRate, warmupSteps, pUncond, emaDecay, gradClip, seed, steps);
  }

  public static TrainSettings defaults(long seed) {
    return new TrainSettings(128, 1e-3, 200, 0.1, 0.999, 1.0, seed);
  }

  /** Learning rate at 1-based step {@code step}: linear warm-up, then constant. */
  public double learningRateAt(long step) {
    return warmupSteps == 0 ? learningRate : learningRate * Math.min(1.0, (double) step / warmupSteps);
  }

  /** EMA decay at 1-based step: min(decay, (1+step)/(10+step)), so early averages are not stale. */
  public double emaDecayAt(long step) {
    return Math.min(emaDecay, (1.0 + step) / (10.0 + step));
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
