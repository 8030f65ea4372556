package diffuse.sampling;

import diffuse.api.DiffuseException;
import java.util.Arrays;

/**
 * CFG rescale (Lin, Liu, Li &amp; Yang 2023, "Common Diffusion Noise Schedules and Sample Steps are
 * Flawed", §3.4, eq. 15–16): the guided ε̃ is scaled per sample to the standard deviation of the
 * conditional ε, and mixed with the unscaled ε̃ by φ:
 *
 * <pre>ε = φ·ε̃·std(ε_y)/std(ε̃) + (1 − φ)·ε̃</pre>
 *
 * @param phi φ within [0, 1]; 0 is plain CFG
 */
record CfgRescale(double phi) implements Combination {
  public CfgRescale {
    if (!(phi >= 0 && phi <= 1)) {
      throw DiffuseException.badValue("rescale", "rescale must be within [0, 1], got " + phi);
    }
  }

  @Override
  public Estimate combine(Estimate both, float[] x, double[] scales, double[] alphaBar) {
    float[] eps = both.eps();
    float[] out = Combination.linear(eps, x.length, scales);
    rescale(out, Arrays.copyOf(eps, x.length), scales.length, phi);
    return new Estimate(Prediction.EPS, out, x, alphaBar);
  }

  /**
   * Eq. 15–16 on ε, per sample, in place.
   *
   * @param guided ε̃, [batch · dim]
   * @param cond ε_y, [batch · dim]
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
