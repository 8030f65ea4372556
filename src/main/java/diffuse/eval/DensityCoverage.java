package diffuse.eval;

/**
 * Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
 * Models", eq. 3 and 4). Around each real feature X_i lies the ball B(X_i, r_i) whose radius r_i is
 * the distance to X_i's k-th nearest other real feature. For M samples Y_j:
 *
 * <pre>
 *   density  = 1/(k·M) Σ_j Σ_i 1[Y_j ∈ B(X_i, r_i)]     (≈ 1 when samples lie where real data lies)
 *   coverage = 1/N Σ_i 1[∃ j: Y_j ∈ B(X_i, r_i)]         (the share of real balls some sample reaches)
 * </pre>
 *
 * Membership is strict (‖Y_j − X_i‖ &lt; r_i), as in the authors' {@code prdc} code. Coverage grows
 * with M, so only figures at the same M compare.
 */
final class DensityCoverage {
  /** The k of the paper's experiments, and of this project's tables. */
  public static final int DEFAULT_K = 5;

  /** The two figures, and the sizes they were measured at. */
  public record Result(double density, double coverage, int samples, int reference, int k) {}

  private final double[][] real;
  private final double[] radiusSq;
  private final int k;

  private DensityCoverage(double[][] real, int k) {
    if (k < 1 || real.length <= k) {
      throw new IllegalArgumentException("need more than k = " + k + " real features, got " + real.length);
    }
    this.real = real;
    this.k = k;
    this.radiusSq = new double[real.length];
    for (int i = 0; i < real.length; i++) {
      // the k smallest squared distances to the other real features, kept sorted
      double[] best = new double[k];
      java.util.Arrays.fill(best, Double.POSITIVE_INFINITY);
      for (int j = 0; j < real.length; j++) {
        if (j == i) {
          continue;
        }
        double d = distanceSq(real[i], real[j]);
        if (d < best[k - 1]) {
          int p = k - 1;
          while (p > 0 && best[p - 1] > d) {
            best[p] = best[p - 1];
            p--;
          }
          best[p] = d;
        }
      }
      radiusSq[i] = best[k - 1];
    }
  }

  /** The balls around the real features {@code real} [N][d], radius the k-th nearest-neighbour distance. */
  public static DensityCoverage of(double[][] real, int k) {
    return new DensityCoverage(real, k);
  }

  /** Density and coverage of the samples' features {@code fake} [M][d]. */
  public Result measure(double[][] fake) {
    if (fake.length == 0) {
      throw new IllegalArgumentException("need at least one sample");
    }
    long inside = 0;
    boolean[] covered = new boolean[real.length];
    for (double[] y : fake) {
      for (int i = 0; i < real.length; i++) {
        if (distanceSq(y, real[i]) < radiusSq[i]) {
          inside++;
          covered[i] = true;
        }
      }
    }
    int c = 0;
    for (boolean b : covered) {
      c += b ? 1 : 0;
    }
    return new Result((double) inside / ((double) k * fake.length), (double) c / real.length, fake.length,
        real.length, k);
  }

  /** r_i², the squared ball radius of real feature i. */
  double radiusSq(int i) {
    return radiusSq[i];
  }

  private static double distanceSq(double[] a, double[] b) {
    double s = 0;
    for (int j = 0; j < a.length; j++) {
      double e = a[j] - b[j];
      s += e * e;
    }
    return s;
  }
}
