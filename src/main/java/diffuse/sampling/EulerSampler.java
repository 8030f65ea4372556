package diffuse.sampling;

import diffuse.schedule.TimeGrid;
import java.util.random.RandomGenerator;

/**
 * Euler's method on the probability-flow ODE in the σ view (Karras et al. 2022, "Elucidating the
 * Design Space of Diffusion-Based Generative Models", Algorithm 1 without the second-order
 * correction): x̃_{i+1} = x̃_i + (σ_{i+1} − σ_i)·(x̃_i − D(x̃_i; σ_i))/σ_i, with x̃ = x_t/√ᾱ_t. Written
 * out, that is DDIM with η = 0 (Song et al. 2021, Eq. 12: x_{t'} = √ᾱ_{t'}·x̂_0 + √(1−ᾱ_{t'})·ε̂ is
 * x̃' = x̂_0 + σ'·ε̂ = x̃ + (σ' − σ)·ε̂) — the first-order reference for {@link HeunSampler}, and
 * tested to agree with {@link DdimSampler}.
 */
final class EulerSampler implements Sampler {
  private final TimeGrid grid;
  private final boolean clip;

  public EulerSampler(TimeGrid grid, boolean clip) {
    this.grid = grid;
    this.clip = clip;
  }

  @Override
  public float[] sample(Denoiser denoiser, float[] xT, int[] labels, RandomGenerator[] rngs, diffuse.api.Listener listener) {
    int n = grid.numSteps();
    double top = grid.alphaCumprod(n - 1);
    float[] x = new float[xT.length];
    for (int j = 0; j < x.length; j++) {
      x[j] = (float) (xT[j] / Math.sqrt(top));
    }
    for (int i = n - 1; i >= 0; i--) {
      double ab = grid.alphaCumprod(i);
      double abNext = grid.alphaCumprodPrev(i);
      HeunSampler.Slope slope = HeunSampler.slope(denoiser, x, labels, grid.time(i), ab, clip);
      float[] d = slope.d();
      if (abNext >= 1.0) {
        x = slope.x0();
      } else {
        double h = HeunSampler.sigma(abNext) - HeunSampler.sigma(ab);
        for (int j = 0; j < x.length; j++) {
          x[j] = (float) (x[j] + h * d[j]);
        }
      }
      double a = abNext >= 1.0 ? 1 : Math.sqrt(abNext);
      float[] xs = new float[x.length];
      for (int j = 0; j < xs.length; j++) {
        xs[j] = (float) (a * x[j]);
      }
      listener.step(diffuse.api.StepState.of(n - i, n, labels.length, xs, slope.x0()));
    }
    return x;
  }

  @Override
  public int steps() {
    return grid.numSteps();
  }
}
