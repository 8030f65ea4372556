package diffuse.sampling;

import diffuse.schedule.TimeGrid;
import java.util.random.RandomGenerator;

/**
 * Heun's second-order method on the probability-flow ODE in the σ view (Karras, Aittala, Aila &amp;
 * Laine 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", Algorithm 1 with
 * S_churn = 0). With x̃ = x_t/√ᾱ_t, σ = √((1−ᾱ)/ᾱ) and the denoiser D(x̃; σ) = x̃ − σ·ε̂ (= x̂_0):
 *
 * <pre>
 * d_i   = (x̃_i − D(x̃_i; σ_i))/σ_i                       (= ε̂, Eq. 3's dx̃/dσ)
 * x̃'   = x̃_i + (σ_{i+1} − σ_i)·d_i                     (Euler, Algorithm 1 line 8)
 * d'    = (x̃' − D(x̃'; σ_{i+1}))/σ_{i+1}                 (line 11)
 * x̃_{i+1} = x̃_i + (σ_{i+1} − σ_i)·(d_i + d')/2         (line 12, the trapezoidal correction)
 * </pre>
 *
 * The σ_i are the noise levels of the time grid (whole or continuous times), so the correction evaluates
 * the network at the next step's timestep; the last step, to σ = 0, is a plain Euler step (line 9).
 * n steps cost 2n − 1 network evaluations. Without the correction this is {@link EulerSampler},
 * which is DDIM with η = 0.
 */
final class HeunSampler implements Sampler {
  private final TimeGrid grid;
  private final boolean clip;

  public HeunSampler(TimeGrid grid, boolean clip) {
    this.grid = grid;
    this.clip = clip;
  }

  /** σ = √((1−ᾱ)/ᾱ). */
  static double sigma(double alphaBar) {
    return Math.sqrt((1 - alphaBar) / alphaBar);
  }

  /**
   * dx̃/dσ at (x̃, σ) and the denoised image it came from.
   *
   * @param d (x̃ − D)/σ, [batch · dim]
   * @param x0 D = x̂_0 (clipped if asked), [batch · dim]
   */
  record Slope(float[] d, float[] x0) {}

  /** dx̃/dσ at (x̃, σ) from the network at timestep t: (x̃ − D)/σ with D = x̂_0 (clipped if asked). */
  static Slope slope(Denoiser denoiser, float[] xTilde, int[] labels, double t, double alphaBar, boolean clip) {
    double a = Math.sqrt(alphaBar);
    float[] xt = new float[xTilde.length];
    for (int j = 0; j < xt.length; j++) {
      xt[j] = (float) (a * xTilde[j]);
    }
    float[] x0 = Steps.x0(denoiser.denoise(xt, Denoiser.times(t, labels.length), labels), alphaBar, clip); // D = x̂_0
    double s = sigma(alphaBar);
    float[] d = new float[xt.length];
    for (int j = 0; j < d.length; j++) {
      d[j] = (float) ((xTilde[j] - x0[j]) / s);
    }
    return new Slope(d, x0);
  }

  @Override
  public float[] sample(Denoiser denoiser, float[] xT, int[] labels, RandomGenerator[] rngs, diffuse.api.Listener listener) {
    int n = grid.numSteps();
    double top = grid.alphaCumprod(n - 1);
    float[] x = new float[xT.length];
    for (int j = 0; j < x.length; j++) {
      x[j] = (float) (xT[j] / Math.sqrt(top)); // x̃ = x_T/√ᾱ_T
    }
    for (int i = n - 1; i >= 0; i--) {
      double ab = grid.alphaCumprod(i);
      double abNext = grid.alphaCumprodPrev(i);
      double s = sigma(ab);
      Slope slope = slope(denoiser, x, labels, grid.time(i), ab, clip);
      float[] d = slope.d();
      if (abNext >= 1.0) {
        x = slope.x0(); // σ_{i+1} = 0: x̃ + (0 − σ)·(x̃ − D)/σ = D
      } else {
        double sNext = sigma(abNext);
        double h = sNext - s;
        float[] euler = new float[x.length];
        for (int j = 0; j < x.length; j++) {
          euler[j] = (float) (x[j] + h * d[j]);
        }
        float[] d2 = slope(denoiser, euler, labels, grid.time(i - 1), abNext, clip).d();
        for (int j = 0; j < x.length; j++) {
          x[j] = (float) (x[j] + h * 0.5 * (d[j] + d2[j]));
        }
      }
      listener.step(diffuse.api.StepState.of(n - i, n, labels.length, scaled(x, abNext), slope.x0()));
    }
    return x;
  }

  /** x_t = √ᾱ·x̃, what listeners see (the VP sample). */
  private static float[] scaled(float[] xTilde, double alphaBar) {
    if (alphaBar >= 1.0) {
      return xTilde;
    }
    double a = Math.sqrt(alphaBar);
    float[] out = new float[xTilde.length];
    for (int j = 0; j < out.length; j++) {
      out[j] = (float) (a * xTilde[j]);
    }
    return out;
  }

  @Override
  public int steps() {
    return grid.numSteps();
  }

  /** Network evaluations per sample: 2n − 1. */
  public int evaluations() {
    return 2 * grid.numSteps() - 1;
  }
}
