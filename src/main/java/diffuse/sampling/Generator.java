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
  public float[] sample(int label, double scale, SamplerSpec spec, long seed, int first, int n, diffuse.api.Listener listener) {
    return sample(Batch.of(label, scale, seed, first, n), spec, listener);
  }

  /**
   * Samples a batch whose samples may differ in label, scale and seed: sample b is number
   * {@code indices[b]} of {@code seeds[b]}, of class {@code labels[b]} at guidance {@code scales[b]}.
   * Each sample is what it would be in a batch of its own.
   *
   * @return [batch · dim] samples in data units
   */
  public float[] sample(Batch batch, SamplerSpec spec, diffuse.api.Listener listener) {
    return sample(batch, spec, GuidanceMethod.PLAIN, listener);
  }

  /** {@link #sample(Batch, SamplerSpec, diffuse.api.Listener)} with guidance applied by {@code method}. */
  public float[] sample(Batch batch, SamplerSpec spec, Guider method, diffuse.api.Listener listener) {
    int n = batch.size();
    RandomGenerator[] rngs = new RandomGenerator[n];
    float[] xT = new float[n * dim];
    for (int b = 0; b < n; b++) {
      rngs[b] = streamFor(batch.seeds()[b], batch.indices()[b]);
      for (int j = 0; j < dim; j++) {
        xT[b * dim + j] = (float) rngs[b].nextGaussian();
      }
    }
    Sampler sampler = spec.create(schedule);
    return sampler.sample(method.guide(net, nullLabel, batch.scales(), schedule), xT,
        batch.labels(), rngs, listener);
  }

  /**
   * What to sample, per sample: class, guidance scale, and which random stream (seed, index).
   *
   * @param labels [batch]
   * @param scales [batch]
   * @param seeds [batch]
   * @param indices [batch]
   */
  public record Batch(int[] labels, double[] scales, long[] seeds, int[] indices) {
    public Batch {
      int n = labels.length;
      if (scales.length != n || seeds.length != n || indices.length != n || n == 0) {
        throw new IllegalArgumentException("a batch needs one label, scale, seed and index per sample");
      }
    }

    /** Samples first … first+n−1 of a seed, all of one class and scale. */
    public static Batch of(int label, double scale, long seed, int first, int n) {
      int[] labels = new int[n];
      double[] scales = new double[n];
      long[] seeds = new long[n];
      int[] indices = new int[n];
      Arrays.fill(labels, label);
      Arrays.fill(scales, scale);
      Arrays.fill(seeds, seed);
      for (int b = 0; b < n; b++) {
        indices[b] = first + b;
      }
      return new Batch(labels, scales, seeds, indices);
    }

    public int size() {
      return labels.length;
    }
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

  /** The label meaning "no class". */
  public int nullLabel() {
    return nullLabel;
  }

  /** Values per sample (H·W·C). */
  public int dim() {
    return dim;
  }

  public NoiseSchedule schedule() {
    return schedule;
  }
}
