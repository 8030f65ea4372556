package diffuse.sampling;

import diffuse.error.DiffuseException;
import diffuse.schedule.NoiseSchedule;

/**
 * A sampler and its options.
 *
 * @param kind DDPM or DDIM
 * @param steps network evaluations; DDPM with fewer than T steps runs on the respaced schedule
 * @param eta DDIM's η within [0, 1]: 0 deterministic, 1 the DDPM posterior variance (Song et al.
 *     2021, Eq. 16); DDPM has no η and takes 0 here
 * @param clip clip the predicted x_0 to the data range [−1, 1]
 */
public record SamplerSpec(SamplerKind kind, int steps, double eta, boolean clip) {
  public SamplerSpec {
    if (steps < 1) {
      throw DiffuseException.badValue("steps", "steps must be >= 1, got " + steps);
    }
    if (kind == SamplerKind.DDPM && eta != 0) {
      throw DiffuseException.badValue("eta", "eta applies to the ddim sampler only; ddpm always adds the posterior noise"
          + " (what ddim does at eta 1)");
    }
    if (!(eta >= 0 && eta <= 1)) {
      throw DiffuseException.badValue("eta", "eta must be a number within [0, 1] (0 deterministic, 1 DDPM-like noise), got "
          + eta);
    }
  }

  /** Builds the sampler for a model trained with {@code schedule}. */
  public Sampler create(NoiseSchedule schedule) {
    if (steps > schedule.numSteps()) {
      throw DiffuseException.badValue("steps", "steps " + steps + " exceeds the model's T = " + schedule.numSteps());
    }
    NoiseSchedule s = steps == schedule.numSteps() ? schedule : schedule.respace(steps);
    return switch (kind) {
      case DDPM -> new DdpmSampler(s, clip);
      case DDIM -> new DdimSampler(s, eta, clip);
    };
  }
}
