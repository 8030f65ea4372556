package diffuse.app;

import diffuse.api.DiffuseException;
import diffuse.io.ModelInfo;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.Guidance;
import diffuse.sampling.SamplerSpec;
import diffuse.schedule.Spacing;

/**
 * How to sample, as a user asks for it (CLI options, an API request, the library's builder): the
 * sampler configuration, the seed, the batch size and the guidance. What is unset takes the
 * model's defaults in {@link #spec(ModelInfo)}.
 *
 * @param sampler the one sampler configuration; its steps may be {@link SamplerSpec#DEFAULT_STEPS}
 * @param seed sample i of a request uses the random stream (seed, i)
 * @param batchSize images per network batch (a speed/memory knob; results do not depend on it)
 * @param guidance how guidance is applied beyond plain CFG ({@link Guidance#PLAIN} for none)
 */
public record SamplingRequest(SamplerSpec sampler, long seed, int batchSize, Guidance guidance) {
  /** Plain CFG. */
  public SamplingRequest(SamplerSpec sampler, long seed, int batchSize) {
    this(sampler, seed, batchSize, Guidance.PLAIN);
  }

  /**
   * The default sampler, chosen by measurement (README, "Samplers and guidance methods, measured"):
   * DPM-Solver++(2M) at {@value SamplerSpec#DEFAULT_DPM_STEPS} trailing steps draws samples as good as DDIM's
   * at 25 steps (accuracy, Fréchet distance, diversity at n = 500 per digit) in 40 % of the network
   * calls.
   */
  public static final SamplerKind DEFAULT_SAMPLER = SamplerKind.parse(diffuse.api.Defaults.SAMPLER);

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
    return new SamplingRequest(SamplerSpec.of(DEFAULT_SAMPLER), 0, diffuse.api.Defaults.BATCH_SIZE);
  }

  /**
   * This request with another sampling method, written {@code SAMPLER[/STEPS][/key=value...]} with
   * keys {@code spacing}, {@code interval=LO-HI} (or {@code none}: every step, not the model's own interval), {@code rescale}, {@code negative}, {@code apg} (η),
   * {@code apgnorm} (r), {@code guide} (autoguidance's model directory), {@code guidecfg} and {@code guideinterval=LO-HI}: {@code ddim/25}, {@code dpm++2m/10/interval=0.3-5}, {@code heun/10/rescale=0.7},
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
      int cfgAt = guideDir.indexOf("/guidecfg="), inAt = guideDir.indexOf("/guideinterval=");
      int keysAt = cfgAt < 0 ? inAt : inAt < 0 ? cfgAt : Math.min(cfgAt, inAt);
      if (keysAt >= 0) {
        trimmed += guideDir.substring(keysAt);
        guideDir = guideDir.substring(0, keysAt);
      }
    }
    String[] parts = trimmed.split("/");
    SamplerKind kind = SamplerKind.parse(parts[0]);
    Integer n = null;
    Spacing sp = null;
    Double lo = null, hi = null, phi = null, apg = null, apgNorm = null, guideCfg = null;
    java.util.List<Double> guideIn = null;
    boolean everyStep = false;
    String neg = null, guide = guideDir;
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim();
      if (i == 1 && p.matches("\\d+")) { // steps: 1 or more (0 would read as "the sampler's default")
        if (p.length() > 9 || Integer.parseInt(p) < 1) {
          throw DiffuseException.badValue("method", "method '" + spec + "': steps must be a whole number from 1 to"
              + " 999999999, got " + p);
        }
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
            if (value.equalsIgnoreCase("none")) {
              everyStep = true;
              continue;
            }
            java.util.List<Double> lh = levels(value);
            lo = lh.get(0);
            hi = lh.get(1);
          }
          case "rescale" -> phi = Double.parseDouble(value);
          case "negative" -> neg = value;
          case "apg" -> apg = Double.parseDouble(value);
          case "apgnorm" -> apgNorm = Double.parseDouble(value);
          case "guidecfg" -> guideCfg = Double.parseDouble(value);
          case "guideinterval" -> guideIn = levels(value);
          default -> throw new IllegalArgumentException();
        }
      } catch (IllegalArgumentException e) {
        throw DiffuseException.badValue("method", "method '" + spec + "': cannot read '" + p + "' (write SAMPLER[/STEPS]"
            + "[/spacing=S][/interval=LO-HI|none][/rescale=φ][/negative=PROMPT][/apg=η][/apgnorm=r][/guide=DIR[/guidecfg=S][/guideinterval=LO-HI]]"
            + " (guide= last: the directory may hold slashes),"
            + " e.g. dpm++2m/10/interval=0.3-5)");
      }
    }
    return new SamplingRequest(new SamplerSpec(kind, n == null ? SamplerSpec.DEFAULT_STEPS : n, 0, sampler.clip(), sp),
        seed, batchSize, new Guidance(everyStep ? java.util.List.of() : lo == null && hi == null ? null
            : java.util.Arrays.asList(lo, hi), phi, neg, null, apg, apgNorm,
            guide, null, guideCfg, guideIn, null));
  }

  /** A method spec's "LO-HI" as [LO, HI]; an IllegalArgumentException (a NumberFormatException too) if it is not. */
  private static java.util.List<Double> levels(String value) {
    String[] lh = value.split("-");
    if (lh.length != 2) {
      throw new IllegalArgumentException();
    }
    return java.util.List.of(Double.parseDouble(lh[0]), Double.parseDouble(lh[1]));
  }

  public SamplingRequest withSeed(long s) {
    return new SamplingRequest(sampler, s, batchSize, guidance);
  }

  /** The sampler for {@code info}'s model, its default steps filled in; fails on steps beyond T. */
  public SamplerSpec spec(ModelInfo info) {
    return sampler.resolve(info.schedule().steps());
  }
}
