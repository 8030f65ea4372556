package diffuse.app;

import diffuse.api.Defaults;
import diffuse.api.DiffuseException;
import diffuse.model.TrainSettings;
import diffuse.sampling.Prediction;
import diffuse.schedule.ScheduleKind;
import java.nio.file.Path;
import java.util.List;

/**
 * A training run as a user asks for it: a new run into {@code out} or the continuation of the run
 * in {@code resume}. Every setting is nullable: null means "not given", which a new run fills with
 * the defaults below and a resumed run with what its model.json recorded; a setting given to a
 * resumed run must equal the recorded one ({@link TrainService.SettingsConflict}). Field names are
 * the ones errors name (the CLI turns {@code batchSize} into {@code --batch-size}).
 *
 * <p>Build one with {@link #newRun} or {@link #resume} and the builder's setters; {@code build()}
 * fails fast on values that are out of range or contradict each other.
 */
public record TrainRequest(
    Path out, Path resume, String dataset, Path dataDir, Integer imageSize, Integer limit, double epochs,
    Integer batchSize, Double lr, Integer warmup, Double pUncond, Double emaDecay, Double gradClip, Long seed,
    Long checkpointEvery, ScheduleKind schedule, Integer timesteps, List<Integer> widths, Integer resBlocks,
    Integer embedDim, Integer groups, Prediction prediction, Double minSnrGamma, Boolean cosineDecay,
    Boolean scaleShiftNorm, Double pMean, Double pStd, Boolean uniformT, List<Double> extraEma, Long snapshotEvery,
    Long cooldown) {

  public static final ScheduleKind DEFAULT_SCHEDULE = ScheduleKind.LINEAR;

  public TrainRequest {
    widths = widths == null ? null : List.copyOf(widths);
    if (!(epochs > 0) || !Double.isFinite(epochs)) {
      throw DiffuseException.badValue("epochs", "epochs must be a positive number, got " + epochs);
    }
    if (snapshotEvery != null && snapshotEvery < 0) {
      throw DiffuseException.badValue("snapshotEvery", "snapshotEvery must be >= 0, got " + snapshotEvery);
    }
    if (cooldown != null && cooldown < 1) {
      throw DiffuseException.badValue("cooldown", "cooldown must be >= 1 step, got " + cooldown);
    }
    if (cooldown != null && Boolean.TRUE.equals(cosineDecay)) {
      throw DiffuseException.badValue("cooldown", "cooldown and cosineDecay exclude each other: give one");
    }
    if (Boolean.TRUE.equals(uniformT) && (pMean != null || pStd != null)) {
      throw DiffuseException.badValue("uniformT", "uniformT and log-normal noise levels exclude each other: give one");
    }
    if (checkpointEvery != null && checkpointEvery < 0) {
      throw DiffuseException.badValue("checkpointEvery", "checkpointEvery must be >= 0, got " + checkpointEvery);
    }
    if (limit != null && limit < 1) {
      throw DiffuseException.badValue("limit", "limit must be >= 1, got " + limit);
    }
    if (timesteps != null && timesteps < 2) {
      throw DiffuseException.badValue("timesteps", "timesteps must be >= 2, got " + timesteps);
    }
    if (resume != null && out != null) {
      throw DiffuseException.badValue("out", "out must not be given: a resumed run continues in place, in " + resume);
    }
    if (resume == null) {
      // a new run's settings and network, checked now rather than after its data is read or downloaded
      // (a resumed run's given values are compared with its record instead: TrainService.SettingsConflict)
      settings(batchSize, lr, warmup, pUncond, emaDecay, gradClip, seed, checkpointEvery, prediction, minSnrGamma,
          extraEma, pMean, pStd, uniformT);
      checkNetwork(or(widths, Defaults.TRAIN_WIDTHS), resBlocks, embedDim, or(groups, Defaults.TRAIN_GROUPS), widths != null);
      if (dataset == null) {
        throw DiffuseException.badValue("dataset", "dataset is required (mnist, fashion-mnist or folder:PATH),"
            + " or the run to resume");
      }
      if (out == null) {
        throw DiffuseException.badValue("out", "out DIR is required for a new run");
      }
    }
  }

  /**
   * A new run's training settings: the given values, the defaults for the rest (before the data is
   * known, so without the cosine decay's or the cooldown's steps, which TrainService adds): log-normal
   * noise levels unless {@code uniformT}, one value given taking the default for the other.
   */
  public TrainSettings settings() {
    return settings(batchSize, lr, warmup, pUncond, emaDecay, gradClip, seed, checkpointEvery, prediction, minSnrGamma,
        extraEma, pMean, pStd, uniformT);
  }

  /** Whether a new run's network has AdaGN: as asked, else {@link Defaults#TRAIN_ADA_GN}. */
  public boolean adaGnOrDefault() {
    return scaleShiftNorm != null ? scaleShiftNorm : Defaults.TRAIN_ADA_GN;
  }

  // static: the compact constructor calls it before the fields are assigned
  private static TrainSettings settings(Integer batchSize, Double lr, Integer warmup, Double pUncond, Double emaDecay,
      Double gradClip, Long seed, Long checkpointEvery, Prediction prediction, Double minSnrGamma, List<Double> extraEma,
      Double pMean, Double pStd, Boolean uniformT) {
    TrainSettings s = TrainSettings.builder().batchSize(or(batchSize, Defaults.TRAIN_BATCH_SIZE)).learningRate(or(lr, Defaults.TRAIN_LR))
        .warmupSteps(or(warmup, Defaults.TRAIN_WARMUP)).pUncond(or(pUncond, Defaults.TRAIN_P_UNCOND))
        .emaDecay(or(emaDecay, Defaults.TRAIN_EMA_DECAY)).gradClip(or(gradClip, Defaults.TRAIN_GRAD_CLIP)).seed(or(seed, Defaults.TRAIN_SEED))
        .checkpointEvery(or(checkpointEvery, Defaults.TRAIN_CHECKPOINT_EVERY))
        .prediction(or(prediction, Prediction.parse(Defaults.TRAIN_PREDICTION))).minSnrGamma(minSnrGamma)
        .extraEmaDecays(extraEma).build();
    return Boolean.TRUE.equals(uniformT) ? s
        : s.withLogNormalNoise(or(pMean, Defaults.TRAIN_P_MEAN), or(pStd, Defaults.TRAIN_P_STD));
  }

  /** The network's settings that need no images (the image size is checked with the data), each error naming its field. */
  private static void checkNetwork(List<Integer> widths, Integer resBlocks, Integer embedDim, int groups,
      boolean widthsGiven) {
    if (widths.isEmpty() || widths.stream().anyMatch(w -> w == null || w < 1)) {
      throw DiffuseException.badValue("widths", "widths must be one or more positive channel counts, got " + widths);
    }
    if (resBlocks != null && resBlocks < 1) {
      throw DiffuseException.badValue("resBlocks", "resBlocks must be >= 1, got " + resBlocks);
    }
    if (embedDim != null && (embedDim < 2 || embedDim % 2 != 0)) {
      throw DiffuseException.badValue("embedDim", "embedDim must be even and >= 2, got " + embedDim);
    }
    if (groups < 1) {
      throw DiffuseException.badValue("groups", "groups must be >= 1, got " + groups);
    }
    if (widths.stream().anyMatch(w -> w % groups != 0)) {
      throw DiffuseException.badValue(widthsGiven ? "widths" : "groups",
          "every width must be a positive multiple of groups=" + groups + ", got " + widths);
    }
  }

  private static <T> T or(T value, T fallback) {
    return value != null ? value : fallback;
  }

  /** A new run on {@code dataset} (mnist, fashion-mnist, folder:PATH) saved in {@code out}. */
  public static Builder newRun(String dataset, Path out) {
    Builder b = new Builder();
    b.dataset = dataset;
    b.out = out;
    return b;
  }

  /** The continuation of the run in {@code dir}. */
  public static Builder resume(Path dir) {
    Builder b = new Builder();
    b.resume = dir;
    return b;
  }

  /** True if this continues an existing run. */
  public boolean resuming() {
    return resume != null;
  }

  /** Sets the fields of a {@link TrainRequest}; null leaves a setting unset. */
  public static final class Builder {
    private Path out;
    private Path resume;
    private String dataset;
    private Path dataDir;
    private Integer imageSize;
    private Integer limit;
    private double epochs = Defaults.TRAIN_EPOCHS;
    private Integer batchSize;
    private Double lr;
    private Integer warmup;
    private Double pUncond;
    private Double emaDecay;
    private Double gradClip;
    private Long seed;
    private Long checkpointEvery;
    private ScheduleKind schedule;
    private Integer timesteps;
    private List<Integer> widths;
    private Integer resBlocks;
    private Integer embedDim;
    private Integer groups;
    private Prediction prediction;
    private Double minSnrGamma;
    private Boolean cosineDecay;
    private Boolean scaleShiftNorm;
    private Double pMean;
    private Double pStd;
    private Boolean uniformT;
    private List<Double> extraEma;
    private Long snapshotEvery;
    private Long cooldown;

    private Builder() {}

    /** For a resumed run: read the same data from another source (same labels, size and counts). */
    public Builder dataset(String v) { dataset = v; return this; }
    public Builder out(Path v) { out = v; return this; }
    public Builder dataDir(Path v) { dataDir = v; return this; }
    public Builder imageSize(Integer v) { imageSize = v; return this; }
    public Builder limit(Integer v) { limit = v; return this; }
    /** Total passes over the data the model should have at the end. */
    public Builder epochs(double v) { epochs = v; return this; }
    public Builder batchSize(Integer v) { batchSize = v; return this; }
    public Builder lr(Double v) { lr = v; return this; }
    public Builder warmup(Integer v) { warmup = v; return this; }
    public Builder pUncond(Double v) { pUncond = v; return this; }
    public Builder emaDecay(Double v) { emaDecay = v; return this; }
    public Builder gradClip(Double v) { gradClip = v; return this; }
    public Builder seed(Long v) { seed = v; return this; }
    /** Steps between checkpoints; 0 = only at the end. A resumed run may change it. */
    public Builder checkpointEvery(Long v) { checkpointEvery = v; return this; }
    public Builder schedule(ScheduleKind v) { schedule = v; return this; }
    public Builder timesteps(Integer v) { timesteps = v; return this; }
    public Builder widths(List<Integer> v) { widths = v; return this; }
    public Builder resBlocks(Integer v) { resBlocks = v; return this; }
    public Builder embedDim(Integer v) { embedDim = v; return this; }
    public Builder groups(Integer v) { groups = v; return this; }
    /** What the network learns to predict: ε, x₀ or v (the default, {@link Defaults#TRAIN_PREDICTION}). */
    public Builder prediction(Prediction v) { prediction = v; return this; }
    /** γ of Min-SNR-γ loss weighting; null for the plain loss. */
    public Builder minSnrGamma(Double v) { minSnrGamma = v; return this; }
    /** A cosine learning-rate decay over the run's epochs (true), or a constant rate (false, the default). */
    public Builder cosineDecay(Boolean v) { cosineDecay = v; return this; }
    /** The embedding scales and shifts every residual block's GroupNorm (AdaGN, true, the default) or adds a bias (false). */
    public Builder scaleShiftNorm(Boolean v) { scaleShiftNorm = v; return this; }
    /** Log-normal noise levels (the default): P_mean of ln σ (default and EDM's: −1.2). */
    public Builder pMean(Double v) { pMean = v; return this; }
    /** Log-normal noise levels: P_std of ln σ (default and EDM's: 1.2). */
    public Builder pStd(Double v) { pStd = v; return this; }
    /** True: t uniform over 0 … T−1 (DDPM) instead of the default log-normal noise levels. */
    public Builder uniformT(Boolean v) { uniformT = v; return this; }
    /** Decays of further weight averages exported beside the main one (choose the length after training). */
    public Builder extraEma(List<Double> v) { extraEma = v; return this; }
    /** Keep a copy of the model every this many steps under snapshots/ (for a scaling table); null or 0: none. */
    public Builder snapshotEvery(Long v) { snapshotEvery = v; return this; }
    /**
     * The run's last this many steps lower the learning rate linearly to 0 (warmup-stable-decay). A
     * resumed constant-rate run may be given one that starts at or after the step it is at.
     */
    public Builder cooldown(Long v) { cooldown = v; return this; }

    public TrainRequest build() {
      return new TrainRequest(out, resume, dataset, dataDir, imageSize, limit, epochs, batchSize, lr, warmup, pUncond,
          emaDecay, gradClip, seed, checkpointEvery, schedule, timesteps, widths, resBlocks, embedDim, groups,
          prediction, minSnrGamma, cosineDecay, scaleShiftNorm, pMean, pStd, uniformT, extraEma, snapshotEvery, cooldown);
    }
  }
}
