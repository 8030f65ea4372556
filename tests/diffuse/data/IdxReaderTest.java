package diffuse.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
  @TempDir Path dir;

  static byte[] idx(int type, int[] dims, byte[] data) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt((type << 8) | dims.length);
    for (int d : dims) {
      out.writeInt(d);
    }
    out.write(data);
    return bytes.toByteArray();
  }

  static byte[] images(int n, int h, int w) throws IOException {
    byte[] data = new byte[n * h * w];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 7);
    }
    return idx(0x08, new int[] {n, h, w}, data);
  }

  static byte[] labels(int... ys) throws IOException {
    byte[] data = new byte[ys.length];
    for (int i = 0; i < ys.length; i++) {
      data[i] = (byte) ys[i];
    }
    return idx(0x08, new int[] {ys.length}, data);
  }

  @Test
  void readsRawFile() throws IOException {
    Path f = dir.resolve("x-idx3-ubyte");
    Files.write(f, images(3, 2, 4));
    IdxReader.IdxArray a = IdxReader.read(f);
    assertArrayEquals(new int[] {3, 2, 4}, a.dims());
    assertEquals(24, a.data().length);
    assertEquals((byte) 7 * 5, a.data()[5]);
  }

  @Test
  void readsGzipFile() throws IOException {
    Path f = dir.resolve("x-idx3-ubyte.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(f))) {
      out.write(images(3, 2, 4));
    }
    IdxReader.IdxArray a = IdxReader.read(f);
    assertArrayEquals(new int[] {3, 2, 4}, a.dims());
    assertEquals((byte) (23 * 7), a.data()[23]);
  }

  @Test
  void truncatedFileIsAClearError() throws IOException {
    Path f = dir.resolve("t-idx3-ubyte");
    byte[] good = images(3, 2, 4);
    Files.write(f, Arrays.copyOf(good, good.length - 5));
    DataException e = assertThrows(DataException.class, () -> IdxReader.read(f));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    assertTrue(e.getMessage().contains("expected 24 data bytes, found 19"), e.getMessage());

    Files.write(f, Arrays.copyOf(good, 6));
    assertTrue(assertThrows(DataException.class, () -> IdxReader.read(f)).getMessage().contains("header"));
  }

  @Test
  void wrongMagicIsAClearError() throws IOException {
    Path f = dir.resolve("m-idx3-ubyte");
    Files.write(f, idx(0x0D, new int[] {2, 2}, new byte[16])); // float data: not supported
    DataException e = assertThrows(DataException.class, () -> IdxReader.read(f));
    assertTrue(e.getMessage().contains("magic number 0x00000D02"), e.getMessage());
    Files.write(f, "PNG not IDX".getBytes());
    assertThrows(DataException.class, () -> IdxReader.read(f));
  }

  @Test
  void imageAndLabelCountsMustAgree() throws IOException {
    Files.write(dir.resolve("train-images-idx3-ubyte"), images(3, 2, 2));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), labels(1, 0));
    DataException e = assertThrows(DataException.class,
        () -> Datasets.fromIdx("toy", dir, Datasets.Split.TRAIN, Datasets.DIGIT_LABELS));
    assertTrue(e.getMessage().contains("3 images but 2 labels"), e.getMessage());
  }

  @Test
  void datasetScalesPixelsToMinusOneOne() throws IOException {
    Files.write(dir.resolve("train-images-idx3-ubyte"),
        idx(0x08, new int[] {2, 1, 2}, new byte[] {0, (byte) 255, (byte) 128, 64}));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), labels(3, 9));
    Dataset d = Datasets.fromIdx("toy", dir, Datasets.Split.TRAIN, Datasets.DIGIT_LABELS);
    assertEquals(2, d.size());
    assertArrayEquals(new int[] {3, 9}, d.labels());
    float[] x = new float[4];
    d.fill(new int[] {1, 0}, x);
    assertArrayEquals(new float[] {128 / 127.5f - 1, 64 / 127.5f - 1, -1f, 1f}, x, 1e-6f);
  }

  @Test
  void labelsOutsideTheNamesAreRejected() throws IOException {
    Files.write(dir.resolve("train-images-idx3-ubyte"), images(1, 1, 1));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), labels(12));
    assertThrows(DataException.class,
        () -> Datasets.fromIdx("toy", dir, Datasets.Split.TRAIN, Datasets.DIGIT_LABELS));
  }

  @Test
  void missingFileNamesThePath() {
    DataException e = assertThrows(DataException.class,
        () -> Datasets.fromIdx("toy", dir, Datasets.Split.TEST, Datasets.DIGIT_LABELS));
    assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte"), e.getMessage());
  }

  @Test
  void datasetSpecParsing() {
    assertEquals(DatasetSpec.Kind.MNIST, DatasetSpec.parse("MNIST").kind());
    assertEquals(DatasetSpec.Kind.FASHION_MNIST, DatasetSpec.parse("fashion-mnist").kind());
    assertEquals(Path.of("/a/b"), DatasetSpec.parse("folder:/a/b").folder());
    assertThrows(DataException.class, () -> DatasetSpec.parse("cifar"));
  }
}
