package diffuse.train;

import diffuse.runtime.ClusterSession;
import diffuse.model.TrainSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.data.Dataset;
import diffuse.model.UNet;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;

/** Data-parallel training over virtual CPU devices against the single-device run. */
class ReplicaTest {
  static final Dataset DATA = TestData.bars(512, 8, 4);
  static final NoiseSchedule SCHEDULE = NoiseSchedule.of(ScheduleKind.LINEAR, 50);
  static final TrainSettings SETTINGS = TrainSettings.builder().batchSize(128).learningRate(2e-3).warmupSteps(2)
      .emaDecay(0.9).seed(11).build();
  static final int STEPS = 6;
  /**
   * Largest |difference| allowed between weights after {@link #STEPS} steps: the towers' gradients
   * are summed in another order than one tower's, so float rounding differs (about 1e-7 relative per
   * step), and Adam's division by √v̂ can magnify that for weights whose gradients are tiny.
   */
  static final float TOLERANCE = 5e-6f;

  static ConfigProto cpus(int n) {
    return TestData.oneThread().toBuilder().putDeviceCount("CPU", n).build();
  }

  static Map<String, float[]> train(List<String> towers, int from, int to, String restore, String saveAt) {
    try (TrainingGraph g = TrainingGraph.builder(new UNet(TestData.tinyNet(8, 1, 2)))
        .config(cpus(Math.max(1, towers.size()))).towers(towers).build()) {
      if (restore == null) {
        g.initialize(SETTINGS.seed());
      } else {
        g.restoreState(restore);
      }
      Trainer t = new Trainer(g, SCHEDULE, DATA, SETTINGS, 2);
      for (int s = from; s <= to; s++) {
        t.step(s);
      }
      if (saveAt != null) {
        g.saveState(saveAt);
      }
      Map<String, float[]> out = new java.util.LinkedHashMap<>(g.weights());
      g.emaWeights().forEach((k, v) -> out.put("ema." + k, v));
      g.adamFirstMoments().forEach((k, v) -> out.put("adam_m." + k, v));
      return out;
    }
  }

  static float maxDiff(Map<String, float[]> a, Map<String, float[]> b) {
    assertEquals(a.keySet(), b.keySet());
    float max = 0;
    for (String k : a.keySet()) {
      float[] x = a.get(k), y = b.get(k);
      for (int i = 0; i < x.length; i++) {
        max = Math.max(max, Math.abs(x[i] - y[i]));
      }
    }
    return max;
  }

  @Test
  void shardsCoverTheGlobalBatchExactlyOnce() {
    for (int replicas : new int[] {1, 2, 4, 8}) {
      List<Integer> rows = new ArrayList<>();
      for (int r = 0; r < replicas; r++) {
        int[] s = TrainingGraph.shard(128, replicas, r);
        assertEquals(128 / replicas, s[1] - s[0]);
        for (int i = s[0]; i < s[1]; i++) {
          rows.add(i);
        }
      }
      assertEquals(java.util.stream.IntStream.range(0, 128).boxed().toList(), rows, replicas + " replicas");
    }
    assertThrows(IllegalArgumentException.class, () -> TrainingGraph.shard(128, 3, 0));
  }

  @Test
  void twoReplicasOfHalfTheBatchReachTheWeightsOfOneDevice() {
    Map<String, float[]> one = train(List.of(), 1, STEPS, null, null);
    Map<String, float[]> two = train(List.of("cpu:0", "cpu:1"), 1, STEPS, null, null);
    float d = maxDiff(one, two);
    System.out.printf("replicas: after %d steps, max |Δ| of weights, EMA and Adam moments: 2 towers %.3g, 4 towers %.3g%n",
        STEPS, d, maxDiff(one, train(List.of("cpu:0", "cpu:1", "cpu:2", "cpu:3"), 1, STEPS, null, null)));
    assertTrue(d > 0, "two towers gave identical bits: are they computing anything apart?");
    assertTrue(d <= TOLERANCE, "max |Δ| " + d);
    Map<String, float[]> four = train(List.of("cpu:0", "cpu:1", "cpu:2", "cpu:3"), 1, STEPS, null, null);
    assertTrue(maxDiff(one, four) <= TOLERANCE, "4 replicas: max |Δ| " + maxDiff(one, four));
  }

  @Test
  void aCheckpointOfTwoDevicesResumesOnOneAndBack(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    String two = dir.resolve("two/state").toString();
    String one = dir.resolve("one/state").toString();
    train(List.of("cpu:0", "cpu:1"), 1, 3, null, two);
    train(List.of(), 1, 3, null, one);
    // from the 2-device checkpoint, one device continues exactly as one device does from it
    Map<String, float[]> a = train(List.of(), 4, STEPS, two, null);
    Map<String, float[]> b = train(List.of(), 4, STEPS, two, null);
    assertEquals(0f, maxDiff(a, b));
    // and both ways agree with the run that never changed devices
    Map<String, float[]> straight = train(List.of(), 1, STEPS, null, null);
    assertTrue(maxDiff(a, straight) <= TOLERANCE, "2 then 1 device: max |Δ| " + maxDiff(a, straight));
    Map<String, float[]> back = train(List.of("cpu:0", "cpu:1"), 4, STEPS, one, null);
    assertTrue(maxDiff(back, straight) <= TOLERANCE, "1 then 2 devices: max |Δ| " + maxDiff(back, straight));
  }

