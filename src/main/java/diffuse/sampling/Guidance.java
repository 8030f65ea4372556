package diffuse.sampling;

import diffuse.api.DiffuseException;
import java.util.List;

/**
 * How guidance is applied beyond plain classifier-free guidance at scale s: the one guidance value
 * that a request carries, the plan resolves and the sidecar (and the HTTP API's answers) record as
 * JSON. Unset parts are null; {@link #PLAIN} has none.
 *
 * <ul>
 *   <li>the <b>guidance interval</b> (Kynkäänniemi et al. 2024): guidance only at noise levels
 *       σ = √((1−ᾱ)/ᾱ) in (lo, hi], the conditional model alone elsewhere;
 *   <li><b>CFG rescale</b> φ (Lin et al. 2023, Eq. 15–16);
 *   <li>a <b>negative class</b> steered away from instead of ∅;
 *   <li><b>adaptive projected guidance</b> η, r (Sadat et al. 2024);
 *   <li><b>autoguidance</b> (Karras et al. 2024): a weaker model of the same labels and schedule
 *       guides in place of the unconditional half, D = D_guide + w·(D − D_guide), optionally after
 *       CFG at {@code guideCfg} on the main model;
 *   <li>a program's own rule ({@code custom}, the library's {@code customGuidance}), by class name.
 * </ul>
 *
 * The model's own guidance (everything but autoguidance and a custom rule) runs as
 * {@link #guider()}; autoguidance needs the guide network, which the application layer loads.
 *
 * @param interval [σ_lo, σ_hi]; empty for every step (said so, in place of the model's own interval,
 *     {@code ModelInfo.Sampling}); null for the model's own, which the plan fills in (every step
 *     for a model without one)
 * @param rescale φ within [0, 1], or null (0)
 * @param negative the prompt of the class steered away from, or null for ∅
 * @param negativeLabel the label {@code negative} resolved to (filled in by the plan), or null
 * @param apg APG's η ≥ 0, or null for none
 * @param apgNorm APG's norm threshold r &gt; 0, or null for none (only with {@code apg})
 * @param guideModel autoguidance's guide model directory; {@link #NO_GUIDE} for none in place of the
 *     model's own; null for the model's own (its model.json's {@code sampling.guideModel}, filled in by
 *     the plan), which for most models is none
 * @param guideCheckpoint the guide's checkpoint (filled in by the plan), or null
 * @param guideCfg with {@code guideModel}: the CFG scale applied to the main model first, or null
 * @param guideInterval with {@code guideModel}: [σ_lo, σ_hi], the noise levels at which the guide is
 *     called and autoguidance applies (elsewhere the main model, with its CFG, alone); null for every step
 * @param custom the class name of a program's own rule, or null
 */
