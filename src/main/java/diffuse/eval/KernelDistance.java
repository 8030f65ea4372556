package diffuse.eval;

/**
 * Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs", §4 and eq. 4): the
 * unbiased estimate MMD²ᵤ between two feature sets under the cubic polynomial kernel
 * k(a, b) = (a·b/d + 1)³,
 *
 * <pre>
 *   MMD²ᵤ = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n−1)) Σ_{i≠j} k(y_i, y_j) − 2/(mn) Σ_{i,j} k(x_i, y_j),
 * </pre>
 *
 * the full U-statistic over every pair (no subsets). Unlike the Fréchet distance its expectation
 * does not depend on m or n, so figures at different sample counts compare; it can be slightly
 * negative when the two sets come from one distribution.
 *
 * <p>The standard error comes from {@value #BLOCKS} disjoint blocks (sample i belongs to block
 * i mod {@value #BLOCKS}, in both sets): the spread of the blocks' own MMD²ᵤ divided by
 * √{@value #BLOCKS}. Where the two distributions differ the estimate's variance falls as 1/m and
 * this is the usual batch-means error; where they are equal it falls as 1/m² and the block error
 * overstates it (by up to √{@value #BLOCKS}): conservative, never optimistic.
 */
final class KernelDistance {
  private KernelDistance() {}

  /** Blocks of the standard error. */
  public static final int BLOCKS = 10;

  /** An estimate and its standard error, from m samples against n reference features. */
  public record Estimate(double value, double standardError, int m, int n) {}

  /** The kernel (a·b/d + 1)³. */
  static double kernel(double[] a, double[] b) {
    double dot = 0;
    for (int j = 0; j < a.length; j++) {
      dot += a[j] * b[j];
    }
    double v = dot / a.length + 1;
    return v * v * v;
  }

  /**
   * The reference side y with its within-set kernel sums precomputed (O(n²d) once, since one
   * reference serves every sample set measured against it).
   */
  public static final class Reference {
    private final double[][] y;
    private final double sumYy; // Σ_{i≠j} k(y_i, y_j), every ordered pair
    private final double[] blockSumYy = new double[BLOCKS];
    private final int[] blockSize = new int[BLOCKS];

    private Reference(double[][] y) {
      if (y.length < 2) {
        throw new IllegalArgumentException("the reference needs at least 2 features, got " + y.length);
      }
      this.y = y;
      double s = 0;
      for (int i = 0; i < y.length; i++) {
        blockSize[i % BLOCKS]++;
        for (int j = i + 1; j < y.length; j++) {
          double k = kernel(y[i], y[j]);
          s += 2 * k;
          if (i % BLOCKS == j % BLOCKS) {
            blockSumYy[i % BLOCKS] += 2 * k;
          }
        }
      }
      sumYy = s;
    }

    public int size() {
      return y.length;
    }
  }

  /** A reference of the features {@code y} [n][d]. */
  public static Reference reference(double[][] y) {
    return new Reference(y);
  }

  /** MMD²ᵤ of the features {@code x} [m][d] against {@code ref}, with its standard error. */
  public static Estimate between(double[][] x, Reference ref) {
    int m = x.length, n = ref.y.length;
    if (m < 2) {
      throw new IllegalArgumentException("need at least 2 samples, got " + m);
    }
    if (x[0].length != ref.y[0].length) {
      throw new IllegalArgumentException("feature sizes differ: " + x[0].length + " and " + ref.y[0].length);
    }
    double sumXx = 0, sumXy = 0;
    double[] bXx = new double[BLOCKS], bXy = new double[BLOCKS];
    int[] bm = new int[BLOCKS];
    for (int i = 0; i < m; i++) {
      bm[i % BLOCKS]++;
      for (int j = i + 1; j < m; j++) {
        double k = kernel(x[i], x[j]);
        sumXx += 2 * k;
        if (i % BLOCKS == j % BLOCKS) {
          bXx[i % BLOCKS] += 2 * k;
        }
      }
      for (int j = 0; j < n; j++) {
        double k = kernel(x[i], ref.y[j]);
        sumXy += k;
        if (i % BLOCKS == j % BLOCKS) {
          bXy[i % BLOCKS] += k;
        }
      }
    }
    double value = mmd(sumXx, ref.sumYy, sumXy, m, n);
    double sum = 0, sq = 0;
    int blocks = 0;
    for (int b = 0; b < BLOCKS; b++) {
      if (bm[b] >= 2 && ref.blockSize[b] >= 2) {
        double v = mmd(bXx[b], ref.blockSumYy[b], bXy[b], bm[b], ref.blockSize[b]);
        sum += v;
        sq += v * v;
        blocks++;
      }
    }
    double se = Double.NaN;
    if (blocks >= 2) {
      double mean = sum / blocks;
      se = Math.sqrt(Math.max(0, (sq - blocks * mean * mean) / (blocks - 1)) / blocks);
    }
    return new Estimate(value, se, m, n);
  }

  /** MMD²ᵤ of two feature sets. */
  public static Estimate between(double[][] x, double[][] y) {
    return between(x, reference(y));
  }

  private static double mmd(double sumXx, double sumYy, double sumXy, int m, int n) {
    return sumXx / ((double) m * (m - 1)) + sumYy / ((double) n * (n - 1)) - 2 * sumXy / ((double) m * n);
  }
}
