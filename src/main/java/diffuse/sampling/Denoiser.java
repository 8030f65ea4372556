package diffuse.sampling;

/**
 * A noise predictor ε(x_t, t, y), the only thing samplers need from a model. Implemented by the
 * TensorFlow network, by the exact score of a Gaussian mixture in tests, and by guidance wrappers.
 */
@FunctionalInterface
public interface Denoiser {
  /**
   * @param x noisy samples, [batch · dim] (images flattened NHWC)
   * @param batch number of samples
   * @param t training timestep 0 … T−1, the same for the whole batch
   * @param labels class label per sample, [batch] (the null label for unconditional)
   * @return predicted noise, [batch · dim]
   */
  float[] predictNoise(float[] x, int batch, int t, int[] labels);
}
