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
    float eps = g.denoiser(s).eps(new float[] {x}, t, new int[] {0})[0];
    double expected = Math.sqrt(1 - ab) * (x - Math.sqrt(ab) * 0.5) / (ab * 0.04 + 1 - ab);
    assertEquals(expected, eps, 1e-6);
  }

  @Test
  void eachSampleIsDenoisedAtItsOwnContinuousTime() {
    // x_0 ~ N(μ, s²) again, four samples at four times, two of them between training steps
    GaussianMixture g = new GaussianMixture(java.util.List.of(
        new GaussianMixture.Component(1, new double[] {0.5}, 0.2, 0)));
    NoiseSchedule s = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
    float[] x = {0.7f, -0.3f, 1.1f, 0.05f};
    double[] t = {300, 10.5, 999, 640.25};
    Estimate e = g.denoiser(s).denoise(x, t, new int[] {0, 0, 0, 0});
    for (int b = 0; b < 4; b++) {
      double ab = s.alphaCumprodAt(t[b]);
      assertEquals(ab, e.alphaBar()[b], 0.0);
      double expected = Math.sqrt(1 - ab) * (x[b] - Math.sqrt(ab) * 0.5) / (ab * 0.04 + 1 - ab);
      assertEquals(expected, e.eps()[b], 1e-6, "sample " + b + " at t = " + t[b]);
      // and bit for bit what it gets alone
      Estimate alone = g.denoiser(s).denoise(new float[] {x[b]}, new double[] {t[b]}, new int[] {0});
      assertEquals(alone.eps()[0], e.eps()[b], 0.0f);
      assertEquals(alone.x0()[0], e.x0()[b], 0.0f, "x0 of a mixed-time batch is converted per sample");
    }
  }
}
