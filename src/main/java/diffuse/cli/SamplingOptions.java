package diffuse.cli;

import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.model.SavedModelDenoiser;
import diffuse.sampling.Generator;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.SamplerSpec;
import diffuse.train.Device;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Model and sampler options shared by {@code generate} and {@code sweep}. */
final class SamplingOptions {
  /** Default DDIM steps: quick on a CPU, and indistinguishable from 100 steps on MNIST by eye. */
  static final int DEFAULT_DDIM_STEPS = 25;

  @Option(names = "--model", paramLabel = "DIR", description = "Model directory (default: the shipped models/mnist).")
  Path model;

  @Option(names = "--sampler", defaultValue = "ddim", paramLabel = "ddim|ddpm",
      description = "ddim (fast, --steps) or ddpm (ancestral, all T steps unless --steps) (default: ${DEFAULT-VALUE}).")
  SamplerKind sampler;

  @Option(names = "--steps", paramLabel = "N",
      description = "Sampling steps (default: " + DEFAULT_DDIM_STEPS + " for ddim, T for ddpm).")
  Integer steps;

  @Option(names = "--eta", paramLabel = "η",
      description = "DDIM noise within [0, 1]: 0 deterministic, 1 = DDPM variance (default: 0; ddim only).")
  Double eta;

  @Option(names = "--clip", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Clip the predicted x_0 to the data range [-1, 1] at every step (default: on).")
  boolean clip;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed; same seed and options, same images (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--batch-size", defaultValue = "64", paramLabel = "N", description = "Images per network batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Mixin DeviceOptions device;

  SamplerSpec spec(ModelInfo info) {
    int n = steps != null ? steps : sampler == SamplerKind.DDIM ? Math.min(DEFAULT_DDIM_STEPS, info.schedule().steps())
        : info.schedule().steps();
    if (batchSize < 1) {
      throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
    }
    return new SamplerSpec(sampler, n, eta == null ? 0 : eta, clip);
  }

  ModelStore.StoredModel openModel() {
    ModelStore.StoredModel m = ModelStore.open(model != null ? model : GenerateOptions.defaultModel());
    if (m.info().isToy()) {
      throw new IllegalArgumentException(m.dir() + " is a two-pixel toy model; use `diffuse toy sample` or `diffuse toy field`");
    }
    return m;
  }

  /** A loaded network and the generator around it. */
  record Loaded(SavedModelDenoiser net, Generator generator) implements AutoCloseable {
    @Override
    public void close() {
      net.close();
    }
  }

  Loaded load(ModelStore.StoredModel m) {
    Device.Choice d = device.resolve();
    ModelInfo info = m.info();
    SavedModelDenoiser net = new SavedModelDenoiser(m.savedModel(), info.network(), d.config());
    return new Loaded(net, new Generator(net, info.schedule().build(), info.nullLabel(), info.network().sampleSize()));
  }
}
