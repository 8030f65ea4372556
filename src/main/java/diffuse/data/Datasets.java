package diffuse.data;

import diffuse.api.Listener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Loads the data sets named by a {@link DatasetSpec}. */
public final class Datasets {
  /** Label names of Fashion-MNIST (Xiao et al. 2017), index = label. */
  public static final List<String> FASHION_LABELS =
      List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
          "Bag", "Ankle boot");
  /** Label names of MNIST. */
  public static final List<String> DIGIT_LABELS =
      List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
  /** Where Debian's dataset-fashion-mnist package installs its files. */
  public static final Path DEBIAN_FASHION_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  private Datasets() {}

  /** Which part of a data set. */
  public enum Split {
    TRAIN("train"),
    TEST("t10k");

    final String idxPrefix;

    Split(String idxPrefix) {
      this.idxPrefix = idxPrefix;
    }
  }

  /**
   * Loads a data set.
   *
   * @param dataDir where MNIST is cached / Fashion-MNIST is looked for; null for the default
   * @param imageSize side length images of a folder data set are resized to
   */
  public static Dataset load(DatasetSpec spec, Split split, Path dataDir, int imageSize) {
    return load(spec, split, dataDir, imageSize, Listener.NONE);
  }

  /** {@link #load(DatasetSpec, Split, Path, int)}, telling {@code listener} when MNIST is fetched. */
  public static Dataset load(DatasetSpec spec, Split split, Path dataDir, int imageSize, Listener listener) {
    return switch (spec.kind()) {
      case MNIST -> {
        Path dir = MnistFetcher.ensure(dataDir == null ? MnistFetcher.defaultCacheDir() : dataDir, listener);
        yield fromIdx("mnist", dir, split, DIGIT_LABELS);
      }
      case FASHION_MNIST -> {
        Path dir = dataDir == null ? DEBIAN_FASHION_DIR : dataDir;
        if (!Files.exists(dir.resolve(split.idxPrefix + "-images-idx3-ubyte.gz"))
            && !Files.exists(dir.resolve(split.idxPrefix + "-images-idx3-ubyte"))) {
          throw new DataException(
              "Fashion-MNIST not found in " + dir + ". Install it with Debian's package: "
                  + "sudo apt-get install dataset-fashion-mnist (files go to " + DEBIAN_FASHION_DIR
                  + "), or pass --data-dir with the four *-idx?-ubyte[.gz] files.");
        }
        yield fromIdx("fashion-mnist", dir, split, FASHION_LABELS);
      }
      case FOLDER -> ImageFolder.load(spec.folder(), imageSize);
    };
  }

  /** Reads {@code <prefix>-images-idx3-ubyte[.gz]} and {@code <prefix>-labels-idx1-ubyte[.gz]}. */
  public static Dataset fromIdx(String name, Path dir, Split split, List<String> labelNames) {
    IdxReader.IdxArray images = IdxReader.read(find(dir, split.idxPrefix + "-images-idx3-ubyte"));
    IdxReader.IdxArray labels = IdxReader.read(find(dir, split.idxPrefix + "-labels-idx1-ubyte"));
    return fromArrays(name, images, labels, labelNames);
  }

  /** Checks that an image array and a label array belong together and makes a data set. */
  public static Dataset fromArrays(
      String name, IdxReader.IdxArray images, IdxReader.IdxArray labels, List<String> labelNames) {
    if (images.dims().length != 3) {
      throw new DataException(name + ": image file must have 3 dimensions, has " + images.dims().length);
    }
    if (labels.dims().length != 1) {
      throw new DataException(name + ": label file must have 1 dimension, has " + labels.dims().length);
    }
    if (images.count() != labels.count()) {
      throw new DataException(String.format(
          "%s: %d images but %d labels", name, images.count(), labels.count()));
    }
    int[] y = new int[labels.count()];
    for (int i = 0; i < y.length; i++) {
      y[i] = labels.data()[i] & 0xff;
    }
    return new Dataset(name, images.data(), y, images.dims()[1], images.dims()[2], 1, labelNames);
  }

  private static Path find(Path dir, String base) {
    Path raw = dir.resolve(base);
    if (Files.exists(raw)) {
      return raw;
    }
    Path gz = dir.resolve(base + ".gz");
    if (Files.exists(gz)) {
      return gz;
    }
    throw new DataException("missing data file " + raw + " (or " + gz.getFileName() + ")");
  }
}
