package diffuse.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What an evaluation measured: one {@link Row} per (class, scale) and one per class for the real
 * test images, the yardstick each figure is read against.
 */
public final class Evaluation {
  private final Object internal; // diffuse.app.EvaluateService.Evaluation, kept opaque to users
  private final List<Row> rows;
  private final List<Row> real;
  private final double seconds;

  Evaluation(Object internal, List<Row> rows, List<Row> real, double seconds) {
    this.internal = internal;
    this.rows = List.copyOf(rows);
    this.real = List.copyOf(real);
    this.seconds = seconds;
  }

  /**
   * One class at one scale (or the real images of the class: {@code scale} null).
   *
   * @param label the class name
   * @param scale the guidance scale, or null for real test images
   * @param n images measured
   * @param accuracy share the classifier assigns to the class
   * @param accuracyLow95 one-sided 95 % lower bound of the accuracy (Wilson)
   * @param kid unbiased KID against the class's training images (cubic kernel), NaN if not measured
   * @param kidSe its standard error
   * @param density density (Naeem et al. 2020, k = 5), NaN if not measured
   * @param coverage coverage (same)
   * @param diversityRatio mean pairwise feature distance over the real images'
   * @param fdClass Fréchet distance to the class's real images, at this n
   */
  public record Row(String label, Double scale, int n, double accuracy, double accuracyLow95, double kid,
      double kidSe, double density, double coverage, double diversityRatio, double fdClass) {}

  /** The rows of generated images, scales outer, classes inner. */
  public List<Row> rows() {
    return rows;
  }

  /** The rows of the real test images, one per class. */
  public List<Row> real() {
    return real;
  }

  /** Seconds spent generating and measuring. */
  public double seconds() {
    return seconds;
  }

  /**
   * Writes what {@code diffuse evaluate --out dir} writes: metrics.csv, metrics.json (which
   * {@code diffuse frontier} reads), tradeoff.png and the first samples of every class and scale.
   *
   * @throws IOException naming {@code dir} if it cannot be written (as {@link Generation#save})
   */
  public void save(Path dir) throws IOException {
    try {
      ((diffuse.app.EvaluateService.Evaluation) internal).writeTo(dir);
    } catch (IOException e) {
      throw new IOException("cannot write the evaluation to " + dir + ": " + e.getMessage(), e);
    }
  }
}
