package diffuse.model;

import diffuse.api.Defaults;
import diffuse.sampling.Prediction;

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
 * @param prediction what the network predicts (ε, x_0 or v); null in older runs, read as ε by {@link #target()}
 * @param minSnrGamma γ of Min-SNR-γ loss weighting (Hang et al. 2023), or null for the plain mean
 *     squared error
 * @param lrDecaySteps the step at which a cosine learning-rate decay (Loshchilov &amp; Hutter 2017,
 *     "SGDR", Eq. 5, one cycle) reaches its floor of a tenth of the peak, or null for a constant rate
 *     after warm-up; fixed when a run starts, so a resumed run keeps the curve it started on
 * @param pMean with {@code pStd}: the noise level of each training sample is drawn log-normally,
 *     ln σ ~ N(P_mean, P_std²) (Karras et al. 2022, "EDM", §5 and Table 1), and taken at the
 *     timestep whose σ = √((1−ᾱ)/ᾱ) is nearest in log; null: t uniform over 0 … T−1 (Ho et al. 2020)
 * @param pStd P_std of the log-normal noise levels, or null
 * @param extraEmaDecays decays of further weight averages kept beside the one sampling uses, each
 *     exported with every checkpoint so that the average length can be chosen after training (the
 *     best one depends on the guidance scale: Karras et al. 2024, "Analyzing and Improving the
 *     Training Dynamics of Diffusion Models", §3); null or empty for none
 * @param cooldownStart with {@code cooldownEnd}: after this step the learning rate falls linearly, the
 *     update of step C + k taking η·(E − C − k + 1)/(E − C), down to η/(E − C) at step {@code cooldownEnd}
 *     = E, the run's last (0 one step later) (warmup-stable-decay: Hägele et al. 2024, "Scaling Laws
 *     and Compute-Optimal Training Beyond Fixed Training Durations", §3), so that a run trained at a
 *     constant rate for as long as it was useful can be finished on resume; null for none
 * @param cooldownEnd the run's last step, one before the cooldown's rate would reach 0; or null
 * @param snapshotEvery steps between snapshots (exported copies kept in {@code snapshots/}), 0 for
 *     none; null in runs recorded before it was kept (interval unknown, read as none)
 */
public record TrainSettings(
    int batchSize, double learningRate, int warmupSteps, double pUncond, double emaDecay,
    double gradClip, long seed, Long checkpointEvery, Prediction prediction, Double minSnrGamma,
    Long lrDecaySteps, Double pMean, Double pStd, java.util.List<Double> extraEmaDecays, Long cooldownStart,
    Long cooldownEnd, Long snapshotEvery) {

  /** The floor of the cosine decay, as a fraction of the peak rate. */
  public static final double LR_FLOOR = 0.1;

  /** What the network predicts: ε unless the run said otherwise. */
  public Prediction target() {
    return prediction == null ? Prediction.EPS : prediction;
  }

  /** The per-sample loss weight at ᾱ_t: Min-SNR-γ if set, else 1. */
  public double lossWeight(double alphaBar) {
    return minSnrGamma == null ? 1.0 : target().minSnrWeight(alphaBar, minSnrGamma);
  }

  public TrainSettings {
    require(batchSize >= 1, "batchSize", "batchSize must be >= 1, got " + batchSize);
    require(learningRate > 0 && Double.isFinite(learningRate), "lr", "lr must be > 0, got " + learningRate);
    require(warmupSteps >= 0, "warmup", "warmup must be >= 0 steps, got " + warmupSteps);
    if (!(pUncond >= 0 && pUncond <= 1)) {
      throw diffuse.api.DiffuseException.badValue("pUncond", "pUncond must be within [0, 1], got " + pUncond);
    }
    require(emaDecay >= 0 && emaDecay < 1, "emaDecay", "emaDecay must be within [0, 1), got " + emaDecay);
    require(gradClip > 0 && Double.isFinite(gradClip), "gradClip", "gradClip must be > 0, got " + gradClip);
    if (minSnrGamma != null && !(minSnrGamma > 0 && Double.isFinite(minSnrGamma))) {
      throw diffuse.api.DiffuseException.badValue("minSnrGamma", "minSnrGamma must be a positive number, got "
          + minSnrGamma);
    }
    if ((pMean == null) != (pStd == null)) {
      throw diffuse.api.DiffuseException.badValue(pMean == null ? "pMean" : "pStd", "log-normal noise levels need both"
          + " pMean and pStd");
    }
    if (pMean != null && !(Double.isFinite(pMean) && pStd > 0 && Double.isFinite(pStd))) {
      throw diffuse.api.DiffuseException.badValue(pStd > 0 ? "pMean" : "pStd", "log-normal noise levels need a finite"
          + " pMean and pStd > 0, got " + pMean + " and " + pStd);
    }
    if (lrDecaySteps != null && lrDecaySteps <= warmupSteps) {
      throw diffuse.api.DiffuseException.badValue("cosineDecay", "cosineDecay needs a run longer than its "
          + warmupSteps + " warm-up steps; this one ends at step " + lrDecaySteps);
    }
    if ((cooldownStart == null) != (cooldownEnd == null)) {
      throw diffuse.api.DiffuseException.badValue("cooldown", "a cooldown needs its first and last step");
    }
    if (cooldownStart != null) {
      require(cooldownStart >= warmupSteps && cooldownEnd > cooldownStart, "cooldown", "cooldown must start"
          + " after the " + warmupSteps + " warm-up steps and end after it starts; got steps " + cooldownStart + " to "
          + cooldownEnd);
      require(lrDecaySteps == null, "cooldown", "cooldown and a cosine decay exclude each other:"
          + " give one");
    }
    if (extraEmaDecays != null) {
      extraEmaDecays = java.util.List.copyOf(extraEmaDecays);
      for (double d : extraEmaDecays) {
        require(d >= 0 && d < 1, "extraEma", "extraEma decays must be within [0, 1), got " + d);
        require(d != emaDecay, "extraEma", "extraEma " + d + " is the main average's decay already");
      }
      require(extraEmaDecays.stream().distinct().count() == extraEmaDecays.size(), "extraEma",
          "extraEma lists a decay twice: " + extraEmaDecays);
      if (extraEmaDecays.isEmpty()) {
        extraEmaDecays = null; // none, as runs recorded before they existed
      }
    }
    if (checkpointEvery != null && checkpointEvery < 0) {
      throw diffuse.api.DiffuseException.badValue("checkpointEvery", "checkpointEvery must be >= 0, got " + checkpointEvery);
    }
    if (snapshotEvery != null && snapshotEvery < 0) {
      throw diffuse.api.DiffuseException.badValue("snapshotEvery", "snapshotEvery must be >= 0, got " + snapshotEvery);
    }
  }

  /** Steps between snapshots (0: none). */
  public long snapshotInterval() {
    return snapshotEvery == null ? 0 : snapshotEvery;
  }

  /** Steps between periodic checkpoints (0: only at the end). */
  public long checkpointInterval() {
    return checkpointEvery == null ? Defaults.TRAIN_CHECKPOINT_EVERY : checkpointEvery;
  }

  public TrainSettings withCheckpointEvery(long steps) {
    return toBuilder().checkpointEvery(steps).build();
  }

  /** These settings with a cosine decay that reaches its floor at step {@code totalSteps}. */
  public TrainSettings withCosineDecay(long totalSteps) {
    return toBuilder().lrDecaySteps(totalSteps).build();
  }

  /** These settings with a linear cooldown to 0 over steps {@code start}+1 … {@code end}. */
  public TrainSettings withCooldown(long start, long end) {
    return toBuilder().cooldown(start, end).build();
  }

  /** These settings with log-normal noise levels, ln σ ~ N(mean, std²). */
  public TrainSettings withLogNormalNoise(double mean, double std) {
    return toBuilder().logNormalNoise(mean, std).build();
  }

  /**
   * The training timestep of one sample: uniform over 0 … T−1, or with log-normal noise levels the
   * timestep of {@code schedule} nearest in log σ to σ = exp(P_mean + P_std·z), z ~ N(0, 1), which
   * clamps σ to the schedule's range [σ_0, σ_{T−1}].
   */
  public int sampleTimestep(java.util.random.RandomGenerator rng, diffuse.schedule.NoiseSchedule schedule) {
    if (pMean == null) {
      return rng.nextInt(schedule.numSteps());
    }
    return schedule.nearestTimestep(Math.exp(pMean + pStd * rng.nextGaussian()));
  }

  public static TrainSettings defaults(long seed) {
    return builder().seed(seed).build();
  }

  /** Settings with the defaults of {@code diffuse train}: set what differs. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these settings. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.batchSize = batchSize;
    b.learningRate = learningRate;
    b.warmupSteps = warmupSteps;
    b.pUncond = pUncond;
    b.emaDecay = emaDecay;
    b.gradClip = gradClip;
    b.seed = seed;
    b.checkpointEvery = checkpointEvery;
    b.prediction = prediction;
    b.minSnrGamma = minSnrGamma;
    b.lrDecaySteps = lrDecaySteps;
    b.pMean = pMean;
    b.pStd = pStd;
    b.extraEmaDecays = extraEmaDecays;
    b.cooldownStart = cooldownStart;
    b.cooldownEnd = cooldownEnd;
    b.snapshotEvery = snapshotEvery;
    return b;
  }

  /** The fields of {@link TrainSettings}, with {@code diffuse train}'s defaults; build() validates, naming the field. */
  public static final class Builder {
    private int batchSize = Defaults.TRAIN_BATCH_SIZE;
    private double learningRate = Defaults.TRAIN_LR;
    private int warmupSteps = Defaults.TRAIN_WARMUP;
    private double pUncond = Defaults.TRAIN_P_UNCOND;
    private double emaDecay = Defaults.TRAIN_EMA_DECAY;
    private double gradClip = Defaults.TRAIN_GRAD_CLIP;
    private long seed;
    private Long checkpointEvery = Defaults.TRAIN_CHECKPOINT_EVERY;
    private Prediction prediction;
    private Double minSnrGamma;
    private Long lrDecaySteps;
    private Double pMean;
    private Double pStd;
    private java.util.List<Double> extraEmaDecays;
    private Long cooldownStart;
    private Long cooldownEnd;
    private Long snapshotEvery;

    private Builder() {}

    public Builder batchSize(int v) { batchSize = v; return this; }
    public Builder learningRate(double v) { learningRate = v; return this; }
    public Builder warmupSteps(int v) { warmupSteps = v; return this; }
    public Builder pUncond(double v) { pUncond = v; return this; }
    public Builder emaDecay(double v) { emaDecay = v; return this; }
    public Builder gradClip(double v) { gradClip = v; return this; }
    public Builder seed(long v) { seed = v; return this; }
    /** Steps between checkpoints, 0 = only at the end; null reads as the old default (runs that did not record one). */
    public Builder checkpointEvery(Long v) { checkpointEvery = v; return this; }
    /** What the network predicts; null reads as ε. */
    public Builder prediction(Prediction v) { prediction = v; return this; }
    public Builder minSnrGamma(Double v) { minSnrGamma = v; return this; }
    /** The step where the cosine decay reaches its floor, or null for a constant rate. */
    public Builder lrDecaySteps(Long v) { lrDecaySteps = v; return this; }
    /** Log-normal noise levels ln σ ~ N(mean, std²); both null for t uniform. */
    public Builder logNormalNoise(Double mean, Double std) { pMean = mean; pStd = std; return this; }
    /** Decays of further averages exported beside the main one; null or empty for none. */
    public Builder extraEmaDecays(java.util.List<Double> v) { extraEmaDecays = v; return this; }
    /** A linear cooldown to 0 after step {@code start}, reaching it at {@code end}; both null for none. */
    public Builder cooldown(Long start, Long end) { cooldownStart = start; cooldownEnd = end; return this; }
    /** Steps between snapshots, 0 for none; null for a run that did not record it. */
    public Builder snapshotEvery(Long v) { snapshotEvery = v; return this; }

    public TrainSettings build() {
      return new TrainSettings(batchSize, learningRate, warmupSteps, pUncond, emaDecay, gradClip, seed, checkpointEvery,
          prediction, minSnrGamma, lrDecaySteps, pMean, pStd, extraEmaDecays, cooldownStart, cooldownEnd, snapshotEvery);
    }
  }

  /**
   * Learning rate at 1-based step {@code step}: linear warm-up to the peak η, then constant, or with
   * a decay horizon S the cosine η_min + ½(η − η_min)(1 + cos(π·(step − warmup)/(S − warmup))),
   * η_min = η/10, held at η_min after S; or with a cooldown from step C to E, η·(E − step + 1)/(E − C)
   * at steps C+1 … E (the last step still learns, at η/(E − C)), and 0 after E.
   */
  public double learningRateAt(long step) {
    if (step < warmupSteps) {
      return learningRate * ((double) step / warmupSteps);
    }
    if (cooldownStart != null && step > cooldownStart) {
      return learningRate * Math.max(0, (double) (cooldownEnd - step + 1) / (cooldownEnd - cooldownStart));
    }
    if (lrDecaySteps == null) {
      return learningRate;
    }
    double progress = Math.min(1.0, (double) (step - warmupSteps) / (lrDecaySteps - warmupSteps));
    double floor = LR_FLOOR * learningRate;
    return floor + 0.5 * (learningRate - floor) * (1 + Math.cos(Math.PI * progress));
  }

  /** EMA decay at 1-based step: min(decay, (1+step)/(10+step)), so early averages are not stale. */
  public double emaDecayAt(long step) {
    return decayAt(emaDecay, step);
  }

  /** The extra averages' decays; empty for none. */
  public java.util.List<Double> extraEmas() {
    return extraEmaDecays == null ? java.util.List.of() : extraEmaDecays;
  }

  /**
   * The decays of every average at 1-based step, the main one first ({@link #emaDecayAt}). An extra
   * average of decay d_k warms up in proportion to its length: 1 − β_k = r_k · 9/(10 + step), where
   * r_k = (1 − d_k)/(1 − d_main), until it reaches d_k at the same step the main one reaches its
   * decay; before that its averaging length is its nominal share of the main one's, like a power-
   * function average of its own exponent (Karras et al. 2024). Warmed up by the main one's curve
   * alone, every longer average would equal the main one until that step (≈ 9,000 steps for
   * 0.999), which is the whole of a short run.
   */
  public double[] emaDecaysAt(long step) {
    double[] d = new double[1 + extraEmas().size()];
    d[0] = emaDecayAt(step);
    for (int k = 1; k < d.length; k++) {
      double dk = extraEmas().get(k - 1);
      double r = (1 - dk) / (1 - emaDecay);
      d[k] = Math.max(0, Math.min(dk, 1 - r * 9.0 / (10.0 + step)));
    }
    return d;
  }

  private static double decayAt(double decay, long step) {
    return Math.min(decay, (1.0 + step) / (10.0 + step));
  }

  private static void require(boolean ok, String field, String message) {
    if (!ok) {
      throw diffuse.api.DiffuseException.badValue(field, message);
    }
  }
}
