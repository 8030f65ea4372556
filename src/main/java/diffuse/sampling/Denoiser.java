package diffuse.sampling;

import java.util.Arrays;

/**
 * The only thing samplers need from a model: at noisy samples x_t, each at its own continuous time
 * t on the model's training schedule and with its own label y, a typed {@link Estimate} that reads
 * as ε, x_0 or v (Karras et al. 2022 §2 write the same contract as D(x; σ)). Implemented by a trained
 * network through {@link Prediction#denoiser}, by the exact score of a Gaussian mixture in tests,
 * and by guidance, which wraps a denoiser ({@link ClassifierFreeGuidance#guided}). Solvers call it
 * themselves, as often per step as their method needs.
 */
@FunctionalInterface
public interface Denoiser {
  /**
   * @param x noisy samples x_t, [batch · dim]
   * @param t continuous training time per sample, [batch], within [0, T−1]; a whole t is a training
   *     timestep
   * @param labels class label per sample, [batch] (the null label for unconditional)
   * @return the estimate at x, with ᾱ(t) per sample
   */
  Estimate denoise(float[] x, double[] t, int[] labels);

  /** ε̂ for a batch that shares one time t (whole or continuous): the samplers' usual call. */
  default float[] eps(float[] x, double t, int[] labels) {
    return denoise(x, times(t, labels.length), labels).eps();
  }

  /** The time t for each of {@code batch} samples: [batch]. */
  static double[] times(double t, int batch) {
    double[] ts = new double[batch];
    Arrays.fill(ts, t);
    return ts;
  }
}
