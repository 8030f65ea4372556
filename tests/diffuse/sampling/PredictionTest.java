package diffuse.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** ε, x_0 and v predictions of the exact mixture, converted into each other. */
class PredictionTest {
  static final NoiseSchedule T1000 = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);

  @Test
  void epsX0AndVOfTheExactMixtureConvertIntoEachOther() {
    GaussianMixture m = SamplerTest.SEPARATED;
    Denoiser exact = m.denoiser(T1000);
    SplittableRandom rng = new SplittableRandom(4);
    int n = 256;
    float[] x = new float[2 * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (2 * rng.nextGaussian());
    }
    int[] labels = new int[n];
    java.util.Arrays.fill(labels, 1);
    for (int t : new int[] {0, 10, 300, 700, 999}) {
      double ab = T1000.alphaCumprod(t);
      float[] eps = exact.eps(x, t, labels);
      float[] x0 = Steps.predictX0(x, eps, ab, false);
      float[] v = Prediction.vFromEps(x0, eps, ab, new float[x.length]);
      assertArrayEquals(eps, Prediction.epsFromV(x, v, ab), 2e-4f, "ε → v → ε at t = " + t);
      assertArrayEquals(x0, Prediction.x0FromV(x, v, ab), 2e-4f * (float) Math.max(1, 1 / Math.sqrt(ab)),
          "x0 → v → x0 at t = " + t);
      // a network that predicts v, tagged as v, reads as the ε model
      Network vNet = (xs, tt, y) -> {
        float[] e = exact.denoise(xs, tt, y).eps();
        double a = T1000.alphaCumprodAt(tt[0]);
        return Prediction.vFromEps(Steps.predictX0(xs, e, a, false), e, a, new float[xs.length]);
      };
      assertArrayEquals(eps, Prediction.V.denoiser(vNet, T1000).eps(x, t, labels), 2e-4f, "t = " + t);
      // an ε network's estimate is its output, untouched
      float[] raw = exact.eps(x, t, labels);
      Network epsNet = (xs, tt, y) -> raw;
      org.junit.jupiter.api.Assertions.assertSame(raw, Prediction.EPS.denoiser(epsNet, T1000).eps(x, t, labels));
    }
  }

  @Test
  void everyParameterisationsTargetConvertsBackToTheMixturesEpsAndX0() {
    GaussianMixture m = SamplerTest.SEPARATED;
    Denoiser exact = m.denoiser(T1000);
    SplittableRandom rng = new SplittableRandom(5);
    int n = 128;
    float[] x = new float[2 * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (2 * rng.nextGaussian());
    }
    int[] labels = new int[n];
    for (int t : new int[] {0, 50, 500, 999}) {
      double ab = T1000.alphaCumprod(t);
      float[] eps = exact.eps(x, t, labels);
      float[] x0 = Prediction.x0FromEps(x, eps, ab);
      float tol = 3e-4f * (float) Math.max(1, 1 / Math.sqrt(ab)) * (float) Math.max(1, 1 / Math.sqrt(1 - ab));
      for (Prediction p : Prediction.values()) {
        float[] out = new float[x.length];
        p.target(x0, eps, ab, out, 0, x.length);
        assertArrayEquals(eps, p.toEpsilon(x, out, ab), tol, p + " → ε at t = " + t);
        assertArrayEquals(x0, p.toX0(x, out, ab), tol, p + " → x0 at t = " + t);
        // a network of this parameterisation, tagged with it, reads as the exact ε model, and its
        // estimate reads as each parameterisation's target
        Network net = (xs, tt, y) -> {
          float[] e = exact.denoise(xs, tt, y).eps();
          double a = T1000.alphaCumprodAt(tt[0]);
          float[] o = new float[xs.length];
          p.target(Prediction.x0FromEps(xs, e, a), e, a, o, 0, xs.length);
          return o;
        };
        Estimate est = p.denoiser(net, T1000).denoise(x, Denoiser.times(t, n), labels);
        assertEquals(p, est.kind());
        assertArrayEquals(eps, est.eps(), tol, p + " at t = " + t);
        assertArrayEquals(x0, est.x0(), tol, p + " x0 at t = " + t);
        float[] vWant = Prediction.vFromEps(x0, eps, ab, new float[x.length]);
        assertArrayEquals(vWant, est.v(), tol, p + " v at t = " + t);
      }
      // the targets are what the names say: ε itself, x0 itself, v = α·ε − σ·x0
      float[] v = new float[x.length];
      Prediction.V.target(x0, eps, ab, v, 0, x.length);
      assertArrayEquals(Prediction.vFromEps(x0, eps, ab, new float[x.length]), v);
      float[] x0Out = new float[x.length];
      Prediction.X0.target(x0, eps, ab, x0Out, 0, x.length);
      assertArrayEquals(x0, x0Out);
    }
  }

  @Test
  void minSnrWeightsByHand() {
    // ᾱ = 0.5: SNR 1 → ε weight min(1, 5)/1 = 1, v weight 1/2; ᾱ = 0.9: SNR 9 → 5/9 and 5/10
    assertEquals(1.0, Prediction.EPS.minSnrWeight(0.5, 5), 1e-12);
    assertEquals(0.5, Prediction.V.minSnrWeight(0.5, 5), 1e-12);
    assertEquals(5.0 / 9, Prediction.EPS.minSnrWeight(0.9, 5), 1e-12);
    assertEquals(0.5, Prediction.V.minSnrWeight(0.9, 5), 1e-12);
    assertEquals(5.0, Prediction.X0.minSnrWeight(0.9, 5), 1e-12);
    assertEquals(1.0, Prediction.X0.minSnrWeight(0.5, 5), 1e-12);
    assertEquals(Prediction.V, Prediction.parse("V"));
    assertEquals(Prediction.X0, Prediction.parse("x0"));
    assertEquals("prediction", org.junit.jupiter.api.Assertions.assertThrows(diffuse.api.DiffuseException.class,
        () -> Prediction.parse("x1")).field());
  }
}
