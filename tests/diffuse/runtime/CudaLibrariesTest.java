package diffuse.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaLibrariesTest {
  @Test
  void namesEachLibraryThatNoDirectoryHolds(@TempDir Path a, @TempDir Path b) throws IOException {
    Files.createFile(a.resolve("libcuda.so.1"));
    Files.createFile(b.resolve("libcudart.so.12"));
    Files.createFile(b.resolve("libcudart.so.11.0")); // a CUDA 11 runtime does not count
    List<String> missing = CudaLibraries.missing(List.of(a, b)).stream().map(CudaLibraries.Library::fileName).toList();
    assertEquals(List.of("libcublas.so.12", "libcublasLt.so.12", "libcufft.so.11", "libcusolver.so.11",
        "libcusparse.so.12", "libcudnn.so.9"), missing);
    for (CudaLibraries.Library l : CudaLibraries.NEEDED) {
      Files.writeString(a.resolve(l.fileName()), "");
    }
    assertEquals(List.of(), CudaLibraries.missing(List.of(a)));
  }

  @Test
  void theCpuBuildTellsJavaCppToSkipTheGpuExtensionUnlessTheUserChoseOne() {
    String before = System.getProperty(CudaLibraries.EXTENSION_PROPERTY);
    try {
      System.clearProperty(CudaLibraries.EXTENSION_PROPERTY);
      CudaLibraries.skipCudaProbesOnCpuBuild();
      assertEquals("", System.getProperty(CudaLibraries.EXTENSION_PROPERTY), "the tests run on the CPU build");
      System.setProperty(CudaLibraries.EXTENSION_PROPERTY, "-gpu");
      CudaLibraries.skipCudaProbesOnCpuBuild();
      assertEquals("-gpu", System.getProperty(CudaLibraries.EXTENSION_PROPERTY));
    } finally {
      if (before == null) {
        System.clearProperty(CudaLibraries.EXTENSION_PROPERTY);
      } else {
        System.setProperty(CudaLibraries.EXTENSION_PROPERTY, before);
      }
    }
  }

  @Test
  void theCpuBuildSaysSo() {
    // the tests run on the CPU build (the default profile)
    assertTrue(CudaLibraries.diagnose().contains("CPU build of TensorFlow Java"), CudaLibraries.diagnose());
    Device.UnavailableException e = org.junit.jupiter.api.Assertions.assertThrows(Device.UnavailableException.class,
        () -> Device.GPU.resolve(1));
    assertTrue(e.getMessage().contains("mvn -Pgpu package"), e.getMessage());
  }
}
