package diffuse.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Schedule values against references computed by hand from the papers' formulas (DDPM §4 and Eq. 7;
 * Improved DDPM Eq. 17), independently of this code.
 */
class NoiseScheduleTest {
  private static final double TOL = 1e-12;

  @Test
  void linearScheduleMatchesDdpm() {
    NoiseSchedule s = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
    assertEquals(1000, s.numSteps());
    assertEquals(1e-4, s.beta(0), TOL);
    assertEquals(0.02, s.beta(999), TOL);
    // β_1 = 1e-4 + (0.02 − 1e-4)/999
    assertEquals(1e-4 + 0.0199 / 999, s.beta(1), TOL);
    // ᾱ_0 = 1 − β_0 = 0.9999; ᾱ_1 = 0.9999·(1 − β_1)
    assertEquals(0.9999, s.alphaCumprod(0), TOL);
    assertEquals(0.9999 * (1 - (1e-4 + 0.0199 / 999)), s.alphaCumprod(1), TOL);
    assertEquals(0.9981052047858344, s.alphaCumprod(9), 1e-12);
    assertEquals(0.89701814567496, s.alphaCumprod(99), 1e-12);
    assertEquals(0.07858724288177821, s.alphaCumprod(499), 1e-12);
    assertEquals(4.0358297653756754e-05, s.alphaCumprod(999), 1e-15);
    assertEquals(1.0, s.alphaCumprodPrev(0), TOL);
  }

  @Test
  void posteriorCoefficientsMatchEquationSeven() {
    NoiseSchedule s = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
    // β̃_t, coef1 = β_t √ᾱ_{t−1}/(1−ᾱ_t), coef2 = (1−ᾱ_{t−1}) √α_t/(1−ᾱ_t)
    assertEquals(5.4531876613021935e-05, s.posteriorVariance(1), 1e-15);
    assertEquals(0.5452914995102903, s.posteriorMeanCoef1(1), 1e-12);
    assertEquals(0.4547084989905303, s.posteriorMeanCoef2(1), 1e-12);
    assertEquals(0.002034596259490786, s.posteriorVariance(99), 1e-14);
    assertEquals(0.019076345317311793, s.posteriorMeanCoef1(99), 1e-12);
    assertEquals(0.980896021316457, s.posteriorMeanCoef2(99), 1e-12);
    assertEquals(0.010051335778909593, s.posteriorVariance(500), 1e-14);
    assertEquals(0.003058057075629619, s.posteriorMeanCoef1(500), 1e-12);
    assertEquals(0.9941043507567255, s.posteriorMeanCoef2(500), 1e-12);
    // at t = 0 the posterior is exact: mean = x_0, no variance
    assertEquals(0.0, s.posteriorVariance(0), TOL);
    assertEquals(1.0, s.posteriorMeanCoef1(0), TOL);
    assertEquals(0.0, s.posteriorMeanCoef2(0), TOL);
  }

  @Test
  void cosineScheduleMatchesImprovedDdpm() {
    NoiseSchedule s = NoiseSchedule.of(ScheduleKind.COSINE, 1000);
    // ᾱ_t = f(t)/f(0), f(t) = cos²(((t/T)+s)/(1+s)·π/2), s = 0.008 (our index i is the paper's t = i+1)
    assertEquals(0.999958715775178, s.alphaCumprod(0), 1e-12);
    assertEquals(0.972092737113969, s.alphaCumprod(99), 1e-12);
    assertEquals(0.49384359044063775, s.alphaCumprod(499), 1e-12);
    assertEquals(2.428766907034851e-06, s.alphaCumprod(998), 1e-15);
    // the last β is clipped at 0.999
    assertEquals(0.999, s.beta(999), TOL);
    assertEquals(2.428766907034851e-06 * 0.001, s.alphaCumprod(999), 1e-17);
  }

  @Test
  void respacingKeepsAlphaBarAtKeptSteps() {
    NoiseSchedule full = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
    NoiseSchedule r = full.respace(10);
    assertEquals(10, r.numSteps());
    assertEquals(1000, r.trainSteps());
    assertEquals(0, r.timestep(0));
    assertEquals(999, r.timestep(9));
    assertEquals(111, r.timestep(1));
    for (int i = 0; i < 10; i++) {
      assertEquals(full.alphaCumprod(r.timestep(i)), r.alphaCumprod(i), 1e-12);
    }
    assertEquals(full.alphaCumprod(r.timestep(3)), r.alphaCumprodPrev(4), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> full.respace(0));
    assertThrows(IllegalArgumentException.class, () -> full.respace(1001));
  }

  @Test
  void qSampleIsTheClosedFormOfTheForwardProcess() {
    NoiseSchedule s = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
    float[] x0 = {1f, -0.5f, 0.25f, 0f};
    float[] eps = {0.5f, 2f, -1f, 1f};
    float[] out = new float[4];
    s.qSample(x0, new int[] {0, 499}, eps, out);
    double a0 = Math.sqrt(0.9999), s0 = Math.sqrt(1e-4);
    double a1 = Math.sqrt(0.07858724288177821), s1 = Math.sqrt(1 - 0.07858724288177821);
    assertEquals(a0 * 1 + s0 * 0.5, out[0], 1e-6);
    assertEquals(a0 * -0.5 + s0 * 2, out[1], 1e-6);
    assertEquals(a1 * 0.25 + s1 * -1, out[2], 1e-6);
    assertEquals(s1 * 1, out[3], 1e-6);
  }

  @Test
  void continuousTimeIsTheTableAtWholeStepsAndLogSigmaLinearBetween() {
    NoiseSchedule s = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
    for (int t : new int[] {0, 1, 250, 998, 999}) {
      assertEquals(s.alphaCumprod(t), s.alphaCumprodAt(t), 0.0, "whole t is the table, bit for bit");
    }
    // halfway between t = 250 and 251: σ is the geometric mean of the two σ, ᾱ = 1/(1 + σ²)
    double sigma = Math.sqrt(s.sigma(250) * s.sigma(251));
    assertEquals(1 / (1 + sigma * sigma), s.alphaCumprodAt(250.5), TOL);
    // a quarter of the way: log σ = ¾·log σ_250 + ¼·log σ_251
    double quarter = Math.exp(0.75 * Math.log(s.sigma(250)) + 0.25 * Math.log(s.sigma(251)));
    assertEquals(1 / (1 + quarter * quarter), s.alphaCumprodAt(250.25), TOL);
    double prev = 1;
    for (double t = 0; t <= 999; t += 0.37) {
      double ab = s.alphaCumprodAt(t);
      org.junit.jupiter.api.Assertions.assertTrue(ab < prev, "ᾱ falls with t, at t = " + t);
      prev = ab;
    }
    assertThrows(IllegalArgumentException.class, () -> s.alphaCumprodAt(999.5));
    assertThrows(IllegalArgumentException.class, () -> s.alphaCumprodAt(-0.1));
    assertThrows(IllegalArgumentException.class, () -> s.alphaCumprodAt(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> s.respace(10).alphaCumprodAt(3), "a respaced schedule has no continuous time");
  }

  @Test
  void badArgumentsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.linear(0, 1e-4, 0.02));
    assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.linear(10, 0.5, 0.1));
  }
}
