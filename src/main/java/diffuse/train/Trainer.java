package diffuse.train;

import diffuse.data.TrainingData;
import diffuse.model.TrainSettings;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.sampling.Prediction;
import diffuse.schedule.NoiseSchedule;
import java.util.SplittableRandom;

/**
 * The DDPM training loop body (Ho et al. 2020, Algorithm 1) with label dropout: for global step s,
 * take the batch of x_0 the epoch's shuffle gives, draw t ~ U{0..T−1} and ε ~ N(0, I), form x_t with
 * the schedule, replace each label by the null label with probability p_uncond, and take one Adam
 * step on ‖ε − ε_θ(x_t, t, y)‖².
 *
 * <p>Every random draw depends only on (seed, step), so a resumed run takes exactly the batches the
 * uninterrupted one would have.
 */
public final class Trainer {
  private final TrainingGraph graph;
  private final NoiseSchedule schedule;
  private final TrainingData data;
  private final TrainSettings settings;
  private final int nullLabel;
  private int[] permutation;
  private long permutationEpoch = -1;
  // per-step buffers, reused: a long run allocates nothing of image size per step
  private final float[] x0;
  private final float[] eps;
  private final float[] xt;
  private final float[] v;

  public Trainer(TrainingGraph graph, NoiseSchedule schedule, TrainingData data, TrainSettings settings, int nullLabel) {
    if (data.size() < settings.batchSize()) {
      throw new IllegalArgumentException("the data set has " + data.size()
          + " samples, fewer than one batch of " + settings.batchSize() + "; lower --batch-size");
    }
    this.graph = graph;
    this.schedule = schedule;
    this.data = data;
    this.settings = settings;
    this.nullLabel = nullLabel;
    int n = settings.batchSize() * data.sampleSize();
    x0 = new float[n];
    eps = new float[n];
    xt = new float[n];
    v = settings.target() == Prediction.EPS ? null : new float[n];
  }

  /** Full batches per pass over the data (the last partial batch is dropped). */
  public long stepsPerEpoch() {
    return data.size() / settings.batchSize();
  }

  /**
   * One training batch: x_t, t, (dropped) y, the ε that made x_t, the regression target (ε itself,
   * or v = α_t·ε − σ_t·x_0 for a v model) and the per-sample loss weights (null without Min-SNR).
   */
  public record Batch(float[] xt, int[] t, int[] labels, float[] noise, float[] target, float[] weights) {}

  /** The batch of 1-based global step {@code step}; its arrays are reused by the next call. */
  public Batch batch(long step) {
    int b = settings.batchSize();
    long epoch = (step - 1) / stepsPerEpoch();
    int k = (int) ((step - 1) % stepsPerEpoch());
    if (epoch != permutationEpoch) {
      permutation = shuffle(data.size(), new SplittableRandom(settings.seed() * 1_000_003L + epoch));
      permutationEpoch = epoch;
    }
    int[] idx = new int[b];
    System.arraycopy(permutation, k * b, idx, 0, b);
    SplittableRandom rng = new SplittableRandom(settings.seed() ^ (step * 0x9E3779B97F4A7C15L));
    data.fill(idx, x0);
    int[] t = new int[b];
    int[] y = new int[b];
    for (int i = 0; i < b; i++) {
      t[i] = settings.sampleTimestep(rng, schedule);
      y[i] = data.labels()[idx[i]];
    }
    for (int i = 0; i < eps.length; i++) {
      eps[i] = (float) rng.nextGaussian();
    }
    schedule.qSample(x0, t, eps, xt);
    int[] dropped = ClassifierFreeGuidance.dropLabels(y, settings.pUncond(), nullLabel, rng);
    float[] target = eps;
    int dim = data.sampleSize();
    if (settings.target() != Prediction.EPS) {
      for (int i = 0; i < b; i++) { // x0_i, or v_i = α·ε_i − σ·x0_i, at the sample's own t
        settings.target().target(x0, eps, schedule.alphaCumprod(t[i]), v, i * dim, dim);
      }
      target = v;
    }
    float[] w = null;
    if (settings.minSnrGamma() != null) {
      w = new float[b];
      for (int i = 0; i < b; i++) {
        w[i] = (float) settings.lossWeight(schedule.alphaCumprod(t[i]));
      }
    }
    return new Batch(xt, t, dropped, eps, target, w);
  }

  /** Runs 1-based global step {@code step}. */
  public TrainingGraph.StepResult step(long step) {
    Batch b = batch(step);
    return graph.step(b.xt(), b.t(), b.labels(), b.target(), b.weights(),
        settings.learningRateAt(step), step, settings.emaDecaysAt(step));
  }

  /** A uniformly random permutation of 0 … n−1 (Fisher–Yates). */
  public static int[] shuffle(int n, SplittableRandom rng) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int tmp = p[i];
      p[i] = p[j];
      p[j] = tmp;
    }
    return p;
  }
}
