package diffuse.cli;

import diffuse.runtime.Device;
import picocli.CommandLine.Option;

/** Where TensorFlow runs; shared by every command that runs a network. */
final class DeviceOptions {
  @Option(names = "--device", defaultValue = "auto", paramLabel = "cpu|gpu|auto",
      description = "Device: cpu, gpu (needs the -Pgpu build and CUDA) or auto (default: ${DEFAULT-VALUE}).")
  Device device;

  @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
      description = "TensorFlow intra-op threads; 0 = one per core (default).")
  int threads;

  @Option(names = "--xla", description = {"Let XLA compile clusters of the graph (TensorFlow's auto-clustering,"
      + " global_jit_level ON_1 in the session options). On a GPU it is where XLA pays (docs/journal/2026-12-speed.md);"
      + " on a CPU TensorFlow clusters nothing unless TF_XLA_FLAGS=--tf_xla_cpu_global_jit is also set, and measured"
      + " there it gave no gain."})
  boolean xla;

  @Option(names = "--bf16", description = {"Compute in bfloat16 mixed precision on a CPU with bf16 instructions"
      + " (AVX512_BF16 or AMX): convolutions and the element-wise work between them in bf16, weights, optimizer and"
      + " loss in fp32 (grappler's oneDNN bf16 pass). Faster there (docs/journal/2026-12-speed.md); images"
      + " differ from fp32's in their last bits."})
  boolean bf16;

  Device.Choice resolve() {
    if (threads < 0) {
      throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
    }
    Device.Choice c;
    try {
      c = device.resolve(threads);
    } catch (Device.UnavailableException e) {
      throw new diffuse.api.DiffuseException(e.code(), "device",
          "--device " + device.name().toLowerCase(java.util.Locale.ROOT) + ": " + e.getMessage() + "; or use --device cpu", null);
    }
    if (bf16) {
      try {
        c = c.withBf16(Device.cpuFlags());
      } catch (diffuse.api.DiffuseException e) {
        throw diffuse.api.DiffuseException.badValue("bf16", "--bf16: " + e.getMessage() + "; leave --bf16 off");
      }
    }
    return xla ? c.withXla() : c;
  }
}
