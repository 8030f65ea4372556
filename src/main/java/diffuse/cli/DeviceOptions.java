package diffuse.cli;

import diffuse.train.Device;
import picocli.CommandLine.Option;

/** Where TensorFlow runs; shared by every command that runs a network. */
public final class DeviceOptions {
  @Option(names = "--device", defaultValue = "auto", paramLabel = "cpu|gpu|auto",
      description = "Device: cpu, gpu (needs the -Pgpu build and CUDA) or auto (default: ${DEFAULT-VALUE}).")
  Device device;

  @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
      description = "TensorFlow intra-op threads; 0 = one per core (default).")
  int threads;

  Device.Choice resolve() {
    if (threads < 0) {
      throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
    }
    return device.resolve(threads);
  }
}
