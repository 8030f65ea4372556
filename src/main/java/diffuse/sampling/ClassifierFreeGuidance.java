package diffuse.sampling;

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
      throw new IllegalArgumentException("guidance scale must be a finite number, got " + scale);
    }
    return scale;
  }

  /**
   * A denoiser that returns the guided ε̃ for labels y. The conditional and the unconditional
   * predictions come from one call of {@code net} on a doubled batch [x; x] with labels [y; ∅]; at
   * s = 1 or s = 0 only the one needed half is computed, which gives the same result exactly.
   */
  public static Denoiser guided(Denoiser net, int nullLabel, double scale) {
    requireFinite(scale);
    return (x, batch, t, labels) -> {
      int[] nulls = new int[batch];
      java.util.Arrays.fill(nulls, nullLabel);
      if (scale == 1.0) {
        return net.predictNoise(x, batch, t, labels);
      }
      if (scale == 0.0) {
        return net.predictNoise(x, batch, t, nulls);
      }
      float[] xx = new float[x.length * 2];
      System.arraycopy(x, 0, xx, 0, x.length);
      System.arraycopy(x, 0, xx, x.length, x.length);
      int[] yy = new int[batch * 2];
      System.arraycopy(labels, 0, yy, 0, batch);
      System.arraycopy(nulls, 0, yy, batch, batch);
      float[] both = net.predictNoise(xx, batch * 2, t, yy);
      float[] cond = java.util.Arrays.copyOfRange(both, 0, x.length);
      float[] uncond = java.util.Arrays.copyOfRange(both, x.length, both.length);
      return combine(uncond, cond, scale);
    };
  }
}
