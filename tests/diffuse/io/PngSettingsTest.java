package diffuse.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffuseException;
import diffuse.sampling.Guidance;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The settings inside a PNG (infotext and sidecar chunks) and the model hash, without TensorFlow. */
class PngSettingsTest {
  @TempDir Path dir;

  static Sidecar sidecar(List<Sidecar.Row> rows, String spacing, Guidance g, String hash) {
    return new Sidecar("models/mnist", "ckpt-00005616", "dpm++2m", 10, null, true, 42, rows,
        "diffuse generate --prompt 'digit 7'", spacing, g, hash, null);
  }

  static Sidecar.Row row(String prompt, double scale) {
    return new Sidecar.Row(prompt, 7, "7", scale, 0, 4);
  }

  @Test
  void infotextIsThePromptANegativeLineAndOneLineOfSettings() {
    assertEquals("digit 7\nSteps: 10, Sampler: dpm++2m, CFG scale: 2.0, Seed: 42, Size: 28x28,"
        + " Model hash: abcdef0123, Model: mnist",
        PngSettings.infotext(sidecar(List.of(row("digit 7", 2)), null, null, "abcdef0123"), 28, 28));
    Guidance g = new Guidance(List.of(0.3, 5.0), 0.7, "digit 1", 1, null, null, null, null, null, null, null);
    assertEquals("digit 7\nNegative prompt: digit 1\nSteps: 10, Sampler: dpm++2m, CFG scale: 2.5, Seed: 42,"
        + " Size: 32x28, Model hash: abcdef0123, Model: mnist, Schedule type: trailing, Guidance interval: 0.3-5,"
        + " CFG rescale: 0.7", PngSettings.infotext(sidecar(List.of(row("digit 7", 2.5)), "trailing", g,
            "abcdef0123"), 32, 28));
    // APG and autoguidance as further pairs; a value with a comma or colon quoted as a JSON string
    String apg = PngSettings.infotext(sidecar(List.of(row("7", 2)), null,
        Guidance.PLAIN.withApg(0, 5.0), null), 28, 28);
    assertTrue(apg.endsWith("Model: mnist, APG eta: 0, APG norm: 5"), apg);
    assertFalse(apg.contains("Model hash"), "an old sidecar has none: " + apg);
    String auto = PngSettings.infotext(sidecar(List.of(row("7", 2)), null,
        Guidance.autoguidance("C:/runs/small, early", 1.5), null), 28, 28);
    assertTrue(auto.endsWith("Autoguidance: \"C:/runs/small, early\", Autoguidance CFG: 1.5"), auto);
  }

  @Test
  void aGridOfSeveralRowsGivesTheFirstPromptTheOtherPromptsAndEveryScale() {
    String sweep = PngSettings.infotext(sidecar(List.of(row("7", 0), row("7", 1), row("7", 3)), null, null, "x"),
        8, 8);
    assertEquals("7", sweep.lines().findFirst().orElseThrow());
    assertTrue(sweep.contains("CFG scale: \"0.0, 1.0, 3.0\", Seed: 42"), sweep);
    String prompts = PngSettings.infotext(sidecar(List.of(row("an h", 2), row("v", 2)), null, null, "x"), 8, 8);
    assertTrue(prompts.startsWith("an h\nSteps: 10"), prompts);
    assertTrue(prompts.endsWith("Prompts: an h | v"), prompts);
    Sidecar one = sidecar(List.of(new Sidecar.Row("v", 1, "v", 2, 5, 1)), null, null, "x");
    assertTrue(PngSettings.infotext(one, 8, 8).endsWith("Sample index: 5"), PngSettings.infotext(one, 8, 8));
  }

