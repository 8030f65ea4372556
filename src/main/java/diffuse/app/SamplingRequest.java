package diffuse.app;

import diffuse.api.DiffuseException;
import diffuse.io.ModelInfo;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.GuidanceMethod;
import diffuse.sampling.SamplerSpec;
import diffuse.schedule.Spacing;

/**
 * How to sample, as a user asks for it (CLI options or an API request): unset values take the
 * model's defaults in {@link #spec(ModelInfo)}.
 *
 * @param sampler DDIM, DDPM or DPM-Solver++(2M)
 * @param steps network evaluations, or null for the default ({@value #DEFAULT_DDIM_STEPS} for DDIM,
 *     {@value #DEFAULT_DPM_STEPS} for DPM-Solver++, T for DDPM)
 * @param eta DDIM's η within [0, 1], or null (0); an error with DDPM
 * @param clip clip x̂_0 to [−1, 1] at every step
 * @param seed sample i of a request uses the random stream (seed, i)
 * @param batchSize images per network batch (a speed/memory knob; results do not depend on it)
 * @param spacing which timesteps the steps use, or null for the sampler's default
 * @param guidance guidance interval, rescale, negative class (null: plain CFG)
 */
public record SamplingRequest(SamplerKind sampler, Integer steps, Double eta, boolean clip, long seed, int batchSize,
    Spacing spacing, Guidance guidance) {
  /**
   * How guidance is applied beyond plain CFG (Kynkäänniemi et al. 2024; Lin et al. 2023; a negative
   * class); see {@link GuidanceMethod}.
   *
   * @param intervalLo guidance only above this noise level σ = √((1−ᾱ)/ᾱ), or null
   * @param intervalHi guidance only up to this noise level, or null
   * @param rescale CFG rescale φ within [0, 1], or null (0)
   * @param negative a prompt naming the class to steer away from instead of ∅, or null
   * @param apg adaptive projected guidance's η (Sadat et al. 2024), or null for none
   * @param apgNorm APG's norm threshold r, or null for none (only with {@code apg})
   * @param guideModel autoguidance (Karras et al. 2024): the directory of a weaker model of the same
   *     labels and schedule that guides this one in place of its unconditional half, or null
   * @param guideCfg with {@code guideModel}: the CFG scale applied to the main model first, or null (none)
   */
  public record Guidance(Double intervalLo, Double intervalHi, Double rescale, String negative, Double apg,
      Double apgNorm, String guideModel, Double guideCfg) {
    /** Plain CFG. */
    public static final Guidance PLAIN = new Guidance(null, null, null, null);

    /** Without APG. */
    public Guidance(Double intervalLo, Double intervalHi, Double rescale, String negative) {
      this(intervalLo, intervalHi, rescale, negative, null, null);
    }

    /** Without autoguidance. */
    public Guidance(Double intervalLo, Double intervalHi, Double rescale, String negative, Double apg,
        Double apgNorm) {
      this(intervalLo, intervalHi, rescale, negative, apg, apgNorm, null, null);
    }

    public Guidance {
      if (apgNorm != null && apg == null) {
        throw DiffuseException.badValue("apgNorm", "apgNorm is APG's norm threshold; it needs apg (η) too");
      }
      if (guideCfg != null && guideModel == null) {
        throw DiffuseException.badValue("guideCfg", "guideCfg is the CFG scale blended with autoguidance; it needs"
            + " guideModel too");
      }
      if (guideCfg != null && !Double.isFinite(guideCfg)) {
        throw DiffuseException.badValue("guideCfg", "guideCfg must be a finite number, got " + guideCfg);
      }
      if (guideModel != null && (intervalLo != null || intervalHi != null || rescale != null || negative != null
          || apg != null)) {
        throw DiffuseException.badValue("guideModel", "guideModel (autoguidance) guides with a second model and"
            + " does not combine with guidanceInterval, rescale, negative or apg; use guideCfg to blend in CFG");
      }
    }

    /** True if a second model guides (autoguidance). */
    public boolean isAutoguidance() {
      return guideModel != null;
    }

    public boolean isPlain() {
      return equals(PLAIN);
    }

    /** The method for a model with these labels; resolves the negative prompt. */
    public GuidanceMethod method(java.util.List<String> labels) {
      if (isPlain()) {
        return GuidanceMethod.PLAIN;
      }
      int neg = negative == null ? -1 : negativeLabel(labels);
      GuidanceMethod.Apg a = apg == null ? null
          : new GuidanceMethod.Apg(apg, apgNorm == null ? Double.POSITIVE_INFINITY : apgNorm);
      return new GuidanceMethod(intervalLo == null ? 0 : intervalLo,
          intervalHi == null ? Double.POSITIVE_INFINITY : intervalHi, rescale == null ? 0 : rescale, neg, a);
    }

    /** The label of the negative prompt. */
    public int negativeLabel(java.util.List<String> labels) {
      try {
        return new diffuse.prompt.Prompts(labels).resolve(negative);
      } catch (DiffuseException e) {
        throw new DiffuseException(e.code(), "negative", "negative prompt is not a class of the model: " + e.getMessage(), e);
      }
    }
  }

  /** Plain CFG at the sampler's default spacing. */
  public SamplingRequest(SamplerKind sampler, Integer steps, Double eta, boolean clip, long seed, int batchSize) {
    this(sampler, steps, eta, clip, seed, batchSize, null, Guidance.PLAIN);
  }

  /**
   * The default sampler, chosen by measurement (README, "Samplers and guidance methods, measured"):
   * DPM-Solver++(2M) at {@value #DEFAULT_DPM_STEPS} trailing steps draws samples as good as DDIM's
   * at 25 steps (accuracy, Fréchet distance, diversity at n = 500 per digit) in 40 % of the network
   * calls.
   */
  public static final SamplerKind DEFAULT_SAMPLER = SamplerKind.DPMPP_2M;
  /** {@link #DEFAULT_SAMPLER} as users type it. */
  public static final String DEFAULT_SAMPLER_NAME = diffuse.api.Defaults.SAMPLER;
  /** Default DDIM steps: quick on a CPU, and indistinguishable from 100 steps on MNIST by eye. */
  public static final int DEFAULT_DDIM_STEPS = 25;
  /** Default DPM-Solver++(2M) steps: the regime it is made for (Lu et al. 2022 use 10–20). */
  public static final int DEFAULT_DPM_STEPS = 10;
  /** Default Heun steps: 10 steps, 19 network evaluations. */
  public static final int DEFAULT_HEUN_STEPS = 10;
  /** Default images per network batch. */
  public static final int DEFAULT_BATCH_SIZE = diffuse.api.Defaults.BATCH_SIZE;

  public SamplingRequest {
    if (sampler == null) {
      throw DiffuseException.badValue("sampler", "sampler must be ddim, ddpm, dpm++2m, euler or heun");
    }
    guidance = guidance == null ? Guidance.PLAIN : guidance;
    if (batchSize < 1) {
      throw DiffuseException.badValue("batchSize", "batchSize must be >= 1, got " + batchSize);
    }
  }

  /** The default sampler at its default steps and spacing, clipping on, seed 0. */
  public static SamplingRequest defaults() {
    return new SamplingRequest(DEFAULT_SAMPLER, null, null, true, 0, DEFAULT_BATCH_SIZE);
  }

  /** The steps a sampler takes when none are given, for a model of T timesteps. */
  public static int defaultSteps(SamplerKind sampler, int timesteps) {
    return switch (sampler) {
      case DDIM, EULER -> Math.min(DEFAULT_DDIM_STEPS, timesteps);
      case DPMPP_2M -> Math.min(DEFAULT_DPM_STEPS, timesteps);
      case HEUN -> Math.min(DEFAULT_HEUN_STEPS, timesteps);
      case DDPM -> timesteps;
    };
  }

  /**
   * This request with another sampling method, written {@code SAMPLER[/STEPS][/key=value...]} with
   * keys {@code spacing}, {@code interval=LO-HI}, {@code rescale}, {@code negative}, {@code apg} (η),
   * {@code apgnorm} (r), {@code guide} (autoguidance's model directory) and {@code guidecfg}: {@code ddim/25}, {@code dpm++2m/10/interval=0.3-5}, {@code heun/10/rescale=0.7},
   * {@code dpm++2m/10/apg=0}. Seed, clipping
   * and batch size stay; what the spec does not name is reset to the sampler's default.
   */
  public SamplingRequest withMethod(String spec) {
    String trimmed = spec.trim();
    int guideAt = trimmed.indexOf("/guide=");
    String guideDir = null;
    if (guideAt >= 0) { // a directory has slashes of its own: guide= takes the rest of the spec
      guideDir = trimmed.substring(guideAt + "/guide=".length());
      trimmed = trimmed.substring(0, guideAt);
      int cfgAt = guideDir.indexOf("/guidecfg=");
      if (cfgAt >= 0) {
        trimmed += guideDir.substring(cfgAt);
        guideDir = guideDir.substring(0, cfgAt);
      }
    }
    String[] parts = trimmed.split("/");
    SamplerKind kind = SamplerKind.parse(parts[0]);
    Integer n = null;
    Spacing sp = null;
    Double lo = null, hi = null, phi = null, apg = null, apgNorm = null, guideCfg = null;
    String neg = null, guide = guideDir;
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim();
      if (i == 1 && p.matches("\\d+")) {
        n = Integer.parseInt(p);
        continue;
      }
      int eq = p.indexOf('=');
      String key = eq < 0 ? p : p.substring(0, eq);
      String value = eq < 0 ? "" : p.substring(eq + 1);
      try {
        switch (key) {
          case "spacing" -> sp = Spacing.parse(value);
          case "interval" -> {
            String[] lh = value.split("-");
            if (lh.length != 2) {
              throw new IllegalArgumentException();
            }
            lo = Double.parseDouble(lh[0]);
            hi = Double.parseDouble(lh[1]);
          }
          case "rescale" -> phi = Double.parseDouble(value);
          case "negative" -> neg = value;
          case "apg" -> apg = Double.parseDouble(value);
          case "apgnorm" -> apgNorm = Double.parseDouble(value);
          case "guidecfg" -> guideCfg = Double.parseDouble(value);
          default -> throw new IllegalArgumentException();
        }
      } catch (IllegalArgumentException e) {
        throw DiffuseException.badValue("method", "method '" + spec + "': cannot read '" + p + "' (write SAMPLER[/STEPS]"
            + "[/spacing=S][/interval=LO-HI][/rescale=φ][/negative=PROMPT][/apg=η][/apgnorm=r][/guide=DIR[/guidecfg=S]]"
            + " (guide= last: the directory may hold slashes),"
            + " e.g. dpm++2m/10/interval=0.3-5)");
      }
    }
    return new SamplingRequest(kind, n, null, clip, seed, batchSize, sp,
        new Guidance(lo, hi, phi, neg, apg, apgNorm, guide, guideCfg));
  }

  public SamplingRequest withSeed(long s) {
    return new SamplingRequest(sampler, steps, eta, clip, s, batchSize, spacing, guidance);
  }

  /** The sampler and options for {@code info}'s model, unset values filled in; fails on bad values. */
  public SamplerSpec spec(ModelInfo info) {
    int n = steps != null ? steps : defaultSteps(sampler, info.schedule().steps());
    if (n > info.schedule().steps()) {
      throw DiffuseException.badValue("steps", "steps " + n + " exceeds the model's T = " + info.schedule().steps());
    }
    return new SamplerSpec(sampler, n, eta == null ? 0 : eta, clip,
        spacing != null ? spacing : SamplerSpec.defaultSpacing(sampler));
  }
}
