package diffuse.cli;

import diffuse.app.LoadedModel;
import diffuse.app.SamplingRequest;
import diffuse.io.ModelStore;
import diffuse.sampling.SamplerKind;
import diffuse.schedule.Spacing;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Model and sampler options shared by {@code generate}, {@code sweep}, {@code evaluate} and {@code bench}. */
final class SamplingOptions {
  static final int DEFAULT_DDIM_STEPS = diffuse.sampling.SamplerSpec.DEFAULT_DDIM_STEPS;

  @Option(names = "--model", paramLabel = "DIR|NAME", description = "Model directory, or a name looked up in"
      + " $DIFFUSE_MODELS (':'-separated directories) and then among the shipped models (default: models/mnist).")
  Path model;

  @Option(names = "--sampler", defaultValue = diffuse.api.Defaults.SAMPLER, paramLabel = "ddim|ddpm|dpm++2m|euler|heun", converter = SamplerName.class,
      description = "ddim (fast, --steps), ddpm (ancestral, all T steps unless --steps), dpm++2m (second-order"
          + " multistep, " + diffuse.sampling.SamplerSpec.DEFAULT_DPM_STEPS + " steps unless --steps), euler or heun (Karras et al."
          + " 2022; heun: 2 evaluations per step) (default: ${DEFAULT-VALUE}).")
  SamplerKind sampler;

  /** --sampler by the names users type (dpm++2m has a character an enum name cannot). */
  static final class SamplerName implements picocli.CommandLine.ITypeConverter<SamplerKind> {
    @Override
    public SamplerKind convert(String value) {
      try {
        return SamplerKind.parse(value);
      } catch (diffuse.api.DiffuseException e) {
        throw new picocli.CommandLine.TypeConversionException("ddim, ddpm, dpm++2m, euler or heun, not '" + value + "'");
      }
    }
  }

  @Option(names = "--steps", paramLabel = "N",
      description = "Sampling steps (default: " + DEFAULT_DDIM_STEPS + " for ddim, " + diffuse.sampling.SamplerSpec.DEFAULT_DPM_STEPS
          + " for dpm++2m, " + diffuse.sampling.SamplerSpec.DEFAULT_HEUN_STEPS + " for heun, " + DEFAULT_DDIM_STEPS + " for euler, T for ddpm).")
  Integer steps;

  @Option(names = "--eta", paramLabel = "η",
      description = "DDIM noise within [0, 1]: 0 deterministic, 1 = DDPM variance (default: 0; ddim only).")
  Double eta;

