package diffuse.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Samplers driven by the exact ε* of a Gaussian mixture (no network): what they draw must be the
 * mixture, within sampling error.
 */
class SamplerTest {
  static final NoiseSchedule T1000 = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);

  /** Three well separated components; class 0 = component 0, class 1 = components 1 and 2. */
  static final GaussianMixture SEPARATED = new GaussianMixture(List.of(
      new GaussianMixture.Component(0.5, new double[] {-0.6, 0.0}, 0.10, 0),
      new GaussianMixture.Component(0.3, new double[] {0.5, 0.4}, 0.15, 1),
      new GaussianMixture.Component(0.2, new double[] {0.4, -0.6}, 0.10, 1)));

  static final int N = 4000;

  static float[] draw(GaussianMixture m, SamplerSpec spec, int label, double scale, long seed) {
    Generator g = new Generator(m.denoiser(T1000), T1000, m.nullLabel(), m.dim());
    return g.sample(label, scale, spec, seed, 0, N, diffuse.api.Listener.NONE);
  }

  /** Checks component shares, means and standard deviations of samples against the mixture. */
  static void assertReproduces(GaussianMixture m, float[] xs) {
    assertReproducesN(m, xs, N);
  }

  /** {@link #assertReproduces} for {@code n} samples. */
  static void assertReproducesN(GaussianMixture m, float[] xs, int N) {
    int k = m.components().size();
    int[] count = new int[k];
    double[][] sum = new double[k][2];
    double[] sq = new double[k];
    for (int i = 0; i < N; i++) {
      int c = m.nearest(xs, i);
      count[c]++;
      sum[c][0] += xs[2 * i];
      sum[c][1] += xs[2 * i + 1];
    }
    for (int i = 0; i < N; i++) {
      int c = m.nearest(xs, i);
      double dx = xs[2 * i] - sum[c][0] / count[c];
      double dy = xs[2 * i + 1] - sum[c][1] / count[c];
      sq[c] += dx * dx + dy * dy;
    }
    for (int c = 0; c < k; c++) {
      GaussianMixture.Component comp = m.components().get(c);
      double w = comp.weight();
      double share = (double) count[c] / N;
      assertEquals(w, share, 5 * Math.sqrt(w * (1 - w) / N), "weight of component " + c);
      assertEquals(comp.mean()[0], sum[c][0] / count[c], 0.02, "mean x of component " + c);
      assertEquals(comp.mean()[1], sum[c][1] / count[c], 0.02, "mean y of component " + c);
      double std = Math.sqrt(sq[c] / (2.0 * (count[c] - 1)));
      assertEquals(comp.std(), std, 0.12 * comp.std(), "std of component " + c);
    }
  }

  @Test
  void ddpmWithTheExactScoreReproducesTheMixture() {
    float[] xs = draw(SEPARATED, new SamplerSpec(SamplerKind.DDPM, 1000, 0, false), SEPARATED.nullLabel(), 1, 1);
    assertReproduces(SEPARATED, xs);
  }

  @Test
  void ddimWithTheExactScoreReproducesTheMixture() {
    float[] xs = draw(SEPARATED, new SamplerSpec(SamplerKind.DDIM, 100, 0, false), SEPARATED.nullLabel(), 1, 2);
    assertReproduces(SEPARATED, xs);
  }

  @Test
  void ddimWithEtaZeroIsDeterministicForASeed() {
    SamplerSpec spec = new SamplerSpec(SamplerKind.DDIM, 20, 0, true);
    float[] a = draw(SEPARATED, spec, 1, 2.0, 5);
    float[] b = draw(SEPARATED, spec, 1, 2.0, 5);
    float[] c = draw(SEPARATED, spec, 1, 2.0, 6);
    assertArrayEquals(a, b);
    assertFalse(java.util.Arrays.equals(a, c));
  }

  @Test
  void ddimOverAllStepsWithEtaOneIsDdpm() {
    // Algebraically the same update (Song et al. 2021 §4.1); with the same noise streams the
    // trajectories coincide up to rounding, so the statistics do too.
    float[] ddpm = draw(SEPARATED, new SamplerSpec(SamplerKind.DDPM, 1000, 0, false), 1, 3.0, 8);
    float[] ddim = draw(SEPARATED, new SamplerSpec(SamplerKind.DDIM, 1000, 1.0, false), 1, 3.0, 8);
    double maxDiff = 0;
    for (int i = 0; i < ddpm.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(ddpm[i] - ddim[i]));
    }
    assertTrue(maxDiff < 1e-3, "max difference " + maxDiff);
    float[] unguided = draw(SEPARATED, new SamplerSpec(SamplerKind.DDIM, 1000, 1.0, false), SEPARATED.nullLabel(), 1, 9);
    assertReproduces(SEPARATED, unguided);
  }

  @Test
  void conditionalSamplingDrawsOnlyTheClassComponents() {
    float[] xs = draw(SEPARATED, new SamplerSpec(SamplerKind.DDIM, 50, 0, false), 1, 1.0, 4);
    int inClass = 0, inTwo = 0;
    for (int i = 0; i < N; i++) {
      int c = SEPARATED.nearest(xs, i);
      inClass += SEPARATED.components().get(c).label() == 1 ? 1 : 0;
      inTwo += c == 2 ? 1 : 0;
    }
    assertEquals(N, inClass);
    // within class 1 the components keep their relative weights 0.3 : 0.2
    assertEquals(0.4, (double) inTwo / N, 5 * Math.sqrt(0.24 / N));
  }

  @Test
  void guidanceRaisesTheShareOfTheRequestedClass() {
    // overlapping classes: even exact conditional samples sometimes land nearer the other class
    GaussianMixture overlap = new GaussianMixture(List.of(
        new GaussianMixture.Component(0.7, new double[] {-0.3, 0}, 0.3, 0),
        new GaussianMixture.Component(0.3, new double[] {0.3, 0}, 0.3, 1)));
    double[] scales = {0, 0.5, 1, 2};
    double previous = -1;
    for (double s : scales) {
      float[] xs = draw(overlap, new SamplerSpec(SamplerKind.DDIM, 50, 0, false), 1, s, 11);
      int hits = 0;
      for (int i = 0; i < N; i++) {
        hits += overlap.nearest(xs, i) == 1 ? 1 : 0;
      }
      double share = (double) hits / N;
      assertTrue(share > previous + 0.03, "share " + share + " at s = " + s + " after " + previous);
      previous = share;
    }
    assertTrue(previous > 0.95, "share at s = 2: " + previous);
  }
}
