package diffuse.api;

import diffuse.app.TrainRequest;
import diffuse.sampling.Prediction;
import java.nio.file.Path;
import java.util.List;

/**
 * A training run as a program asks for it: a new run on a data set into a directory, or the
 * continuation of a run. Unset options take the defaults of {@code diffuse train} for a new run and
 * the recorded values for a resumed one; a resumed run refuses a value that differs from its
 * record. {@link Builder#build()} fails fast naming the field.
 */
public final class TrainingRequest {
  private final TrainRequest internal;

  private TrainingRequest(TrainRequest internal) {
    this.internal = internal;
  }

  TrainRequest internal() {
    return internal;
  }

  /** A new run on {@code dataset} ("mnist", "fashion-mnist" or "folder:PATH", one subfolder per class) saved in {@code out}. */
  public static Builder newRun(String dataset, Path out) {
    return new Builder(TrainRequest.newRun(dataset, out));
  }

  /** The continuation of the run in {@code dir} (settings from its model.json). */
  public static Builder resume(Path dir) {
    return new Builder(TrainRequest.resume(dir));
  }

  @Override
  public String toString() {
    return internal.toString();
  }

  /** The options; every setter returns the builder. */
  public static final class Builder {
    private final TrainRequest.Builder b;

    private Builder(TrainRequest.Builder b) {
      this.b = b;
    }

    /** Passes over the data the model should have had at the end (default {@value Defaults#TRAIN_EPOCHS}). */
    public Builder epochs(double epochs) {
      b.epochs(epochs);
      return this;
    }

    /** Images per step (default {@value Defaults#TRAIN_BATCH_SIZE}). */
    public Builder batchSize(int n) {
      b.batchSize(n);
      return this;
    }

    /** Adam's peak learning rate (default {@value Defaults#TRAIN_LR}). */
    public Builder learningRate(double lr) {
      b.lr(lr);
      return this;
    }

    /** Seed of every random choice: same seed, same run (default {@value Defaults#TRAIN_SEED}). */
    public Builder seed(long seed) {
      b.seed(seed);
      return this;
    }

    /** Steps between checkpoints, 0 = only at the end (default {@value Defaults#TRAIN_CHECKPOINT_EVERY}). */
    public Builder checkpointEvery(long steps) {
      b.checkpointEvery(steps);
      return this;
    }

    /** Train on the first {@code n} images only. */
    public Builder limit(int n) {
      b.limit(n);
      return this;
    }

    /** Side that folder images are resized to (folder data sets only; default {@value Defaults#TRAIN_FOLDER_IMAGE_SIZE}). */
    public Builder imageSize(int px) {
      b.imageSize(px);
      return this;
    }

    /** Where MNIST is cached or Fashion-MNIST read. */
    public Builder dataDir(Path dir) {
      b.dataDir(dir);
      return this;
    }

    /** U-Net channels per resolution level (default {@link Defaults#TRAIN_WIDTHS}: 32, 64, 128). */
    public Builder widths(int... widths) {
      if (widths == null || widths.length == 0) {
        throw DiffuseException.badValue("widths", "widths must name at least one level");
      }
      b.widths(java.util.Arrays.stream(widths).boxed().toList());
      return this;
    }

    /** Width of the time and class embedding (default {@value Defaults#TRAIN_EMBED_DIM}). */
    public Builder embedDim(int d) {
      b.embedDim(d);
      return this;
    }

    /** GroupNorm groups; must divide every width (default {@value Defaults#TRAIN_GROUPS}). */
    public Builder groups(int g) {
      b.groups(g);
      return this;
    }

    /** Diffusion steps T of the linear schedule (default {@value Defaults#TRAIN_TIMESTEPS}). */
    public Builder timesteps(int t) {
      b.timesteps(t);
      return this;
    }

    /** Probability that a label is replaced by the null label (default {@value Defaults#TRAIN_P_UNCOND}). */
    public Builder pUncond(double p) {
      b.pUncond(p);
      return this;
    }

    /** Decay of the weight average used for sampling (default {@value Defaults#TRAIN_EMA_DECAY}). */
    public Builder emaDecay(double d) {
      b.emaDecay(d);
      return this;
    }

    /** Further weight averages with these decays, exported beside the main one with every checkpoint. */
    public Builder extraEma(double... decays) {
      b.extraEma(java.util.Arrays.stream(decays).boxed().toList());
      return this;
    }

