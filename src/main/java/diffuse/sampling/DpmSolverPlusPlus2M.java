package diffuse.sampling;

import diffuse.schedule.TimeGrid;
import java.util.random.RandomGenerator;

/**
 * DPM-Solver++(2M) (Lu, Zhou, Bao, Chen, Li &amp; Zhu 2022, "DPM-Solver++: Fast Solver for Guided
 * Sampling of Diffusion Probabilistic Models", Algorithm 2): a deterministic multistep solver of the
 * probability-flow ODE in its data-prediction form, second order from one network call per step by
 * reusing the previous step's x̂_0. With α_t = √ᾱ_t, σ_t = √(1−ᾱ_t), λ_t = log(α_t/σ_t) and
 * h_i = λ_{t_i} − λ_{t_{i−1}}:
 *
 * <pre>
 * first step (Eq. 5, = DDIM):  x_{t_i} = (σ_{t_i}/σ_{t_{i−1}})·x_{t_{i−1}} − α_{t_i}·(e^{−h_i} − 1)·x̂_0(x_{t_{i−1}})
 * later steps (Algorithm 2):    D_i = (1 + 1/(2r_i))·x̂_0(x_{t_{i−1}}) − 1/(2r_i)·x̂_0(x_{t_{i−2}}),  r_i = h_{i−1}/h_i
 *                               x_{t_i} = (σ_{t_i}/σ_{t_{i−1}})·x_{t_{i−1}} − α_{t_i}·(e^{−h_i} − 1)·D_i
 * </pre>
 *
 * The last step, to the clean image (σ = 0, λ = ∞), is first order: x_0 = x̂_0, which is also
 * DDIM's last step. With fewer than {@value #LOWER_ORDER_BELOW} steps the step before it is first
 * order too (the "lower order final" of the authors' and diffusers' implementations): evenly
 * spaced timesteps end with a jump in λ several times the previous one (t = 111 → 0 at 10 steps),
 * over which the second-order extrapolation, with r = h_{i−1}/h_i ≪ 1, overshoots. Guidance
 * needs no change: the guided ε̃ gives the guided x̂_0, the case the paper is written for.
 */
final class DpmSolverPlusPlus2M implements Sampler {
  /** Below this many steps the last two steps are first order. */
  public static final int LOWER_ORDER_BELOW = 15;

  private final TimeGrid grid;
  private final boolean clip;

  /**
   * @param grid the times to step through
   * @param clip clip x̂_0 to [−1, 1] before it is used (the thresholding the paper pairs with it)
   */
  public DpmSolverPlusPlus2M(TimeGrid grid, boolean clip) {
    this.grid = grid;
    this.clip = clip;
  }

  /** λ = log(α/σ) = ½·log(ᾱ/(1−ᾱ)), the half log-SNR the solver steps in. */
  public static double lambda(double alphaBar) {
    return 0.5 * Math.log(alphaBar / (1 - alphaBar));
  }

  /**
   * One step from ᾱ_s to ᾱ_t &lt; 1 given the data prediction {@code d} (x̂_0, or the multistep
   * combination D_i): x_t = (σ_t/σ_s)·x_s − α_t·(e^{−h} − 1)·d.
   */
  static float[] step(float[] xs, float[] d, double alphaBarS, double alphaBarT) {
    double h = lambda(alphaBarT) - lambda(alphaBarS);
    double ratio = Math.sqrt((1 - alphaBarT) / (1 - alphaBarS));
    double coef = -Math.sqrt(alphaBarT) * Math.expm1(-h);
    float[] out = new float[xs.length];
    for (int j = 0; j < xs.length; j++) {
      out[j] = (float) (ratio * xs[j] + coef * d[j]);
    }
    return out;
  }

  /** D_i = (1 + 1/(2r))·x̂_0 − 1/(2r)·x̂_0,prev with r = h_prev/h (Algorithm 2, line 6). */
  static float[] secondOrder(float[] x0, float[] x0Prev, double hPrev, double h) {
    double r = hPrev / h;
    double a = 1 + 1 / (2 * r);
    double b = 1 / (2 * r);
    float[] out = new float[x0.length];
    for (int j = 0; j < x0.length; j++) {
      out[j] = (float) (a * x0[j] - b * x0Prev[j]);
    }
    return out;
  }

  @Override
  public float[] sample(Denoiser denoiser, float[] xT, int[] labels, RandomGenerator[] rngs, diffuse.api.Listener listener) {
    float[] x = xT.clone();
    int n = grid.numSteps();
    float[] x0Prev = null;
    double hPrev = Double.NaN;
    for (int i = n - 1; i >= 0; i--) {
      double ab = grid.alphaCumprod(i);
      double abNext = grid.alphaCumprodPrev(i);
      // the solver is written in the data prediction x̂_0: read it from the estimate
      float[] x0 = Steps.x0(denoiser.denoise(x, Denoiser.times(grid.time(i), labels.length), labels), ab, clip);
      if (abNext >= 1.0) {
        x = x0;
      } else {
        double h = lambda(abNext) - lambda(ab);
        boolean firstOrder = x0Prev == null || (i == 1 && n < LOWER_ORDER_BELOW);
        x = step(x, firstOrder ? x0 : secondOrder(x0, x0Prev, hPrev, h), ab, abNext);
        hPrev = h;
      }
      x0Prev = x0;
      listener.step(diffuse.api.StepState.of(n - i, n, labels.length, x, x0));
    }
    return x;
  }

  @Override
  public int steps() {
    return grid.numSteps();
  }
}
