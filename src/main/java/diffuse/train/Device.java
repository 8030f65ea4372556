package diffuse.train;

import java.util.Locale;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.DeviceSpec;

/**
 * Where TensorFlow runs. {@code GPU} needs the GPU build of TensorFlow Java (Maven profile {@code
 * gpu}) and the CUDA/cuDNN of its TensorFlow release on the host; {@code AUTO} uses a GPU when one
 * answers and the CPU otherwise.
 */
public enum Device {
  CPU,
  GPU,
  AUTO;

  /** What was chosen, with the session options that enforce it. */
  public record Choice(Device device, ConfigProto config, String description) {}

  /** Thrown when a GPU was asked for and none is usable. */
  public static final class UnavailableException extends RuntimeException {
    UnavailableException(String message) {
      super(message);
    }
  }

  /** Resolves this request into a concrete device, probing for a GPU when needed. */
  public Choice resolve(int threads) {
    int cores = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    if (this == CPU) {
      return cpu(cores, "cpu (" + cores + " threads)");
    }
    String problem = probeGpu();
    if (problem == null) {
      ConfigProto config = base(cores).setAllowSoftPlacement(true).build();
      return new Choice(GPU, config, "gpu:0");
    }
    if (this == GPU) {
      throw new UnavailableException("a GPU was asked for (--device gpu) but none is usable: " + problem
          + ". Build with `mvn -Pgpu package` and install the CUDA/cuDNN that TensorFlow Java's release"
          + " needs (see README), or use --device cpu. TF_CPP_MIN_LOG_LEVEL=0 shows TensorFlow's own CUDA messages.");
    }
    return cpu(cores, "cpu (" + cores + " threads; no usable GPU)");
  }

  private static Choice cpu(int cores, String description) {
    ConfigProto config = base(cores).putDeviceCount("GPU", 0).build();
    return new Choice(CPU, config, description);
  }

  private static ConfigProto.Builder base(int cores) {
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(cores)
        .setInterOpParallelismThreads(Math.min(2, cores));
  }

  /** Returns null if a tiny op runs on /device:GPU:0, else why not. */
  static String probeGpu() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g).withDevice(DeviceSpec.newBuilder().deviceType(DeviceSpec.DeviceType.GPU).deviceIndex(0).build());
      var sum = tf.math.add(tf.constant(1f), tf.constant(2f));
      ConfigProto strict = ConfigProto.newBuilder().setAllowSoftPlacement(false).build();
      try (Session s = new Session(g, strict); var r = s.runner().fetch(sum).run()) {
        return null;
      }
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      return m.lines().findFirst().orElse(m).trim().replaceAll("\\.+$", "");
    }
  }

  public static Device parse(String s) {
    return valueOf(s.trim().toUpperCase(Locale.ROOT));
  }
}
