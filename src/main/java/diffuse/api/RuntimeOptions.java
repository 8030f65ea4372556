package diffuse.api;

/**
 * Where and how the network runs: device, CPU threads and precision. No TensorFlow type appears
 * here; {@link DiffusionModel#open(java.nio.file.Path, RuntimeOptions)} turns it into a session.
 *
 * @param device {@link Device#AUTO} (a GPU when the GPU build finds one, else the CPU), CPU or GPU
 * @param threads TensorFlow's intra-op threads, 0 = one per core
 * @param precision {@link Precision#FP32}, or {@link Precision#BF16} mixed precision on CPUs with
 *     AVX512_BF16/AMX (images then differ from fp32's in their last bits)
 */
public record RuntimeOptions(Device device, int threads, Precision precision) {
  /** Where the network runs. */
  public enum Device { AUTO, CPU, GPU }

  /** The arithmetic of convolutions and the element-wise work between them. */
  public enum Precision { FP32, BF16 }

  public RuntimeOptions {
    if (device == null) {
      throw DiffuseException.badValue("device", "device is missing: AUTO, CPU or GPU");
    }
    if (threads < 0) {
      throw DiffuseException.badValue("threads", "threads must be >= 0 (0 = one per core), got " + threads);
    }
    if (precision == null) {
      throw DiffuseException.badValue("precision", "precision is missing: FP32 or BF16");
    }
  }

  /** Any device, one thread per core, fp32: what the CLI does without flags. */
  public static RuntimeOptions defaults() {
    return new RuntimeOptions(Device.AUTO, 0, Precision.FP32);
  }

  /** The CPU only, with {@code threads} threads (0 = one per core), fp32. */
  public static RuntimeOptions cpu(int threads) {
    return new RuntimeOptions(Device.CPU, threads, Precision.FP32);
  }
}
