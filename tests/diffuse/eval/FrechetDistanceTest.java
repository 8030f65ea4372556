package diffuse.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {
  static FrechetDistance.Stats stats(double[] mean, double[][] cov) {
    return new FrechetDistance.Stats(mean, cov, 1000);
  }

  @Test
  void diagonalGaussiansByHand() {
    // ‖(1,2)‖² = 5; Tr Σ1 + Tr Σ2 = 5 + 10 = 15; Tr (Σ1Σ2)^½ = √(1·9) + √(4·1) = 5 → 5 + 15 − 10 = 10
    var a = stats(new double[] {0, 0}, new double[][] {{1, 0}, {0, 4}});
    var b = stats(new double[] {1, 2}, new double[][] {{9, 0}, {0, 1}});
    assertEquals(10.0, FrechetDistance.between(a, b), 1e-9);
  }

  @Test
  void nonCommutingCovariancesNeedTheMatrixSquareRoot() {
    // Σ1 = [[2,1],[1,2]], Σ2 = diag(1,4): Σ1Σ2 = [[2,4],[1,8]] has trace 10 and determinant 12, so
    // eigenvalues 5 ± √13 and Tr (Σ1Σ2)^½ = √(5+√13) + √(5−√13); d² = 4 + 5 − 2·that.
    var a = stats(new double[] {0, 0}, new double[][] {{2, 1}, {1, 2}});
    var b = stats(new double[] {0, 0}, new double[][] {{1, 0}, {0, 4}});
    double expected = 9 - 2 * (Math.sqrt(5 + Math.sqrt(13)) + Math.sqrt(5 - Math.sqrt(13)));
    assertEquals(expected, FrechetDistance.between(a, b), 1e-9);
    assertEquals(expected, FrechetDistance.between(b, a), 1e-9);
    // against the identity: Tr √Σ1 = √3 + 1
    var id = stats(new double[] {0, 0}, new double[][] {{1, 0}, {0, 1}});
    assertEquals(6 - 2 * (Math.sqrt(3) + 1), FrechetDistance.between(a, id), 1e-9);
  }

  @Test
  void squareRootSquaresBack() {
    double[][] m = {{4, 1, 0.5}, {1, 3, 0.2}, {0.5, 0.2, 2}};
    double[][] r = FrechetDistance.sqrtPsd(m);
    double[][] sq = FrechetDistance.multiply(r, r);
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        assertEquals(m[i][j], sq[i][j], 1e-10);
      }
    }
  }

  @Test
  void identicalSetsAreAtZeroAndTheDistanceIsSymmetric() {
    Random rng = new Random(1);
    double[][] x = new double[300][6], y = new double[300][6];
    for (int i = 0; i < 300; i++) {
      for (int j = 0; j < 6; j++) {
        x[i][j] = rng.nextGaussian() * (j + 1);
        y[i][j] = rng.nextGaussian() + 0.5 * j;
      }
    }
    assertEquals(0.0, FrechetDistance.between(x, x), 1e-8);
    double xy = FrechetDistance.between(x, y), yx = FrechetDistance.between(y, x);
    assertEquals(xy, yx, 1e-8 * xy);
    assertTrue(xy > 10, "distance " + xy);
  }

  @Test
  void meanPairwiseDistanceByHand() {
    // points 0, 3, 4 on a line... in 2-D: (0,0), (3,0), (0,4): distances 3, 4, 5 → mean 4
    assertEquals(4.0, FrechetDistance.meanPairwiseDistance(new double[][] {{0, 0}, {3, 0}, {0, 4}}), 1e-12);
  }
}
