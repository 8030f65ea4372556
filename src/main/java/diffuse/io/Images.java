package diffuse.io;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** Converting samples to pictures, grids with labelled rows, and PNG files written atomically. */
public final class Images {
  private Images() {}

  /** Default pixel magnification of a grid (the CLI's --scale). */
  public static final int DEFAULT_SCALE = 3;

  /** Sample {@code index} of a [n·H·W·C] batch in [−1, 1] as an image (values outside are clipped). */
  public static BufferedImage toImage(float[] batch, int index, int h, int w, int c) {
    BufferedImage img = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
    int off = index * h * w * c;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int p = off + (y * w + x) * c;
        if (c == 1) {
          int v = toByte(batch[p]);
          img.getRaster().setSample(x, y, 0, v);
        } else {
          img.setRGB(x, y, (toByte(batch[p]) << 16) | (toByte(batch[p + 1]) << 8) | toByte(batch[p + 2]));
        }
      }
    }
    return img;
  }

  static int toByte(float v) {
    return (int) Math.round(Math.max(0.0, Math.min(255.0, (v + 1.0) * 127.5)));
  }

  /** One labelled row of a grid. */
  public record Row(String label, List<BufferedImage> images) {}

  /**
   * Draws rows of images with their label at the left, wrapping a row after {@code columns}
   * images, each image magnified {@code scale} times without smoothing; an optional title on top.
   */
  public static BufferedImage grid(String title, List<Row> rows, int columns, int scale) {
    int cellW = 0, cellH = 0;
    for (Row r : rows) {
      for (BufferedImage i : r.images()) {
        cellW = Math.max(cellW, i.getWidth() * scale);
        cellH = Math.max(cellH, i.getHeight() * scale);
      }
    }
    Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
    Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D pg = probe.createGraphics();
    FontMetrics fm = pg.getFontMetrics(font);
    int labelW = 0;
    for (Row r : rows) {
      labelW = Math.max(labelW, fm.stringWidth(r.label()));
    }
    pg.dispose();
    int gap = 2, pad = 8;
    labelW += 2 * pad;
    int maxCols = 1;
    int lines = 0;
    for (Row r : rows) {
      int n = Math.max(1, r.images().size());
      maxCols = Math.max(maxCols, Math.min(columns, n));
      lines += (n + columns - 1) / columns;
    }
    int titleH = title == null ? 0 : 26;
    int width = labelW + maxCols * (cellW + gap) + pad;
    if (title != null) { // the whole title, even over a narrow grid
      Graphics2D tg = probe.createGraphics();
      width = Math.max(width, tg.getFontMetrics(titleFont).stringWidth(title) + 2 * pad);
      tg.dispose();
    }
    int height = titleH + pad + lines * (cellH + gap) + pad;
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setColor(Color.BLACK);
    if (title != null) {
      g.setFont(titleFont);
      g.drawString(title, pad, 18);
    }
    g.setFont(font);
    int y = titleH + pad;
    for (Row r : rows) {
      int textY = y + cellH / 2 + fm.getAscent() / 2 - 2;
      g.setColor(Color.BLACK);
      g.drawString(r.label(), pad, textY);
      for (int i = 0; i < r.images().size(); i++) {
        int col = i % columns;
        if (i > 0 && col == 0) {
          y += cellH + gap;
        }
        BufferedImage img = r.images().get(i);
        g.drawImage(img, labelW + col * (cellW + gap), y, img.getWidth() * scale, img.getHeight() * scale, null);
      }
      y += cellH + gap;
    }
    g.dispose();
    return out;
  }

  /**
   * Renders and encodes a tiny grid in memory, so that the first real one does not pay for loading
   * fonts, Java 2D and the PNG writer (60–80 ms of a short {@code generate} run, measured on the
   * README's machine); for a thread that would otherwise wait, such as one overlapping TensorFlow's load.
   */
  public static void warmUp() {
    try {
      BufferedImage cell = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
      BufferedImage g = grid("warm-up", List.of(new Row("7", List.of(cell))), 1, 1);
      pngWithText(g, java.util.Map.of("k", "v"));
    } catch (IOException | RuntimeException | Error e) {
      // nothing to warm: the real grid reports its own failure
    }
  }

  /** Writes a PNG through a temporary file and an atomic rename. */
  public static void writePng(BufferedImage img, Path file) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    if (!ImageIO.write(img, "png", bytes)) {
      throw new IOException("no PNG writer available");
    }
    AtomicFiles.write(file, bytes.toByteArray());
  }

  /**
   * A PNG with text chunks (tEXt, Latin-1; iTXt for anything else), the way generator tools record
   * their settings in the picture itself ("parameters", and here the sidecar JSON under "diffuse").
   */
  public static byte[] pngWithText(BufferedImage img, java.util.Map<String, String> text) throws IOException {
    javax.imageio.ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
    try {
      javax.imageio.ImageWriteParam param = writer.getDefaultWriteParam();
      javax.imageio.ImageTypeSpecifier type = javax.imageio.ImageTypeSpecifier.createFromRenderedImage(img);
      javax.imageio.metadata.IIOMetadata meta = writer.getDefaultImageMetadata(type, param);
      String format = "javax_imageio_png_1.0";
      javax.imageio.metadata.IIOMetadataNode root = new javax.imageio.metadata.IIOMetadataNode(format);
      // tEXt where the text is Latin-1 (what every reader of generator settings understands), iTXt
      // (UTF-8) where it is not; a chunk kind with no entries is left out
      javax.imageio.metadata.IIOMetadataNode textChunks = new javax.imageio.metadata.IIOMetadataNode("tEXt");
      javax.imageio.metadata.IIOMetadataNode itxt = new javax.imageio.metadata.IIOMetadataNode("iTXt");
      java.nio.charset.CharsetEncoder latin1 = java.nio.charset.StandardCharsets.ISO_8859_1.newEncoder();
      for (var e : text.entrySet()) {
        if (latin1.canEncode(e.getValue())) {
          javax.imageio.metadata.IIOMetadataNode entry = new javax.imageio.metadata.IIOMetadataNode("tEXtEntry");
          entry.setAttribute("keyword", e.getKey());
          entry.setAttribute("value", e.getValue());
          textChunks.appendChild(entry);
          continue;
        }
        javax.imageio.metadata.IIOMetadataNode entry = new javax.imageio.metadata.IIOMetadataNode("iTXtEntry");
        entry.setAttribute("keyword", e.getKey());
        entry.setAttribute("compressionFlag", "FALSE");
        entry.setAttribute("compressionMethod", "0");
        entry.setAttribute("languageTag", "");
        entry.setAttribute("translatedKeyword", "");
        entry.setAttribute("text", e.getValue());
        itxt.appendChild(entry);
      }
      if (textChunks.getLength() > 0) {
        root.appendChild(textChunks);
      }
      if (itxt.getLength() > 0) {
        root.appendChild(itxt);
      }
      meta.mergeTree(format, root);
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      try (javax.imageio.stream.ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
        writer.setOutput(out);
        writer.write(new javax.imageio.IIOImage(img, null, meta));
      }
      return bytes.toByteArray();
    } finally {
      writer.dispose();
    }
  }

  /** The most text the compressed chunks (zTXt, compressed iTXt) of one PNG may inflate to, together: settings are a few KB. */
  public static final int MAX_TEXT = 1 << 20;

  /**
   * The text chunks (tEXt, zTXt, iTXt) of a PNG, keyword to text (where a keyword repeats, the last).
   * The chunks are walked directly rather than through ImageIO, whose reader inflates a compressed
   * chunk without bound: a few KB of zTXt can hold gigabytes. The pixels are not decoded.
   *
   * @throws IOException not a PNG, a truncated or malformed chunk, or a compressed text over {@link #MAX_TEXT}
   */
  public static java.util.Map<String, String> pngText(byte[] png) throws IOException {
    byte[] signature = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (png.length < 8 || !java.util.Arrays.equals(png, 0, 8, signature, 0, 8)) {
      throw new IOException("not a PNG (no PNG signature)");
    }
    java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
    int[] budget = {MAX_TEXT}; // what the compressed chunks may still inflate to
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(png).position(8);
    while (b.remaining() >= 12) {
      long length = Integer.toUnsignedLong(b.getInt());
      String type = new String(png, b.position(), 4, java.nio.charset.StandardCharsets.ISO_8859_1);
      b.position(b.position() + 4);
      if (length > b.remaining() - 4) {
        throw new IOException("truncated PNG: chunk " + type + " of " + length + " bytes runs past the end");
      }
      int at = b.position();
      int len = (int) length;
      switch (type) {
        case "tEXt" -> {
          int nul = nul(png, at, at + len, type);
          out.put(latin1(png, at, nul), latin1(png, nul + 1, at + len));
        }
        case "zTXt" -> {
          int nul = nul(png, at, at + len, type);
          byte[] text = inflate(png, nul + 2, at + len, type, budget);
          out.put(latin1(png, at, nul), new String(text, java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        case "iTXt" -> {
          int nul = nul(png, at, at + len, type);
          if (nul + 3 > at + len) {
            throw new IOException("malformed PNG: chunk iTXt is too short");
          }
          boolean compressed = png[nul + 1] != 0;
          int language = nul(png, nul + 3, at + len, type);
          int translated = nul(png, language + 1, at + len, type);
          byte[] text = compressed ? inflate(png, translated + 1, at + len, type, budget)
              : java.util.Arrays.copyOfRange(png, translated + 1, at + len);
          out.put(latin1(png, at, nul), new String(text, java.nio.charset.StandardCharsets.UTF_8));
        }
        default -> { }
      }
      b.position(at + len + 4); // the data and its CRC
      if (type.equals("IEND")) {
        break;
      }
    }
    return out;
  }

  private static int nul(byte[] a, int from, int to, String type) throws IOException {
    for (int i = from; i < to; i++) {
      if (a[i] == 0) {
        return i;
      }
    }
    throw new IOException("malformed PNG: chunk " + type + " has no keyword separator");
  }

  private static String latin1(byte[] a, int from, int to) {
    return new String(a, from, to - from, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  /** Inflates {@code a[from, to)} (zlib), refusing more than {@code budget[0]} bytes, and takes them from it. */
  private static byte[] inflate(byte[] a, int from, int to, String type, int[] budget) throws IOException {
    java.util.zip.Inflater inflater = new java.util.zip.Inflater();
    try {
      inflater.setInput(a, from, Math.max(0, to - from));
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      while (!inflater.finished()) {
        int n = inflater.inflate(buf);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new IOException("malformed PNG: compressed chunk " + type + " is truncated");
        }
        out.write(buf, 0, n);
        if (out.size() > budget[0]) {
          throw new IOException("PNG chunk " + type + " inflates to more than " + MAX_TEXT
              + " bytes of text (with the chunks before it)");
        }
      }
      budget[0] -= out.size();
      return out.toByteArray();
    } catch (java.util.zip.DataFormatException e) {
      throw new IOException("malformed PNG: compressed chunk " + type + ": " + e.getMessage(), e);
    } finally {
      inflater.end();
    }
  }
}
