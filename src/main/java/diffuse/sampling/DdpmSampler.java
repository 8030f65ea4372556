package diffuse.sampling;

import diffuse.schedule.TimeGrid;
import java.util.random.RandomGenerator;

/**
 * Ancestral sampling (Ho et al. 2020, Algorithm 2), written through x̂_0: at each step
 * x_{t−1} = μ̃_t(x̂_0, x_t) + σ_t·z with μ̃_t = coef1·x̂_0 + coef2·x_t and σ_t² = β̃_t (Eq. 7); on a
 * shorter time grid the same formulas use the grid's β_i = 1 − ᾱ_i/ᾱ_{i−1} (improved-diffusion respace.py).
 */
final class DdpmSampler implements Sampler {
  private final TimeGrid grid;
  private final boolean clip;

  public DdpmSampler(TimeGrid grid, boolean clip) {
    this.grid = grid;
    this.clip = clip;
  }

  /** One step of Algorithm 2 at step index i, given the estimate at x_t: x_{t−1} and the x̂_0 it used. */
  static SamplerStep step(TimeGrid s, int i, float[] xt, Estimate estimate, boolean clip,
      RandomGenerator[] rngs) {
    float[] x0 = Steps.x0(estimate, s.alphaCumprod(i), clip);
    double c1 = s.posteriorMeanCoef1(i);
    double c2 = s.posteriorMeanCoef2(i);
    float[] prev = new float[xt.length];
    for (int j = 0; j < xt.length; j++) {
      prev[j] = (float) (c1 * x0[j] + c2 * xt[j]);
    }
    if (i > 0) {
      Steps.addNoise(prev, Math.sqrt(s.posteriorVariance(i)), rngs);
    }
    return new SamplerStep(prev, x0);
  }

  @Override
  public float[] sample(Denoiser denoiser, float[] xT, int[] labels, RandomGenerator[] rngs, diffuse.api.Listener listener) {
    return Steps.walk(grid, denoiser, xT, labels, listener, (i, x, e) ->
        step(grid, i, x, e, clip, rngs));
  }

  @Override
  public int steps() {
    return grid.numSteps();
  }
}
