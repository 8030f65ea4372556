package diffuse.sampling;

import java.util.random.RandomGenerator;

/** Walks a denoiser from noise x_T back to a sample x_0. */
public interface Sampler {
  /**
   * @param denoiser ε(x_t, t, y) (already guided if guidance is wanted)
   * @param xT starting noise, [batch · dim]; not modified
   * @param labels label per sample, passed to the denoiser
   * @param rngs one generator per sample for the fresh noise of stochastic steps, so a sample does
   *     not depend on which batch it is drawn in
   * @return x_0, [batch · dim]
   */
  float[] sample(Denoiser denoiser, float[] xT, int[] labels, RandomGenerator[] rngs, diffuse.api.Listener listener);

  /** Number of network evaluations (steps). */
  int steps();
}
