package diffuse.eval;

/**
 * Confidence bounds for a proportion: the Wilson score interval (Wilson 1927; Brown, Cai &amp;
 * DasGupta 2001 recommend it over the normal approximation, which gives a bound of exactly p̂ at
 * p̂ = 1, the case that matters for a classifier's accuracy on good samples).
 */
final class Proportion {
  private Proportion() {}

  /** z of a one-sided 95 % bound, Φ⁻¹(0.95). */
  public static final double Z_ONE_SIDED_95 = 1.6448536269514722;

  /**
   * The one-sided lower bound of the Wilson score interval for {@code hits} successes in {@code n}
   * trials: (p̂ + z²/2n − z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n).
   */
  public static double wilsonLower(long hits, long n, double z) {
    if (n <= 0 || hits < 0 || hits > n) {
      throw new IllegalArgumentException("need 0 <= hits <= n and n > 0, got " + hits + " of " + n);
    }
    double p = (double) hits / n;
    double z2 = z * z;
    double centre = p + z2 / (2.0 * n);
    double spread = z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
    return (centre - spread) / (1 + z2 / n);
  }

  /** {@link #wilsonLower} at one-sided 95 %. */
  public static double lower95(long hits, long n) {
    return wilsonLower(hits, n, Z_ONE_SIDED_95);
  }
}
