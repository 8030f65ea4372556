package diffuse.sampling;

import diffuse.api.DiffuseException;
import diffuse.schedule.NoiseSchedule;

/**
 * The model's own guidance as a value: how the scale s is applied beyond plain classifier-free
 * guidance, the same for every sample of a batch (the scale itself may differ per sample), always
 * in one network call per evaluation. Each part is its own class, and {@link #guide} puts them
 * together:
 *
 * <ul>
 *   <li>the <b>guidance interval</b>: {@link GuidanceInterval} (Kynkäänniemi et al. 2024);
 *   <li><b>CFG rescale</b> φ: {@link CfgRescale} (Lin et al. 2023);
 *   <li>the <b>negative class</b>: {@link ClassifierFreeGuidance} taken against a class n instead
 *       of ∅, ε̃ = ε(x, t, n) + s·(ε(x, t, y) − ε(x, t, n));
 *   <li><b>adaptive projected guidance</b> η, r: {@link AdaptiveProjectedGuidance} (Sadat et al. 2024).
 * </ul>
 *
 * @param sigmaLo lower end of the interval (exclusive); 0 for none
 * @param sigmaHi upper end of the interval (inclusive); +∞ for none
 * @param rescale φ within [0, 1]; 0 is plain CFG
 * @param negativeLabel the class to steer away from, or −1 for the null label ∅
 * @param apg adaptive projected guidance, or null for the plain combination
 */
record GuidanceMethod(double sigmaLo, double sigmaHi, double rescale, int negativeLabel, Apg apg)
    implements Guider {
  /** Plain classifier-free guidance: every step, no rescale, away from ∅. */
  public static final GuidanceMethod PLAIN = new GuidanceMethod(0, Double.POSITIVE_INFINITY, 0, -1);

  /**
   * The settings of {@link AdaptiveProjectedGuidance}.
   *
   * @param eta weight η ≥ 0 of the guidance step's part parallel to x̂_0(y)
   * @param normThreshold r &gt; 0, or +∞ for no rescaling
   */
  public record Apg(double eta, double normThreshold) {
    public Apg {
      new AdaptiveProjectedGuidance(eta, normThreshold); // checks both, naming the field
    }

    /** x̃_0 of eq. 10 for every sample, [batch · dim]: {@link AdaptiveProjectedGuidance#combine(float[], float[], double[])}. */
    public float[] combine(float[] cond, float[] against, double[] scales) {
      return new AdaptiveProjectedGuidance(eta, normThreshold).combine(cond, against, scales);
    }
  }

  /** Without APG. */
  public GuidanceMethod(double sigmaLo, double sigmaHi, double rescale, int negativeLabel) {
    this(sigmaLo, sigmaHi, rescale, negativeLabel, null);
  }

  public GuidanceMethod {
    if (!(sigmaLo >= 0) || !(sigmaLo < sigmaHi) || Double.isInfinite(sigmaLo)) {
      throw DiffuseException.badValue("guidanceInterval", "guidanceInterval must be two noise levels 0 <= lo < hi (σ = √((1−ᾱ)/ᾱ)), got ("
          + sigmaLo + ", " + sigmaHi + "]");
    }
    if (!(rescale >= 0 && rescale <= 1)) {
      throw DiffuseException.badValue("rescale", "rescale must be within [0, 1], got " + rescale);
    }
    if (negativeLabel < -1) {
      throw DiffuseException.badValue("negative", "negative label must be a class, got " + negativeLabel);
    }
    if (apg != null && rescale > 0) {
      throw DiffuseException.badValue("apg", "apg and rescale are two answers to the same problem; choose one");
    }
  }

  public GuidanceMethod withInterval(double lo, double hi) {
    return new GuidanceMethod(lo, hi, rescale, negativeLabel, apg);
  }

  public GuidanceMethod withRescale(double phi) {
    return new GuidanceMethod(sigmaLo, sigmaHi, phi, negativeLabel, apg);
  }

  public GuidanceMethod withNegative(int label) {
    return new GuidanceMethod(sigmaLo, sigmaHi, rescale, label, apg);
  }

  public GuidanceMethod withApg(Apg a) {
    return new GuidanceMethod(sigmaLo, sigmaHi, rescale, negativeLabel, a);
  }

  /** The model's own classifier-free guidance, applied this way: {@link ClassifierFreeGuidance#guided}. */
  @Override
  public Denoiser guide(Denoiser net, int nullLabel, double[] scales, NoiseSchedule schedule) {
    return ClassifierFreeGuidance.guided(net, nullLabel, scales, this, schedule);
  }

  /** True if this is plain CFG. */
  public boolean isPlain() {
    return equals(PLAIN);
  }

  /** True if guidance applies at σ (the interval (σ_lo, σ_hi]). */
  public boolean appliesAt(double sigma) {
    return interval().contains(sigma);
  }

  /** The label the guided direction is taken against: the negative class, or ∅. */
  int againstLabel(int nullLabel) {
    return negativeLabel >= 0 ? negativeLabel : nullLabel;
  }

  /** The interval (σ_lo, σ_hi] in which guidance applies. */
  GuidanceInterval interval() {
    return new GuidanceInterval(sigmaLo, sigmaHi);
  }

  /** How the two halves of the doubled batch combine: APG, CFG rescale, or the plain linear combination. */
  Combination combination() {
    if (apg != null) {
      return new AdaptiveProjectedGuidance(apg.eta(), apg.normThreshold());
    }
    return rescale > 0 ? new CfgRescale(rescale) : Combination.LINEAR;
  }
}
