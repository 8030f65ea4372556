package diffuse.sampling;

import diffuse.schedule.NoiseSchedule;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Class-conditional generation with classifier-free guidance: draws x_T, wraps the network in
 * {@link ClassifierFreeGuidance#guided} and runs a sampler. Sample number i of a seed always gets the
 * same random stream (its starting noise and every fresh noise of the walk), so an image does not
 * depend on the batch it was drawn in or on how many others were drawn with it.
 */
public final class Generator {
  private final Denoiser net;
  private final NoiseSchedule schedule;
  private final int nullLabel;
  private final int dim;

  /**
   * @param net the conditional network ε(x, t, y)
   * @param schedule the schedule it was trained with
   * @param nullLabel the label meaning "no class"
   * @param dim values per sample (H·W·C)
   */
  public Generator(Denoiser net, NoiseSchedule schedule, int nullLabel, int dim) {
    this.net = net;
    this.schedule = schedule;
    this.nullLabel = nullLabel;
    this.dim = dim;
  }

  /** The random stream of sample {@code index} of {@code seed}. */
  public static RandomGenerator streamFor(long seed, long index) {
    return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + 0x632BE59BD9B4E019L);
  }

  /**
   * Samples {@code n} images of class {@code label}, numbers {@code first} … {@code first+n−1} of
   * {@code seed}, in one batch.
   *
   * @return [n · dim] samples in data units
   */
  public float[] sample(int label, double scale, SamplerSpec spec, long seed, int first, int n, StepListener listener) {
    RandomGenerator[] rngs = new RandomGenerator[n];
    float[] xT = new float[n * dim];
    drawNoise(seed, first, n, rngs, xT);
    int[] labels = new int[n];
    Arrays.fill(labels, label);
    Sampler sampler = spec.create(schedule);
    return sampler.sample(ClassifierFreeGuidance.guided(net, nullLabel, scale), xT, labels, rngs, listener);
  }

  /** The starting noise x_T of samples first … first+n−1 of a seed, [n · dim]. */
  public float[] initialNoise(long seed, int first, int n) {
    float[] xT = new float[n * dim];
    drawNoise(seed, first, n, new RandomGenerator[n], xT);
    return xT;
  }

  private void drawNoise(long seed, int first, int n, RandomGenerator[] rngs, float[] xT) {
    for (int b = 0; b < n; b++) {
      rngs[b] = streamFor(seed, first + b);
      for (int j = 0; j < dim; j++) {
        xT[b * dim + j] = (float) rngs[b].nextGaussian();
      }
    }
  }

  public NoiseSchedule schedule() {
    return schedule;
  }
}