public record Guidance(List<Double> interval, Double rescale, String negative, Integer negativeLabel, Double apg,
    Double apgNorm, String guideModel, String guideCheckpoint, Double guideCfg, List<Double> guideInterval,
    String custom) {
  /**
   * The guide model that says "no guide": classifier-free guidance alone, in place of the model's own
   * autoguidance ({@code sampling.guideModel} in its model.json).
   */
  public static final String NO_GUIDE = "none";

  /** Plain classifier-free guidance: every step, no rescale, away from ∅. */
  public static final Guidance PLAIN = new Guidance(null, null, null, null, null, null, null, null, null, null, null);

  public Guidance {
    if (interval != null && !interval.isEmpty()) {
      interval = checkInterval("guidanceInterval", interval);
    } else if (interval != null) {
      interval = List.of();
    }
    if (rescale != null && !(rescale >= 0 && rescale <= 1)) {
      throw DiffuseException.badValue("rescale", "rescale must be within [0, 1], got " + rescale);
    }
    if (negativeLabel != null && negativeLabel < 0) {
      throw DiffuseException.badValue("negative", "negative label must be a class, got " + negativeLabel);
    }
    if (apgNorm != null && apg == null) {
      throw DiffuseException.badValue("apgNorm", "apgNorm is APG's norm threshold; it needs apg (η) too");
    }
    if (apg != null) {
      new AdaptiveProjectedGuidance(apg, apgNorm == null ? Double.POSITIVE_INFINITY : apgNorm); // checks both
      if (rescale != null && rescale > 0) {
        throw DiffuseException.badValue("apg", "apg and rescale are two answers to the same problem; choose one");
      }
    }
    if (guideInterval != null) {
      guideInterval = checkInterval("guideInterval", guideInterval);
      if (!auto(guideModel)) {
        throw DiffuseException.badValue("guideInterval", "guideInterval is where autoguidance applies; it needs"
            + " guideModel too");
      }
    }
    if (guideCfg != null && !auto(guideModel)) {
      throw DiffuseException.badValue("guideCfg", "guideCfg is the CFG scale blended with autoguidance; it needs"
          + " guideModel too");
    }
    if (guideCfg != null && !Double.isFinite(guideCfg)) {
      throw DiffuseException.badValue("guideCfg", "guideCfg must be a finite number, got " + guideCfg);
    }
    boolean own = hasInterval(interval) || rescale != null || negative != null || negativeLabel != null || apg != null;
    if (auto(guideModel) && own && guideCfg == null) {
      throw DiffuseException.badValue("guideModel", "guideModel (autoguidance) guides with a second model; an"
          + " interval, rescale, negative or apg shapes the CFG blended in with it, so they need that CFG's scale too");
    }
    if (custom != null && (own || interval != null || auto(guideModel))) {
      throw DiffuseException.badValue("customGuidance", "customGuidance replaces the guidance method; do not also ask"
          + " for an interval, rescale, negative class, APG or a guide model");
    }
  }

  /** Two noise levels 0 ≤ lo &lt; hi (hi may be +∞), as an unmodifiable list; fails naming {@code field}. */
  private static List<Double> checkInterval(String field, List<Double> in) {
    if (in.size() != 2 || in.get(0) == null || in.get(1) == null) {
      throw DiffuseException.badValue(field, field + " must be two noise levels [lo, hi]");
    }
    double lo = in.get(0), hi = in.get(1);
    if (!(lo >= 0) || !(lo < hi) || Double.isInfinite(lo)) {
      throw DiffuseException.badValue(field, field + " must be two noise levels 0 <= lo < hi"
          + " (σ = √((1−ᾱ)/ᾱ)), got (" + lo + ", " + hi + "]");
    }
    return List.copyOf(in);
  }

  /**
   * The method at a scale, as grid titles (CLI, server, {@code evaluate}) name it: "guidance s = 1.5",
   * "guidance s = 1.5 in σ (0.3, 5], rescale 0.7", "autoguidance w = 2 by mnist-guide + CFG 1.2 in σ (0.3, 5]".
   */
  public String describeScale(double scale) {
    return name(ClassifierFreeGuidance.formatScale(scale));
  }

  /** The letter its scale goes by in titles and row labels: w for autoguidance (Karras et al. 2024), s for CFG. */
  public String scaleSymbol() {
    return isAutoguidance() ? "w" : "s";
  }

  /**
   * The method without its scale, as frontier legends and plot titles name it: "CFG", "CFG in σ (0.3, 5],
   * negative 'digit 1'", "autoguidance by mnist-guide + CFG 1.2 in σ (0.3, 5]", or a custom rule's class name.
   */
  public String describe() {
    return name(null);
  }

  private String name(String scale) {
    String at = scale == null ? "" : " = " + scale;
    String in = !hasInterval(interval) ? "" : within(interval);
    StringBuilder sb = new StringBuilder();
    if (custom != null) {
      sb.append(custom).append(scale == null ? "" : " s" + at);
    } else if (isAutoguidance()) {
      java.nio.file.Path file = java.nio.file.Path.of(guideModel).getFileName();
      sb.append("autoguidance").append(scale == null ? "" : " w" + at).append(" by ")
          .append(file == null ? guideModel : file.toString());
      if (guideInterval != null) {
        sb.append(within(guideInterval));
      }
      if (guideCfg != null) {
        sb.append(" + CFG ").append(ClassifierFreeGuidance.formatScale(guideCfg)).append(in);
      }
    } else {
      sb.append(scale == null ? "CFG" : "guidance s" + at).append(in);
    }
    if (rescale != null) {
      sb.append(", rescale ").append(ClassifierFreeGuidance.formatScale(rescale));
    }
    if (negative != null) {
      sb.append(", negative '").append(negative).append('\'');
    }
    if (apg != null) {
      sb.append(", APG η ").append(ClassifierFreeGuidance.formatScale(apg));
      if (apgNorm != null) {
        sb.append(" r ").append(ClassifierFreeGuidance.formatScale(apgNorm));
      }
    }
    return sb.toString();
  }

  /** " in σ (lo, hi]", as titles write an interval. */
  private static String within(List<Double> in) {
    return " in σ (" + ClassifierFreeGuidance.formatScale(in.get(0)) + ", " + ClassifierFreeGuidance.formatScale(in.get(1))
        + "]";
  }

  /** Guidance only at noise levels in (lo, hi]. */
  public static Guidance interval(double lo, double hi) {
    return PLAIN.withInterval(lo, hi);
  }

  private static boolean hasInterval(List<Double> interval) {
    return interval != null && !interval.isEmpty();
  }

  /** True if guidance is limited to an interval of noise levels (not every step, not left to the model). */
  public boolean limited() {
    return hasInterval(interval);
  }

  /** Autoguidance by the model in {@code dir}, with CFG at {@code cfg} first (null: none). */
  public static Guidance autoguidance(String dir, Double cfg) {
    return new Guidance(null, null, null, null, null, null, dir, null, cfg, null, null);
  }

  /** A program's own rule, recorded by name. */
  public static Guidance custom(String name) {
    return new Guidance(null, null, null, null, null, null, null, null, null, null, name);
  }

  public Guidance withInterval(double lo, double hi) {
    return withInterval(List.of(lo, hi));
  }

  /**
   * With guidance at noise levels in {@code interval} = [lo, hi]; an empty list: at every step, in place of
   * the model's own interval; null: the model's own.
   */
  public Guidance withInterval(List<Double> interval) {
    return new Guidance(interval, rescale, negative, negativeLabel, apg, apgNorm, guideModel, guideCheckpoint,
        guideCfg, guideInterval, custom);
  }

  public Guidance withRescale(Double phi) {
    return new Guidance(interval, phi, negative, negativeLabel, apg, apgNorm, guideModel, guideCheckpoint, guideCfg,
        guideInterval, custom);
  }

  /** Steers away from the class {@code prompt} names; its label is resolved by the plan. */
  public Guidance withNegative(String prompt) {
    return new Guidance(interval, rescale, prompt, null, apg, apgNorm, guideModel, guideCheckpoint, guideCfg,
        guideInterval, custom);
  }

  /** With the negative prompt's label, as the plan resolved it. */
  public Guidance withNegativeLabel(int label) {
    return new Guidance(interval, rescale, negative, label, apg, apgNorm, guideModel, guideCheckpoint, guideCfg,
        guideInterval, custom);
  }

  /** Adaptive projected guidance with η and norm threshold r (null: none). */
  public Guidance withApg(double eta, Double norm) {
    return new Guidance(interval, rescale, negative, negativeLabel, eta, norm, guideModel, guideCheckpoint, guideCfg,
        guideInterval, custom);
  }

  /** With the guide model found in {@code dir} (a name resolved to its directory, say). */
  public Guidance withGuideModel(String dir) {
    return new Guidance(interval, rescale, negative, negativeLabel, apg, apgNorm, dir, guideCheckpoint, guideCfg,
        guideInterval, custom);
  }

  /** With autoguidance only at noise levels in {@code in} = [lo, hi] (null: at every step). */
  public Guidance withGuideInterval(List<Double> in) {
    return new Guidance(interval, rescale, negative, negativeLabel, apg, apgNorm, guideModel, guideCheckpoint, guideCfg,
        in, custom);
  }

  /**
   * Autoguidance by {@code guideNet} as this value says: after CFG at {@link #guideCfg} shaped by
   * {@link #ownGuider()}, and only within {@link #guideInterval}.
   *
   * @throws IllegalStateException if this is not autoguidance
   */
  public Guider autoguider(Denoiser guideNet) {
    if (!isAutoguidance()) {
      throw new IllegalStateException("not autoguidance");
    }
    return new Autoguidance(guideNet, guideCfg == null ? 1.0 : guideCfg, ownGuider(),
        guideInterval == null ? null : new GuidanceInterval(guideInterval.get(0), guideInterval.get(1)));
  }

  /** With the guide's checkpoint, as the plan loaded it. */
  public Guidance withGuideCheckpoint(String checkpoint) {
    return new Guidance(interval, rescale, negative, negativeLabel, apg, apgNorm, guideModel, checkpoint, guideCfg,
        guideInterval, custom);
  }

  public boolean isPlain() {
    return equals(PLAIN);
  }

  /** True if a second model guides (autoguidance). */
  public boolean isAutoguidance() {
    return auto(guideModel);
  }

  /** True if {@link #guideModel} says no guide in place of the model's own ({@link #NO_GUIDE}). */
  public boolean refusesOwnGuide() {
    return NO_GUIDE.equals(guideModel);
  }

  private static boolean auto(String guideModel) {
    return guideModel != null && !NO_GUIDE.equals(guideModel);
  }

  /**
   * Autoguidance by the model in {@code dir} with CFG at {@code cfg} first (null: none), the guide
   * called only at noise levels in {@code in} (null: every step): a model's own guide method
   * ({@code sampling.guideModel} in its model.json) filled into a request that named none.
   */
  public Guidance withGuide(String dir, Double cfg, List<Double> in) {
    return new Guidance(interval, rescale, negative, negativeLabel, apg, apgNorm, dir, guideCheckpoint, cfg, in,
        custom);
  }

  /** True if a program's own rule guides. */
  public boolean isCustom() {
    return custom != null;
  }

  /**
   * The model's own guidance, applied this way: one network call per evaluation on the doubled
   * batch.
   *
   * @throws IllegalStateException for autoguidance or a custom rule (they are not the model's own),
   *     or a negative prompt whose label is not resolved
   */
  public Guider guider() {
    if (isAutoguidance() || isCustom()) {
      throw new IllegalStateException("autoguidance and custom rules are built by the application layer");
    }
    return ownGuider();
  }

  /**
   * The model's own guidance parts (interval, rescale, negative class, APG) as a guider: for plain
   * guidance {@link #guider()}, for autoguidance how the CFG blended in at {@code guideCfg} is
   * applied ({@link Autoguidance#cfgMethod()}).
   *
   * @throws IllegalStateException for a custom rule, or a negative prompt whose label is not resolved
   */
  public Guider ownGuider() {
    if (isCustom()) {
      throw new IllegalStateException("a custom rule is built by the application layer");
    }
    if (negative != null && negativeLabel == null) {
      throw new IllegalStateException("negative prompt '" + negative + "' is not resolved to a label");
    }
    GuidanceMethod.Apg a = apg == null ? null
        : new GuidanceMethod.Apg(apg, apgNorm == null ? Double.POSITIVE_INFINITY : apgNorm);
    return new GuidanceMethod(!limited() ? 0 : interval.get(0),
        !limited() ? Double.POSITIVE_INFINITY : interval.get(1), rescale == null ? 0 : rescale,
        negativeLabel == null ? -1 : negativeLabel, a);
  }
}