  @Test
  void aPngCarriesBothChunksReadsThemBackAndKeepsItsPixels() throws IOException {
    BufferedImage img = new BufferedImage(5, 3, BufferedImage.TYPE_BYTE_GRAY);
    for (int i = 0; i < 15; i++) {
      img.getRaster().setSample(i % 5, i / 5, 0, i * 17);
    }
    Sidecar s = sidecar(List.of(row("digit 7", 2)), "trailing", null, "abcdef0123")
        .withGrid(new Sidecar.Grid("title", List.of("7"), 8, 3));
    byte[] png = PngSettings.png(img, s, 5, 3);
    PngSettings.Found found = PngSettings.read(png, "x.png", "from");
    assertEquals(s, found.sidecar());
    assertEquals(PngSettings.infotext(s, 5, 3), found.parameters());
    String raw = new String(png, StandardCharsets.ISO_8859_1);
    assertTrue(raw.contains("tEXtparameters\0digit 7\n"), "Latin-1 text goes in tEXt, as generator tools write it");
    assertTrue(raw.contains("tEXtdiffuse\0{"), "the sidecar as the .json file has it");
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    ImageIO.write(img, "png", plain);
    assertArrayEquals(pixels(plain.toByteArray()), pixels(png));
    // text that Latin-1 cannot hold goes in iTXt (UTF-8), and reads back the same
    Sidecar greek = sidecar(List.of(new Sidecar.Row("αβ", 0, "α", 2, 0, 1)), null, null, null);
    byte[] utf8 = PngSettings.png(img, greek, 5, 3);
    assertTrue(new String(utf8, StandardCharsets.ISO_8859_1).contains("iTXtparameters"));
    assertEquals(greek, PngSettings.read(utf8, "y.png", "from").sidecar());
  }

