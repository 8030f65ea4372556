package diffuse.app;

import diffuse.api.DiffuseException;
import diffuse.io.Sidecar;
import diffuse.sampling.Guider;
import diffuse.sampling.SamplerSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * A generation request made concrete for one model: prompts resolved to labels, the sampler with
 * its steps and spacing, the guider, and the rows to draw. Executors run it — directly, batch after
 * batch ({@link GenerateService#run}: the CLI and the library), or merged with other
 * requests' work (the server's batcher) — and {@link GenerateService#assemble} turns their pixels into
 * {@link Samples}, so every path reports the same settings.
 *
 * @param labels the label of each prompt, in request order
 * @param guidance what the sidecar records of the guider (null: plain CFG)
 */
public record GenerationPlan(LoadedModel model, GenerateRequest request, List<Integer> labels, SamplerSpec spec,
    Guider guider, diffuse.sampling.Guidance guidance) {

  /** One (prompt, scale) row of images, in the order executors return them: prompts outer. */
  public record Row(String prompt, int label, String labelName, double scale) {}

  /** The most values one row's images may hold: a Java array's reach. */
  private static final long MAX_VALUES = Integer.MAX_VALUE - 8;

  public GenerationPlan {
    labels = List.copyOf(labels);
    requireHoldable(request.count(), model.info().network().sampleSize());
  }

  /**
   * Fails naming {@code count} where {@code count} images of {@code dim} values could not be held in
   * one array (a Java array's reach), as generation and evaluation hold each row's images.
   */
  static void requireHoldable(int count, int dim) {
    if ((long) count * dim > MAX_VALUES) {
      throw DiffuseException.badValue("count", String.format("count %,d images of %,d values each is more than one"
          + " call holds; ask for at most %,d per call", count, dim, MAX_VALUES / dim));
    }
  }

  /** The rows, prompts outer, scales inner. */
  public List<Row> rows() {
    List<Row> out = new ArrayList<>();
    for (int p = 0; p < request.prompts().size(); p++) {
      for (double s : request.scales()) {
        int label = labels.get(p);
        out.add(new Row(request.prompts().get(p), label, model.info().labels().get(label), s));
      }
    }
    return out;
  }

  /** Images per row. */
  public int count() {
    return request.count();
  }

  public long seed() {
    return request.sampling().seed();
  }

  /** Sampler steps over the whole plan when each row runs in batches of {@code batchSize}. */
  public long totalSteps(int batchSize) {
    return (long) spec.steps() * request.rows() * ((request.count() + batchSize - 1) / batchSize);
  }
}
