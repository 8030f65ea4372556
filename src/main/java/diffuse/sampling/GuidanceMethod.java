package diffuse.sampling;

import diffuse.error.DiffuseException;
import diffuse.schedule.NoiseSchedule;

/**
 * How the scale s is applied, beyond plain classifier-free guidance; the same for every sample of
 * a batch (the scale itself may differ per sample). All three keep guidance at one network call per
 * evaluation.
 *
 * <ul>
 *   <li><b>Guidance interval</b> (Kynkäänniemi et al. 2024, "Applying Guidance in a Limited Interval
 *       Improves Sample and Distribution Quality in Diffusion Models", §3): s is applied only while
 *       σ = √((1−ᾱ_t)/ᾱ_t) lies in (σ_lo, σ_hi]; outside it the step uses the conditional ε alone
 *       (s = 1), so only that half of the doubled batch is computed.
 *   <li><b>CFG rescale</b> φ (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are
 *       Flawed", §3.4, Eq. 15–16): ε̃ is scaled per sample to the standard deviation of the
 *       conditional ε, and the result mixed with ε̃ by φ: ε = φ·ε̃·std(ε_c)/std(ε̃) + (1−φ)·ε̃.
 *   <li><b>Negative class</b>: guidance steers away from a class n instead of from ∅:
 *       ε̃ = ε(x, t, n) + s·(ε(x, t, y) − ε(x, t, n)).
 * </ul>
 *
 * @param sigmaLo lower end of the interval (exclusive); 0 for none
 * @param sigmaHi upper end of the interval (inclusive); +∞ for none
 * @param rescale φ within [0, 1]; 0 is plain CFG
 * @param negativeLabel the class to steer away from, or −1 for the null label ∅
 */
public record GuidanceMethod(double sigmaLo, double sigmaHi, double rescale, int negativeLabel) {
  /** Plain classifier-free guidance: every step, no rescale, away from ∅. */
  public static final GuidanceMethod PLAIN = new GuidanceMethod(0, Double.POSITIVE_INFINITY, 0, -1);

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
  }

  public GuidanceMethod withInterval(double lo, double hi) {
    return new GuidanceMethod(lo, hi, rescale, negativeLabel);
  }

  public GuidanceMethod withRescale(double phi) {
    return new GuidanceMethod(sigmaLo, sigmaHi, phi, negativeLabel);
  }

  public GuidanceMethod withNegative(int label) {
    return new GuidanceMethod(sigmaLo, sigmaHi, rescale, label);
  }

  /** True if this is plain CFG. */
  public boolean isPlain() {
    return equals(PLAIN);
  }

  /** True if guidance applies at σ (the interval (σ_lo, σ_hi]). */
  public boolean appliesAt(double sigma) {
    return sigma > sigmaLo && sigma <= sigmaHi;
  }

  /** The label the guided direction is taken against: the negative class, or ∅. */
  int againstLabel(int nullLabel) {
    return negativeLabel >= 0 ? negativeLabel : nullLabel;
  }

  /** σ = √((1−ᾱ)/ᾱ) at continuous training time t of {@code schedule} (a full, not respaced, schedule). */
  static double sigmaAt(NoiseSchedule schedule, double t) {
    double ab = schedule.alphaCumprodAt(t);
    return Math.sqrt((1 - ab) / ab); // at a whole t exactly schedule.sigma(t)
  }

  /**
   * Eq. 15–16 of Lin et al. 2023 on ε, per sample: ε̃ ← φ·ε̃·std(ε_c)/std(ε̃) + (1−φ)·ε̃, in place.
   *
   * @param guided ε̃, [batch · dim]
   * @param cond ε_c, [batch · dim]
   */
  static void rescale(float[] guided, float[] cond, int batch, double phi) {
    if (phi == 0) {
      return;
    }
    int dim = guided.length / batch;
    for (int b = 0; b < batch; b++) {
      double sg = std(guided, b * dim, dim);
      double sc = std(cond, b * dim, dim);
      double f = sg == 0 ? 1 : phi * sc / sg + (1 - phi);
      for (int j = b * dim, end = j + dim; j < end; j++) {
        guided[j] = (float) (guided[j] * f);
      }
    }
  }

  private static double std(float[] v, int from, int n) {
    double mean = 0;
    for (int j = from; j < from + n; j++) {
      mean += v[j];
    }
    mean /= n;
    double sq = 0;
    for (int j = from; j < from + n; j++) {
      double d = v[j] - mean;
      sq += d * d;
    }
    return Math.sqrt(sq / n);
  }
}