    /** Steps of linear learning-rate warm-up (default {@value Defaults#TRAIN_WARMUP}). */
    public Builder warmup(int steps) {
      b.warmup(steps);
      return this;
    }

    /** The global gradient-norm clip (default {@value Defaults#TRAIN_GRAD_CLIP}). */
    public Builder gradClip(double norm) {
      b.gradClip(norm);
      return this;
    }

    /** The noise schedule: "linear" (default; Ho et al. 2020) or "cosine" (Nichol &amp; Dhariwal 2021). */
    public Builder schedule(String kind) {
      java.util.Optional<diffuse.schedule.ScheduleKind> k = java.util.Arrays.stream(diffuse.schedule.ScheduleKind.values())
          .filter(v -> v.name().equalsIgnoreCase(kind == null ? "" : kind.strip())).findFirst();
      b.schedule(k.orElseThrow(() -> DiffuseException.badValue("schedule", "schedule must be linear or cosine, not '"
          + kind + "'")));
      return this;
    }

    /** Residual blocks per resolution level (default {@value Defaults#TRAIN_RES_BLOCKS}). */
    public Builder resBlocks(int n) {
      b.resBlocks(n);
      return this;
    }

    /** Keep the weights every {@code steps} steps as a model of its own under snapshots/ (0, the default: none). */
    public Builder snapshotEvery(long steps) {
      b.snapshotEvery(steps);
      return this;
    }

    /** What the network predicts: "eps", "x0" or "v" (default {@value Defaults#TRAIN_PREDICTION}). */
    public Builder prediction(String target) {
      if (target == null) {
        throw DiffuseException.badValue("prediction", "prediction must be eps, x0 or v");
      }
      b.prediction(Prediction.parse(target));
      return this;
    }

    /** Min-SNR-γ loss weighting (Hang et al. 2023). */
    public Builder minSnrGamma(double gamma) {
      b.minSnrGamma(gamma);
      return this;
    }

    /** A cosine learning-rate decay over the run's epochs. */
    public Builder cosineDecay(boolean on) {
      b.cosineDecay(on);
      return this;
    }

    /**
     * Lower the learning rate linearly to 0 over the run's last {@code steps} steps (warmup-stable-decay,
     * Hägele et al. 2024); a resumed constant-rate run may be finished with one.
     */
    public Builder cooldown(long steps) {
      b.cooldown(steps);
      return this;
    }

    /**
     * Log-normal noise levels ln σ ~ N(pMean, pStd²) at the nearest timestep (Karras et al. 2022); the
     * default, with EDM's {@value Defaults#TRAIN_P_MEAN} and {@value Defaults#TRAIN_P_STD}.
     */
    public Builder logNormalNoise(double pMean, double pStd) {
      b.pMean(pMean).pStd(pStd);
      return this;
    }

    /** t uniform over 0 … T−1 (DDPM, Ho et al. 2020) instead of the default log-normal noise levels. */
    public Builder uniformNoiseLevels() {
      b.uniformT(true);
      return this;
    }

    /**
     * AdaGN: the embedding scales and shifts every residual block's GroupNorm (Dhariwal &amp; Nichol 2021;
     * default {@value Defaults#TRAIN_ADA_GN}); false adds it as a bias.
     */
    public Builder adaGn(boolean on) {
      b.scaleShiftNorm(on);
      return this;
    }

    public TrainingRequest build() {
      try {
        return new TrainingRequest(b.build());
      } catch (DiffuseException e) {
        throw apiNames(e);
      }
    }
  }

  /** The internal field names that this builder spells otherwise (the CLI's flags follow the internal ones). */
  private static final java.util.Map<String, String> API_NAMES = java.util.Map.of("lr", "learningRate",
      "scaleShiftNorm", "adaGn", "pMean", "logNormalNoise", "pStd", "logNormalNoise", "uniformT", "uniformNoiseLevels");

  /** {@code e} naming the field as this API spells it. */
  static DiffuseException apiNames(DiffuseException e) {
    String api = e.field() == null ? null : API_NAMES.get(e.field());
    if (api == null || e.code() != DiffuseException.Code.BAD_VALUE) {
      return e;
    }
    String message = e.getMessage().startsWith(e.field() + " ") ? api + e.getMessage().substring(e.field().length())
        : e.getMessage();
    return DiffuseException.badValue(api, message);
  }

}
