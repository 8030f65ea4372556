package diffuse.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffuseException;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Guidance interval, CFG rescale and the negative class, against plain CFG and by hand. */
class GuidanceMethodTest {
  static final NoiseSchedule T1000 = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
  static final int NULL = 9;

  /** ε = (label + 1)·x + label, so every label gives a different field; records batch sizes and labels. */
  static final class Net extends FieldNet {
    Net() {
      super((x, y) -> (y + 1) * x + y);
    }
  }

  static final float[] X = {0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f}; // two samples of three values
  static final int[] Y = {1, 4};

  static float[] eps(GuidanceMethod m, double scale, int t, Net net) {
    return ClassifierFreeGuidance.guided(Prediction.EPS.denoiser(net, T1000), NULL, new double[] {scale, scale}, m, T1000)
        .eps(X, t, Y);
  }

  @Test
  void anEmptyIntervalIsThePlainConditionalModelFromHalfTheBatch() {
    GuidanceMethod empty = GuidanceMethod.PLAIN.withInterval(1e9, 2e9); // no σ of the schedule is inside
    for (int t : new int[] {0, 500, 999}) {
      Net net = new Net();
      float[] got = eps(empty, 3.0, t, net);
      assertArrayEquals(new Net().predict(X, Denoiser.times(t, 2), Y), got);
      assertEquals(1, net.calls.size());
      assertArrayEquals(Y, net.calls.get(0), "only the conditional half is computed");
    }
  }

  @Test
  void insideTheIntervalItIsPlainCfgInOneDoubledBatchAndOutsideItTheConditional() {
    double lo = T1000.sigma(200), hi = T1000.sigma(700); // (σ_200, σ_700]
    GuidanceMethod m = GuidanceMethod.PLAIN.withInterval(lo, hi);
    for (int t : new int[] {150, 200, 201, 450, 700, 701, 999}) {
      Net net = new Net();
      float[] got = eps(m, 2.5, t, net);
      boolean inside = t > 200 && t <= 700;
      assertEquals(inside, m.appliesAt(T1000.sigma(t)), "t = " + t);
      float[] want = inside ? eps(GuidanceMethod.PLAIN, 2.5, t, new Net()) : new Net().predict(X, Denoiser.times(t, 2), Y);
      assertArrayEquals(want, got, "t = " + t);
      assertEquals(1, net.calls.size(), "one network call per evaluation");
      assertEquals(inside ? 4 : 2, net.calls.get(0).length, "t = " + t);
    }
  }

