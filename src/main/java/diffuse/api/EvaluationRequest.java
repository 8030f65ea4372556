package diffuse.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What to evaluate: {@code count} samples per class and guidance scale, measured by an independent
 * classifier against the data set's real images (accuracy with its one-sided 95 % bound, unbiased
 * KID, density and coverage, diversity; docs/evaluation.md). Unset options take the defaults of
 * {@code diffuse evaluate}. {@link Builder#build()} fails fast naming the field.
 *
 * @see DiffusionModel#evaluate(EvaluationRequest, Listener)
 */
public final class EvaluationRequest {
  final List<Double> scales;
  final String prompt;
  final int count;
  final Path classifier;
  final Path dataDir;
  final String method;
  final long seed;
  final int batchSize;

  private EvaluationRequest(Builder b) {
    scales = List.copyOf(b.scales); // empty: Defaults.evaluateScales of the model's own scale
    prompt = b.prompt;
    count = b.count;
    classifier = b.classifier;
    dataDir = b.dataDir;
    method = b.method;
    seed = b.seed;
    batchSize = b.batchSize;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The options of an {@link EvaluationRequest}; every setter returns the builder. */
  public static final class Builder {
    private final List<Double> scales = new ArrayList<>();
    private String prompt;
    private int count = Defaults.EVALUATE_COUNT;
    private Path classifier;
    private Path dataDir;
    private String method;
    private long seed;
    private int batchSize = Defaults.BATCH_SIZE;

    private Builder() {}

    /**
     * The guidance scales to measure at (default: {@link Defaults#EVALUATE_GUIDANCE} and the model's
     * own scale, {@link Defaults#evaluateScales}); a later call replaces them, as in {@link GenerationRequest}.
     */
    public Builder guidance(double... values) {
      if (values == null || values.length == 0) {
        throw DiffuseException.badValue("guidance", "guidance needs at least one scale");
      }
      for (double s : values) {
        if (!Double.isFinite(s)) {
          throw DiffuseException.badValue("guidance", "guidance must be a finite number, got " + s);
        }
      }
      scales.clear();
      for (double s : values) {
        scales.add(s);
      }
      return this;
    }

    /** One class to evaluate, as a prompt ("digit 7"); default every class. */
    public Builder prompt(String p) {
      if (p == null || p.isBlank()) {
        throw DiffuseException.badValue("prompt", "prompt is empty: name a class, e.g. \"digit 7\"");
      }
      prompt = p;
      return this;
    }

    /** Samples per class and scale, ≥ 2 (diversity needs pairs); default {@value Defaults#EVALUATE_COUNT}. */
    public Builder count(int n) {
      if (n < 2) {
        throw DiffuseException.badValue("count", "count must be >= 2 (diversity needs pairs), got " + n);
      }
      count = n;
      return this;
    }

    /** The classifier's directory (default: {@code <dataset>-classifier} beside the model's directory). */
    public Builder classifier(Path dir) {
      classifier = dir;
      return this;
    }

    /** Where the data set's images are read from (default: the cache the CLI uses). */
    public Builder dataDir(Path dir) {
      dataDir = dir;
      return this;
    }

    /**
     * The sampler and guidance method, written as {@code evaluate --method} takes it:
     * {@code SAMPLER[/STEPS][/key=value...]}, e.g. {@code dpm++2m/10}, {@code ddim/25/interval=0.3-5},
     * {@code dpm++2m/10/guide=models/mnist-guide} (default: generate's sampler, plain CFG).
     */
    public Builder method(String spec) {
      if (spec == null || spec.isBlank()) {
        throw DiffuseException.badValue("method", "method is empty: write SAMPLER[/STEPS][/key=value...]");
      }
      method = spec;
      return this;
    }

    /** Seed (class k draws from its own stream of it). */
    public Builder seed(long s) {
      seed = s;
      return this;
    }

    /** Images per network batch (default {@value Defaults#BATCH_SIZE}); results do not depend on it. */
    public Builder batchSize(int n) {
      if (n < 1) {
        throw DiffuseException.badValue("batchSize", "batchSize must be >= 1, got " + n);
      }
      batchSize = n;
      return this;
    }

    public EvaluationRequest build() {
      if (method != null) {
        Requests.method(method); // a bad spec fails here, naming "method"
      }
      return new EvaluationRequest(this);
    }
  }
}
