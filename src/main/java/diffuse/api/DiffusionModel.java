package diffuse.api;

import diffuse.app.EvaluateRequest;
import diffuse.app.EvaluateService;
import diffuse.app.GenerateRequest;
import diffuse.app.GenerateService;
import diffuse.app.LoadedModel;
import diffuse.app.SamplingRequest;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.runtime.Device;
import java.nio.file.Path;
import java.util.List;

/**
 * A trained class-conditional diffusion model, loaded once and ready to generate: the front door of
 * the library (in the spirit of DJL's {@code ZooModel} and the diffusers pipeline object).
 *
 * <pre>{@code
 * try (DiffusionModel model = DiffusionModel.open(Path.of("models/mnist"))) {
 *   Generation sevens = model.generate(GenerationRequest.of("digit 7", 16));
 *   sevens.save(Path.of("seven.png"));
 * }
 * }</pre>
 *
 * A model directory carries its own configuration ({@code model.json}: architecture, labels, noise
 * schedule, what the network predicts), so nothing else is needed to sample. The network runs in
 * a TensorFlow session that {@link #close()} frees. One model may serve several threads, one call
 * at a time each; calls do not share state, and the images of a request never depend on the batch
 * size or on other requests.
 */
public final class DiffusionModel implements AutoCloseable {
  private final LoadedModel loaded;

  private DiffusionModel(LoadedModel loaded) {
    this.loaded = loaded;
  }

  /** Opens the model in {@code dir} on the default runtime (any device, all cores, fp32). */
  public static DiffusionModel open(Path dir) {
    return open(dir, RuntimeOptions.defaults());
  }

  /**
   * Opens and checks the model in {@code dir} (every checkpoint file's size and checksum) and loads
   * its network on {@code runtime}.
   *
   * @throws DiffuseException naming the file or field at fault: a missing or damaged model, a toy
   *     model, a device that is not there
   */
  public static DiffusionModel open(Path dir, RuntimeOptions runtime) {
    if (dir == null) {
      throw DiffuseException.badValue("model", "model directory is missing");
    }
    if (runtime == null) {
      throw DiffuseException.badValue("runtime", "runtime is missing: use RuntimeOptions.defaults()");
    }
    return new DiffusionModel(LoadedModel.load(LoadedModel.openImageModel(dir), device(runtime)));
  }

  /** The session options of {@code runtime}. */
  static Device.Choice device(RuntimeOptions runtime) {
    Device.Choice c;
    try {
      c = Device.valueOf(runtime.device().name()).resolve(runtime.threads());
    } catch (Device.UnavailableException e) {
      throw new DiffuseException(e.code(), "device",
          "device GPU: " + e.getMessage() + "; or use RuntimeOptions.Device.CPU", null);
    }
    if (runtime.precision() != RuntimeOptions.Precision.BF16) {
      return c;
    }
    try {
      return c.withBf16(Device.cpuFlags());
    } catch (DiffuseException e) {
      throw DiffuseException.badValue("precision", "precision BF16: " + e.getMessage() + "; use FP32");
    }
  }

  /** The class names, index = label; a prompt names one of them ("digit 7" → "7"). */
  public List<String> labels() {
    return loaded.info().labels();
  }

  /** Height, width and channels of the images it draws. */
  public int[] imageShape() {
    var a = loaded.info().architecture();
    return new int[] {a.height(), a.width(), a.channels()};
  }

  /**
   * The guidance scale this model samples at when a request names none: the one its
   * {@code model.json} records (chosen by measuring the model, {@code export --guidance}), else
   * {@link Defaults#GUIDANCE}.
   */
  public double defaultGuidance() {
    return loaded.info().defaultGuidance();
  }

  /**
   * The noise levels [σ_lo, σ_hi] to which this model limits classifier-free guidance when a request
   * names no interval (Kynkäänniemi et al. 2024; {@code export --guidance-interval}), or an empty list:
   * every step.
   */
  public List<Double> defaultGuidanceInterval() {
    List<Double> own = loaded.info().defaultGuidanceInterval();
    return own == null ? List.of() : own;
  }

  /** The model directory. */
  public Path dir() {
    return loaded.dir();
  }

  /** Draws {@code request}. */
  public Generation generate(GenerationRequest request) {
    return generate(request, Listener.NONE);
  }

  /**
   * Draws {@code request}, reporting each sampling step to {@code listener} (task "sample") and
   * stopping with a {@code CANCELLED} {@link DiffuseException} once {@link Listener#cancelled()}.
   *
   * @throws DiffuseException on a prompt the model does not know or a bad value, naming the field
   */
  public Generation generate(GenerationRequest request, Listener listener) {
    if (request == null) {
      throw DiffuseException.badValue("request", "request is missing");
    }
    GenerateRequest r = (GenerateRequest) request.internal();
    CustomGuidance custom = request.customGuidance();
    var plan = custom == null ? GenerateService.plan(loaded, r)
        : GenerateService.plan(loaded, r, ClassifierFreeGuidance.withRule(custom::combine), custom.getClass().getName());
    return new Generation(GenerateService.run(plan, listener == null ? Listener.NONE : listener));
  }

  /** Evaluates this model as {@code request} asks: {@link #evaluate(EvaluationRequest, Listener)}. */
  public Evaluation evaluate(EvaluationRequest request) {
    return evaluate(request, Listener.NONE);
  }

  /**
   * Draws {@code request.count} samples per class and scale and measures them with the data set's
   * evaluation classifier, beside the real test images of each class (the yardstick), as
   * {@code diffuse evaluate} does; progress goes to {@code listener} (tasks "data", "evaluate").
   *
   * @throws DiffuseException naming the field or file at fault: no classifier beside the model, a
   *     classifier of other labels, an unknown prompt, a bad method
   */
  public Evaluation evaluate(EvaluationRequest request, Listener listener) {
    if (request == null) {
      throw DiffuseException.badValue("request", "request is missing");
    }
    SamplingRequest m = request.method == null ? SamplingRequest.defaults() : Requests.method(request.method);
    SamplingRequest s = new SamplingRequest(m.sampler(), request.seed, request.batchSize, m.guidance());
    EvaluateRequest r = new EvaluateRequest(request.scales.isEmpty() ? Defaults.evaluateScales(defaultGuidance())
        : request.scales, request.prompt, request.count, request.classifier,
        request.dataDir, s);
    Path cdir = request.classifier != null ? request.classifier : EvaluateService.findClassifier(
        loaded.dir(), loaded.info().data().dataset());
    EvaluateService.Evaluation e = EvaluateService.evaluate(loaded, r, cdir, loaded.device(),
        listener == null ? Listener.NONE : listener);
    return new Evaluation(e, rows(e.report().rows()), rows(e.report().baseline()), e.report().seconds());
  }

  private static java.util.List<Evaluation.Row> rows(java.util.List<diffuse.eval.Evaluator.Metrics> ms) {
    return ms.stream().map(m -> new Evaluation.Row(m.labelName(), m.scale(), m.n(), m.accuracy(), m.accuracyLow(),
        m.hasDistribution() ? m.kid() : Double.NaN, m.hasDistribution() ? m.kidSe() : Double.NaN,
        m.dcN() > 0 ? m.density() : Double.NaN, m.dcN() > 0 ? m.coverage() : Double.NaN, m.diversityRatio(),
        m.fdClass())).toList();
  }

  @Override
  public void close() {
    loaded.close();
  }
}
