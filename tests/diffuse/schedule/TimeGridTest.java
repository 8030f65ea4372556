package diffuse.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link TimeGrid}: the times solvers step through, whole or continuous. */
class TimeGridTest {
  static final NoiseSchedule T1000 = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);

  /** A grid of a respaced schedule has exactly that schedule's numbers, so samplers draw the same pixels. */
  @Test
  void aGridOfARespacedScheduleHasItsNumbersExactly() {
    for (Spacing sp : new Spacing[] {Spacing.LINSPACE, Spacing.TRAILING, Spacing.KARRAS, Spacing.LOGSNR}) {
      for (NoiseSchedule s : new NoiseSchedule[] {T1000, T1000.respace(10, sp), T1000.respace(37, sp),
          NoiseSchedule.of(ScheduleKind.COSINE, 500).respace(10, sp)}) {
        TimeGrid g = TimeGrid.of(s);
        assertEquals(s.numSteps(), g.numSteps());
        assertTrue(g.isWhole());
        for (int i = 0; i < s.numSteps(); i++) {
          assertEquals(s.timestep(i), g.time(i));
          assertEquals(s.alphaCumprod(i), g.alphaCumprod(i), sp + " ᾱ at " + i);
          assertEquals(s.alphaCumprodPrev(i), g.alphaCumprodPrev(i));
          assertEquals(s.beta(i), g.beta(i));
          assertEquals(s.posteriorVariance(i), g.posteriorVariance(i));
          assertEquals(s.posteriorMeanCoef1(i), g.posteriorMeanCoef1(i));
          assertEquals(s.posteriorMeanCoef2(i), g.posteriorMeanCoef2(i));
        }
      }
    }
  }

  /** Whole times given as numbers make the same grid as respacing to those timesteps. */
  @Test
  void wholeTimesGivenAsNumbersAreTheRespacedSchedule() {
    NoiseSchedule r = T1000.respace(10, Spacing.TRAILING);
    double[] times = new double[10];
    for (int i = 0; i < 10; i++) {
      times[i] = r.timestep(9 - i);
    }
    TimeGrid a = TimeGrid.at(T1000, times), b = TimeGrid.of(r);
    for (int i = 0; i < 10; i++) {
      assertEquals(b.alphaCumprod(i), a.alphaCumprod(i));
      assertEquals(b.alphaCumprodPrev(i), a.alphaCumprodPrev(i));
      assertEquals(b.posteriorVariance(i), a.posteriorVariance(i));
    }
  }

  @Test
  void continuousTimesCarryTheScheduleInBetween() {
    TimeGrid g = TimeGrid.at(T1000, 999, 500.25, 10.5);
    assertFalse(g.isWhole());
    assertEquals(10.5, g.time(0));
    assertEquals(T1000.alphaCumprodAt(10.5), g.alphaCumprod(0), 1e-15);
    assertEquals(T1000.alphaCumprodAt(500.25), g.alphaCumprod(1), 1e-15);
    assertEquals(T1000.alphaCumprodAt(500.25), g.alphaCumprodPrev(2), 1e-15);
    assertEquals(1.0, g.alphaCumprodPrev(0), "the last step lands on the clean image");
    // β_i = 1 − ᾱ_i/ᾱ_{i−1}, and ᾱ(10.5) lies between ᾱ(10) and ᾱ(11)
    assertEquals(1 - g.alphaCumprod(1) / g.alphaCumprod(0), g.beta(1), 1e-15);
    assertTrue(T1000.alphaCumprod(11) < g.alphaCumprod(0) && g.alphaCumprod(0) < T1000.alphaCumprod(10));
    assertThrows(IllegalArgumentException.class, () -> TimeGrid.at(T1000, 10, 20));
    assertThrows(IllegalArgumentException.class, () -> TimeGrid.at(T1000, 1000.5, 2));
    assertThrows(IllegalArgumentException.class, () -> TimeGrid.at(T1000.respace(10), 5, 2));
  }

  @Test
  void timeAtInvertsTheContinuousSchedule() {
    for (double t : new double[] {0, 0.3, 1, 17.75, 500, 998.999, 999}) {
      double sigma = Math.sqrt((1 - T1000.alphaCumprodAt(t)) / T1000.alphaCumprodAt(t));
      assertEquals(t, T1000.timeAt(sigma), 1e-9, "t = " + t);
    }
    assertEquals(0, T1000.timeAt(1e-9), "below the smallest σ: t = 0");
    assertEquals(999, T1000.timeAt(1e9), "above the largest: t = T − 1");
  }

  /** Karras et al. 2022, Eq. 5 exactly: n distinct levels at continuous times, where rounding merges some. */
  @Test
  void karrasExactHitsEquationFivesNoiseLevels() {
    int n = 18;
    TimeGrid g = TimeGrid.karras(T1000, n);
    double rho = Spacing.KARRAS_RHO;
    double hi = Math.pow(T1000.sigma(999), 1 / rho), lo = Math.pow(T1000.sigma(0), 1 / rho);
    for (int k = 0; k < n; k++) {
      double want = Math.pow(hi + (double) k / (n - 1) * (lo - hi), rho);
      assertEquals(want, g.sigma(n - 1 - k), want * 1e-9, "σ_" + k);
    }
    assertFalse(g.isWhole());
    assertEquals(999, g.time(n - 1));
    assertEquals(0, g.time(0));
    int many = 600;
    assertEquals(many, TimeGrid.karras(T1000, many).numSteps());
    assertTrue(T1000.respace(many, Spacing.KARRAS).numSteps() < many, "rounded to timesteps, levels merge");
  }
}
