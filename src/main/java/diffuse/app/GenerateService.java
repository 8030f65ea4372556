package diffuse.app;

import diffuse.api.DiffuseException;
import diffuse.api.Listener;
import diffuse.api.StepState;
import diffuse.prompt.Prompts;
import diffuse.sampling.Generator;
import diffuse.sampling.Guidance;
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

  /**
   * {@code request} made concrete for {@code model}: prompts resolved, sampler and guider chosen;
   * fails, naming the field, on anything the model cannot do.
   */
  public static GenerationPlan plan(LoadedModel model, GenerateRequest request) {
    request = request.withDefaultScale(model.info().defaultGuidance());
    List<Integer> labels = labels(model, request);
    SamplerSpec spec = request.sampling().spec(model.info());
    Guidance g = model.resolve(request.sampling().guidance());
    Guider guider = model.guider(g);
    return new GenerationPlan(model, request, labels, spec, guider, recorded(g, guider));
  }

  /**
   * {@link #plan} with a guider of the caller's own in place of the request's guidance (which must be
   * plain CFG); the sidecar records its name, since no option reproduces it.
   */
  public static GenerationPlan plan(LoadedModel model, GenerateRequest request, Guider custom, String name) {
    requirePlainGuidance(request);
    request = request.withDefaultScale(model.info().defaultGuidance());
    return new GenerationPlan(model, request, labels(model, request), request.sampling().spec(model.info()), custom,
        Guidance.custom(name));
  }

  /** A custom guider replaces the guidance method, so the request may ask for no other (interval, guide, ...). */
  public static void requirePlainGuidance(GenerateRequest request) {
    if (!request.sampling().guidance().isPlain()) {
      throw DiffuseException.badValue("customGuidance", "customGuidance replaces the guidance method; do not also ask"
          + " for an interval, rescale, negative class, APG or a guide model");
    }
  }

  /** Runs {@code request} on {@code model}: {@link #plan}, then {@link #run}. */
  public static Samples generate(LoadedModel model, GenerateRequest request, Listener progress) {
    return run(plan(model, request), progress);
  }

  /**
   * The direct executor: every row of {@code plan}, batch by batch of the request's batch size, on
   * the calling thread, reporting each step and polling for cancellation.
   */
  public static Samples run(GenerationPlan plan, Listener progress) {
    return run(plan, 0, progress);
  }

  /**
   * {@link #run(GenerationPlan, Listener)} for samples {@code firstIndex} … {@code firstIndex + count − 1}
   * of the seed's random streams (what a replay of one image of a larger run needs), reported as
   * samples 0 … count − 1 of the rows.
   */
  public static Samples run(GenerationPlan plan, int firstIndex, Listener progress) {
    if (firstIndex < 0) {
      throw DiffuseException.badValue("firstIndex", "firstIndex must be >= 0, got " + firstIndex);
    }
    LoadedModel model = plan.model();
    SamplerSpec spec = plan.spec();
    int batchSize = plan.request().sampling().batchSize();
    long seed = plan.seed();
    int count = plan.count();
    long total = plan.totalSteps(batchSize);
    long[] done = {0};
    long start = System.nanoTime();
    List<float[]> pixels = new ArrayList<>();
    int dim = model.generator().dim();
    List<GenerationPlan.Row> rows = plan.rows();
    for (int row = 0; row < rows.size(); row++) {
      GenerationPlan.Row r = rows.get(row);
      float[] out = new float[count * dim];
      for (int first = 0; first < count; first += batchSize) {
        int n = Math.min(batchSize, count - first);
        int at = first, rowIndex = row;
        checkCancelled(progress);
        float[] x = model.generator().sample(Generator.Batch.of(r.label(), r.scale(), seed, firstIndex + first, n), spec,
            plan.guider(), Listener.ofSteps(s -> {
              progress.progress(TASK, ++done[0], total, "");
              progress.step(s.at(rowIndex, at));
              checkCancelled(progress);
            }));
        System.arraycopy(x, 0, out, first * dim, n * dim);
      }
      pixels.add(out);
    }
    return assemble(plan, pixels, (System.nanoTime() - start) / 1e9, model.dir().toString());
  }

  /**
   * The one place results are put together: the pixels of each row of {@code plan} (in
   * {@link GenerationPlan#rows()} order, [count · dim] each) with the settings that reproduce them.
   *
   * @param modelName how the sidecar names the model (its directory, or the server's model id)
   */
  public static Samples assemble(GenerationPlan plan, List<float[]> pixels, double seconds, String modelName) {
    List<GenerationPlan.Row> rows = plan.rows();
    if (pixels.size() != rows.size()) {
      throw new IllegalArgumentException(pixels.size() + " rows of pixels for a plan of " + rows.size());
    }
    List<Samples.Row> out = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      GenerationPlan.Row r = rows.get(i);
      out.add(new Samples.Row(r.prompt(), r.label(), r.labelName(), r.scale(), pixels.get(i), plan.count()));
    }
    return new Samples(modelName, plan.model().info(), plan.spec(), plan.seed(), out, seconds, plan.guidance(),
        plan.model().modelHash());
  }

  /**
   * What the sidecar records of resolved guidance {@code g} and its guider: null where it is plain
   * CFG at every step (an explicit rescale 0 is plain), else {@code g} with the interval it ran in (none:
   * every step; a replay reads none so, {@code generate --from}).
   */
  static Guidance recorded(Guidance g, Guider guider) {
    if (g.interval() != null && g.interval().isEmpty()) {
      g = g.withInterval((java.util.List<Double>) null);
    }
    return g.isPlain() || guider.equals(Guidance.PLAIN.guider()) ? null : g;
  }

  static void checkCancelled(Listener progress) {
    if (progress.cancelled()) {
      throw new DiffuseException(DiffuseException.Code.CANCELLED, "cancelled");
    }
  }
}
