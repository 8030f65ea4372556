package diffuse.api;

/** The defaults that the CLI, the server and this API share. */
public final class Defaults {
  private Defaults() {}

  /** Images per prompt. */
  public static final int COUNT = 16;
  /** Images per scale of a sweep ({@code diffuse sweep}, {@code POST /api/sweep}): one grid line each. */
  public static final int SWEEP_COUNT = 8;
  /**
   * Guidance scale of a model whose {@code model.json} records none ({@code sampling.guidance}, written
   * by {@code export --guidance}). Each shipped model records the scale measured best for it at the
   * default sampler (MNIST 1.45, Fashion-MNIST 2, each in σ (0.3, 5]: docs/sampling.md); this value is the former MNIST
   * model's, a moderate scale for a model nobody has measured.
   */
  public static final double GUIDANCE = 1.5;
  /** Sampler: DPM-Solver++(2M) (Lu et al. 2022), 10 trailing steps. */
  public static final String SAMPLER = "dpm++2m";
  /**
   * Evaluation: the guidance scales measured, comma-separated as {@code evaluate --guidance} takes them,
   * besides the model's own default scale ({@link #evaluateScales}).
   */
  public static final String EVALUATE_GUIDANCE = "0,1,2,3,5";
  /** Evaluation: samples per class and scale. */
  public static final int EVALUATE_COUNT = 100;
  /**
   * The scales an evaluation measures when told none: {@link #EVALUATE_GUIDANCE} and the scale the
   * model samples at by default, so that the table shows what {@code generate} gives; ascending.
   */
  public static java.util.List<Double> evaluateScales(double modelDefault) {
    java.util.TreeSet<Double> s = new java.util.TreeSet<>();
    for (String v : EVALUATE_GUIDANCE.split(",")) {
      s.add(Double.valueOf(v));
    }
    s.add(modelDefault);
    return java.util.List.copyOf(s);
  }

  /** Images per network batch. */
  public static final int BATCH_SIZE = 64;

  // Training: a new run's settings when a request (or `diffuse train`) gives none. A resumed run keeps its own.
  /** Training: passes over the data. */
  public static final double TRAIN_EPOCHS = 5;
  /** Training: images per step. */
  public static final int TRAIN_BATCH_SIZE = 128;
  /** Training: Adam's peak learning rate. */
  public static final double TRAIN_LR = 1e-3;
  /** Training: steps of linear learning-rate warm-up. */
  public static final int TRAIN_WARMUP = 200;
  /** Training: probability that a label is replaced by the null label. */
  public static final double TRAIN_P_UNCOND = 0.1;
  /** Training: decay of the weight average that sampling uses. */
  public static final double TRAIN_EMA_DECAY = 0.999;
  /** Training: the global gradient-norm clip. */
  public static final double TRAIN_GRAD_CLIP = 1.0;
  /** Training: the seed of every random choice. */
  public static final long TRAIN_SEED = 0;
  /** Training: steps between checkpoints. */
  public static final long TRAIN_CHECKPOINT_EVERY = 1000;
  /** Training: diffusion steps T. */
  public static final int TRAIN_TIMESTEPS = 1000;
  /** Training: U-Net channels per resolution level. */
  public static final java.util.List<Integer> TRAIN_WIDTHS = java.util.List.of(32, 64, 128);
  /** Training: residual blocks per resolution level. */
  public static final int TRAIN_RES_BLOCKS = 1;
  /** Training: width of the time and class embedding. */
  public static final int TRAIN_EMBED_DIM = 128;
  /** Training: GroupNorm groups. */
  public static final int TRAIN_GROUPS = 8;
  // The objective and architecture below are the shipped models' recipe, chosen by measurement at equal
  // training (docs/journal/2026-12-06-quality.md, "AdaGN against the bias"): at 2 epochs, AdaGN with v and
  // log-normal noise levels lifts s = 1 accuracy from 65 % (bias, ε, t uniform) to 81 % and halves KID.
  /** Training: what the network predicts, "eps", "x0" or "v" (v = α·ε − σ·x₀, Salimans &amp; Ho 2022). */
  public static final String TRAIN_PREDICTION = "v";
  /** Training: the embedding scales and shifts every residual block's GroupNorm (AdaGN, Dhariwal &amp; Nichol 2021). */
  public static final boolean TRAIN_ADA_GN = true;
  /** Training: P_mean of the log-normal noise levels, ln σ ~ N(P_mean, P_std²) (EDM, Karras et al. 2022). */
  public static final double TRAIN_P_MEAN = -1.2;
  /** Training: P_std of the log-normal noise levels. */
  public static final double TRAIN_P_STD = 1.2;
  /** Training: side that folder images are resized to. */
  public static final int TRAIN_FOLDER_IMAGE_SIZE = 32;

  /**
   * This library's version: its jar manifest's Implementation-Version, or, run from classes, the
   * one the build wrote into {@code diffuse/version.properties}.
   */
  public static String version() {
    String v = Defaults.class.getPackage().getImplementationVersion();
    return v != null ? v : built("version");
  }

  /** The TensorFlow Java version this library was built against. */
  public static String tensorflowVersion() {
    return built("tensorflow");
  }

  private static String built(String key) {
    try (var in = Defaults.class.getResourceAsStream("/diffuse/version.properties")) {
      java.util.Properties p = new java.util.Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty(key, "unknown");
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }
}
