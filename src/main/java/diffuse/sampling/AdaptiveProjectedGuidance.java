package diffuse.sampling;

import diffuse.api.DiffuseException;
import java.util.Arrays;

/**
 * Adaptive projected guidance (APG; Sadat, Hilliges &amp; Weber 2024, "Eliminating Oversaturation and
 * Artifacts of High Guidance Scales in Diffusion Models", eq. 8–11 and Alg. 1 without the momentum
 * term), taken on the denoised x̂_0, per sample:
 *
 * <pre>
 * Δ  = x̂_0(y) − x̂_0(∅)                       guidance direction (eq. 8)
 * Δ ← Δ · min(1, r / ‖Δ‖)                     rescaled to norm at most r (eq. 11; r = ∞: off)
 * Δ∥ = (⟨Δ, x̂_0(y)⟩ / ‖x̂_0(y)‖²) · x̂_0(y)     projection on the conditional prediction (eq. 9)
 * Δ⊥ = Δ − Δ∥
 * x̃_0 = x̂_0(y) + (s − 1)·(Δ⊥ + η·Δ∥)            (eq. 10)
 * </pre>
 *
 * η = 1, r = ∞ is plain CFG taken on x̂_0 (equal to it on ε up to rounding); η = 0 drops the
 * parallel part, the paper's choice.
 *
 * @param eta weight η ≥ 0 of the parallel part
 * @param normThreshold r &gt; 0, or +∞ for no rescaling
 */
record AdaptiveProjectedGuidance(double eta, double normThreshold) implements Combination {
  public AdaptiveProjectedGuidance {
    if (!(eta >= 0) || Double.isInfinite(eta)) {
      throw DiffuseException.badValue("apg", "apg η must be a finite number >= 0, got " + eta);
    }
    if (!(normThreshold > 0)) {
      throw DiffuseException.badValue("apgNorm", "apgNorm r must be > 0, got " + normThreshold);
    }
  }

  @Override
  public Estimate combine(Estimate both, float[] x, double[] scales, double[] alphaBar) {
    float[] x0 = both.x0();
    return new Estimate(Prediction.X0, combine(Arrays.copyOf(x0, x.length),
        Arrays.copyOfRange(x0, x.length, 2 * x.length), scales), x, alphaBar);
  }

  /**
   * x̃_0 of eq. 10 for every sample, [batch · dim].
   *
   * @param cond x̂_0(y), [batch · dim]
   * @param against x̂_0(∅) (or of the negative class), [batch · dim]
   * @param scales s per sample, [batch]
   */
  public float[] combine(float[] cond, float[] against, double[] scales) {
    int batch = scales.length;
    int dim = cond.length / batch;
    float[] out = new float[cond.length];
    double[] delta = new double[dim];
    for (int b = 0; b < batch; b++) {
      int off = b * dim;
      double norm2 = 0, dot = 0, cc = 0;
      for (int j = 0; j < dim; j++) {
        delta[j] = (double) cond[off + j] - against[off + j];
        norm2 += delta[j] * delta[j];
      }
      double shrink = Double.isInfinite(normThreshold) || norm2 == 0 ? 1
          : Math.min(1, normThreshold / Math.sqrt(norm2));
      for (int j = 0; j < dim; j++) {
        delta[j] *= shrink;
        dot += delta[j] * cond[off + j];
        cc += (double) cond[off + j] * cond[off + j];
      }
      double par = cc == 0 ? 0 : dot / cc; // Δ∥ = par · x̂_0(y)
      double w = scales[b] - 1;
      for (int j = 0; j < dim; j++) {
        double parallel = par * cond[off + j];
        double orthogonal = delta[j] - parallel;
        out[off + j] = (float) (cond[off + j] + w * (orthogonal + eta * parallel));
      }
    }
    return out;
  }
}
