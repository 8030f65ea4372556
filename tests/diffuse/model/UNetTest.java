package diffuse.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.train.TrainingGraph;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UNetTest {
  @ParameterizedTest(name = "{0}x{0}x{1}, 3 levels, batch {2}")
  @CsvSource({"8, 1, 1", "12, 1, 3", "16, 3, 2", "28, 1, 5"})
  void outputShapeEqualsInputShape(int size, int channels, int batch) {
    UNetConfig c = new UNetConfig(size, size, channels, 3, List.of(8, 16, 16), 1, 16, 4);
    UNet net = new UNet(c);
    Map<String, float[]> w = Parameters.initialValues(net.paramSpecs(), new Random(1));
    Random rng = new Random(2);
    float[] x = new float[batch * size * size * channels];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    int[] y = new int[batch];
    y[0] = c.nullLabel();
    try (EpsilonGraph g = new EpsilonGraph(new UNet(c))) {
      diffuse.model.SavedModelNetwork.Output out = g.predictShaped(w, x, batch, 500f, y);
      assertArrayEquals(new long[] {batch, size, size, channels}, out.shape());
      for (float v : out.values()) {
        assertTrue(Float.isFinite(v));
      }
    }
  }

  @Test
  void labelAndTimestepChangeTheOutput() {
    UNetConfig c = TestData.tinyNet(8, 1, 2);
    Map<String, float[]> w = Parameters.initialValues(new UNet(c).paramSpecs(), new Random(1));
    float[] x = new float[64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(i);
    }
    try (EpsilonGraph g = new EpsilonGraph(new UNet(c))) {
      float[] a = g.predict(w, x, 1, 10f, new int[] {0});
      float[] b = g.predict(w, x, 1, 10f, new int[] {1});
      float[] n = g.predict(w, x, 1, 10f, new int[] {2});
      float[] t = g.predict(w, x, 1, 900f, new int[] {0});
      assertFalse(java.util.Arrays.equals(a, b));
      assertFalse(java.util.Arrays.equals(a, n));
      assertFalse(java.util.Arrays.equals(a, t));
    }
  }

  /**
   * GroupNorm against its definition (Wu &amp; He 2018, eq. 1–2) computed in double: per sample and
   * group, μ and σ² over H, W and the group's channels. The offset of 40 checks that folding the
   * normalisation into x·a + b loses no accuracy when the mean is large against the spread. With
   * {@code modulated}, the AdaGN form GN(x)·(1 + s) + b_mod with s and b_mod per sample and channel.
   */
  @ParameterizedTest(name = "offset {0}, modulated {1}")
  @CsvSource({"0, false", "40, false", "0, true", "40, true"})
  void groupNormMatchesItsDefinition(double offset, boolean modulated) {
    int b = 2, h = 3, w = 4, c = 6, groups = 3;
    Random rng = new Random(7);
    float[] x = new float[b * h * w * c];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (offset + (1 + i % c) * rng.nextGaussian()); // a different spread per channel
    }
    float[] gamma = new float[c], beta = new float[c];
    for (int i = 0; i < c; i++) {
      gamma[i] = (float) (0.5 + rng.nextDouble());
      beta[i] = (float) rng.nextGaussian();
    }
    float[][] ms = new float[b][c], mb = new float[b][c];
    for (int s = 0; s < b; s++) {
      for (int k = 0; k < c; k++) {
        ms[s][k] = modulated ? (float) rng.nextGaussian() : 0f;
        mb[s][k] = modulated ? (float) rng.nextGaussian() : 0f;
      }
    }
    float[] got;
    try (org.tensorflow.Graph g = new org.tensorflow.Graph();
        org.tensorflow.Session s = new org.tensorflow.Session(g)) {
      org.tensorflow.op.Ops tf = org.tensorflow.op.Ops.create(g);
      var y = UNet.groupNorm(tf,
          tf.constant(org.tensorflow.ndarray.Shape.of(b, h, w, c), org.tensorflow.ndarray.buffer.DataBuffers.of(x)),
          tf.constant(gamma), tf.constant(beta), UNet.groupAverage(tf, c, groups),
          modulated ? tf.constant(ms) : null, modulated ? tf.constant(mb) : null);
      try (org.tensorflow.types.TFloat32 out = (org.tensorflow.types.TFloat32) s.runner().fetch(y).run().get(0)) {
        got = new float[x.length];
        out.copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(got, false, false));
      }
    }
    int per = c / groups, n = h * w * per;
    for (int s = 0; s < b; s++) {
      for (int gr = 0; gr < groups; gr++) {
        double sum = 0, sq = 0;
        for (int p = 0; p < h * w; p++) {
          for (int k = gr * per; k < (gr + 1) * per; k++) {
            double v = x[(s * h * w + p) * c + k];
            sum += v;
            sq += v * v;
          }
        }
        double mu = sum / n, var = sq / n - mu * mu;
        for (int p = 0; p < h * w; p++) {
          for (int k = gr * per; k < (gr + 1) * per; k++) {
            int i = (s * h * w + p) * c + k;
            double want = (gamma[k] * (x[i] - mu) / Math.sqrt(var + 1e-5) + beta[k]) * (1 + ms[s][k]) + mb[s][k];
            // the folded form's float error is GroupNorm's, scaled by the modulation's (1 + s)
            double tol = 2e-4 * Math.max(1, Math.abs(1 + ms[s][k]));
            assertEquals(want, got[i], tol, "sample " + s + ", group " + gr + ", element " + i);
          }
        }
      }
    }
  }

  /**
   * AdaGN (scaleShiftNorm): each residual block's embedding layer becomes a scale and a shift of
   * its second GroupNorm, every one of them is trained, and the label still changes the output.
   */
  @Test
  void adaGnNetworkHasScaleAndShiftPerBlockAndTrainsThemAll() {
    UNetConfig c = TestData.tinyNet(8, 1, 2).withScaleShiftNorm(true);
    List<ParamSpec> specs = new UNet(c).paramSpecs();
    Set<String> names = specs.stream().map(ParamSpec::name).collect(Collectors.toSet());
    assertTrue(names.contains("mid.res0.ada_scale.w") && names.contains("mid.res0.ada_shift.w"), names.toString());
    assertFalse(names.contains("mid.res0.emb.w"), names.toString());
    Set<String> plain = new UNet(TestData.tinyNet(8, 1, 2)).paramSpecs().stream().map(ParamSpec::name)
        .collect(Collectors.toSet());
    assertTrue(plain.contains("mid.res0.emb.w") && !plain.contains("mid.res0.ada_scale.w"));
    assertEveryVariableReceivesAGradient(c);
    Map<String, float[]> w = Parameters.initialValues(specs, new Random(1));
    float[] x = new float[64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(i);
    }
    try (EpsilonGraph g = new EpsilonGraph(new UNet(c))) {
      assertFalse(java.util.Arrays.equals(g.predict(w, x, 1, 10f, new int[] {0}), g.predict(w, x, 1, 10f, new int[] {1})));
    }
  }

  /** A model.json written before AdaGN existed has no such field: it reads as off, the graph it was trained with. */
  @Test
  void architectureWithoutTheAdaGnFieldReadsAsOffAndTheFieldRoundTrips() {
    String old = "{\"height\":28,\"width\":28,\"channels\":1,\"numClasses\":10,\"widths\":[32,64,128],"
        + "\"resBlocks\":1,\"embedDim\":128,\"groups\":8}";
    UNetConfig read = diffuse.io.Json.fromJson(old, UNetConfig.class);
    assertEquals(UNetConfig.defaults(28, 28, 1, 10), read);
    assertFalse(read.scaleShiftNorm());
    UNetConfig ada = UNetConfig.defaults(28, 28, 1, 10).withScaleShiftNorm(true);
    assertEquals(ada, diffuse.io.Json.fromJson(diffuse.io.Json.toJson(ada), UNetConfig.class));
  }

  @Test
  void defaultArchitectureHasAboutOnePointSixMillionParameters() {
    long n = new UNet(UNetConfig.defaults(28, 28, 1, 10)).paramSpecs().stream().mapToLong(ParamSpec::size).sum();
    assertTrue(n > 1_500_000 && n < 1_800_000, "parameters: " + n);
  }

  @Test
  void everyVariableReceivesAGradient() {
    assertEveryVariableReceivesAGradient(TestData.tinyNet(8, 1, 2));
    Set<String> names = new UNet(TestData.tinyNet(8, 1, 2)).paramSpecs().stream().map(ParamSpec::name)
        .collect(Collectors.toSet());
    assertTrue(names.contains("class_emb") && names.contains("temb.fc0.w") && names.contains("mid.res0.conv1.w"));
  }

  /** One training step's gradients of an 8×8 net: one per variable, each nonzero and finite. */
  static void assertEveryVariableReceivesAGradient(UNetConfig c) {
    try (TrainingGraph g = TrainingGraph.builder(new UNet(c)).gradClip(1.0).config(TestData.oneThread()).build()) {
      g.initialize(3);
      Random rng = new Random(4);
      int b = 4;
      float[] x = new float[b * 64], e = new float[b * 64];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) rng.nextGaussian();
        e[i] = (float) rng.nextGaussian();
      }
      List<float[]> grads = g.gradients(x, new int[] {5, 100, 400, 900}, new int[] {0, 1, 2, 1}, e);
      assertEquals(g.paramSpecs().size(), grads.size());
      for (int i = 0; i < grads.size(); i++) {
        double norm = 0;
        for (float v : grads.get(i)) {
          norm += v * v;
        }
        assertTrue(norm > 0 && Double.isFinite(norm), "no gradient for " + g.paramSpecs().get(i).name());
      }
    }
  }

  /** The PyTorch twin's analytic count for the same net ({@code torch_twin.py --flops}: 305,525,504). */
  @Test
  void forwardFlopsOfTheDefaultNetMatchTheTwinsAnalyticCount() {
    assertEquals(304_367_616L + 248_576L + 909_312L, new UNet(UNetConfig.defaults(28, 28, 1, 10)).forwardFlopsPerSample());
  }

  /**
   * The default network of {@code train} (AdaGN) against the twin run with {@code bench/twin.py --ada-gn}: its
   * parameter count (1,791,617 there) and its analytic count plus one Dense(128, cout) per residual block.
   */
  @Test
  void theAdaGnNetMatchesTheTwinsAdaGnVariant() {
    UNet ada = new UNet(UNetConfig.defaults(28, 28, 1, 10).withScaleShiftNorm(true));
    assertEquals(1_791_617L, ada.paramSpecs().stream().mapToLong(ParamSpec::size).sum());
    assertEquals(305_525_504L + 2L * 128 * (32 + 64 + 128 + 128 + 128 + 128 + 64 + 32), ada.forwardFlopsPerSample());
  }

  @Test
  void configRejectsBadShapes() {
    assertThrows(IllegalArgumentException.class, () -> new UNetConfig(30, 30, 1, 10, List.of(32, 64, 128), 1, 128, 8));
    assertThrows(IllegalArgumentException.class, () -> new UNetConfig(28, 28, 2, 10, List.of(32, 64, 128), 1, 128, 8));
    assertThrows(IllegalArgumentException.class, () -> new UNetConfig(28, 28, 1, 10, List.of(30, 64, 128), 1, 128, 8));
    assertThrows(IllegalArgumentException.class, () -> new ParamSpec("a/b", new long[] {1}, ParamSpec.Init.ZEROS, 0));
  }
}
