package diffuse.api;

/**
 * A guidance rule of your own, plugged into the solvers without touching them: how the conditional
 * and unconditional noise predictions of one sample combine into the guided one. The model runs once
 * per step on a doubled batch [x; x] with labels [y; ∅] — at every scale, s = 0 and 1 included — as
 * for classifier-free guidance (Ho &amp; Salimans 2022), whose rule is {@code uncond + scale·(cond − uncond)}.
 */
@FunctionalInterface
public interface CustomGuidance {
  /**
   * @param cond ε(x_t, t, y) of one sample, float [H·W·C]; do not modify
   * @param uncond ε(x_t, t, ∅) of the same sample, same shape; do not modify
   * @param scale the guidance scale of the sample's row
   * @param sigma the sample's noise level σ = √((1−ᾱ_t)/ᾱ_t), from ≈ 157 at the start to ≈ 0.01 at the end
   * @return the guided ε̃, same shape
   */
  float[] combine(float[] cond, float[] uncond, double scale, double sigma);
}
