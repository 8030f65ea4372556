package diffuse.sampling;

/**
 * A trained network's raw output f_θ(x_t, t, y), before anyone says what it means: ε, x_0 or v, as
 * the model's {@link Prediction} records. {@link Prediction#denoiser} turns it into a
 * {@link Denoiser}. Implemented by the TensorFlow SavedModel.
 */
@FunctionalInterface
public interface Network {
  /**
   * @param x noisy samples, [batch · dim] (images flattened NHWC)
   * @param t continuous training time per sample, [batch], within [0, T−1]
   * @param labels class label per sample, [batch] (the null label for unconditional)
   * @return the network's output, [batch · dim]
   */
  float[] predict(float[] x, double[] t, int[] labels);
}
