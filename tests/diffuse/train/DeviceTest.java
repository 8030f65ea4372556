package diffuse.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;

/** The session options sampling gets on each device. */
class DeviceTest {
  private static final ConfigProto BASE = ConfigProto.newBuilder().setIntraOpParallelismThreads(2).build();

  private static boolean metaOptimizerOff(ConfigProto c) {
    return c.getGraphOptions().getRewriteOptions().getDisableMetaOptimizer();
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
}
