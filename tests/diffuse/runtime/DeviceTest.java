package diffuse.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import diffuse.api.DiffuseException;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.types.TFloat32;

/** The session options sampling gets on each device. */
class DeviceTest {
  private static final ConfigProto BASE = ConfigProto.newBuilder().setIntraOpParallelismThreads(2).build();

  private static boolean metaOptimizerOff(ConfigProto c) {
    return c.getGraphOptions().getRewriteOptions().getDisableMetaOptimizer();
  }

  @Test
  void onTheCpuBuildAutoIsTheCpuWithoutProbingAndGpuSaysWhy() {
    // the tests run on the CPU build: no GPU kernels, so no probe graph is built for AUTO
    Device.Choice c = Device.AUTO.resolve(2);
    assertEquals(Device.CPU, c.device());
    assertTrue(c.description().contains("no usable GPU"), c.description());
    Device.UnavailableException e = org.junit.jupiter.api.Assertions.assertThrows(Device.UnavailableException.class,
        () -> Device.GPU.resolve(2));
    assertTrue(e.getMessage().contains("CPU build") && e.getMessage().contains("mvn -Pgpu"), e.getMessage());
  }

  @Test
  void samplingOnCpuWithOneDnnSkipsGrapplerAndKeepsTheThreads() {
    ConfigProto c = Device.Choice.samplingConfig(Device.CPU, BASE, Map.of("TF_ENABLE_ONEDNN_OPTS", "1"));
    assertTrue(metaOptimizerOff(c));
    assertEquals(2, c.getIntraOpParallelismThreads());
    assertTrue(metaOptimizerOff(Device.Choice.samplingConfig(Device.CPU, BASE, Map.of("TF_ENABLE_ONEDNN_OPTS", "true"))));
  }

  @Test
  void xlaTurnsOnAutoClusteringAndKeepsTheRest() {
    Device.Choice c = new Device.Choice(Device.CPU, BASE, "cpu").withXla();
    assertEquals(org.tensorflow.proto.OptimizerOptions.GlobalJitLevel.ON_1,
        c.config().getGraphOptions().getOptimizerOptions().getGlobalJitLevel());
    assertEquals(2, c.config().getIntraOpParallelismThreads());
    assertEquals("cpu, XLA", c.description());
    assertEquals(org.tensorflow.proto.OptimizerOptions.GlobalJitLevel.ON_1,
        c.samplingConfig().getGraphOptions().getOptimizerOptions().getGlobalJitLevel());
  }

  @Test
  void withoutOneDnnOrOnAGpuGrapplerStays() {
    assertEquals(BASE, Device.Choice.samplingConfig(Device.CPU, BASE, Map.of()));
    assertEquals(BASE, Device.Choice.samplingConfig(Device.CPU, BASE, Map.of("TF_ENABLE_ONEDNN_OPTS", "0")));
    assertFalse(metaOptimizerOff(Device.Choice.samplingConfig(Device.GPU, BASE, Map.of("TF_ENABLE_ONEDNN_OPTS", "1"))));
  }

  private static final Set<String> ZEN4 = Set.of("avx2", "fma", "avx512f", "avx512_bf16");

  @Test
  void bf16SwitchesOnTheOneDnnMixedPrecisionPassAndKeepsGrapplerForSampling() {
    Device.Choice c = new Device.Choice(Device.CPU, BASE, "cpu").withBf16(ZEN4);
    assertTrue(c.bf16());
    assertFalse(new Device.Choice(Device.CPU, BASE, "cpu").bf16());
    assertEquals(RewriterConfig.Toggle.ON, c.config().getGraphOptions().getRewriteOptions().getAutoMixedPrecisionOnednnBfloat16());
    assertEquals(2, c.config().getIntraOpParallelismThreads());
    assertEquals("cpu, bf16", c.description());
    // the pass is grappler's: sampling must not switch grappler off, even with oneDNN on
    ConfigProto s = Device.Choice.samplingConfig(Device.CPU, c.config(), Map.of("TF_ENABLE_ONEDNN_OPTS", "1"));
    assertFalse(metaOptimizerOff(s));
    assertEquals(c.config(), s);
    // the evaluator's classifier is measured in fp32 whatever the generator runs in
    assertEquals(RewriterConfig.Toggle.DEFAULT, c.fp32().config().getGraphOptions().getRewriteOptions().getAutoMixedPrecisionOnednnBfloat16());
    assertEquals(2, c.fp32().config().getIntraOpParallelismThreads());
    assertEquals("cpu", c.fp32().description());
    assertFalse(c.fp32().bf16());
  }

