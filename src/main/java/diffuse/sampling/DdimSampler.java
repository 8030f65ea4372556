package diffuse.sampling;

import diffuse.schedule.TimeGrid;
import java.util.random.RandomGenerator;

/**
 * DDIM (Song, Meng &amp; Ermon 2021, "Denoising Diffusion Implicit Models"), Eq. 12:
 *
 * <pre>
 * x_{t−1} = √ᾱ_{t−1}·x̂_0 + √(1 − ᾱ_{t−1} − σ_t²)·ε̂ + σ_t·z,
 * σ_t = η·√((1 − ᾱ_{t−1})/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_{t−1})      (Eq. 16)
 * </pre>
 *
 * over the timesteps of a (respaced) grid. η = 0 is deterministic; η = 1 has the DDPM
 * posterior variance, so over all T steps it is DDPM.
 */
final class DdimSampler implements Sampler {
  private final TimeGrid grid;
  private final double eta;
  private final boolean clip;

  public DdimSampler(TimeGrid grid, double eta, boolean clip) {
    this.grid = grid;
    this.eta = eta;
    this.clip = clip;
  }

  /** σ_t of Eq. 16. */
  public static double sigma(double eta, double alphaBar, double alphaBarPrev) {
    return eta * Math.sqrt((1 - alphaBarPrev) / (1 - alphaBar)) * Math.sqrt(1 - alphaBar / alphaBarPrev);
  }

  /**
   * One step of Eq. 12 from ᾱ_t to ᾱ_{t−1}, given the estimate at x_t: x_{t−1} and the x̂_0 it
   * used; ε̂ is the estimate's own ε, or the one consistent with x̂_0 when that was clipped or read
   * from an x_0 or v network.
   */
  static SamplerStep step(float[] xt, Estimate estimate, double alphaBar, double alphaBarPrev, double eta,
      boolean clip, RandomGenerator[] rngs) {
    float[] x0 = Steps.x0(estimate, alphaBar, clip);
    float[] e = clip || estimate.kind() != Prediction.EPS ? Steps.epsFromX0(xt, x0, alphaBar) : estimate.output();
    double sigma = sigma(eta, alphaBar, alphaBarPrev);
    double a = Math.sqrt(alphaBarPrev);
    double d = Math.sqrt(Math.max(0.0, 1 - alphaBarPrev - sigma * sigma));
    float[] prev = new float[xt.length];
    for (int j = 0; j < xt.length; j++) {
      prev[j] = (float) (a * x0[j] + d * e[j]);
    }
    Steps.addNoise(prev, sigma, rngs);
    return new SamplerStep(prev, x0);
  }

  @Override
  public float[] sample(Denoiser denoiser, float[] xT, int[] labels, RandomGenerator[] rngs, diffuse.api.Listener listener) {
    return Steps.walk(grid, denoiser, xT, labels, listener, (i, x, e) ->
        step(x, e, grid.alphaCumprod(i), grid.alphaCumprodPrev(i), eta, clip, rngs));
  }

  @Override
  public int steps() {
    return grid.numSteps();
  }
}
