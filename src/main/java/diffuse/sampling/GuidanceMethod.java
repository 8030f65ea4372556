package diffuse.sampling;

import diffuse.api.DiffuseException;
import diffuse.schedule.NoiseSchedule;

/**
 * How the scale s is applied, beyond plain classifier-free guidance; the same for every sample of
 * a batch (the scale itself may differ per sample). Each keeps guidance at one network call per
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
 *   <li><b>Adaptive projected guidance</b> (APG; Sadat, Hilliges &amp; Weber 2024, "Eliminating
 *       Oversaturation and Artifacts of High Guidance Scales in Diffusion Models", §4, Alg. 1 without
 *       the momentum term): the guidance step is taken on the denoised x̂_0 and split, per sample, into
 *       its part parallel to the conditional x̂_0 (which the paper finds oversaturates) and the rest;
 *       the parallel part is weighted by η: see {@link Apg}.
 * </ul>
 *
 * @param sigmaLo lower end of the interval (exclusive); 0 for none
 * @param sigmaHi upper end of the interval (inclusive); +∞ for none
 * @param rescale φ within [0, 1]; 0 is plain CFG
 * @param negativeLabel the class to steer away from, or −1 for the null label ∅
 * @param apg adaptive projected guidance, or null for the plain combination
 */
public record GuidanceMethod(double sigmaLo, double sigmaHi, double rescale, int negativeLabel, Apg apg)
    implements Guider {
  /** Plain classifier-free guidance: every step, no rescale, away from ∅. */
  public static final GuidanceMethod PLAIN = new GuidanceMethod(0, Double.POSITIVE_INFINITY, 0, -1);

  /**
   * Adaptive projected guidance on x̂_0 (Sadat et al. 2024, Eq. 8–11 and Alg. 1, momentum off), per sample:
   *
   * <pre>
   * Δ  = x̂_0(y) − x̂_0(∅)                       guidance direction (Eq. 8)
   * Δ ← Δ · min(1, r / ‖Δ‖)                     rescaled to norm at most r (Eq. 11; r = ∞: off)
   * Δ∥ = (⟨Δ, x̂_0(y)⟩ / ‖x̂_0(y)‖²) · x̂_0(y)     projection on the conditional prediction (Eq. 9)
   * Δ⊥ = Δ − Δ∥
   * x̃_0 = x̂_0(y) + (s − 1)·(Δ⊥ + η·Δ∥)            (Eq. 10)
   * </pre>
   *
   * η = 1, r = ∞ is plain CFG taken on x̂_0 (equal to it on ε up to rounding); η = 0 drops the
   * parallel part, the paper's choice.
   *
   * @param eta weight η ≥ 0 of the parallel part
   * @param normThreshold r &gt; 0, or +∞ for no rescaling
   */
  public record Apg(double eta, double normThreshold) {
    public Apg {
      if (!(eta >= 0) || Double.isInfinite(eta)) {
        throw DiffuseException.badValue("apg", "apg η must be a finite number >= 0, got " + eta);
      }
      if (!(normThreshold > 0)) {
        throw DiffuseException.badValue("apgNorm", "apgNorm r must be > 0, got " + normThreshold);
      }
    }

    /**
     * x̃_0 of Eq. 10 for every sample, [batch · dim].
     *
     * @param cond x̂_0(y), [batch · dim]
     * @param against x̂_0(∅) (or of the negative class), [batch · dim]
     * @param scales s per sample, [batch]
     */
    public float[] combine(float[] cond, float[] against, double[] scales) {
      int batch = scales.length;
      int dim = cond.length / batch;
      float[] out = new float[cond.length];
      double[] delta = new double[dim];
      for (int b = 0; b < batch; b++) {
        int off = b * dim;
        double norm2 = 0, dot = 0, cc = 0;
        for (int j = 0; j < dim; j++) {
          delta[j] = (double) cond[off + j] - against[off + j];
          norm2 += delta[j] * delta[j];
        }
        double shrink = Double.isInfinite(normThreshold) || norm2 == 0 ? 1
            : Math.min(1, normThreshold / Math.sqrt(norm2));
        for (int j = 0; j < dim; j++) {
          delta[j] *= shrink;
          dot += delta[j] * cond[off + j];
          cc += (double) cond[off + j] * cond[off + j];
        }
        double par = cc == 0 ? 0 : dot / cc; // Δ∥ = par · x̂_0(y)
        double w = scales[b] - 1;
        for (int j = 0; j < dim; j++) {
          double parallel = par * cond[off + j];
          double orthogonal = delta[j] - parallel;
          out[off + j] = (float) (cond[off + j] + w * (orthogonal + eta * parallel));
        }
      }
      return out;
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