  static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void twoLocalServersOfTheDistributedRuntimeTrainAsOneDevice() throws Exception {
    List<String> hosts = List.of("127.0.0.1:" + freePort(), "127.0.0.1:" + freePort());
    org.tensorflow.Server s0 = ClusterSession.startServer(hosts, 0);
    org.tensorflow.Server s1 = ClusterSession.startServer(hosts, 1);
    try {
      Map<String, float[]> cluster;
      try (TrainingGraph g = TrainingGraph.builder(new UNet(TestData.tinyNet(8, 1, 2)))
          .config(TestData.oneThread()).towers(ClusterSession.towers(2)).sessionTarget(hosts.get(0)).build()) {
        g.initialize(SETTINGS.seed());
        Trainer t = new Trainer(g, SCHEDULE, DATA, SETTINGS, 2);
        for (int s = 1; s <= STEPS; s++) {
          t.step(s);
        }
        cluster = new java.util.LinkedHashMap<>(g.weights());
        g.emaWeights().forEach((k, v) -> cluster.put("ema." + k, v));
        g.adamFirstMoments().forEach((k, v) -> cluster.put("adam_m." + k, v));
      }
      float d = maxDiff(train(List.of(), 1, STEPS, null, null), cluster);
      System.out.printf("cluster: 2 tasks over grpc on 127.0.0.1, after %d steps max |Δ| %.3g%n", STEPS, d);
      assertTrue(d <= TOLERANCE, "max |Δ| " + d);
    } finally {
      // TensorFlow's gRPC server has no clean shutdown ("Clean shutdown is not currently implemented"):
      // the two servers live until this JVM exits
      assertTrue(s0 != null && s1 != null);
    }
  }

  @Test
  void gpuTowersSumTheirGradientsWithNcclAndOthersWithAnAddN() {
    UNet net = new UNet(TestData.tinyNet(8, 1, 2));
    // building needs no GPU (running does): the graph is checked, not run
    try (TrainingGraph g = TrainingGraph.builder(net)
        .config(TestData.oneThread()).towers(List.of("gpu:0", "gpu:1")).build()) {
      assertTrue(g.opTypes().contains("NcclReduce"), "two GPUs: NCCL");
    }
    try (TrainingGraph g = TrainingGraph.builder(net)
        .config(TestData.oneThread()).towers(List.of("gpu:0", "gpu:1")).reduce(GradientReducer.Kind.SUM).build()) {
      assertTrue(!g.opTypes().contains("NcclReduce") && g.opTypes().contains("AddN"), "the plain sum when asked");
    }
    try (TrainingGraph g = TrainingGraph.builder(net)
        .config(cpus(2)).towers(List.of("cpu:0", "cpu:1")).build()) {
      assertTrue(!g.opTypes().contains("NcclReduce"), "CPUs: the plain sum");
    }
    assertThrows(IllegalArgumentException.class, () -> TrainingGraph.builder(net)
        .config(cpus(2)).towers(List.of("cpu:0", "cpu:1")).reduce(GradientReducer.Kind.NCCL).build());
  }

  @Test
  void theReducedGradientIsTheGradientOfTheGlobalBatch() {
    // Adam hardly notices a gradient that is twice too large; the gradient itself must match
    UNet net = new UNet(TestData.tinyNet(8, 1, 2));
    List<float[]> one;
    List<float[]> two;
    Trainer.Batch b;
    try (TrainingGraph g = TrainingGraph.builder(net).config(cpus(1)).build()) {
      g.initialize(3);
      b = new Trainer(g, SCHEDULE, DATA, SETTINGS, 2).batch(1);
      one = g.gradients(b.xt(), b.t(), b.labels(), b.noise());
    }
    try (TrainingGraph g = TrainingGraph.builder(net)
        .config(cpus(2)).towers(List.of("cpu:0", "cpu:1")).build()) {
      g.initialize(3);
      two = g.gradients(b.xt(), b.t(), b.labels(), b.noise());
    }
    assertEquals(one.size(), two.size());
    for (int i = 0; i < one.size(); i++) {
      for (int j = 0; j < one.get(i).length; j++) {
        float a = one.get(i)[j], c = two.get(i)[j];
        assertTrue(Math.abs(a - c) <= 1e-6f + 1e-4f * Math.abs(a), "gradient " + i + "[" + j + "]: " + a + " vs " + c);
      }
    }
  }
}
