package diffuse.sampling;

import diffuse.schedule.TimeGrid;

import java.util.random.RandomGenerator;

/** The per-step formulas of the samplers, element-wise over a batch, in the papers' notation. */
final class Steps {
  private Steps() {}

  /**
   * x̂_0 = (x_t − √(1−ᾱ_t)·ε̂) / √ᾱ_t, inverting q(x_t | x_0) (Ho et al. 2020 Eq. 4), optionally
   * clipped to [−1, 1].
   */
  static float[] predictX0(float[] xt, float[] eps, double alphaBar, boolean clip) {
    double a = Math.sqrt(alphaBar);
    double s = Math.sqrt(1.0 - alphaBar);
    float[] x0 = new float[xt.length];
    for (int i = 0; i < xt.length; i++) {
      double v = (xt[i] - s * eps[i]) / a;
      x0[i] = (float) (clip ? Math.max(-1.0, Math.min(1.0, v)) : v);
    }
    return x0;
  }

  /**
   * x̂_0 read from the denoiser's estimate at ᾱ_t, optionally clipped to [−1, 1]: for an ε estimate
   * through {@link #predictX0} (at the grid's ᾱ, the numbers the samplers have always used), for an
   * x_0 or v estimate its own x_0 directly, without a round trip through ε.
   */
  static float[] x0(Estimate e, double alphaBar, boolean clip) {
    if (e.kind() == Prediction.EPS) {
      return predictX0(e.xt(), e.output(), alphaBar, clip);
    }
    float[] x0 = e.x0();
    if (clip) {
      x0 = x0.clone(); // an X0 estimate's x0() is its output array
      for (int i = 0; i < x0.length; i++) {
        x0[i] = Math.max(-1f, Math.min(1f, x0[i]));
      }
    }
    return x0;
  }

  /** ε = (x_t − √ᾱ_t·x̂_0) / √(1−ᾱ_t): the noise consistent with a (clipped) x̂_0. */
  static float[] epsFromX0(float[] xt, float[] x0, double alphaBar) {
    double a = Math.sqrt(alphaBar);
    double s = Math.sqrt(1.0 - alphaBar);
    float[] eps = new float[xt.length];
    for (int i = 0; i < xt.length; i++) {
      eps[i] = (float) ((xt[i] - a * x0[i]) / s);
    }
    return eps;
  }

  /** One update x_t → x_{t−1} at step index i given the denoiser's estimate: the next sample and the x̂_0 it used. */
  @FunctionalInterface
  interface Update {
    SamplerStep apply(int i, float[] x, Estimate estimate);
  }

  /**
   * The loop every sampler shares: from x_T, for step index i = n−1 … 0, ask the denoiser for its estimate at
   * the step's time on the grid and apply the update; the listener sees each step.
   */
  static float[] walk(TimeGrid grid, Denoiser denoiser, float[] xT, int[] labels,
      diffuse.api.Listener listener, Update update) {
    float[] x = xT.clone();
    int n = grid.numSteps();
    for (int i = n - 1; i >= 0; i--) {
      Estimate estimate = denoiser.denoise(x, Denoiser.times(grid.time(i), labels.length), labels);
      SamplerStep step = update.apply(i, x, estimate);
      x = step.x();
      listener.step(diffuse.api.StepState.of(n - i, n, labels.length, x, step.x0()));
    }
    return x;
  }

  /** Adds σ·z to {@code x}, z ~ N(0, I) drawn per sample from its own generator. */
  static void addNoise(float[] x, double sigma, RandomGenerator[] rngs) {
    if (sigma == 0) {
      return;
    }
    int per = x.length / rngs.length;
    for (int b = 0; b < rngs.length; b++) {
      for (int j = b * per, end = j + per; j < end; j++) {
        x[j] += (float) (sigma * rngs[b].nextGaussian());
      }
    }
  }
}