  static int[] pixels(byte[] png) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    return img.getRaster().getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
  }

  @Test
  void aSidecarWrittenBeforeTheHashAndTheGridReadsWithNeither() throws IOException {
    Path old = dir.resolve("old.json");
    Files.writeString(old, "{\"model\": \"models/mnist\", \"checkpoint\": \"ckpt-1\", \"sampler\": \"ddim\","
        + " \"steps\": 25, \"eta\": 0.0, \"clip\": true, \"seed\": 3, \"rows\": [{\"prompt\": \"7\", \"label\": 7,"
        + " \"labelName\": \"7\", \"guidance\": 3.0, \"firstIndex\": 0, \"count\": 8}], \"command\": \"diffuse\"}");
    Sidecar s = Json.read(old, Sidecar.class);
    assertNull(s.modelHash());
    assertNull(s.grid());
    assertEquals(s, PngSettings.readSidecar(old, "from"));
  }

  @Test
  void readingSettingsFromAFileWithoutThemIsOneLineNamingIt() throws IOException {
    Path bare = dir.resolve("bare.png");
    ImageIO.write(new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY), "png", bare.toFile());
    Path text = dir.resolve("notes.txt");
    Files.writeString(text, "not json at all {");
    Path partial = dir.resolve("partial.json");
    Files.writeString(partial, "{\"model\": \"m\"}");
    Map<Path, String> want = Map.of(bare, "carries no settings", text, "is neither a PNG nor a sidecar JSON",
        partial, "is not a complete sidecar: it has no sampler", dir.resolve("gone.png"), "does not exist");
    for (var e : want.entrySet()) {
      DiffuseException x = assertThrows(DiffuseException.class, () -> PngSettings.readSidecar(e.getKey(), "from"));
      assertEquals("from", x.field());
      assertTrue(x.getMessage().startsWith("from " + e.getKey() + " "), x.getMessage());
      assertTrue(x.getMessage().contains(e.getValue()), x.getMessage());
      assertEquals(1, x.getMessage().lines().count(), x.getMessage());
    }
    DiffuseException notPng = assertThrows(DiffuseException.class,
        () -> PngSettings.read("{}".getBytes(StandardCharsets.UTF_8), "body", "body"));
    assertEquals("body", notPng.field());
    assertEquals("body is not a PNG image", notPng.getMessage());
  }

  @Test
  void theModelHashIsTheSha256OfTheWeightFilesSumsAndOnlyOfThose() throws IOException {
    Path ckpt = dir.resolve("ckpt-00000003");
    Path vars = Files.createDirectories(ckpt.resolve("saved_model/variables"));
    Files.write(vars.resolve("variables.data-00000-of-00001"), new byte[] {1, 2, 3, 4, 5});
    Files.write(vars.resolve("variables.index"), new byte[] {9, 8});
    Files.write(ckpt.resolve("saved_model/saved_model.pb"), new byte[] {7});
    Files.createDirectories(ckpt.resolve("state"));
    Files.write(ckpt.resolve("state/state.index"), new byte[] {6});
    Map<String, Manifest.FileSum> recorded = Manifest.of(ckpt, ModelStore.MODEL_JSON);
    String hash = Manifest.weightsHash(recorded);
    // the documented derivation: SHA-256 of "PATH SIZE CRC32C\n" per weight file, sorted, first 10 hex digits
    StringBuilder lines = new StringBuilder();
    for (String f : List.of("variables.data-00000-of-00001", "variables.index")) {
      Manifest.FileSum sum = recorded.get("saved_model/variables/" + f);
      lines.append("saved_model/variables/").append(f).append(' ').append(sum.bytes()).append(' ')
          .append(sum.crc32c()).append('\n');
    }
    String want;
    try {
      want = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(lines.toString().getBytes(StandardCharsets.UTF_8))).substring(0, 10);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
    assertEquals(want, hash);
    assertEquals(hash, Manifest.weightsHash(ckpt), "from the files where model.json records no sums");
    // the graph and the training state are not the weights
    Files.write(ckpt.resolve("saved_model/saved_model.pb"), new byte[] {7, 7});
    Files.write(ckpt.resolve("state/state.index"), new byte[] {5});
    assertEquals(hash, Manifest.weightsHash(ckpt));
    Files.write(vars.resolve("variables.data-00000-of-00001"), new byte[] {1, 2, 3, 4, 6});
    assertNotEquals(hash, Manifest.weightsHash(ckpt));
  }

  /** A PNG of one grey pixel whose metadata has the given text nodes (tEXt, zTXt, iTXt), written by ImageIO. */
  static byte[] pngWith(javax.imageio.metadata.IIOMetadataNode... chunks) throws IOException {
    BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY);
    javax.imageio.ImageWriter w = ImageIO.getImageWritersByFormatName("png").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (var out = ImageIO.createImageOutputStream(bytes)) {
      w.setOutput(out);
      var meta = w.getDefaultImageMetadata(new javax.imageio.ImageTypeSpecifier(img), null);
      var root = new javax.imageio.metadata.IIOMetadataNode("javax_imageio_png_1.0");
      for (var c : chunks) {
        root.appendChild(c);
      }
      meta.mergeTree("javax_imageio_png_1.0", root);
      w.write(new javax.imageio.IIOImage(img, null, meta));
    } finally {
      w.dispose();
    }
    return bytes.toByteArray();
  }

  static javax.imageio.metadata.IIOMetadataNode chunk(String type, Map<String, String> attrs) {
    var c = new javax.imageio.metadata.IIOMetadataNode(type);
    var e = new javax.imageio.metadata.IIOMetadataNode(type + "Entry");
    attrs.forEach(e::setAttribute);
    c.appendChild(e);
    return c;
  }

  /** Every kind of text chunk, compressed or not, reads back as ImageIO wrote it. */
  @Test
  void textChunksOfEveryKindAreRead() throws IOException {
    String unicode = "digit 7 → 7, s = 1.5 ✓";
    byte[] png = pngWith(
        chunk("tEXt", Map.of("keyword", "plain", "value", "latin-1 text é")),
        chunk("zTXt", Map.of("keyword", "zipped", "compressionMethod", "deflate", "text", "x".repeat(5000))),
        chunk("iTXt", Map.of("keyword", "utf", "compressionFlag", "FALSE", "compressionMethod", "0",
            "languageTag", "en", "translatedKeyword", "", "text", unicode)),
        chunk("iTXt", Map.of("keyword", "utfz", "compressionFlag", "TRUE", "compressionMethod", "0",
            "languageTag", "", "translatedKeyword", "u", "text", unicode + "!")));
    assertEquals(Map.of("plain", "latin-1 text é", "zipped", "x".repeat(5000), "utf", unicode, "utfz", unicode + "!"),
        Images.pngText(png));
  }

  /**
   * A zTXt chunk of a few KB that inflates to 64 MB (a decompression bomb) is refused as soon as it
   * passes {@link Images#MAX_TEXT}, with one line naming the body, not read into memory whole.
   */
  @Test
  void aCompressedChunkThatInflatesPastTheLimitIsRefused() throws IOException {
    byte[] plain = pngWith(chunk("tEXt", Map.of("keyword", "parameters", "value", "7")));
    java.util.zip.Deflater d = new java.util.zip.Deflater(9);
    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    byte[] zeros = new byte[1 << 20];
    byte[] buf = new byte[1 << 16];
    for (int i = 0; i < 64; i++) {
      d.setInput(zeros);
      while (!d.needsInput()) {
        zipped.write(buf, 0, d.deflate(buf));
      }
    }
    d.finish();
    while (!d.finished()) {
      zipped.write(buf, 0, d.deflate(buf));
    }
    d.end();
    assertTrue(zipped.size() < 200_000, "a small body: " + zipped.size());
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    data.write("bomb\0\0".getBytes(StandardCharsets.ISO_8859_1));
    data.write(zipped.toByteArray());
    byte[] chunkData = data.toByteArray();
    java.nio.ByteBuffer c = java.nio.ByteBuffer.allocate(12 + chunkData.length);
    c.putInt(chunkData.length).put("zTXt".getBytes(StandardCharsets.ISO_8859_1)).put(chunkData);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(c.array(), 4, 4 + chunkData.length);
    c.putInt((int) crc.getValue());
    ByteArrayOutputStream bomb = new ByteArrayOutputStream();
    bomb.write(plain, 0, 33); // the signature and IHDR
    bomb.write(c.array());
    bomb.write(plain, 33, plain.length - 33);
    DiffuseException e = assertThrows(DiffuseException.class, () -> PngSettings.read(bomb.toByteArray(), "body", "body"));
    assertEquals("body", e.field());
    assertTrue(e.getMessage().contains("inflates to more than " + Images.MAX_TEXT), e.getMessage());
    // many chunks, each under the limit, that together pass it: refused too
    String half = "x".repeat(Images.MAX_TEXT / 2 + 1);
    byte[] two = pngWith(chunk("zTXt", Map.of("keyword", "a", "compressionMethod", "deflate", "text", half)),
        chunk("zTXt", Map.of("keyword", "b", "compressionMethod", "deflate", "text", half)));
    assertEquals(half, Images.pngText(pngWith(chunk("zTXt", Map.of("keyword", "a", "compressionMethod", "deflate",
        "text", half)))).get("a"), "one of them alone is read");
    assertTrue(assertThrows(DiffuseException.class, () -> PngSettings.read(two, "body", "body")).getMessage()
        .contains("with the chunks before it"));
    // cut short inside a chunk, or with a broken stream: one line, not an exception from deep inside
    byte[] cut = java.util.Arrays.copyOf(plain, plain.length - 20);
    assertTrue(assertThrows(DiffuseException.class, () -> PngSettings.read(cut, "f.png", "from")).getMessage()
        .contains("f.png is not a readable PNG image: truncated PNG"));
    assertEquals("7", PngSettings.read(plain, "body", "body").parameters());
  }
}