  @Option(names = "--clip", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Clip the predicted x_0 to the data range [-1, 1] at every step (default: on).")
  boolean clip;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed; same seed and options, same images (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--batch-size", defaultValue = "" + diffuse.api.Defaults.BATCH_SIZE, paramLabel = "N",
      description = "Images per network batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--spacing", paramLabel = "linspace|uniform|trailing|karras|karras-exact|logsnr",
      converter = SpacingName.class,
      description = "Which timesteps the steps use (default: trailing for dpm++2m, karras for euler and heun,"
          + " linspace for ddim and ddpm).")
  Spacing spacing;

  @Option(names = "--guidance-interval", paramLabel = "LO,HI|none",
      description = "Apply guidance only at noise levels σ = √((1−ᾱ)/ᾱ) in (LO, HI]; elsewhere the conditional"
          + " model alone (Kynkäänniemi et al. 2024); none: at every step. Default: the model's own (its model.json;"
          + " models/mnist: 0.3,5), else every step.")
  String interval;

  @Option(names = "--rescale", paramLabel = "φ",
      description = "CFG rescale φ within [0, 1] (Lin et al. 2023): pull the guided ε back toward the spread of the"
          + " conditional one (default: 0, off).")
  Double rescale;

  @Option(names = "--apg", paramLabel = "η",
      description = "Adaptive projected guidance (Sadat et al. 2024): take the guidance step on the denoised image"
          + " and weight its part parallel to the conditional prediction by η (0: drop it, the paper's choice;"
          + " 1: plain CFG). Default: off.")
  Double apg;

  @Option(names = "--apg-norm", paramLabel = "r",
      description = "With --apg: shrink each sample's guidance step on the denoised image to norm at most r"
          + " (default: no limit).")
  Double apgNorm;

  @Option(names = "--negative", paramLabel = "PROMPT",
      description = "Steer away from this class instead of from the unconditional model (e.g. \"digit 1\").")
  String negative;

  @Option(names = "--guide-model", paramLabel = "DIR|NAME",
      description = "Autoguidance (Karras et al. 2024): guide with this weaker model of the same labels and schedule"
          + " (smaller, or trained for less time) instead of the unconditional half: D = D_guide + s·(D − D_guide),"
          + " s = --guidance. One call of each model per step; none: classifier-free guidance alone. Default: the"
          + " model's own (its model.json's sampling.guideModel), else none.")
  Path guideModel;

  @Option(names = "--guide-cfg", paramLabel = "S",
      description = "With --guide-model: apply classifier-free guidance at scale S to the main model first, then"
          + " autoguidance; --guidance-interval, --rescale, --negative and --apg then shape that CFG (default: none).")
  Double guideCfg;

  @Option(names = "--guide-interval", paramLabel = "LO,HI",
      description = "With --guide-model: call the guide, and apply autoguidance, only at noise levels σ in (LO, HI];"
          + " elsewhere the main model (after --guide-cfg's CFG, if any) alone, which saves the guide's call there"
          + " (default: every step).")
  String guideInterval;

  @Mixin DeviceOptions device;

  SamplingRequest request() {
    var g = new diffuse.sampling.Guidance(interval(interval), rescale, negative, null, apg, apgNorm,
        guideModel == null ? null : guideModel.toString().equals(diffuse.sampling.Guidance.NO_GUIDE)
            ? diffuse.sampling.Guidance.NO_GUIDE : GenerateOptions.find(guideModel).toString(), null, guideCfg,
        guideInterval == null ? null : twoLevels("guideInterval", "--guide-interval", guideInterval), null);
    if (steps != null && steps < 1) {
      throw diffuse.api.DiffuseException.badValue("steps", "steps must be >= 1, got " + steps);
    }
    return new SamplingRequest(new diffuse.sampling.SamplerSpec(sampler, steps == null
        ? diffuse.sampling.SamplerSpec.DEFAULT_STEPS : steps, eta == null ? 0 : eta, clip, spacing), seed, batchSize, g);
  }

  /** --guidance-interval: null when not given (the model's own), empty for none (every step), else [LO, HI]. */
  static List<Double> interval(String value) {
    if (value == null) {
      return null;
    }
    if (value.trim().equalsIgnoreCase("none")) {
      return List.of();
    }
    List<Double> levels = levels(value);
    if (levels == null) {
      throw diffuse.api.DiffuseException.badValue("guidanceInterval", "--guidance-interval takes two noise levels"
          + " LO,HI or none, got '" + value + "'");
    }
    return levels;
  }

  /** --guide-interval LO,HI as [LO, HI]; fails naming {@code field} and the option. */
  static List<Double> twoLevels(String field, String option, String value) {
    List<Double> levels = levels(value);
    if (levels == null) {
      throw diffuse.api.DiffuseException.badValue(field, option + " takes two noise levels LO,HI, got '" + value + "'");
    }
    return levels;
  }

  /** "LO,HI" as [LO, HI], or null if it is not two numbers. */
  private static List<Double> levels(String value) {
    String[] parts = value.split(",", -1);
    try {
      return parts.length == 2 ? List.of(Double.parseDouble(parts[0].trim()), Double.parseDouble(parts[1].trim()))
          : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** {@code r} with its guide model, if any, found by name as --model is ({@link GenerateOptions#find}). */
  static SamplingRequest withGuideFound(SamplingRequest r) {
    var g = r.guidance();
    if (!g.isAutoguidance()) {
      return r;
    }
    return new SamplingRequest(r.sampler(), r.seed(), r.batchSize(),
        g.withGuideModel(GenerateOptions.find(Path.of(g.guideModel())).toString()));
  }

  /** --spacing by its lower-case name. */
  static final class SpacingName implements picocli.CommandLine.ITypeConverter<Spacing> {
    @Override
    public Spacing convert(String value) {
      try {
        return Spacing.parse(value);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException("linspace, uniform, trailing, karras, karras-exact or logsnr, not '"
            + value + "'");
      }
    }
  }

  Path modelDir() {
    return model != null ? GenerateOptions.find(model) : GenerateOptions.defaultModel();
  }

  ModelStore.StoredModel openModel() {
    return LoadedModel.openImageModel(modelDir());
  }

  LoadedModel load(ModelStore.StoredModel m) {
    return LoadedModel.load(m, device.resolve());
  }
}
