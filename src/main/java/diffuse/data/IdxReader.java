package diffuse.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads the IDX files of MNIST and Fashion-MNIST (LeCun et al.): a big-endian header {@code 0x00
 * 0x00 type rank}, then one int32 per dimension, then the data. Only unsigned bytes (type 0x08) are
 * supported, which is what both data sets use. Files ending in {@code .gz} are decompressed.
 */
final class IdxReader {
  private IdxReader() {}

  /** The contents of one IDX file. */
  public record IdxArray(int[] dims, byte[] data) {
    /** Number of items along the first dimension. */
    public int count() {
      return dims[0];
    }
  }

  /** Reads an IDX file (raw or gzip). */
  public static IdxArray read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new DataException("data file not found: " + file);
    }
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      InputStream in = isGzip(file) ? new GZIPInputStream(raw, 1 << 16) : raw;
      return read(in, file.toString());
    } catch (DataException e) {
      throw e;
    } catch (IOException e) {
      throw new DataException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static boolean isGzip(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.read() == 0x1f && in.read() == 0x8b;
    }
  }

  /** Reads an IDX stream; {@code name} is used in error messages. */
  public static IdxArray read(InputStream stream, String name) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    int magic;
    try {
      magic = in.readInt();
    } catch (EOFException e) {
      throw new DataException(name + " is empty or shorter than an IDX header");
    }
    int zero = magic >>> 16;
    int type = (magic >>> 8) & 0xff;
    int rank = magic & 0xff;
    if (zero != 0 || type != 0x08 || rank < 1 || rank > 4) {
      throw new DataException(String.format(
          "%s is not an IDX file of unsigned bytes (magic number 0x%08X; expected 0x0000080N)",
          name, magic));
    }
    int[] dims = new int[rank];
    long total = 1;
    try {
      for (int i = 0; i < rank; i++) {
        dims[i] = in.readInt();
        if (dims[i] < 0) {
          throw new DataException(name + " has a negative dimension " + dims[i]);
        }
        total *= dims[i];
      }
    } catch (EOFException e) {
      throw new DataException(name + " is truncated inside its header");
    }
    if (total > Integer.MAX_VALUE - 8) {
      throw new DataException(name + " is too large: " + total + " bytes");
    }
    byte[] data = new byte[(int) total];
    int off = 0;
    while (off < data.length) {
      int n = in.read(data, off, data.length - off);
      if (n < 0) {
        throw new DataException(String.format(
            "%s is truncated: expected %d data bytes, found %d", name, data.length, off));
      }
      off += n;
    }
    return new IdxArray(dims, data);
  }
}
