package diffuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffusionModel;
import diffuse.api.GenerationRequest;
import diffuse.api.RuntimeOptions;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installable command as a user gets it (runs in {@code mvn verify}, after {@code package}):
 * the distribution zip unpacked into a fresh directory, {@code bin/diffuse} run from another working
 * directory finds its own jar, libraries and models, draws the pixels the library draws, keeps
 * TensorFlow's native log lines off standard error, and reads defaults from the environment.
 */
class DistributionIT {
  @Test
  void theZipRunsFromAnotherDirectory(@TempDir Path tmp) throws Exception {
    Path zip;
    try (Stream<Path> s = Files.list(Path.of("target"))) {
      zip = s.filter(p -> p.getFileName().toString().matches("diffuse-.*-dist\\.zip")).findFirst()
          .orElseThrow(() -> new AssertionError("no target/diffuse-*-dist.zip: run mvn verify (package builds it)"));
    }
    Path home = unzip(zip, tmp.resolve("install"));
    Path bin = home.resolve("bin/diffuse");
    assertTrue(bin.toFile().setExecutable(true));
    assertTrue(Files.isRegularFile(home.resolve("models/mnist/model.json")));
    assertTrue(Files.readString(home.resolve("completion/diffuse")).contains("generate"));
    Path work = Files.createDirectories(tmp.resolve("elsewhere"));
    Path cache = tmp.resolve("cache");
    Result r = run(work, Map.of("DIFFUSE_GENERATE_STEPS", "3", "XDG_CACHE_HOME", cache.toString()), bin.toString(),
        "generate", "--prompt", "digit 7",
        "-n", "2", "--seed", "42", "--out", "seven.png", "--out-dir", "each");
    assertEquals(0, r.code, r.err);
    assertFalse(r.err.contains("absl") || r.err.contains("I0000"), "native log lines filtered: " + r.err);
    String sidecar = Files.readString(work.resolve("seven.json"));
    assertTrue(sidecar.contains("\"steps\": 3"), "DIFFUSE_GENERATE_STEPS read: " + sidecar);
    // the first short command left a class-data sharing archive, with its size beside it, for the next
    List<Path> archives;
    try (Stream<Path> s = Files.list(cache.resolve("diffuse/cds"))) {
      archives = s.filter(p -> p.getFileName().toString().matches("bin-\\d+\\.jsa")).toList();
    }
    assertEquals(1, archives.size(), archives.toString());
    assertEquals(Long.toString(Files.size(archives.get(0))),
        Files.readString(Path.of(archives.get(0) + ".size")).strip());
    List<Path> each;
    try (Stream<Path> s = Files.list(work.resolve("each"))) {
      each = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
    }
    assertEquals(2, each.size(), each.toString());
    try (DiffusionModel m = DiffusionModel.open(Path.of("models/mnist"), RuntimeOptions.cpu(0))) {
      List<BufferedImage> want = m.generate(GenerationRequest.builder().prompt("digit 7").count(2).seed(42).steps(3)
          .build()).images();
      for (int i = 0; i < 2; i++) {
        assertArrayEquals(gray(want.get(i)), gray(javax.imageio.ImageIO.read(each.get(i).toFile())),
            "sample " + i + ": the installed command draws the library's pixels");
      }
    }
    Result v = run(work, Map.of(), bin.toString(), "-V");
    assertEquals(0, v.code, v.err);
    assertTrue(v.out.startsWith("diffuse "), v.out);
  }

  private static int[] gray(BufferedImage img) {
    return img.getRaster().getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
  }

  record Result(int code, String out, String err) {}

  static Result run(Path dir, Map<String, String> env, String... command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    pb.environment().putAll(env);
    Path out = Files.createTempFile(dir, "run", ".out"), err = Files.createTempFile(dir, "run", ".err");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    int code = pb.start().waitFor();
    Result r = new Result(code, Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  static Path unzip(Path zip, Path into) throws IOException {
    List<Path> tops = new ArrayList<>();
    try (InputStream in = Files.newInputStream(zip); ZipInputStream z = new ZipInputStream(in)) {
      for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
        Path p = into.resolve(e.getName()).normalize();
        if (!p.startsWith(into)) {
          throw new IOException("zip entry outside the directory: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(p);
        } else {
          Files.createDirectories(p.getParent());
          Files.copy(z, p);
        }
        tops.add(into.relativize(p).getName(0));
      }
    }
    return into.resolve(tops.get(0));
  }
}
