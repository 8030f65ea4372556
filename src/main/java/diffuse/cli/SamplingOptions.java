package diffuse.cli;

import diffuse.app.LoadedModel;
import diffuse.app.SamplingRequest;
import diffuse.io.ModelStore;
import diffuse.sampling.SamplerKind;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Model and sampler options shared by {@code generate}, {@code sweep}, {@code evaluate} and {@code bench}. */
final class SamplingOptions {
  static final int DEFAULT_DDIM_STEPS = SamplingRequest.DEFAULT_DDIM_STEPS;

  @Option(names = "--model", paramLabel = "DIR", description = "Model directory (default: the shipped models/mnist).")
  Path model;

  @Option(names = "--sampler", defaultValue = "ddim", paramLabel = "ddim|ddpm|dpm++2m", converter = SamplerName.class,
      description = "ddim (fast, --steps), ddpm (ancestral, all T steps unless --steps) or dpm++2m (second-order"
          + " multistep, " + SamplingRequest.DEFAULT_DPM_STEPS + " steps unless --steps) (default: ${DEFAULT-VALUE}).")
  SamplerKind sampler;

  /** --sampler by the names users type (dpm++2m has a character an enum name cannot). */
  static final class SamplerName implements picocli.CommandLine.ITypeConverter<SamplerKind> {
    @Override
    public SamplerKind convert(String value) {
      try {
        return SamplerKind.parse(value);
      } catch (diffuse.error.DiffuseException e) {
        throw new picocli.CommandLine.TypeConversionException("ddim, ddpm or dpm++2m, not '" + value + "'");
      }
    }
  }

  @Option(names = "--steps", paramLabel = "N",
      description = "Sampling steps (default: " + DEFAULT_DDIM_STEPS + " for ddim, " + SamplingRequest.DEFAULT_DPM_STEPS
          + " for dpm++2m, T for ddpm).")
  Integer steps;

  @Option(names = "--eta", paramLabel = "η",
      description = "DDIM noise within [0, 1]: 0 deterministic, 1 = DDPM variance (default: 0; ddim only).")
  Double eta;

  @Option(names = "--clip", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Clip the predicted x_0 to the data range [-1, 1] at every step (default: on).")
  boolean clip;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed; same seed and options, same images (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--batch-size", defaultValue = "" + SamplingRequest.DEFAULT_BATCH_SIZE, paramLabel = "N",
      description = "Images per network batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Mixin DeviceOptions device;

  SamplingRequest request() {
    return new SamplingRequest(sampler, steps, eta, clip, seed, batchSize);
  }

  Path modelDir() {
    return model != null ? model : GenerateOptions.defaultModel();
  }

  ModelStore.StoredModel openModel() {
    return LoadedModel.openImageModel(modelDir());
  }

  LoadedModel load(ModelStore.StoredModel m) {
    return LoadedModel.load(m, device.resolve());
  }
}
