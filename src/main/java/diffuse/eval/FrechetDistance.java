package diffuse.eval;

/**
 * Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, the FID
 * formula): d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}). The trace of the matrix square root is
 * computed as Σ √λ_i of the symmetric positive semi-definite matrix Σ₁^{1/2} Σ₂ Σ₁^{1/2}, which has
 * the eigenvalues of Σ₁Σ₂, with a Jacobi eigen-solver.
 */
final class FrechetDistance {
  private FrechetDistance() {}

  /** Mean and covariance (n − 1 denominator) of n feature vectors. */
  public record Stats(double[] mean, double[][] cov, int n) {
    public static Stats of(double[][] features) {
      int n = features.length;
      int d = features[0].length;
      double[] mu = new double[d];
      for (double[] f : features) {
        for (int j = 0; j < d; j++) {
          mu[j] += f[j] / n;
        }
      }
      double[][] cov = new double[d][d];
      for (double[] f : features) {
        for (int a = 0; a < d; a++) {
          double da = f[a] - mu[a];
          for (int b = a; b < d; b++) {
            cov[a][b] += da * (f[b] - mu[b]);
          }
        }
      }
      for (int a = 0; a < d; a++) {
        for (int b = a; b < d; b++) {
          cov[a][b] /= Math.max(1, n - 1);
          cov[b][a] = cov[a][b];
        }
      }
      return new Stats(mu, cov, n);
    }
  }

  public static double between(double[][] a, double[][] b) {
    return between(Stats.of(a), Stats.of(b));
  }

  public static double between(Stats a, Stats b) {
    int d = a.mean().length;
    double meanTerm = 0;
    for (int j = 0; j < d; j++) {
      double e = a.mean()[j] - b.mean()[j];
      meanTerm += e * e;
    }
    double trace = 0;
    for (int j = 0; j < d; j++) {
      trace += a.cov()[j][j] + b.cov()[j][j];
    }
    return Math.max(0, meanTerm + trace - 2 * traceSqrtProduct(a.cov(), b.cov()));
  }

  /** Tr((AB)^{1/2}) for symmetric PSD A, B. */
  public static double traceSqrtProduct(double[][] a, double[][] b) {
    double[][] sa = sqrtPsd(a);
    double[][] m = multiply(multiply(sa, b), sa);
    double sum = 0;
    for (double l : eigenvalues(m)) {
      sum += Math.sqrt(Math.max(0, l));
    }
    return sum;
  }

  /** The symmetric square root of a PSD matrix, V·diag(√λ)·Vᵀ. */
  public static double[][] sqrtPsd(double[][] a) {
    int n = a.length;
    double[][] v = new double[n][n];
    double[] l = jacobi(copy(a), v);
    double[][] out = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int k = 0; k < n; k++) {
          s += v[i][k] * Math.sqrt(Math.max(0, l[k])) * v[j][k];
        }
        out[i][j] = s;
      }
    }
    return out;
  }

  public static double[] eigenvalues(double[][] a) {
    return jacobi(copy(a), new double[a.length][a.length]);
  }

  /** Cyclic Jacobi rotations on symmetric {@code a} (destroyed); eigenvectors into columns of v. */
  static double[] jacobi(double[][] a, double[][] v) {
    int n = a.length;
    for (int i = 0; i < n; i++) {
      java.util.Arrays.fill(v[i], 0);
      v[i][i] = 1;
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0, diag = 0;
      for (int p = 0; p < n; p++) {
        diag += a[p][p] * a[p][p];
        for (int q = p + 1; q < n; q++) {
          off += a[p][q] * a[p][q];
        }
      }
      if (off <= 1e-22 * Math.max(diag, 1e-300)) {
        break;
      }
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          if (Math.abs(a[p][q]) < 1e-300) {
            continue;
          }
          double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int k = 0; k < n; k++) {
            double akp = a[k][p], akq = a[k][q];
            a[k][p] = c * akp - s * akq;
            a[k][q] = s * akp + c * akq;
          }
          for (int k = 0; k < n; k++) {
            double apk = a[p][k], aqk = a[q][k];
            a[p][k] = c * apk - s * aqk;
            a[q][k] = s * apk + c * aqk;
          }
          for (int k = 0; k < n; k++) {
            double vkp = v[k][p], vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
          }
        }
      }
    }
    double[] l = new double[n];
    for (int i = 0; i < n; i++) {
      l[i] = a[i][i];
    }
    return l;
  }

  static double[][] multiply(double[][] a, double[][] b) {
    int n = a.length, m = b[0].length, k = b.length;
    double[][] out = new double[n][m];
    for (int i = 0; i < n; i++) {
      for (int x = 0; x < k; x++) {
        double aix = a[i][x];
        if (aix == 0) {
          continue;
        }
        for (int j = 0; j < m; j++) {
          out[i][j] += aix * b[x][j];
        }
      }
    }
    return out;
  }

  private static double[][] copy(double[][] a) {
    double[][] c = new double[a.length][];
    for (int i = 0; i < a.length; i++) {
      c[i] = a[i].clone();
    }
    return c;
  }

  /** Mean Euclidean distance over all pairs of feature vectors (a diversity measure). */
  public static double meanPairwiseDistance(double[][] f) {
    int n = f.length;
    if (n < 2) {
      return 0;
    }
    double sum = 0;
    long pairs = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double d = 0;
        for (int k = 0; k < f[i].length; k++) {
          double e = f[i][k] - f[j][k];
          d += e * e;
        }
        sum += Math.sqrt(d);
        pairs++;
      }
    }
    return sum / pairs;
  }
}
