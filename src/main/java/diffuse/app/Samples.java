package diffuse.app;

import diffuse.io.Images;
import diffuse.io.ModelInfo;
import diffuse.io.PngSettings;
import diffuse.io.Sidecar;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.SamplerSpec;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * What a generation job produced, with everything needed to draw the same pixels again.
 *
 * @param model the model directory
 * @param info the model's description
 * @param spec the sampler as run
 * @param seed the seed; image i of every row used the random stream (seed, i)
 * @param rows one row per (prompt, scale), in request order
 * @param seconds wall time of the sampling
 * @param guidance how guidance was applied beyond plain CFG, as the sidecar records it (null: plain)
 * @param modelHash the short hash of the model's weights, as the sidecar records it (null: unknown)
 */
public record Samples(String model, ModelInfo info, SamplerSpec spec, long seed, List<Row> rows, double seconds,
    diffuse.sampling.Guidance guidance, String modelHash) {
  /** Samples drawn with plain CFG. */
  public Samples(String model, ModelInfo info, SamplerSpec spec, long seed, List<Row> rows, double seconds) {
    this(model, info, spec, seed, rows, seconds, null, null);
  }

  /** Samples of a model whose weights hash is not known. */
  public Samples(String model, ModelInfo info, SamplerSpec spec, long seed, List<Row> rows, double seconds,
      diffuse.sampling.Guidance guidance) {
    this(model, info, spec, seed, rows, seconds, guidance, null);
  }

  /** How guidance was applied, {@link diffuse.sampling.Guidance#PLAIN} where the record holds null: for titles and labels. */
  public diffuse.sampling.Guidance guidanceOrPlain() {
    return guidance != null ? guidance : diffuse.sampling.Guidance.PLAIN;
  }

  /**
   * One row: {@code count} images of one label at one scale.
   *
   * @param prompt the prompt as given
   * @param label the label it resolved to
   * @param labelName that label's name
   * @param scale the guidance scale
   * @param pixels the images in data units [−1, 1], [count · H·W·C] (NHWC)
   * @param count number of images
   */
  public record Row(String prompt, int label, String labelName, double scale, float[] pixels, int count) {}

  /** Image {@code i} of {@code row} as an 8-bit picture. */
  public BufferedImage image(Row row, int i) {
    var a = info.architecture();
    return Images.toImage(row.pixels(), i, a.height(), a.width(), a.channels());
  }

  /** Every image of {@code row}. */
  public List<BufferedImage> images(Row row) {
    List<BufferedImage> out = new ArrayList<>();
    for (int i = 0; i < row.count(); i++) {
      out.add(image(row, i));
    }
    return out;
  }

  /** The sidecar of the whole job (a grid of every row). */
  public Sidecar sidecar(String command) {
    return sidecar(rows.stream().map(r -> new Sidecar.Row(r.prompt(), r.label(), r.labelName(), r.scale(), 0, r.count()))
        .toList(), command);
  }

  /** The sidecar of image {@code i} of {@code row} alone. */
  public Sidecar sidecar(Row row, int i, String command) {
    return sidecar(List.of(new Sidecar.Row(row.prompt(), row.label(), row.labelName(), row.scale(), i, 1)), command);
  }

  private Sidecar sidecar(List<Sidecar.Row> sideRows, String command) {
    return new Sidecar(model, info.checkpoint(), spec.kind().id(), spec.steps(),
        spec.kind() == SamplerKind.DDIM ? spec.eta() : null, spec.clip(), seed, sideRows, command,
        spec.spacing() == diffuse.schedule.Spacing.LINSPACE ? null : spec.spacing().toString(), guidance, modelHash,
        null);
  }

  /**
   * {@code img} (an image or a grid of these samples) as a PNG that carries {@code sidecar} in its
   * text chunks ({@link PngSettings}), the sidecar's JSON as the .json file beside it has it.
   */
  public byte[] png(BufferedImage img, Sidecar sidecar) throws java.io.IOException {
    return png(img, sidecar, diffuse.io.Json.toJson(sidecar));
  }

  /** {@link #png(BufferedImage, Sidecar)} with the sidecar's JSON as the caller writes it. */
  public byte[] png(BufferedImage img, Sidecar sidecar, String sidecarJson) throws java.io.IOException {
    var a = info.architecture();
    return Images.pngWithText(img, PngSettings.chunks(sidecar, sidecarJson, a.width(), a.height()));
  }
}
