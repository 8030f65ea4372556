package diffuse.sampling;

import diffuse.api.DiffuseException;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Classifier-free guidance (Ho &amp; Salimans 2022, "Classifier-Free Diffusion Guidance"): one network
 * learns ε(x, t, y) and ε(x, t, ∅) because training replaces labels by the null label ∅ at rate
 * p_uncond; sampling combines the two as
 *
 * <pre>ε̃ = ε(x, t, ∅) + s·(ε(x, t, y) − ε(x, t, ∅))</pre>
 *
 * with s = 0 unconditional, s = 1 conditional, s &gt; 1 guided (the convention of diffusers and
 * k-diffusion; the paper's w is s − 1).
 */
public final class ClassifierFreeGuidance {
  private ClassifierFreeGuidance() {}

  /** Label dropout: each label becomes {@code nullLabel} with probability {@code pUncond}. */
  public static int[] dropLabels(int[] labels, double pUncond, int nullLabel, RandomGenerator rng) {
    int[] out = labels.clone();
    for (int i = 0; i < out.length; i++) {
      if (rng.nextDouble() < pUncond) {
        out[i] = nullLabel;
      }
    }
    return out;
  }

  /** ε̃ = ε_uncond + s·(ε_cond − ε_uncond), element-wise. */
  public static float[] combine(float[] uncond, float[] cond, double scale) {
    if (uncond.length != cond.length) {
      throw new IllegalArgumentException("predictions differ in size: " + uncond.length + " vs " + cond.length);
    }
    float[] out = new float[cond.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (uncond[i] + scale * ((double) cond[i] - uncond[i]));
    }
    return out;
  }

  /** Rejects scales that are not finite numbers. */
  public static double requireFinite(double scale) {
    if (!Double.isFinite(scale)) {
      throw DiffuseException.badValue("guidance", "guidance must be a finite number, got " + scale);
    }
    return scale;
  }

  /**
   * A denoiser that returns the guided ε̃ for labels y. The conditional and the unconditional
   * predictions come from one call of {@code net} on a doubled batch [x; x] with labels [y; ∅] (and
   * the times [t; t]); at s = 1 or s = 0 only the one needed half is computed, which gives the same
   * result exactly. The guided estimate is an ε estimate: the combination is taken in ε, which for
   * weights that sum to one equals taking it in x_0 or v.
   */
  public static Denoiser guided(Denoiser net, int nullLabel, double scale) {
    requireFinite(scale);
    return (x, t, labels) -> guide(net, nullLabel, filled(scale, labels.length), Combination.LINEAR, x, t, labels);
  }

  /**
   * {@link #guided(Denoiser, int, double)} with a scale per sample, [batch]: sample i gets
   * ε̃_i = ε_uncond,i + s_i·(ε_cond,i − ε_uncond,i), bit for bit what it gets in a batch of its own
   * scale (so requests at different scales can share one network call). Still one call: only the
   * conditional half when every s_i = 1, only the unconditional half when every s_i = 0, else the
   * doubled batch.
   */
  public static Denoiser guided(Denoiser net, int nullLabel, double[] scales) {
    return guided(net, nullLabel, scales, GuidanceMethod.PLAIN, null);
  }

  /**
   * {@link #guided(Denoiser, int, double[])} applied by {@code method}: only inside its noise
   * interval (elsewhere the conditional estimate alone; when no sample of the call is inside it,
   * only the conditional half is computed), against its negative class instead of ∅, rescaled by
   * its φ. The interval is judged per sample, at σ of that sample's own time.
   *
   * @param schedule the model's full schedule, for σ(t) of the interval; may be null for an
   *     interval-free method
   */
  static Denoiser guided(Denoiser net, int nullLabel, double[] scales, GuidanceMethod method,
      diffuse.schedule.NoiseSchedule schedule) {
    for (double s : scales) {
      requireFinite(s);
    }
    GuidanceInterval interval = method.interval();
    if (interval.limits() && schedule == null) {
      throw new IllegalArgumentException("a guidance interval needs the schedule");
    }
    double[] copy = scales.clone();
    int against = method.againstLabel(nullLabel);
    Combination combination = method.combination();
    return (x, t, labels) -> {
      if (labels.length != copy.length) {
        throw new IllegalArgumentException("batch of " + labels.length + " for " + copy.length + " scales");
      }
      double[] s = interval.limits() ? interval.scalesAt(copy, t, schedule) : copy;
      return guide(net, against, s, combination, x, t, labels);
    };
  }

  /** A per-sample rule for the two halves of the doubled batch, in ε. */
  @FunctionalInterface
  public interface Rule {
    /** ε̃ of one sample from its ε(y) and ε(∅), [dim], at scale s and noise level σ. */
    float[] combine(float[] cond, float[] uncond, double scale, double sigma);
  }

  /**
   * Classifier-free guidance with {@code rule} in place of the linear combination: one doubled batch
   * per evaluation (or its needed half where every s is 1 or 0, as always), then {@code rule} per
   * sample on ε.
   */
  public static Guider withRule(Rule rule) {
    return (net, nullLabel, scales, schedule) -> {
      for (double s : scales) {
        requireFinite(s);
      }
      double[] copy = scales.clone();
      Combination perSample = (both, x, s, alphaBar) -> {
        float[] eps = both.eps();
        int n = x.length, dim = n / s.length;
        float[] out = new float[n];
        for (int b = 0; b < s.length; b++) {
          float[] cond = Arrays.copyOfRange(eps, b * dim, (b + 1) * dim);
          float[] uncond = Arrays.copyOfRange(eps, n + b * dim, n + (b + 1) * dim);
          float[] g = rule.combine(cond, uncond, s[b], Math.sqrt((1 - alphaBar[b]) / alphaBar[b]));
          if (g == null || g.length != dim) {
            throw new IllegalStateException("a guidance rule returned " + (g == null ? "null" : g.length + " values")
                + " for a sample of " + dim);
          }
          System.arraycopy(g, 0, out, b * dim, dim);
        }
        return new Estimate(Prediction.EPS, out, x, alphaBar);
      };
      return (x, t, labels) -> doubled(net, nullLabel, copy, perSample, x, t, labels);
    };
  }

  private static double[] filled(double scale, int batch) {
    double[] s = new double[batch];
    Arrays.fill(s, scale);
    return s;
  }

  /**
   * The guided estimate against label {@code against} (∅ or a negative class): the conditional half
   * alone where every s = 1, the other half alone where every s = 0, else one doubled batch
   * [x; x] with labels [y; against], its halves put together by {@code combination}.
   */
  private static Estimate guide(Denoiser net, int against, double[] scales, Combination combination, float[] x,
      double[] t, int[] labels) {
    int batch = labels.length;
    int[] nulls = new int[batch];
    Arrays.fill(nulls, against);
    boolean allOne = true, allZero = true;
    for (double s : scales) {
      allOne &= s == 1.0;
      allZero &= s == 0.0;
    }
    if (allOne) {
      return net.denoise(x, t, labels);
    }
    if (allZero) {
      return net.denoise(x, t, nulls);
    }
    return doubled(net, against, scales, combination, x, t, labels);
  }

  /** One doubled batch [x; x] with labels [y; against], its halves put together by {@code combination}. */
  private static Estimate doubled(Denoiser net, int against, double[] scales, Combination combination, float[] x,
      double[] t, int[] labels) {
    int batch = labels.length;
    int[] nulls = new int[batch];
    Arrays.fill(nulls, against);
    float[] xx = new float[x.length * 2];
    System.arraycopy(x, 0, xx, 0, x.length);
    System.arraycopy(x, 0, xx, x.length, x.length);
    double[] tt = new double[batch * 2];
    System.arraycopy(t, 0, tt, 0, batch);
    System.arraycopy(t, 0, tt, batch, batch);
    int[] yy = new int[batch * 2];
    System.arraycopy(labels, 0, yy, 0, batch);
    System.arraycopy(nulls, 0, yy, batch, batch);
    Estimate estimate = net.denoise(xx, tt, yy);
    return combination.combine(estimate, x, scales, Arrays.copyOf(estimate.alphaBar(), batch));
  }

  /** A scale as people write it: 2.0 → "2", 1.5 → "1.5" (file names, labels, tables). */
  public static String formatScale(double s) {
    return s == Math.rint(s) && Math.abs(s) < 1e15 ? String.valueOf((long) s) : String.valueOf(s);
  }
}
