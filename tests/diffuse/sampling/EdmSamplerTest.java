package diffuse.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.schedule.Spacing;
import org.junit.jupiter.api.Test;

/** Euler and Heun on the σ view (Karras et al. 2022), on the exact field of a Gaussian mixture. */
class EdmSamplerTest {
  static float[] draw(SamplerKind kind, int steps, Spacing spacing, double scale) {
    return DpmSolverTest.draw(new SamplerSpec(kind, steps, 0, false, spacing), 1, scale);
  }

  @Test
  void eulerIsDdim() {
    for (Spacing sp : new Spacing[] {Spacing.KARRAS, Spacing.LINSPACE}) {
      float[] euler = draw(SamplerKind.EULER, 12, sp, 2.0);
      float[] ddim = draw(SamplerKind.DDIM, 12, sp, 2.0);
      double d = DpmSolverTest.meanDistance(euler, ddim);
      assertTrue(d < 1e-4, sp + ": Euler and DDIM differ by " + d);
    }
  }

  @Test
  void heunConvergesAtSecondOrderAndBeatsEulerAtEqualEvaluationsOnceTheStepsResolveTheField() {
    for (double scale : new double[] {1.0, 2.0}) {
      float[] exact = DpmSolverTest.ddim(1000, 1, scale);
      double h10 = DpmSolverTest.meanDistance(draw(SamplerKind.HEUN, 10, Spacing.KARRAS, scale), exact);
      double h20 = DpmSolverTest.meanDistance(draw(SamplerKind.HEUN, 20, Spacing.KARRAS, scale), exact);
      double h40 = DpmSolverTest.meanDistance(draw(SamplerKind.HEUN, 40, Spacing.KARRAS, scale), exact);
      assertTrue(h20 < h10 / 3 && h40 < h20 / 3, "s = " + scale + ": Heun errors " + h10 + ", " + h20 + ", " + h40
          + " do not shrink about 4× per doubling");
      // at 10 Karras steps on this sharp mixture Heun (19 evaluations) is still behind Euler at 19 (0.107 vs 0.054
      // at s = 1): second order pays only once the steps resolve the field
      double e39 = DpmSolverTest.meanDistance(draw(SamplerKind.EULER, 39, Spacing.KARRAS, scale), exact);
      assertTrue(h20 < e39, "s = " + scale + ": Heun 20 steps (39 evaluations) " + h20 + " vs Euler 39 " + e39);
    }
  }

  @Test
  void heunInTwentyStepsSamplesTheMixture() {
    float[] xs = DpmSolverTest.draw(new SamplerSpec(SamplerKind.HEUN, 20, 0, false), SamplerTest.SEPARATED.nullLabel(), 1);
    SamplerTest.assertReproducesN(SamplerTest.SEPARATED, xs, DpmSolverTest.N);
  }

  /** On a continuous grid the solvers ask the denoiser at fractional times and still converge at second order. */
  @Test
  void onContinuousTimesHeunAsksBetweenTimestepsAndConvergesAtSecondOrder() {
    GaussianMixture m = SamplerTest.SEPARATED;
    java.util.List<Double> asked = new java.util.ArrayList<>();
    Denoiser exact = m.denoiser(SamplerTest.T1000);
    Denoiser recording = (x, t, y) -> {
      asked.add(t[0]);
      return exact.denoise(x, t, y);
    };
    new Generator(recording, SamplerTest.T1000, m.nullLabel(), m.dim()).sample(1, 1.0,
        new SamplerSpec(SamplerKind.HEUN, 10, 0, false, Spacing.KARRAS_EXACT), 3, 0, 4, diffuse.api.Listener.NONE);
    assertTrue(asked.stream().anyMatch(t -> t != Math.rint(t)), "asked at " + asked);
    assertEquals(19, asked.size(), "10 Heun steps: 2·10 − 1 evaluations, each one call on the doubled batch");
    float[] ref = DpmSolverTest.ddim(1000, 1, 1.0);
    double h10 = DpmSolverTest.meanDistance(draw(SamplerKind.HEUN, 10, Spacing.KARRAS_EXACT, 1.0), ref);
    double h20 = DpmSolverTest.meanDistance(draw(SamplerKind.HEUN, 20, Spacing.KARRAS_EXACT, 1.0), ref);
    double h40 = DpmSolverTest.meanDistance(draw(SamplerKind.HEUN, 40, Spacing.KARRAS_EXACT, 1.0), ref);
    assertTrue(h20 < h10 / 3 && h40 < h20 / 3, "Heun errors " + h10 + ", " + h20 + ", " + h40);
  }
}
