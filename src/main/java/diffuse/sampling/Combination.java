package diffuse.sampling;

/**
 * How classifier-free guidance combines the two halves of its doubled batch — the prediction for
 * the label y and the one it is taken against (∅, or a negative class) — into the guided estimate,
 * per sample at its own scale s. Plain CFG is {@link #LINEAR}; {@link CfgRescale} and
 * {@link AdaptiveProjectedGuidance} are the other combinations.
 */
@FunctionalInterface
interface Combination {
  /**
   * @param both the estimate of the doubled batch: samples 0 … B−1 for y, B … 2B−1 against
   * @param x the noisy samples x_t, [B · dim]
   * @param scales s per sample, [B]
   * @param alphaBar ᾱ per sample, [B]
   * @return the guided estimate for the B samples
   */
  Estimate combine(Estimate both, float[] x, double[] scales, double[] alphaBar);

  /**
   * ε̃ = ε_against + s·(ε_y − ε_against) (Ho &amp; Salimans 2022, eq. 6 with w = s − 1); taken in ε,
   * which for weights summing to one equals taking it in x̂_0 or v.
   */
  Combination LINEAR = (both, x, scales, alphaBar) -> new Estimate(Prediction.EPS, linear(both.eps(), x.length, scales),
      x, alphaBar);

  /** The linear combination of the halves of {@code both} ([2 · n]), [n]. */
  static float[] linear(float[] both, int n, double[] scales) {
    int dim = n / scales.length;
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      float c = both[i], u = both[n + i];
      out[i] = (float) (u + scales[i / dim] * ((double) c - u));
    }
    return out;
  }
}
