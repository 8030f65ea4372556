package diffuse.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** KID, density, coverage and the accuracy bound on small hand-made sets, against hand-computed values. */
class DistributionMetricsTest {

  /**
   * x = {(1,0), (0,1)}, y = {(1,1), (0,0)}, d = 2, k(a,b) = (a·b/2 + 1)³:
   * the x pair and the y pair each have a·b = 0, k = 1, so their terms are 2/(2·1) = 1 each;
   * across, a·b is 1, 0, 1, 0, so k = 3.375, 1, 3.375, 1, sum 8.75, term 2·8.75/4 = 4.375.
   * MMD²ᵤ = 1 + 1 − 4.375 = −2.375 (the unbiased estimate can be negative).
   */
  @Test
  void kidEqualsTheHandComputedUStatistic() {
    double[][] x = {{1, 0}, {0, 1}};
    double[][] y = {{1, 1}, {0, 0}};
    KernelDistance.Estimate e = KernelDistance.between(x, y);
    assertEquals(-2.375, e.value(), 1e-12);
    assertEquals(2, e.m());
    assertEquals(2, e.n());
    // symmetric in its arguments, and not the biased V-statistic (which would add the diagonal: k(x,x) = 1.5³)
    assertEquals(-2.375, KernelDistance.between(y, x).value(), 1e-12);
  }

  @Test
  void kidOfARandomSplitOfOneSetIsZeroWithinItsStandardError() {
    double[][] all = gaussian(new Random(11), 2000, 16, 0);
    double[][] a = Arrays.copyOfRange(all, 0, 1000);
    double[][] b = Arrays.copyOfRange(all, 1000, 2000);
    KernelDistance.Estimate e = KernelDistance.between(a, b);
    assertTrue(e.standardError() > 0, "standard error " + e.standardError());
    assertTrue(Math.abs(e.value()) < 2 * e.standardError(), e.toString());
  }

  @Test
  void kidOfAShiftedSetIsPositiveBeyondItsStandardError() {
    Random rng = new Random(12);
    double[][] a = gaussian(rng, 500, 16, 0);
    double[][] b = gaussian(rng, 800, 16, 0.3);
    KernelDistance.Estimate e = KernelDistance.between(a, b);
    assertTrue(e.value() > 5 * e.standardError(), e.toString());
  }

  /**
   * Reference X = {0, 1, 3, 7, 8} on a line, k = 1: nearest-neighbour radii 1, 1, 2, 1, 1.
   * Samples 0.5 (inside the balls of 0 and 1), 2.5 (of 3), 100 (none), 2 (of 3 only: at distance
   * exactly 1 from the point 1 it is outside that ball, membership being strict) and 7.5 (of 7 and 8):
   * 6 memberships over k·M = 5 → density 1.2; every ball reached → coverage 1.
   * Without the last sample: 4 over 4 → density 1, balls of 0, 1, 3 → coverage 0.6.
   */
  @Test
  void densityAndCoverageEqualTheHandCountedBalls() {
    double[][] real = {{0}, {1}, {3}, {7}, {8}};
    DensityCoverage dc = DensityCoverage.of(real, 1);
    double[] radii = {1, 1, 2, 1, 1};
    for (int i = 0; i < radii.length; i++) {
      assertEquals(radii[i] * radii[i], dc.radiusSq(i), 1e-12, "radius of " + real[i][0]);
    }
    DensityCoverage.Result r = dc.measure(new double[][] {{0.5}, {2.5}, {100}, {2}, {7.5}});
    assertEquals(1.2, r.density(), 1e-12);
    assertEquals(1.0, r.coverage(), 1e-12);
    DensityCoverage.Result r4 = dc.measure(new double[][] {{0.5}, {2.5}, {100}, {2}});
    assertEquals(1.0, r4.density(), 1e-12);
    assertEquals(0.6, r4.coverage(), 1e-12);
    DensityCoverage.Result boundary = dc.measure(new double[][] {{2}});
    assertEquals(1.0, boundary.density(), 1e-12);
    assertEquals(0.2, boundary.coverage(), 1e-12);
    // k = 2: radii 3, 2, 3, 4, 5; 0.5 and 2.5 fall in the balls of 0, 1 and 3 each → density 6/(2·3) = 1
    DensityCoverage.Result k2 = DensityCoverage.of(real, 2).measure(new double[][] {{0.5}, {2.5}, {100}});
    assertEquals(1.0, k2.density(), 1e-12);
    assertEquals(0.6, k2.coverage(), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> DensityCoverage.of(real, 5));
  }

  @Test
  void aCollapsedSetCoversAlmostNothing() {
    Random rng = new Random(13);
    DensityCoverage dc = DensityCoverage.of(gaussian(rng, 1000, 8, 0), 5);
    double[] one = gaussian(rng, 1, 8, 0)[0];
    double[][] collapsed = new double[1000][];
    Arrays.fill(collapsed, one);
    DensityCoverage.Result r = dc.measure(collapsed);
    assertTrue(r.coverage() < 0.02, r.toString());
  }

  @Test
  void aSetDrawnFromTheReferenceRegionHasDensityNearOneAndHighCoverage() {
    Random rng = new Random(14);
    DensityCoverage dc = DensityCoverage.of(gaussian(rng, 1000, 8, 0), 5);
    DensityCoverage.Result r = dc.measure(gaussian(rng, 1000, 8, 0));
    assertEquals(1.0, r.density(), 0.1, r.toString());
    assertTrue(r.coverage() > 0.9, r.toString());
    // the same number of samples from a narrower cloud: denser in the middle, far less coverage
    double[][] narrow = gaussian(rng, 1000, 8, 0);
    for (double[] v : narrow) {
      for (int j = 0; j < v.length; j++) {
        v[j] *= 0.3;
      }
    }
    DensityCoverage.Result n = dc.measure(narrow);
    assertTrue(n.density() > 1.5 && n.coverage() < 0.5, n.toString());
  }

  /** Wilson's one-sided 95 % lower bound, with z = Φ⁻¹(0.95); values from the closed form by hand. */
  @Test
  void accuracyLowerBoundIsWilsons() {
    // 1000 of 1000: (1 + z²/2n − z·z/2n) / (1 + z²/n) = 1 / (1 + 2.705543/1000)
    assertEquals(1 / (1 + Proportion.Z_ONE_SIDED_95 * Proportion.Z_ONE_SIDED_95 / 1000), Proportion.lower95(1000, 1000),
        1e-15);
    assertEquals(0.99730175676, Proportion.lower95(1000, 1000), 1e-10);
    assertEquals(0.98976466849, Proportion.lower95(995, 1000), 1e-10);
    assertEquals(0.65228133266, Proportion.lower95(9, 10), 1e-10);
    assertEquals(0.0, Proportion.lower95(0, 10), 1e-15);
    assertThrows(IllegalArgumentException.class, () -> Proportion.lower95(11, 10));
  }

  private static double[][] gaussian(Random rng, int n, int d, double mean) {
    double[][] x = new double[n][d];
    for (double[] v : x) {
      for (int j = 0; j < d; j++) {
        v[j] = mean + rng.nextGaussian();
      }
    }
    return x;
  }
}
