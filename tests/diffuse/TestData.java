package diffuse;

import diffuse.data.Dataset;
import diffuse.model.UNetConfig;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.tensorflow.proto.ConfigProto;

/** Small models and data sets for tests. */
public final class TestData {
  private TestData() {}

  /** A small U-Net: widths 8/16, embedding 16, 4 groups. */
  public static UNetConfig tinyNet(int size, int channels, int classes) {
    return new UNetConfig(size, size, channels, classes, List.of(8, 16), 1, 16, 4);
  }

  /** One thread per op, so that results are bit-reproducible. */
  public static ConfigProto oneThread() {
    return ConfigProto.newBuilder().setIntraOpParallelismThreads(1).setInterOpParallelismThreads(1).build();
  }

  /**
   * n size×size grayscale images of two classes: "h" a bright horizontal bar, "v" a vertical bar, at
   * a random position on a dark background.
   */
  public static Dataset bars(int n, int size, long seed) {
    Random rng = new Random(seed);
    byte[] px = new byte[n * size * size];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 2;
      int pos = 1 + rng.nextInt(size - 2);
      for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
          boolean on = labels[i] == 0 ? y == pos : x == pos;
          px[i * size * size + y * size + x] = (byte) (on ? 255 : 0);
        }
      }
    }
    return new Dataset("bars", px, labels, size, size, 1, List.of("h", "v"));
  }

  /** Writes {@link #bars} as PNGs in one subfolder per class (a folder: data set). */
  public static Path writeBarsFolder(Path root, int n, int size) throws IOException {
    Dataset d = bars(n, size, 7);
    for (int i = 0; i < n; i++) {
      Path dir = root.resolve(d.labelNames().get(d.labels()[i]));
      Files.createDirectories(dir);
      BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
      for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
          img.getRaster().setSample(x, y, 0, d.pixels()[i * size * size + y * size + x] & 0xff);
        }
      }
      ImageIO.write(img, "png", dir.resolve(String.format("%03d.png", i)).toFile());
    }
    return root;
  }

  /** Copies the directory {@code from} to {@code to}, recursively. */
  public static void copyTree(Path from, Path to) throws IOException {
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (java.nio.file.Files.isDirectory(p)) {
          java.nio.file.Files.createDirectories(t);
        } else {
          java.nio.file.Files.copy(p, t);
        }
      }
    }
  }
}
