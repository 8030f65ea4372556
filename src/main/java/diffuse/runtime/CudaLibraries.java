package diffuse.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Why the GPU build of TensorFlow cannot use a GPU, in terms a user can act on. TensorFlow Java 1.1
 * is TensorFlow 2.18, built for CUDA 12.5 and cuDNN 9.3; it opens the CUDA libraries by their file
 * names, so a library that is installed but not on the loader's path (LD_LIBRARY_PATH or the
 * ldconfig cache) is as missing as one that is not installed. This names each one that is not found.
 */
public final class CudaLibraries {
  /** A library TensorFlow 2.18's GPU build opens, and what provides it. */
  public record Library(String fileName, String providedBy) {}

  /** What TensorFlow 2.18 (TensorFlow Java 1.1) opens to run on a GPU. */
  public static final List<Library> NEEDED = List.of(
      new Library("libcuda.so.1", "the NVIDIA driver"),
      new Library("libcudart.so.12", "the CUDA 12 runtime; TensorFlow 2.18 was built with 12.5"),
      new Library("libcublas.so.12", "cuBLAS of CUDA 12"),
      new Library("libcublasLt.so.12", "cuBLASLt of CUDA 12"),
      new Library("libcufft.so.11", "cuFFT of CUDA 12"),
      new Library("libcusolver.so.11", "cuSOLVER of CUDA 12"),
      new Library("libcusparse.so.12", "cuSPARSE of CUDA 12"),
      new Library("libcudnn.so.9", "cuDNN 9; built with 9.3"));

  private CudaLibraries() {}

  /** True when the TensorFlow native on the class path is the CUDA build ({@code mvn -Pgpu}). */
  public static boolean gpuBuild() {
    // the CUDA native jar holds its libraries under this directory; the CPU one under .../linux-x86_64/
    return CudaLibraries.class.getClassLoader()
        .getResource("org/tensorflow/internal/c_api/linux-x86_64-gpu/LICENSE") != null;
  }

  /** JavaCPP's system property for the platform extension of the native libraries it loads. */
  static final String EXTENSION_PROPERTY = "org.bytedeco.javacpp.platform.extension";

  /**
   * On the CPU build, tells JavaCPP that the natives have no platform extension, so that loading
   * TensorFlow does not first look for the 16 CUDA libraries of the {@code -gpu} extension, which
   * the CPU build can never use: with the extension unset JavaCPP tries every extension a preset
   * declares, and each failed look-up searches the class path and the library path. Measured on
   * the README's machine (2 cores, client compiler): TensorFlow's load 0.36–0.53 s → 0.31–0.33 s.
   * Does nothing on the GPU build, when the user set the property, or once TensorFlow is loaded
   * (JavaCPP reads it on the first load). Call it before the first TensorFlow class is touched.
   */
  public static void skipCudaProbesOnCpuBuild() {
    if (System.getProperty(EXTENSION_PROPERTY) == null && !gpuBuild()) {
      System.setProperty(EXTENSION_PROPERTY, "");
    }
  }

  /** The libraries of {@link #NEEDED} that none of {@code dirs} holds. */
  public static List<Library> missing(List<Path> dirs) {
    List<Library> out = new ArrayList<>();
    for (Library lib : NEEDED) {
      if (dirs.stream().noneMatch(d -> Files.exists(d.resolve(lib.fileName())))) {
        out.add(lib);
      }
    }
    return out;
  }

  /** Where the dynamic loader looks: LD_LIBRARY_PATH, the directories of the ldconfig cache, the usual places. */
  public static List<Path> loaderPath() {
    Set<Path> dirs = new LinkedHashSet<>();
    String ld = System.getenv("LD_LIBRARY_PATH");
    if (ld != null) {
      for (String d : ld.split(":")) {
        if (!d.isBlank()) {
          dirs.add(Path.of(d));
        }
      }
    }
    try {
      Process p = new ProcessBuilder("ldconfig", "-p").redirectErrorStream(true).start();
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          int arrow = line.indexOf("=> ");
          if (arrow > 0) {
            Path parent = Path.of(line.substring(arrow + 3).trim()).getParent();
            if (parent != null) {
              dirs.add(parent);
            }
          }
        }
      }
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException | RuntimeException e) {
      // no ldconfig: the other places still count
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (String d : new String[] {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/cuda/lib64"}) {
      dirs.add(Path.of(d));
    }
    return new ArrayList<>(dirs);
  }

  /** What stands between this process and a GPU, or null if nothing that this class can see. */
  public static String diagnose() {
    if (!gpuBuild()) {
      return "this is the CPU build of TensorFlow Java; build the GPU one with `mvn -Pgpu package`";
    }
    List<Library> missing = missing(loaderPath());
    if (missing.isEmpty()) {
      return null;
    }
    List<String> names = missing.stream().map(l -> l.fileName() + " (" + l.providedBy() + ")").toList();
    return "TensorFlow 2.18's GPU build cannot find " + String.join(", ", names)
        + " on LD_LIBRARY_PATH or in the ldconfig cache; install them or add their directory to LD_LIBRARY_PATH";
  }
}