  @Test
  void theIntervalIsJudgedPerSampleAtItsOwnTimeInOneCall() {
    double lo = T1000.sigma(200), hi = T1000.sigma(700);
    GuidanceMethod m = GuidanceMethod.PLAIN.withInterval(lo, hi);
    double[] t = {450.5, 850}; // sample 0 inside (σ_200, σ_700], sample 1 above it
    Net net = new Net();
    float[] got = ClassifierFreeGuidance.guided(Prediction.EPS.denoiser(net, T1000), NULL, new double[] {2.5, 2.5}, m,
        T1000).denoise(X, t, Y).eps();
    assertEquals(1, net.calls.size(), "one network call for the mixed batch");
    for (int b = 0; b < 2; b++) {
      float[] alone = ClassifierFreeGuidance.guided(Prediction.EPS.denoiser(new Net(), T1000), NULL, new double[] {2.5},
          m, T1000).denoise(java.util.Arrays.copyOfRange(X, 3 * b, 3 * b + 3), new double[] {t[b]}, new int[] {Y[b]}).eps();
      assertArrayEquals(alone, java.util.Arrays.copyOfRange(got, 3 * b, 3 * b + 3), "sample " + b);
    }
    // sample 1 alone is the conditional model (outside), sample 0 is guided: they differ from it
    float[] cond = new Net().predict(X, t, Y);
    assertArrayEquals(java.util.Arrays.copyOfRange(cond, 3, 6), java.util.Arrays.copyOfRange(got, 3, 6));
    org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOf(cond, 3),
        java.util.Arrays.copyOf(got, 3)));
  }

  @Test
  void rescaleZeroIsPlainCfgAndOneMatchesTheConditionalSpread() {
    assertArrayEquals(eps(GuidanceMethod.PLAIN, 3, 100, new Net()), eps(GuidanceMethod.PLAIN.withRescale(0), 3, 100, new Net()));
    // by hand for sample 0 (label 1 against ∅ = 9): x = (0.5, −1, 2)
    //   ε_c = 2x + 1 = (2, −1, 5), ε_u = 10x + 9 = (14, −1, 29); s = 3: ε̃ = u + 3(c − u) = (−22, −1, −43)
    //   std(ε_c) = std(2, −1, 5) = √6 (population), std(ε̃) = std(−22, −1, −43) = √(294) = 7√6
    //   φ = 1: ε = ε̃·√6/(7√6) = ε̃/7;  φ = 0.5: ε = ε̃·(0.5/7 + 0.5) = ε̃·4/7
    float[] one = eps(GuidanceMethod.PLAIN.withRescale(1), 3, 100, new Net());
    assertArrayEquals(new float[] {-22f / 7, -1f / 7, -43f / 7}, java.util.Arrays.copyOf(one, 3), 1e-5f);
    float[] half = eps(GuidanceMethod.PLAIN.withRescale(0.5), 3, 100, new Net());
    assertArrayEquals(new float[] {-22f * 4 / 7, -1f * 4 / 7, -43f * 4 / 7}, java.util.Arrays.copyOf(half, 3), 1e-5f);
  }

  @Test
  void aNegativeClassReplacesTheNullLabelAndAtScaleOneIsTheConditionalModel() {
    GuidanceMethod neg = GuidanceMethod.PLAIN.withNegative(2);
    Net net = new Net();
    float[] got = eps(neg, 2.0, 100, net);
    assertEquals(1, net.calls.size());
    assertArrayEquals(new int[] {1, 4, 2, 2}, net.calls.get(0), "[y; n] in one doubled batch");
    // sample 0, first value: ε_c = 2·0.5 + 1 = 2, ε_n = 3·0.5 + 2 = 3.5; s = 2: 3.5 + 2(2 − 3.5) = 0.5
    assertEquals(0.5f, got[0], 1e-6f);
    assertArrayEquals(new Net().predict(X, Denoiser.times(100, 2), Y), eps(neg, 1.0, 100, new Net()));
  }

  @Test
  void badSettingsNameTheirField() {
    assertEquals("rescale", assertThrows(DiffuseException.class, () -> GuidanceMethod.PLAIN.withRescale(1.5)).field());
    assertEquals("rescale", assertThrows(DiffuseException.class, () -> GuidanceMethod.PLAIN.withRescale(Double.NaN)).field());
    assertEquals("guidanceInterval", assertThrows(DiffuseException.class, () -> GuidanceMethod.PLAIN.withInterval(-1, 2)).field());
    assertEquals("guidanceInterval", assertThrows(DiffuseException.class, () -> GuidanceMethod.PLAIN.withInterval(Double.NaN, 2)).field());
    assertTrue(GuidanceMethod.PLAIN.isPlain());
  }

  @Test
  void aGeneratorWithAGuidanceMethodStillSamplesTheSameWayWithPlain() {
    GaussianMixture m = SamplerTest.SEPARATED;
    Generator g = new Generator(m.denoiser(T1000), T1000, m.nullLabel(), m.dim());
    SamplerSpec spec = new SamplerSpec(SamplerKind.DDIM, 20, 0, true);
    Generator.Batch batch = Generator.Batch.of(1, 3.0, 5, 0, 64);
    assertArrayEquals(g.sample(batch, spec, diffuse.api.Listener.NONE), g.sample(batch, spec, GuidanceMethod.PLAIN, diffuse.api.Listener.NONE));
    float[] cond = g.sample(Generator.Batch.of(1, 1.0, 5, 0, 64), spec, diffuse.api.Listener.NONE);
    assertArrayEquals(cond, g.sample(batch, spec, GuidanceMethod.PLAIN.withInterval(1e9, 2e9), diffuse.api.Listener.NONE));
  }

  // --- adaptive projected guidance (Sadat et al. 2024) ---

  @Test
  void apgByHandOnTwoPixels() {
    float[] cond = {1f, 0f}, uncond = {0f, 1f}; // Δ = (1, −1), Δ∥ = (1, 0), Δ⊥ = (0, −1)
    double[] s2 = {2};
    assertArrayEquals(new float[] {1f, -1f}, new GuidanceMethod.Apg(0, Double.POSITIVE_INFINITY).combine(cond, uncond, s2));
    assertArrayEquals(new float[] {1.5f, -1f}, new GuidanceMethod.Apg(0.5, Double.POSITIVE_INFINITY).combine(cond, uncond, s2));
    assertArrayEquals(new float[] {2f, -1f}, new GuidanceMethod.Apg(1, Double.POSITIVE_INFINITY).combine(cond, uncond, s2),
        "η = 1: plain CFG, u + s·(c − u)");
    // r = 1 shrinks Δ to unit norm first: Δ = (1, −1)/√2
    float[] r1 = new GuidanceMethod.Apg(0, 1).combine(cond, uncond, s2);
    assertEquals(1.0, r1[0], 1e-7);
    assertEquals(-1 / Math.sqrt(2), r1[1], 1e-7);
    // s = 3 doubles the step; a Δ already shorter than r is left alone
    assertArrayEquals(new float[] {1f, -2f}, new GuidanceMethod.Apg(0, 5).combine(cond, uncond, new double[] {3}));
    // the projection divides by ‖x̂_0(y)‖²: c = (2, 0), Δ = (2, −1): Δ∥ = (2, 0), Δ⊥ = (0, −1)
    assertArrayEquals(new float[] {2f, -1f}, new GuidanceMethod.Apg(0, Double.POSITIVE_INFINITY)
        .combine(new float[] {2f, 0f}, new float[] {0f, 1f}, s2));
    // off the axes: c = (1, 1), Δ = (1, 0): Δ∥ = (½, ½), Δ⊥ = (½, −½); s = 3 → c + 2·Δ⊥
    assertArrayEquals(new float[] {2f, 0f}, new GuidanceMethod.Apg(0, Double.POSITIVE_INFINITY)
        .combine(new float[] {1f, 1f}, new float[] {0f, 1f}, new double[] {3}));
    // a zero conditional prediction has no parallel part
    assertArrayEquals(new float[] {-1f, -1f}, new GuidanceMethod.Apg(0, Double.POSITIVE_INFINITY)
        .combine(new float[] {0f, 0f}, new float[] {1f, 1f}, s2));
  }

  @Test
  void apgWithEtaOneIsPlainCfgAndWithScaleOneTheConditionalModelInOneCall() {
    GuidanceMethod plainApg = GuidanceMethod.PLAIN.withApg(new GuidanceMethod.Apg(1, Double.POSITIVE_INFINITY));
    GuidanceMethod apg = GuidanceMethod.PLAIN.withApg(new GuidanceMethod.Apg(0, 2));
    for (int t : new int[] {0, 250, 999}) {
      Net net = new Net();
      float[] got = eps(plainApg, 2.5, t, net);
      float[] want = eps(GuidanceMethod.PLAIN, 2.5, t, new Net());
      for (int i = 0; i < want.length; i++) {
        // taken on x̂_0 and converted back: equal up to the rounding of the two conversions
        assertEquals(want[i], got[i], 2e-4 * (1 + Math.abs(want[i])) / Math.sqrt(T1000.alphaCumprod(t)), "t = " + t);
      }
      assertEquals(1, net.calls.size(), "one network call per evaluation");
      assertEquals(4, net.calls.get(0).length, "the doubled batch");
      Net one = new Net();
      assertArrayEquals(new Net().predict(X, Denoiser.times(t, 2), Y), eps(apg, 1.0, t, one), "s = 1");
      assertEquals(1, one.calls.size());
      assertArrayEquals(Y, one.calls.get(0), "only the conditional half");
    }
  }

  @Test
  void apgWorksPerSampleAndAgainstTheNegativeClass() {
    GuidanceMethod m = GuidanceMethod.PLAIN.withApg(new GuidanceMethod.Apg(0.25, 3)).withNegative(2);
    double[] scales = {2.0, 4.0};
    double[] t = {300, 600};
    Net net = new Net();
    Estimate both = ClassifierFreeGuidance.guided(Prediction.EPS.denoiser(net, T1000), NULL, scales, m, T1000)
        .denoise(X, t, Y);
    assertEquals(Prediction.X0, both.kind(), "APG's result is an x̂_0 estimate");
    assertArrayEquals(new int[] {1, 4, 2, 2}, net.calls.get(0), "against the negative class, in one call");
    for (int b = 0; b < 2; b++) {
      float[] x = java.util.Arrays.copyOfRange(X, 3 * b, 3 * b + 3);
      float[] alone = ClassifierFreeGuidance.guided(Prediction.EPS.denoiser(new Net(), T1000), NULL,
          new double[] {scales[b]}, m, T1000).denoise(x, new double[] {t[b]}, new int[] {Y[b]}).x0();
      assertArrayEquals(alone, java.util.Arrays.copyOfRange(both.x0(), 3 * b, 3 * b + 3), "sample " + b);
      // and by its definition, on this sample's conditional and negative-class x̂_0
      Estimate c = Prediction.EPS.denoiser(new Net(), T1000).denoise(x, new double[] {t[b]}, new int[] {Y[b]});
      Estimate n = Prediction.EPS.denoiser(new Net(), T1000).denoise(x, new double[] {t[b]}, new int[] {2});
      assertArrayEquals(m.apg().combine(c.x0(), n.x0(), new double[] {scales[b]}), alone);
    }
  }

  @Test
  void apgRefusesBadValuesAndRescaleAlongside() {
    assertEquals("apg", assertThrows(DiffuseException.class, () -> new GuidanceMethod.Apg(-0.1, 1)).field());
    assertEquals("apg", assertThrows(DiffuseException.class, () -> new GuidanceMethod.Apg(Double.NaN, 1)).field());
    assertEquals("apgNorm", assertThrows(DiffuseException.class, () -> new GuidanceMethod.Apg(0, 0)).field());
    assertEquals("apgNorm", assertThrows(DiffuseException.class, () -> new GuidanceMethod.Apg(0, Double.NaN)).field());
    assertEquals("apg", assertThrows(DiffuseException.class,
        () -> GuidanceMethod.PLAIN.withRescale(0.5).withApg(new GuidanceMethod.Apg(0, 1))).field());
  }
}
