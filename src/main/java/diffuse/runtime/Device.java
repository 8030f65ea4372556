package diffuse.runtime;

import java.util.List;
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

  /** TensorFlow's switch for its oneDNN kernels and graph rewrites on CPU, read at start-up. */
  public static final String ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS";

  /**
   * What was chosen, with the session options that enforce it.
   *
   * @param towers the devices training replicates over ({@code cpu:N}, {@code gpu:N}); empty: one
   *     tower on the default device
   */
  public record Choice(Device device, ConfigProto config, String description, List<String> towers, String target) {
    public Choice(Device device, ConfigProto config, String description) {
      this(device, config, description, List.of(), null);
    }

    /**
     * The same device with XLA auto-clustering on (global_jit_level ON_1): TensorFlow's
     * mark-for-compilation pass hands clusters of ops to XLA, which fuses their element-wise work.
     * It clusters GPU ops; CPU ops only where TF_XLA_FLAGS has --tf_xla_cpu_global_jit.
     */
    public Choice withXla() {
      ConfigProto c = config.toBuilder().setGraphOptions(config.getGraphOptions().toBuilder()
          .setOptimizerOptions(config.getGraphOptions().getOptimizerOptions().toBuilder()
              .setGlobalJitLevel(org.tensorflow.proto.OptimizerOptions.GlobalJitLevel.ON_1))).build();
      return new Choice(device, c, description + ", XLA", towers, target);
    }

    /**
     * The same device computing in bfloat16 where it is safe, with fp32 master weights: grappler's
     * oneDNN auto-mixed-precision pass (RewriterConfig {@code auto_mixed_precision_onednn_bfloat16})
     * rewrites convolutions, their gradients, matmuls and the element-wise work between them to bf16
     * with casts at the edges, and keeps variables, Adam, the EMA and reductions such as the loss's
     * mean in fp32 (bf16 has fp32's exponent range, so no loss scaling is needed). CPU only, and only
     * where the CPU has bf16 instructions (AVX512_BF16 or AMX): elsewhere oneDNN would emulate bf16,
     * slower than fp32. Measured in docs/journal/2026-12-speed.md ("Against the PyTorch twin").
     *
     * @param cpuFlags the CPU's feature flags (as {@code /proc/cpuinfo} lists them); null: unknown,
     *     not checked
     */
    public Choice withBf16(java.util.Set<String> cpuFlags) {
      if (device != CPU) {
        throw diffuse.api.DiffuseException.badValue("bf16", "bf16 is built for CPUs only (grappler's oneDNN"
            + " bf16 pass) and this run is on " + description);
      }
      if (cpuFlags != null && !cpuFlags.contains("avx512_bf16") && !cpuFlags.contains("amx_bf16")) {
        throw diffuse.api.DiffuseException.badValue("bf16", "bf16 needs a CPU with bf16 instructions"
            + " (AVX512_BF16 or AMX); this one has neither, and emulated bf16 is slower than fp32");
      }
      ConfigProto c = config.toBuilder().setGraphOptions(config.getGraphOptions().toBuilder()
          .setRewriteOptions(config.getGraphOptions().getRewriteOptions().toBuilder()
              .setAutoMixedPrecisionOnednnBfloat16(org.tensorflow.proto.RewriterConfig.Toggle.ON))).build();
      return new Choice(device, c, description + ", bf16", towers, target);
    }

    /** The same device in plain fp32: this choice without {@link #withBf16}'s pass. */
    public Choice fp32() {
      if (!bf16()) {
        return this;
      }
      ConfigProto c = config.toBuilder().setGraphOptions(config.getGraphOptions().toBuilder()
          .setRewriteOptions(config.getGraphOptions().getRewriteOptions().toBuilder().clearAutoMixedPrecisionOnednnBfloat16()))
          .build();
      return new Choice(device, c, description.replace(", bf16", ""), towers, target);
    }

    /** Whether the session computes in bf16 mixed precision ({@link #withBf16}). */
    public boolean bf16() {
      return bf16(config);
    }

    private static boolean bf16(ConfigProto config) {
      return config.getGraphOptions().getRewriteOptions().getAutoMixedPrecisionOnednnBfloat16()
          == org.tensorflow.proto.RewriterConfig.Toggle.ON;
    }

    /**
     * Whether sampling should run a large batch as two concurrent halves
     * ({@code SavedModelNetwork.HALVES_FROM}): on a CPU with at least two intra-op threads.
     */
    public boolean concurrentHalves() {
      return device == CPU && config.getIntraOpParallelismThreads() >= 2;
    }

    /**
     * The session options for sampling. On a CPU with oneDNN on ({@code TF_ENABLE_ONEDNN_OPTS=1},
     * as the CLI runs), grappler's meta-optimizer is switched off: oneDNN's own graph pass still
     * fuses convolution and bias, and measured over 60 guided batches of 32 the steady call is no
     * slower (78–97 ms against 82–85 ms on the README's slower machine), while the first call, which
     * every {@code generate} pays, drops from 380–440 ms to 170–260 ms. Without oneDNN grappler's
     * remapper does the fusing, and on a GPU its layout optimizer matters, so both keep it. In bf16
     * ({@link #withBf16}) grappler stays on: its mixed-precision pass is what makes the graph bf16.
     */
    public ConfigProto samplingConfig() {
      return samplingConfig(device, config, System.getenv());
    }

    static ConfigProto samplingConfig(Device device, ConfigProto config, java.util.Map<String, String> env) {
      String onednn = env.getOrDefault(ONEDNN_ENV, "");
      if (device != CPU || bf16(config) || !(onednn.equals("1") || onednn.equalsIgnoreCase("true"))) {
        return config;
      }
      return config.toBuilder().setGraphOptions(config.getGraphOptions().toBuilder()
          .setRewriteOptions(config.getGraphOptions().getRewriteOptions().toBuilder().setDisableMetaOptimizer(true)))
          .build();
    }

    /**
     * Training across the machines of a cluster, one tower per task ({@code worker:N}), through this
     * process's server at {@code chief} (task 0); see {@code ClusterSession}.
     */
    public Choice onCluster(List<String> hosts) {
      return new Choice(device, config, "cluster of " + hosts.size() + " tasks " + String.join(",", hosts) + " ("
          + hosts.size() + " replicas)", ClusterSession.towers(hosts.size()), hosts.get(0));
    }

    /**
     * Training replicated over {@code devices}: {@code cpu:0,cpu:1,…} are virtual CPU devices of this
     * process (TensorFlow's {@code device_count}), {@code gpu:N} must answer; {@code all} is every GPU
     * that answers, or {@code cpu:0} without one. One device is the ordinary single-tower run.
     */
    public Choice withTowers(List<String> devices) {
      List<String> list = devices.size() == 1 && devices.get(0).equalsIgnoreCase("all") ? allGpusOrCpu()
          : devices.stream().map(d -> d.trim().toLowerCase(Locale.ROOT)).toList();
      if (list.stream().distinct().count() != list.size()) {
        throw diffuse.api.DiffuseException.badValue("devices", "devices names a device twice: " + String.join(",", list));
      }
      int cpus = 0;
      for (String d : list) {
        if (!d.matches("(cpu|gpu):\\d+")) {
          throw diffuse.api.DiffuseException.badValue("devices", "devices takes cpu:N or gpu:N (comma-separated) or all, got '" + d + "'");
        }
        if (d.startsWith("cpu:")) {
          cpus = Math.max(cpus, Integer.parseInt(d.substring(4)) + 1);
        } else {
          if (device != GPU) {
            throw new UnavailableException("--devices " + d + " needs a usable GPU; this run is on " + description);
          }
          String problem = probeGpu(Integer.parseInt(d.substring(4)));
          if (problem != null) {
            throw new UnavailableException(d + " is not usable: " + problem);
          }
        }
      }
      if (list.equals(List.of("cpu:0")) || list.equals(List.of("gpu:0"))) {
        return this; // the default device: the single-tower graph, nothing placed
      }
      ConfigProto c = cpus > 0 ? config.toBuilder().putDeviceCount("CPU", cpus).build() : config;
      return new Choice(device, c, String.join(",", list) + " (" + (list.size() == 1 ? "1 device" : list.size() + " replicas") + "; " + description + ")", list,
          null);
    }
  }

  /** Every GPU that answers, as gpu:N, or [cpu:0] when none does. */
  static List<String> allGpusOrCpu() {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < 64 && probeGpu(i) == null; i++) {
      out.add("gpu:" + i);
    }
    return out.isEmpty() ? List.of("cpu:0") : out;
  }

  /**
   * This CPU's feature flags as {@code /proc/cpuinfo} lists them (avx512f, avx512_bf16, amx_bf16, …),
   * or null where that file cannot be read (not Linux).
   */
  public static java.util.Set<String> cpuFlags() {
    try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
      return lines.filter(l -> l.startsWith("flags")).findFirst()
          .map(l -> (java.util.Set<String>) new java.util.HashSet<>(java.util.Arrays.asList(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))))
          .orElse(null);
    } catch (java.io.IOException | RuntimeException e) {
      return null;
    }
  }

  /** Thrown when a GPU was asked for and none is usable. */
  public static final class UnavailableException extends diffuse.api.DiffuseException {
    UnavailableException(String message) {
      super(Code.UNAVAILABLE, message);
    }
  }

  /** Resolves this request into a concrete device, probing for a GPU when needed. */
  public Choice resolve(int threads) {
    int cores = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    if (this == CPU) {
      return cpu(cores, "cpu (" + cores + " threads)");
    }
    // the CPU build has no GPU kernels: no probe (a graph, a session and a failed placement cost a
    // short command 0.15–0.2 s the first time; measured on the README's machine)
    String problem = CudaLibraries.gpuBuild() ? probeGpu() : "the CPU build of TensorFlow Java";
    if (problem == null) {
      ConfigProto config = base(cores).setAllowSoftPlacement(true).build();
      return new Choice(GPU, config, "gpu:0");
    }
    if (this == GPU) {
      String why = CudaLibraries.diagnose();
      throw new UnavailableException("no GPU is usable: "
          + (why != null ? why : problem + " (TF_CPP_MIN_LOG_LEVEL=0 shows TensorFlow's own CUDA messages)"));
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
    return probeGpu(0);
  }

  /** Returns null if a tiny op runs on /device:GPU:{@code index}, else why not. */
  static String probeGpu(int index) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g).withDevice(DeviceSpec.newBuilder().deviceType(DeviceSpec.DeviceType.GPU).deviceIndex(index).build());
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
