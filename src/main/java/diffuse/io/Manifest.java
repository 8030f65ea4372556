package diffuse.io;

import diffuse.api.ModelException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The size and CRC-32C of every file of a saved version, recorded in its {@code model.json} so that
 * a truncated, overwritten or deleted file is found when the model is opened and reported by name,
 * before TensorFlow reads it.
 */
public final class Manifest {
  /** One file: its length and CRC-32C (hex). */
  public record FileSum(long bytes, String crc32c) {}

  private Manifest() {}

  /** Sums of every regular file under {@code root} except {@code skip} (relative paths, '/'-separated). */
  public static Map<String, FileSum> of(Path root, String skip) throws IOException {
    Map<String, FileSum> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
        String rel = relative(root, p);
        if (!rel.equals(skip)) {
          out.put(rel, sum(p));
        }
      }
    }
    return out;
  }

  /**
   * Checks the files of {@code root} against {@code files}.
   *
   * @param shownAs how {@code root} is named in the message
   * @throws ModelException naming the first file that is missing, has another length or another checksum
   */
  public static void verify(Path root, Map<String, FileSum> files, String shownAs) {
    for (Map.Entry<String, FileSum> e : files.entrySet()) {
      Path p = root.resolve(e.getKey());
      String name = shownAs + "/" + e.getKey();
      if (!Files.isRegularFile(p)) {
        throw new ModelException(name + " is missing");
      }
      try {
        long size = Files.size(p);
        if (size != e.getValue().bytes()) {
          throw new ModelException(name + " is damaged: " + size + " bytes, expected " + e.getValue().bytes());
        }
        if (!sum(p).crc32c().equals(e.getValue().crc32c())) {
          throw new ModelException(name + " is damaged: its checksum does not match the one recorded when it was saved");
        }
      } catch (IOException ex) {
        throw new ModelException("cannot read " + name + ": " + AtomicFiles.describe(ex), ex);
      }
    }
  }

  /** The entries whose names {@code keep} accepts. */
  public static Map<String, FileSum> select(Map<String, FileSum> files, java.util.function.Predicate<String> keep) {
    Map<String, FileSum> out = new TreeMap<>();
    files.forEach((k, v) -> {
      if (keep.test(k)) {
        out.put(k, v);
      }
    });
    return out;
  }

  /** Where a checkpoint keeps its weights: the SavedModel's variables (its graph is left out of the hash). */
  public static final String WEIGHTS = "saved_model/variables/";

  /**
   * A short name for a model's weights (the "model hash" of sidecars, PNG settings, {@code info} and
   * the server): the first 10 hex digits of the SHA-256 of one line {@code PATH SIZE CRC32C\n} per
   * weight file ({@link #WEIGHTS}, paths relative to the checkpoint, in sorted order), from the sums
   * that {@code model.json} records. {@link ModelStore#open} checks the files against those sums, so
   * the hash names the bytes that are loaded; it does not depend on the model directory's name,
   * its labels or its training state.
   *
   * @param files a checkpoint's sums (any entries outside {@link #WEIGHTS} are ignored)
   */
  public static String weightsHash(Map<String, FileSum> files) {
    java.security.MessageDigest sha;
    try {
      sha = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
    for (Map.Entry<String, FileSum> e : new TreeMap<>(files).entrySet()) {
      if (e.getKey().startsWith(WEIGHTS)) {
        String line = e.getKey() + " " + e.getValue().bytes() + " " + e.getValue().crc32c() + "\n";
        sha.update(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return java.util.HexFormat.of().formatHex(sha.digest()).substring(0, 10);
  }

  /** {@link #weightsHash} of a checkpoint directory whose model.json records no sums: from the files. */
  public static String weightsHash(Path checkpointDir) throws IOException {
    Path weights = checkpointDir.resolve(WEIGHTS);
    Map<String, FileSum> sums = new TreeMap<>();
    if (Files.isDirectory(weights)) {
      of(weights, null).forEach((k, v) -> sums.put(WEIGHTS + k, v));
    }
    return weightsHash(sums);
  }

  static FileSum sum(Path p) throws IOException {
    CRC32C crc = new CRC32C();
    byte[] buf = new byte[1 << 16];
    long n = 0;
    try (InputStream in = Files.newInputStream(p)) {
      int r;
      while ((r = in.read(buf)) > 0) {
        crc.update(buf, 0, r);
        n += r;
      }
    }
    return new FileSum(n, String.format("%08x", crc.getValue()));
  }

  private static String relative(Path root, Path p) {
    return root.relativize(p).toString().replace(java.io.File.separatorChar, '/');
  }
}
