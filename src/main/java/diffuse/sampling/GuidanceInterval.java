package diffuse.sampling;

import diffuse.schedule.NoiseSchedule;

/**
 * The guidance interval (Kynkäänniemi et al. 2024, "Applying Guidance in a Limited Interval
 * Improves Sample and Distribution Quality in Diffusion Models", §3): guidance applies only while
 * the sample's noise level σ = √((1−ᾱ_t)/ᾱ_t) lies in (σ_lo, σ_hi]; outside it the sample takes the
 * conditional estimate alone (s = 1). Judged per sample at its own time, so a batch may mix
 * samples inside and outside; when none is inside, only the conditional half is computed.
 *
 * @param sigmaLo lower end (exclusive), ≥ 0
 * @param sigmaHi upper end (inclusive), may be +∞
 */
record GuidanceInterval(double sigmaLo, double sigmaHi) {
  /** True if guidance applies at σ. */
  public boolean contains(double sigma) {
    return sigma > sigmaLo && sigma <= sigmaHi;
  }

  /** True if this interval excludes some noise level (it is not (0, ∞]). */
  public boolean limits() {
    return sigmaLo > 0 || sigmaHi < Double.POSITIVE_INFINITY;
  }

  /** The scales in force at times {@code t}: {@code scales[b]} where σ(t[b]) is inside, else 1. */
  public double[] scalesAt(double[] scales, double[] t, NoiseSchedule schedule) {
    double[] s = new double[scales.length];
    for (int b = 0; b < s.length; b++) {
      s[b] = contains(sigmaAt(schedule, t[b])) ? scales[b] : 1.0;
    }
    return s;
  }

  /** σ = √((1−ᾱ)/ᾱ) at continuous training time t of {@code schedule} (a full, not respaced, schedule). */
  static double sigmaAt(NoiseSchedule schedule, double t) {
    double ab = schedule.alphaCumprodAt(t);
    return Math.sqrt((1 - ab) / ab); // at a whole t exactly schedule.sigma(t)
  }
}
