package diffuse.api;

import diffuse.app.GenerateRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * What to generate: {@code count} images for every (prompt, guidance scale) pair, prompts outer,
 * each row starting from the same noise (samples 0 … count−1 of the seed). One prompt at several
 * scales is a sweep. Unset options take the defaults of {@code diffuse generate}.
 *
 * <p>Build one with {@link #builder()}; {@link Builder#build()} fails fast with a
 * {@link DiffuseException} whose {@link DiffuseException#field()} names the bad field, the same
 * names the HTTP API's JSON uses. Prompts are resolved against a model's labels when it runs.
 */
public final class GenerationRequest {
  private final Object internal; // diffuse.app.GenerateRequest, kept opaque to users
  private final CustomGuidance custom;

  private GenerationRequest(Object internal, CustomGuidance custom) {
    this.internal = internal;
    this.custom = custom;
  }

  /** The program's own guidance rule, or null. */
  CustomGuidance customGuidance() {
    return custom;
  }

  Object internal() {
    return internal;
  }

  /** A request for {@code count} images of one prompt at the default scale and sampler. */
  public static GenerationRequest of(String prompt, int count) {
    return builder().prompt(prompt).count(count).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String toString() {
    return internal.toString();
  }

  /** The options of a {@link GenerationRequest}; every setter returns the builder. */
  public static final class Builder {
    final List<String> prompts = new ArrayList<>();
    final List<Double> scales = new ArrayList<>();
    int count = Defaults.COUNT;
    long seed;
    String sampler;
    Integer steps;
    String spacing;
    Double eta;
    boolean clip = true;
    int batchSize = Defaults.BATCH_SIZE;
    Double intervalLo;
    Double intervalHi;
    boolean everyStep;
    Double rescale;
    String negative;
    Double apg;
    Double apgNorm;
    String guideModel;
    Double guideCfg;
    Double guideIntervalLo;
    Double guideIntervalHi;
    CustomGuidance custom;

    private Builder() {}

    /** Adds a prompt naming one of the model's labels: "digit 7", "seven", "sneaker". */
    public Builder prompt(String prompt) {
      if (prompt == null || prompt.isBlank()) {
        throw DiffuseException.badValue("prompt", "prompt is empty: name what to draw, e.g. \"digit 7\"");
      }
      prompts.add(prompt);
      return this;
    }

    /** Images per (prompt, scale) row (default {@value Defaults#COUNT}). */
    public Builder count(int count) {
      this.count = count;
      return this;
    }

    /**
     * The guidance scale s in ε̃ = ε(x, ∅) + s·(ε(x, y) − ε(x, ∅)) (Ho &amp; Salimans 2022): 0
     * unconditional, 1 conditional, above 1 guided. Several scales make a sweep. Default: the
     * model's own ({@link DiffusionModel#defaultGuidance()}, kept in its {@code model.json}), else
     * {@value Defaults#GUIDANCE}.
     */
    public Builder guidance(double... scales) {
      if (scales == null || scales.length == 0) {
        throw DiffuseException.badValue("guidance", "guidance needs at least one scale");
      }
      this.scales.clear();
      for (double s : scales) {
        this.scales.add(s);
      }
      return this;
    }

    /** Seed of the noise: image i of every row uses the random stream (seed, i). Default 0. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** ddim, ddpm, dpm++2m, euler or heun (default {@value Defaults#SAMPLER}). */
    public Builder sampler(String sampler) {
      this.sampler = sampler;
      return this;
    }

    /** Sampler steps (default: the sampler's, 10 for dpm++2m). */
    public Builder steps(int steps) {
      this.steps = steps;
      return this;
    }

    /** Which timesteps the steps visit: linspace, uniform, trailing, karras, karras-exact or logsnr (default: the sampler's). */
    public Builder spacing(String spacing) {
      this.spacing = spacing;
      return this;
    }

    /** DDIM's η within [0, 1] (default 0: deterministic). */
    public Builder eta(double eta) {
      this.eta = eta;
      return this;
    }

    /** Clip x̂_0 to [−1, 1] at every step (default true). */
    public Builder clip(boolean clip) {
      this.clip = clip;
      return this;
    }

    /** Images per network batch: memory and speed only, never the images (default {@value Defaults#BATCH_SIZE}). */
    public Builder batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /**
     * Guide only at noise levels σ in (lo, hi] (Kynkäänniemi et al. 2024). Default: the model's own
     * ({@link DiffusionModel#defaultGuidanceInterval()}), else every step.
     */
    public Builder guidanceInterval(double lo, double hi) {
      this.intervalLo = lo;
      this.intervalHi = hi;
      this.everyStep = false;
      return this;
    }

    /** Guide at every step, in place of the model's own interval ({@link DiffusionModel#defaultGuidanceInterval()}). */
    public Builder guidanceAtEveryStep() {
      this.intervalLo = null;
      this.intervalHi = null;
      this.everyStep = true;
      return this;
    }

    /** CFG rescale φ within [0, 1] (Lin et al. 2023). */
    public Builder rescale(double phi) {
      this.rescale = phi;
      return this;
    }

    /** Steer away from the class this prompt names instead of from ∅. */
    public Builder negative(String prompt) {
      this.negative = prompt;
      return this;
    }

    /** Adaptive projected guidance's η (Sadat et al. 2024). */
    public Builder apg(double eta) {
      this.apg = eta;
      return this;
    }

    /** APG's norm threshold r (with {@link #apg}). */
    public Builder apgNorm(double r) {
      this.apgNorm = r;
      return this;
    }

    /**
     * Autoguidance (Karras et al. 2024): guide with the weaker model in {@code dir} (same labels and
     * schedule; smaller or trained for less time) instead of the unconditional half; the guidance
     * scale becomes autoguidance's w. It is loaded on the first request that names it and stays
     * loaded (one TensorFlow session per guide directory) until the {@link DiffusionModel} is closed.
     */
    public Builder guideModel(java.nio.file.Path dir) {
      this.guideModel = dir == null ? null : dir.toString();
      return this;
    }

    /**
     * Classifier-free guidance alone, in place of the model's own autoguidance (a model whose model.json
     * names a guide, {@code sampling.guideModel}, is guided by it unless a request names another or this).
     */
    public Builder withoutGuide() {
      this.guideModel = diffuse.sampling.Guidance.NO_GUIDE;
      this.guideCfg = null;
      this.guideIntervalLo = null;
      this.guideIntervalHi = null;
      return this;
    }

    /** With {@link #guideModel}: classifier-free guidance of the main model at scale {@code s} first. */
    public Builder guideCfg(double s) {
      this.guideCfg = s;
      return this;
    }

    /**
     * With {@link #guideModel}: call the guide, and apply autoguidance, only at noise levels σ in
     * (lo, hi]; elsewhere the main model (after its CFG, if any) alone. Default: every step.
     */
    public Builder guideInterval(double lo, double hi) {
      this.guideIntervalLo = lo;
      this.guideIntervalHi = hi;
      return this;
    }

    /**
     * Guidance by a rule of your own ({@link CustomGuidance}) in place of classifier-free guidance's
     * linear combination; the solvers call it through the same guided denoiser. Not together with the
     * other guidance methods. The settings record the rule's class name.
     */
    public Builder customGuidance(CustomGuidance rule) {
      this.custom = rule;
      return this;
    }

    /** The request; fails on a missing prompt or an out-of-range value, naming the field. */
    public GenerationRequest build() {
      GenerateRequest request = Requests.generate(this);
      if (custom != null) { // at once, rather than when the plan is made
        diffuse.app.GenerateService.requirePlainGuidance(request);
      }
      return new GenerationRequest(request, custom);
    }
  }
}
