package diffuse.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffuseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GuidanceTest {
  static final diffuse.schedule.NoiseSchedule T1000 =
      diffuse.schedule.NoiseSchedule.of(diffuse.schedule.ScheduleKind.LINEAR, 1000);

  /** A network whose output is ε, as a denoiser. */
  private static Denoiser eps(Network net) {
    return Prediction.EPS.denoiser(net, T1000);
  }
  @Test
  void combineMatchesHandComputedValues() {
    float[] uncond = {1f, -2f, 0.5f};
    float[] cond = {3f, -1f, 0.5f};
    // ε̃ = u + s(c − u); s = 2.5: 1 + 2.5·2 = 6, −2 + 2.5·1 = 0.5, 0.5 + 0 = 0.5
    assertArrayEquals(new float[] {6f, 0.5f, 0.5f}, ClassifierFreeGuidance.combine(uncond, cond, 2.5), 1e-6f);
    // s = −1 pushes away from the class: 1 − 2 = −1, −2 − 1 = −3
    assertArrayEquals(new float[] {-1f, -3f, 0.5f}, ClassifierFreeGuidance.combine(uncond, cond, -1), 1e-6f);
    assertArrayEquals(uncond, ClassifierFreeGuidance.combine(uncond, cond, 0));
    assertArrayEquals(cond, ClassifierFreeGuidance.combine(uncond, cond, 1));
  }

  /** A fake network whose ε is label·10 + x, recording each call's batch and labels. */
  private static final class Recorder extends FieldNet {
    Recorder() {
      super((x, y) -> y * 10 + x);
    }
  }

  @Test
  void guidedDenoiserUsesOneDoubledBatch() {
    Recorder net = new Recorder();
    float[] x = {0.5f, 1f, 2f, 3f}; // 2 samples of dim 2
    float[] eps = ClassifierFreeGuidance.guided(eps(net), 9, 2.0).eps(x, 10, new int[] {1, 4});
    assertEquals(1, net.calls.size());
    assertArrayEquals(new int[] {1, 4, 9, 9}, net.calls.get(0));
    // cond = 10·y + x, uncond = 90 + x: ε̃ = 90 + x + 2(10y − 90) = 10·(2y) − 90 + x
    assertArrayEquals(new float[] {-70 + 0.5f, -70 + 1f, -10 + 2f, -10 + 3f}, eps, 1e-4f);
  }

  @Test
  void scalesZeroAndOneComputeOnlyTheHalfTheyNeed() {
    float[] x = {0.25f, -1f, 2f, 0.5f}; // 2 samples of dim 2
    int[] y = {3, 5};
    Recorder one = new Recorder();
    float[] cond = ClassifierFreeGuidance.guided(eps(one), 7, 1.0).eps(x, 0, y);
    assertEquals(1, one.calls.size(), "s = 1 is one call");
    assertArrayEquals(new int[] {3, 5}, one.calls.get(0), "s = 1 computes the conditional half only");
    // ε = 10·y + x, by hand
    assertArrayEquals(new float[] {30.25f, 29f, 52f, 50.5f}, cond, 1e-5f);
    Recorder zero = new Recorder();
    float[] uncond = ClassifierFreeGuidance.guided(eps(zero), 7, 0.0).eps(x, 0, y);
    assertEquals(1, zero.calls.size(), "s = 0 is one call");
    assertArrayEquals(new int[] {7, 7}, zero.calls.get(0), "s = 0 computes the unconditional half only");
    assertArrayEquals(new float[] {70.25f, 69f, 72f, 70.5f}, uncond, 1e-5f);
    // and they agree with the doubled batch's halves at a scale that needs both (s = 0.5: the midpoint)
    Recorder half = new Recorder();
    float[] mid = ClassifierFreeGuidance.guided(eps(half), 7, 0.5).eps(x, 0, y);
    assertArrayEquals(new int[] {3, 5, 7, 7}, half.calls.get(0));
    for (int i = 0; i < x.length; i++) {
      assertEquals((cond[i] + uncond[i]) / 2, mid[i], 1e-5f);
    }
  }

  @Test
  void nonFiniteScalesAreRejected() {
    Recorder net = new Recorder();
    for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
      DiffuseException e = assertThrows(DiffuseException.class, () -> ClassifierFreeGuidance.guided(eps(net), 1, bad));
      assertEquals(DiffuseException.Code.BAD_VALUE, e.code());
      assertEquals("guidance", e.field(), "the error names the request field");
      assertThrows(DiffuseException.class, () -> ClassifierFreeGuidance.guided(eps(net), 1, new double[] {2, bad}));
    }
    assertTrue(net.calls.isEmpty());
  }

  @Test
  void perSampleScalesGiveEachSampleWhatItsOwnScaleGives() {
    float[] x = {0.5f, 1f, 2f, 3f, -1f, 0.25f}; // 3 samples of dim 2
    int[] y = {1, 4, 2};
    double[] scales = {2.0, 1.0, 0.0};
    Recorder mixed = new Recorder();
    float[] eps = ClassifierFreeGuidance.guided(eps(mixed), 9, scales).eps(x, 10, y);
    assertEquals(1, mixed.calls.size(), "mixed scales are still one doubled batch");
    assertArrayEquals(new int[] {1, 4, 2, 9, 9, 9}, mixed.calls.get(0));
    for (int b = 0; b < 3; b++) {
      float[] alone = ClassifierFreeGuidance.guided(eps(new Recorder()), 9, scales[b])
          .eps(Arrays.copyOfRange(x, 2 * b, 2 * b + 2), 10, new int[] {y[b]});
      assertArrayEquals(alone, Arrays.copyOfRange(eps, 2 * b, 2 * b + 2), "sample " + b + " bit for bit");
    }
    Recorder ones = new Recorder();
    ClassifierFreeGuidance.guided(eps(ones), 9, new double[] {1, 1, 1}).eps(x, 10, y);
    assertArrayEquals(new int[] {1, 4, 2}, ones.calls.get(0), "all s = 1: the conditional half only");
  }

  @Test
  void labelDropoutReplacesLabelsAtTheRequestedRate() {
    int n = 200_000;
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 10;
    }
    for (double p : new double[] {0.1, 0.25}) {
      int[] out = ClassifierFreeGuidance.dropLabels(labels, p, 10, new SplittableRandom(42));
      long dropped = Arrays.stream(out).filter(y -> y == 10).count();
      double rate = (double) dropped / n;
      double sd = Math.sqrt(p * (1 - p) / n);
      assertEquals(p, rate, 5 * sd, "rate " + rate + " for p = " + p);
      for (int i = 0; i < n; i++) {
        assertTrue(out[i] == 10 || out[i] == labels[i], "a label was changed to another class");
      }
    }
    assertArrayEquals(labels, ClassifierFreeGuidance.dropLabels(labels, 0, 10, new SplittableRandom(1)));
    assertTrue(Arrays.stream(ClassifierFreeGuidance.dropLabels(labels, 1, 10, new SplittableRandom(1))).allMatch(y -> y == 10));
  }
}
