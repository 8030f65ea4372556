package diffuse.app;

import diffuse.api.DiffuseException;
import diffuse.api.Listener;
import diffuse.api.StepState;
import diffuse.prompt.Prompts;
import diffuse.sampling.Generator;
import diffuse.sampling.GuidanceMethod;
import diffuse.sampling.Guider;
import diffuse.sampling.SamplerSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The generate and sweep use cases: samples for every (prompt, scale) row of a request, batch by
 * batch, with progress, previews and cancellation through a {@link Listener} (task {@value #TASK}). Image i of a row always
 * comes from the random stream (seed, i), so a row does not depend on the batch size or on the rows
 * drawn with it.
 */
public final class GenerateService {
  private GenerateService() {}

  /** The task name of its progress reports: one unit per sampling step of one batch. */
  public static final String TASK = "sample";

  /** Resolves every prompt of {@code request} against the model's labels (fails on an unknown one). */
  public static List<Integer> labels(LoadedModel model, GenerateRequest request) {
    Prompts parser = new Prompts(model.info().labels());
    return request.prompts().stream().map(parser::resolve).toList();
  }

  /** Runs {@code request} on {@code model}. */
  public static Samples generate(LoadedModel model, GenerateRequest request, Listener progress) {
    List<Integer> labels = labels(model, request);
    SamplerSpec spec = request.sampling().spec(model.info());
    SamplingRequest.Guidance g = request.sampling().guidance();
    Guider method = model.guider(g);
    int batchSize = request.sampling().batchSize();
    long seed = request.sampling().seed();
    int count = request.count();
    long total = (long) spec.steps() * request.rows() * ((count + batchSize - 1) / batchSize);
    long[] done = {0};
    long start = System.nanoTime();
    List<Samples.Row> rows = new ArrayList<>();
    int dim = model.generator().dim();
    for (int p = 0; p < request.prompts().size(); p++) {
      for (double scale : request.scales()) {
        int label = labels.get(p);
        int row = rows.size();
        float[] pixels = new float[count * dim];
        for (int first = 0; first < count; first += batchSize) {
          int n = Math.min(batchSize, count - first);
          int at = first;
          checkCancelled(progress);
          float[] x = model.generator().sample(Generator.Batch.of(label, scale, seed, first, n), spec, method,
              (k, steps, xs, x0) -> {
                progress.progress(TASK, ++done[0], total, "");
                progress.step(new StepState(row, at, n, k, steps, xs, x0));
                checkCancelled(progress);
              });
          System.arraycopy(x, 0, pixels, first * dim, n * dim);
        }
        rows.add(new Samples.Row(request.prompts().get(p), label, model.info().labels().get(label), scale, pixels,
            count));
      }
    }
    return new Samples(model.dir().toString(), model.info(), spec, seed, rows, (System.nanoTime() - start) / 1e9,
        sidecarGuidance(model, g, method));
  }

  /** What the sidecar records of a guider; null for plain CFG. */
  public static diffuse.io.Sidecar.Guidance sidecarGuidance(LoadedModel model, SamplingRequest.Guidance g, Guider guider) {
    if (g.isAutoguidance()) {
      return new diffuse.io.Sidecar.Guidance(null, null, null, null, null, null, g.guideModel(),
          model.guide(g.guideModel()).info().checkpoint(), g.guideCfg());
    }
    GuidanceMethod m = (GuidanceMethod) guider;
    if (m.isPlain()) {
      return null;
    }
    double[] interval = g.intervalLo() == null && g.intervalHi() == null ? null
        : new double[] {m.sigmaLo(), m.sigmaHi()};
    return new diffuse.io.Sidecar.Guidance(interval, g.rescale(), g.negative(),
        m.negativeLabel() >= 0 ? m.negativeLabel() : null, g.apg(), g.apgNorm());
  }

  static void checkCancelled(Listener progress) {
    if (progress.cancelled()) {
      throw new DiffuseException(DiffuseException.Code.CANCELLED, "cancelled");
    }
  }
}