  @Test
  void bf16IsRefusedWhereItWouldBeEmulatedOrIsNotBuilt() {
    DiffuseException noBf16 = assertThrows(DiffuseException.class,
        () -> new Device.Choice(Device.CPU, BASE, "cpu").withBf16(Set.of("avx2", "fma", "avx512f")));
    assertEquals("bf16", noBf16.field());
    assertTrue(noBf16.getMessage().contains("AVX512_BF16"), noBf16.getMessage());
    assertThrows(DiffuseException.class, () -> new Device.Choice(Device.GPU, BASE, "gpu:0").withBf16(ZEN4));
    assertTrue(new Device.Choice(Device.CPU, BASE, "cpu").withBf16(Set.of("amx_bf16")).bf16());
    assertTrue(new Device.Choice(Device.CPU, BASE, "cpu").withBf16(null).bf16(), "unknown flags are not held against it");
  }

  @Test
  void cpuFlagsAreReadFromTheMachine() {
    Set<String> flags = Device.cpuFlags();
    assumeTrue(flags != null, "no /proc/cpuinfo here");
    assertTrue(flags.contains("sse2"), "an x86-64 CPU lists sse2: " + flags);
  }

  /** One 3x3 convolution, 16 -> 16 channels on 8 images of 14x14, in a session with {@code config}. */
  private static float[] convolve(ConfigProto config) {
    Random rng = new Random(5);
    float[] x = new float[8 * 14 * 14 * 16];
    float[] w = new float[3 * 3 * 16 * 16];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (rng.nextGaussian() * 0.1);
    }
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var in = tf.placeholder(TFloat32.class);
      var y = tf.nn.conv2d(in, tf.constant(Shape.of(3, 3, 16, 16), DataBuffers.of(w)), java.util.List.of(1L, 1L, 1L, 1L), "SAME");
      var out = tf.math.mul(tf.nn.relu(y), tf.constant(1f));
      try (Session s = new Session(g, config);
          TFloat32 xt = TFloat32.tensorOf(Shape.of(8, 14, 14, 16), DataBuffers.of(x));
          var r = s.runner().feed(in, xt).fetch(out).run()) {
        TFloat32 o = (TFloat32) r.get(0);
        float[] v = new float[(int) o.shape().size()];
        o.copyTo(DataBuffers.of(v, false, false));
        return v;
      }
    }
  }

  @Test
  void aBf16SessionComputesInBf16AndStaysCloseToFp32() {
    Set<String> flags = Device.cpuFlags();
    assumeTrue(flags != null && (flags.contains("avx512_bf16") || flags.contains("amx_bf16")),
        "this CPU has no bf16 instructions: --bf16 is refused here");
    assumeTrue("1".equals(System.getenv(Device.ONEDNN_ENV)), "oneDNN is off (the pom and the CLI switch it on)");
    float[] fp32 = convolve(BASE);
    float[] bf16 = convolve(new Device.Choice(Device.CPU, BASE, "cpu").withBf16(flags).config());
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < fp32.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(fp32[i] - bf16[i]));
      maxAbs = Math.max(maxAbs, Math.abs(fp32[i]));
    }
    // bf16 keeps 8 bits of mantissa: a sum of 144 products rounds at about 2^-8 of its size
    assertTrue(maxDiff > 1e-5 * maxAbs, "the bf16 session computed exactly fp32's numbers: the pass did not run");
    assertTrue(maxDiff < 3e-2 * maxAbs, "bf16 is too far from fp32: " + maxDiff + " of " + maxAbs);
  }
}
