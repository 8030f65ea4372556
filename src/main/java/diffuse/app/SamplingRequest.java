package diffuse.app;

import diffuse.error.DiffuseException;
import diffuse.io.ModelInfo;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.SamplerSpec;

/**
 * How to sample, as a user asks for it (CLI options or an API request): unset values take the
 * model's defaults in {@link #spec(ModelInfo)}.
 *
 * @param sampler DDIM, DDPM or DPM-Solver++(2M)
 * @param steps network evaluations, or null for the default ({@value #DEFAULT_DDIM_STEPS} for DDIM,
 *     {@value #DEFAULT_DPM_STEPS} for DPM-Solver++, T for DDPM)
 * @param eta DDIM's η within [0, 1], or null (0); an error with DDPM
 * @param clip clip x̂_0 to [−1, 1] at every step
 * @param seed sample i of a request uses the random stream (seed, i)
 * @param batchSize images per network batch (a speed/memory knob; results do not depend on it)
 */
public record SamplingRequest(SamplerKind sampler, Integer steps, Double eta, boolean clip, long seed, int batchSize) {
  /** Default DDIM steps: quick on a CPU, and indistinguishable from 100 steps on MNIST by eye. */
  public static final int DEFAULT_DDIM_STEPS = 25;
  /** Default DPM-Solver++(2M) steps: the regime it is made for (Lu et al. 2022 use 10–20). */
  public static final int DEFAULT_DPM_STEPS = 10;
  /** Default images per network batch. */
  public static final int DEFAULT_BATCH_SIZE = 64;

  public SamplingRequest {
    if (sampler == null) {
      throw DiffuseException.badValue("sampler", "sampler must be ddim, ddpm or dpm++2m");
    }
    if (batchSize < 1) {
      throw DiffuseException.badValue("batchSize", "batchSize must be >= 1, got " + batchSize);
    }
  }

  /** DDIM at its default steps, η = 0, clipping on, seed 0. */
  public static SamplingRequest defaults() {
    return new SamplingRequest(SamplerKind.DDIM, null, null, true, 0, DEFAULT_BATCH_SIZE);
  }

  public SamplingRequest withSeed(long s) {
    return new SamplingRequest(sampler, steps, eta, clip, s, batchSize);
  }

  /** The sampler and options for {@code info}'s model, unset values filled in; fails on bad values. */
  public SamplerSpec spec(ModelInfo info) {
    int n = steps != null ? steps : switch (sampler) {
      case DDIM -> Math.min(DEFAULT_DDIM_STEPS, info.schedule().steps());
      case DPMPP_2M -> Math.min(DEFAULT_DPM_STEPS, info.schedule().steps());
      case DDPM -> info.schedule().steps();
    };
    if (n > info.schedule().steps()) {
      throw DiffuseException.badValue("steps", "steps " + n + " exceeds the model's T = " + info.schedule().steps());
    }
    return new SamplerSpec(sampler, n, eta == null ? 0 : eta, clip);
  }
}
