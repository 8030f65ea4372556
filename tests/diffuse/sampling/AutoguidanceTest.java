package diffuse.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import diffuse.schedule.Spacing;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Autoguidance (Karras et al. 2024) as a guider that calls a second network: by hand on linear
 * networks, the calls it makes, and on the exact Gaussian mixture of the two-pixel world, where a
 * guide equal to the model changes nothing and a guide with wider components (an analytic "bad
 * version" of the model) pulls samples into their class's components, as in the paper's Fig. 1.
 */
class AutoguidanceTest {
  static final NoiseSchedule T1000 = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
  static final int NULL = 9;

  /** ε = a·x + b·y + c, recording every call's labels. */
  static final class Linear extends FieldNet {
    Linear(double a, double b, double c) {
      super((x, y) -> (float) (a * x + b * y + c));
    }
  }

  static final float[] X = {0.5f, -1f, 2f, 0.25f}; // two samples of two values
  static final int[] Y = {1, 4};

  /**
   * Main ε = 2x + y, guide ε = x + 1, w = 3: ε = g + 3(m − g) = (x + 1) + 3(x + y − 1) = 4x + 3y − 2.
   * One call of each, both conditional on y.
   */
  @Test
  void itIsTheGuidePlusWTimesTheDifferenceFromOneCallOfEach() {
    Linear main = new Linear(2, 1, 0), guide = new Linear(1, 0, 1);
    Guider g = new Autoguidance(Prediction.EPS.denoiser(guide, T1000));
    float[] eps = g.guide(Prediction.EPS.denoiser(main, T1000), NULL, new double[] {3, 3}, T1000).eps(X, 300, Y);
    float[] want = new float[X.length];
    for (int i = 0; i < X.length; i++) {
      want[i] = 4 * X[i] + 3 * Y[i / 2] - 2;
    }
    assertArrayEquals(want, eps, 1e-5f);
    assertEquals(1, main.calls.size(), "one call of the main model");
    assertEquals(1, guide.calls.size(), "one call of the guide");
    assertArrayEquals(Y, main.calls.get(0));
    assertArrayEquals(Y, guide.calls.get(0), "the guide is conditional too: no null label");
  }

  /** w per sample: sample 0 at w = 1 is the main model, sample 1 at w = 0 the guide. */
  @Test
  void theScaleIsPerSample() {
    Linear main = new Linear(2, 1, 0), guide = new Linear(1, 0, 1);
    float[] eps = new Autoguidance(Prediction.EPS.denoiser(guide, T1000))
        .guide(Prediction.EPS.denoiser(main, T1000), NULL, new double[] {1, 0}, T1000).eps(X, 300, Y);
    assertArrayEquals(new float[] {2 * 0.5f + 1, 2 * -1f + 1, 2f + 1, 0.25f + 1}, eps, 1e-5f);
  }

  @Test
  void atScaleOneTheGuideIsNotCalled() {
    Linear main = new Linear(2, 1, 0), guide = new Linear(1, 0, 1);
    float[] eps = new Autoguidance(Prediction.EPS.denoiser(guide, T1000))
        .guide(Prediction.EPS.denoiser(main, T1000), NULL, new double[] {1, 1}, T1000).eps(X, 300, Y);
    assertArrayEquals(new Linear(2, 1, 0).predict(X, Denoiser.times(300, 2), Y), eps);
    assertEquals(0, guide.calls.size());
  }

  /**
   * Blended with CFG at c = 2: D_1 = u + 2(m − u) with u the main model at ∅ = 9, from one doubled
   * call [y; ∅]; then g + w(D_1 − g). Main ε = 2x + y: D_1 = 2x + 2y − 9; w = 3, guide x + 1:
   * ε = (x + 1) + 3(x + 2y − 10) = 4x + 6y − 29.
   */
  @Test
  void blendedWithCfgTheMainModelRunsOneDoubledBatch() {
    Linear main = new Linear(2, 1, 0), guide = new Linear(1, 0, 1);
    float[] eps = new Autoguidance(Prediction.EPS.denoiser(guide, T1000), 2.0)
        .guide(Prediction.EPS.denoiser(main, T1000), NULL, new double[] {3, 3}, T1000).eps(X, 300, Y);
    float[] want = new float[X.length];
    for (int i = 0; i < X.length; i++) {
      want[i] = 4 * X[i] + 6 * Y[i / 2] - 29;
    }
    assertArrayEquals(want, eps, 1e-4f);
    assertEquals(1, main.calls.size());
    assertArrayEquals(new int[] {1, 4, NULL, NULL}, main.calls.get(0));
    assertEquals(1, guide.calls.size());
  }

  /**
   * Blended with CFG limited to the noise interval (0.3, 5]: at t = 300 (σ ≈ 1.2, inside) the blend
   * above, from a doubled call; at t = 900 (σ ≈ 61, outside) D_1 is the conditional estimate alone,
   * from a call without ∅, and ε = (x + 1) + 3(x + y − 1) = 4x + 3y − 2 as without CFG.
   */
  @Test
  void theBlendedCfgAppliesOnlyInsideItsInterval() {
    Linear main = new Linear(2, 1, 0), guide = new Linear(1, 0, 1);
    Guider g = new Autoguidance(Prediction.EPS.denoiser(guide, T1000), 2.0, GuidanceMethod.PLAIN.withInterval(0.3, 5));
    Denoiser d = g.guide(Prediction.EPS.denoiser(main, T1000), NULL, new double[] {3, 3}, T1000);
    float[] inside = d.eps(X, 300, Y), outside = d.eps(X, 900, Y);
    for (int i = 0; i < X.length; i++) {
      assertEquals(4 * X[i] + 6 * Y[i / 2] - 29, inside[i], 1e-4f);
      assertEquals(4 * X[i] + 3 * Y[i / 2] - 2, outside[i], 1e-4f);
    }
    assertEquals(2, main.calls.size());
    assertArrayEquals(new int[] {1, 4, NULL, NULL}, main.calls.get(0), "inside: one doubled call");
    assertArrayEquals(Y, main.calls.get(1), "outside: the conditional half alone");
    assertEquals(2, guide.calls.size(), "one guide call each time");
  }

  /**
   * Autoguidance limited to σ in (2, 1000], CFG 2 to (0.3, 5]: at t = 900 (σ ≈ 61) autoguidance alone,
   * 4x + 3y − 2, from one conditional call and one guide call; at t = 300 (σ ≈ 1.2) the main model's CFG
   * estimate D_1 = 2x + 2y − 9 from a doubled call, and the guide is not called: 10 steps with 7 above
   * σ = 2 and 3 in (1, 5] cost 10 + 7 + 3 calls.
   */
  @Test
  void outsideItsIntervalTheGuideIsNotCalled() {
    Linear main = new Linear(2, 1, 0), guide = new Linear(1, 0, 1);
    Guider g = new Autoguidance(Prediction.EPS.denoiser(guide, T1000), 2.0, GuidanceMethod.PLAIN.withInterval(0.3, 5),
        new GuidanceInterval(2, 1000));
    Denoiser d = g.guide(Prediction.EPS.denoiser(main, T1000), NULL, new double[] {3, 3}, T1000);
    float[] high = d.eps(X, 900, Y);
    assertEquals(1, guide.calls.size(), "inside the guide's interval: one guide call");
    float[] low = d.eps(X, 300, Y);
    for (int i = 0; i < X.length; i++) {
      assertEquals(4 * X[i] + 3 * Y[i / 2] - 2, high[i], 1e-4f);
      assertEquals(2 * X[i] + 2 * Y[i / 2] - 9, low[i], 1e-4f);
    }
    assertEquals(1, guide.calls.size(), "outside it: no guide call");
    assertArrayEquals(new int[] {1, 4, NULL, NULL}, main.calls.get(1), "the blended CFG's doubled call");
  }

  /** The two-pixel world: class 0 two tight blobs left, class 1 one blob right. */
  static GaussianMixture world(double std) {
    return new GaussianMixture(List.of(
        new GaussianMixture.Component(0.3, new double[] {-1.5, 0.8}, std, 0),
        new GaussianMixture.Component(0.3, new double[] {-1.5, -0.8}, std, 0),
        new GaussianMixture.Component(0.4, new double[] {1.5, 0.0}, std, 1)));
  }

  static float[] sample(GaussianMixture model, Guider guider, double w, int label, int n) {
    Generator gen = new Generator(model.denoiser(T1000), T1000, model.nullLabel(), 2);
    SamplerSpec spec = new SamplerSpec(SamplerKind.DPMPP_2M, 50, 0, false, Spacing.KARRAS);
    return gen.sample(Generator.Batch.of(label, w, 7, 0, n), spec, guider, diffuse.api.Listener.NONE);
  }

  @Test
  void aGuideEqualToTheModelChangesNothing() {
    GaussianMixture m = world(0.25);
    for (double w : new double[] {0.5, 2, 4}) {
      float[] guided = sample(m, new Autoguidance(m.denoiser(T1000)), w, 0, 64);
      float[] plain = sample(m, GuidanceMethod.PLAIN, 1.0, 0, 64);
      assertArrayEquals(plain, guided, 1e-5f, "w = " + w);
    }
  }

  /** Mean squared distance of each sample to the nearest mean of its class's components. */
  static double spread(GaussianMixture m, float[] x, int label) {
    double sum = 0;
    int n = x.length / 2;
    for (int i = 0; i < n; i++) {
      double best = Double.POSITIVE_INFINITY;
      for (GaussianMixture.Component c : m.components()) {
        if (c.label() == label) {
          double dx = x[2 * i] - c.mean()[0], dy = x[2 * i + 1] - c.mean()[1];
          best = Math.min(best, dx * dx + dy * dy);
        }
      }
      sum += best;
    }
    return sum / n;
  }

  /**
   * A guide whose components are twice as wide (a model that has not yet learnt how tight the data
   * is) makes the guided samples tighter than the model's own at w = 2 and tighter still at w = 3,
   * while every sample stays in its class: autoguidance concentrates, it does not change classes.
   * The model's own samples have spread ≈ 2σ² = 0.125 (two dimensions; DPM-Solver++(2M), 50 Karras steps).
   */
  @Test
  void aWiderGuideConcentratesSamplesInsideTheirClass() {
    GaussianMixture model = world(0.25), guide = world(0.5);
    Guider auto = new Autoguidance(guide.denoiser(T1000));
    for (int label : new int[] {0, 1}) {
      double own = spread(model, sample(model, GuidanceMethod.PLAIN, 1.0, label, 400), label);
      float[] w2 = sample(model, auto, 2.0, label, 400);
      float[] w3 = sample(model, auto, 3.0, label, 400);
      double s2 = spread(model, w2, label), s3 = spread(model, w3, label);
      assertEquals(0.125, own, 0.025, "class " + label + ": the model's own samples");
      assertTrue(s2 < 0.8 * own && s3 < s2, "class " + label + ": spread " + own + " → " + s2 + " → " + s3);
      for (float[] x : new float[][] {w2, w3}) {
        for (int i = 0; i < x.length / 2; i++) {
          assertEquals(label, model.components().get(model.nearest(x, i)).label(), "sample " + i + " left its class");
        }
      }
    }
  }
}
