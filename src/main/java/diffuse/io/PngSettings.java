package diffuse.io;

import diffuse.api.DiffuseException;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.sampling.Guidance;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The settings a PNG carries in two text chunks, so that the picture alone says how to draw it again:
 *
 * <ul>
 *   <li>{@value #PARAMETERS}: the "infotext" that generator tools (AUTOMATIC1111 and those that read
 *       its PNGs) parse: the prompt, a {@code Negative prompt:} line when a negative class was
 *       steered away from, and one line of {@code Key: value} pairs ({@link #infotext});
 *   <li>{@value #SIDECAR}: the whole {@link Sidecar} as JSON, what {@code generate --from} and the
 *       server's {@code /api/png-info} read back.
 * </ul>
 */
public final class PngSettings {
  /** The infotext chunk's keyword. */
  public static final String PARAMETERS = "parameters";
  /** The sidecar chunk's keyword. */
  public static final String SIDECAR = "diffuse";

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private PngSettings() {}

  /**
   * The infotext of {@code s} for samples of {@code width}×{@code height} pixels:
   *
   * <pre>
   * PROMPT
   * Negative prompt: NEGATIVE                      (only with a negative class)
   * Steps: 10, Sampler: dpm++2m, CFG scale: 2.0, Seed: 42, Size: 28x28, Model hash: abcdef0123, Model: mnist, ...
   * </pre>
   *
   * A grid of several rows gives the first row's prompt, its other prompts as {@code Prompts:
   * "a | b"} and its scales as {@code CFG scale: "0.0, 1.0, 3.0"}. After {@code Model} come, when
   * they apply: {@code Schedule type} (the spacing, when not linspace), {@code Eta} (DDIM),
   * {@code Clip x0: off}, {@code Guidance interval: LO-HI}, {@code CFG rescale}, {@code APG eta},
   * {@code APG norm}, {@code Autoguidance} (the guide model), {@code Autoguidance CFG}, {@code Autoguidance interval},
   * {@code Custom guidance} and {@code Sample index} (a single image other than the seed's first).
   * Values with a comma, colon or line break are quoted as JSON strings, as those tools do.
   */
  public static String infotext(Sidecar s, int width, int height) {
    List<Sidecar.Row> rows = s.rows() == null ? List.of() : s.rows();
    List<String> prompts = rows.stream().map(Sidecar.Row::prompt).distinct().toList();
    List<Double> scales = rows.stream().map(Sidecar.Row::guidance).distinct().toList();
    Guidance g = s.guidance();
    StringBuilder out = new StringBuilder(prompts.isEmpty() || prompts.get(0) == null ? "" : prompts.get(0));
    if (g != null && g.negative() != null) {
      out.append("\nNegative prompt: ").append(g.negative());
    }
    Map<String, String> p = new LinkedHashMap<>();
    p.put("Steps", "" + s.steps());
    p.put("Sampler", s.sampler());
    p.put("CFG scale", String.join(", ", scales.stream().map(String::valueOf).toList()));
    p.put("Seed", "" + s.seed());
    p.put("Size", width + "x" + height);
    if (s.modelHash() != null) {
      p.put("Model hash", s.modelHash());
    }
    if (s.model() != null) {
      Path name = Path.of(s.model()).getFileName();
      p.put("Model", name == null ? s.model() : name.toString());
    }
    if (s.spacing() != null) {
      p.put("Schedule type", s.spacing());
    }
    if (s.eta() != null) {
      p.put("Eta", fmt(s.eta()));
    }
    if (!s.clip()) {
      p.put("Clip x0", "off");
    }
    if (g != null) {
      if (g.limited()) {
        p.put("Guidance interval", fmt(g.interval().get(0)) + "-" + fmt(g.interval().get(1)));
      }
      put(p, "CFG rescale", g.rescale());
      put(p, "APG eta", g.apg());
      put(p, "APG norm", g.apgNorm());
      if (g.isAutoguidance()) {
        p.put("Autoguidance", g.guideModel());
      }
      put(p, "Autoguidance CFG", g.guideCfg());
      if (g.guideInterval() != null) {
        p.put("Autoguidance interval", fmt(g.guideInterval().get(0)) + "-" + fmt(g.guideInterval().get(1)));
      }
      if (g.custom() != null) {
        p.put("Custom guidance", g.custom());
      }
    }
    if (prompts.size() > 1) {
      p.put("Prompts", String.join(" | ", prompts));
    }
    if (rows.size() == 1 && rows.get(0).count() == 1 && rows.get(0).firstIndex() > 0) {
      p.put("Sample index", "" + rows.get(0).firstIndex());
    }
    List<String> pairs = new ArrayList<>();
    p.forEach((k, v) -> pairs.add(k + ": " + quote(v)));
    return out.append('\n').append(String.join(", ", pairs)).toString();
  }

  private static void put(Map<String, String> p, String key, Double value) {
    if (value != null) {
      p.put(key, fmt(value));
    }
  }

  private static String fmt(double v) {
    return ClassifierFreeGuidance.formatScale(v);
  }

  /** A value as infotext writes it: as it is, or as a JSON string if it has a comma, colon or line break. */
  static String quote(String v) {
    if (v == null) {
      return "";
    }
    return v.contains(",") || v.contains(":") || v.contains("\n") ? new com.google.gson.JsonPrimitive(v).toString() : v;
  }

  /** The two chunks for a picture of samples of {@code width}×{@code height}: infotext and {@code sidecarJson}. */
  public static Map<String, String> chunks(Sidecar s, String sidecarJson, int width, int height) {
    Map<String, String> text = new LinkedHashMap<>();
    text.put(PARAMETERS, infotext(s, width, height));
    text.put(SIDECAR, sidecarJson);
    return text;
  }

  /** {@code img} as a PNG carrying {@code s} (its JSON as the .json sidecar beside it has it). */
  public static byte[] png(BufferedImage img, Sidecar s, int width, int height) throws IOException {
    return Images.pngWithText(img, chunks(s, Json.toJson(s), width, height));
  }

  /** True if {@code bytes} start with the PNG signature. */
  public static boolean isPng(byte[] bytes) {
    return bytes.length >= SIGNATURE.length && java.util.Arrays.equals(bytes, 0, SIGNATURE.length, SIGNATURE, 0,
        SIGNATURE.length);
  }

  /**
   * What a PNG says about itself.
   *
   * @param parameters its infotext, or null
   * @param sidecar its sidecar, or null
   */
  public record Found(String parameters, Sidecar sidecar) {}

  /**
   * Reads the settings chunks of a PNG.
   *
   * @param name how the PNG is named in messages (a file, or "body")
   * @throws DiffuseException naming {@code field}: not a PNG, or a sidecar chunk that is not sidecar JSON
   */
  public static Found read(byte[] png, String name, String field) {
    if (!isPng(png)) {
      throw DiffuseException.badValue(field, name + " is not a PNG image");
    }
    Map<String, String> text;
    try {
      text = Images.pngText(png);
    } catch (IOException | RuntimeException e) {
      throw DiffuseException.badValue(field, name + " is not a readable PNG image: "
          + DiffuseException.firstLine(e.getMessage()));
    }
    Sidecar sidecar = null;
    String json = text.get(SIDECAR);
    if (json != null) {
      try {
        sidecar = Json.fromJson(json, Sidecar.class);
      } catch (RuntimeException e) {
        throw DiffuseException.badValue(field, name + " has a '" + SIDECAR + "' text chunk that is not a sidecar: "
            + DiffuseException.firstLine(e.getMessage()));
      }
    }
    return new Found(text.get(PARAMETERS), sidecar);
  }

  /**
   * The sidecar that a PNG written by this tool carries, or that a {@code .json} sidecar holds (told
   * apart by the PNG signature, not the name), checked to have what a replay needs.
   *
   * @param field the option or field that named the file, named in errors
   * @throws DiffuseException one line naming {@code file}: unreadable, a PNG without the settings
   *     chunk, or JSON that is not a sidecar
   */
  public static Sidecar readSidecar(Path file, String field) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (java.nio.file.NoSuchFileException e) {
      throw DiffuseException.badValue(field, field + " " + file + " does not exist");
    } catch (IOException e) {
      throw DiffuseException.badValue(field, field + " " + file + " cannot be read: " + AtomicFiles.describe(e));
    }
    Sidecar s;
    if (isPng(bytes)) {
      s = read(bytes, field + " " + file, field).sidecar();
      if (s == null) {
        throw DiffuseException.badValue(field, field + " " + file + " carries no settings (no '" + SIDECAR
            + "' text chunk: written with --no-metadata, or by another tool)");
      }
    } else {
      try {
        s = Json.fromJson(new String(bytes, java.nio.charset.StandardCharsets.UTF_8), Sidecar.class);
      } catch (RuntimeException e) {
        throw DiffuseException.badValue(field, field + " " + file + " is neither a PNG nor a sidecar JSON: "
            + DiffuseException.firstLine(e.getMessage()));
      }
    }
    if (s == null) {
      throw DiffuseException.badValue(field, field + " " + file + " is empty");
    }
    String missing = s.model() == null ? "model" : s.sampler() == null ? "sampler"
        : s.rows() == null || s.rows().isEmpty() ? "rows"
        : s.rows().stream().anyMatch(r -> r == null || r.prompt() == null || r.count() < 1) ? "a row's prompt or count"
        : null;
    if (missing != null) {
      throw DiffuseException.badValue(field, field + " " + file + " is not a complete sidecar: it has no " + missing);
    }
    return s;
  }
}
