package diffuse.api;

import diffuse.app.Samples;
import diffuse.io.Images;
import diffuse.io.Json;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@link DiffusionModel#generate} drew: one row per (prompt, scale) in request order, and the
 * settings that draw the same pixels again (the JSON sidecar the CLI writes beside its PNGs).
 */
public final class Generation {
  private final Samples samples;
  private final List<Row> rows;

  /**
   * One (prompt, scale) row.
   *
   * @param prompt the prompt as given
   * @param label the label index it resolved to
   * @param labelName that label's name
   * @param guidance the guidance scale
   * @param images the images, 8-bit grayscale or RGB
   */
  public record Row(String prompt, int label, String labelName, double guidance, List<BufferedImage> images) {}

  Generation(Samples samples) {
    this.samples = samples;
    List<Row> r = new ArrayList<>();
    for (Samples.Row row : samples.rows()) {
      r.add(new Row(row.prompt(), row.label(), row.labelName(), row.scale(), List.copyOf(samples.images(row))));
    }
    this.rows = List.copyOf(r);
  }

  public List<Row> rows() {
    return rows;
  }

  /** Every image, row after row. */
  public List<BufferedImage> images() {
    List<BufferedImage> all = new ArrayList<>();
    rows.forEach(r -> all.addAll(r.images()));
    return all;
  }

  /**
   * The pixels of row {@code row} in data units [−1, 1], float [count · H·W·C] (NHWC), as the
   * sampler returned them (a copy).
   */
  public float[] pixels(int row) {
    return samples.rows().get(row).pixels().clone();
  }

  /** Seconds the sampling took. */
  public double seconds() {
    return samples.seconds();
  }

  /** The settings that reproduce these images: model, checkpoint, sampler, steps, seed, rows, guidance (JSON). */
  public String settingsJson() {
    return Json.toJson(samples.sidecar(null));
  }

  /** A labelled grid of every row, {@code columns} images per line, each pixel drawn {@code scale}×. */
  public BufferedImage grid(int columns, int scale) {
    List<Images.Row> r = new ArrayList<>();
    for (Row row : rows) {
      r.add(new Images.Row(row.labelName() + ", " + samples.guidanceOrPlain().scaleSymbol() + " = " + row.guidance(),
          row.images()));
    }
    return Images.grid(null, r, columns, scale);
  }

  /**
   * Writes {@link #grid(int, int) grid(8, 3)} to {@code png}, with the settings inside it (its
   * {@code parameters} and {@code diffuse} text chunks) and beside it ({@code name.json}), atomically.
   */
  public void save(Path png) throws IOException {
    diffuse.io.AtomicFiles.write(png, samples.png(grid(8, 3), samples.sidecar(null)));
    String name = png.getFileName().toString();
    int dot = name.lastIndexOf('.');
    Json.writeAtomically(png.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".json"), samples.sidecar(null));
  }
}
