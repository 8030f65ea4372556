package diffuse.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import org.junit.jupiter.api.Test;

class GaussianMixtureTest {
  @Test
  void scoreIsTheGradientOfTheLogDensity() {
    GaussianMixture m = SamplerTest.SEPARATED;
    double h = 1e-5;
    for (double alphaBar : new double[] {1.0, 0.9, 0.3, 0.01}) {
      for (int label : new int[] {0, 1, m.nullLabel()}) {
        for (double[] x : new double[][] {{0.1, 0.2}, {-0.5, 0.05}, {0.45, -0.5}, {1.5, 1.0}}) {
          double[] g = m.score(x, alphaBar, label);
          for (int j = 0; j < 2; j++) {
            double[] p = x.clone(), q = x.clone();
            p[j] += h;
            q[j] -= h;
            double fd = (m.logDensity(p, alphaBar, label) - m.logDensity(q, alphaBar, label)) / (2 * h);
            assertEquals(fd, g[j], 1e-5 * Math.max(1, Math.abs(fd)), "ᾱ=" + alphaBar + " y=" + label + " j=" + j);
          }
        }
      }
    }
  }

  @Test
  void exactNoisePredictionOfASingleGaussian() {
    // x_0 ~ N(μ, s²): x_t ~ N(√ᾱ μ, ᾱ s² + 1 − ᾱ), so ε* = √(1−ᾱ)(x − √ᾱ μ)/(ᾱ s² + 1 − ᾱ)
    GaussianMixture g = new GaussianMixture(java.util.List.of(
        new GaussianMixture.Component(1, new double[] {0.5}, 0.2, 0)));
    NoiseSchedule s = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
    int t = 300;
    double ab = s.alphaCumprod(t);
    float x = 0.7f;
    float eps = g.denoiser(s).predictNoise(new float[] {x}, 1, t, new int[] {0})[0];
    double expected = Math.sqrt(1 - ab) * (x - Math.sqrt(ab) * 0.5) / (ab * 0.04 + 1 - ab);
    assertEquals(expected, eps, 1e-6);
  }
}
