package diffuse.api;

/**
 * The sampler's state after one step, for samples {@code first} … {@code first + count − 1} of
 * row {@code row} (rows are (prompt, scale) pairs in request order). The arrays are the sampler's
 * own: read them during the call, copy what you keep.
 *
 * @param row the row these samples belong to
 * @param first index of the first sample of this batch within its row
 * @param count samples in this batch
 * @param step steps finished in this batch, 1 … steps
 * @param steps steps the sampler takes
 * @param x the current x_t, float [count · H·W·C], NHWC, data units (≈ [−1, 1] at the end)
 * @param x0 the current estimate x̂_0 of the clean images, same shape
 */
public record StepState(int row, int first, int count, int step, int steps, float[] x, float[] x0) {
  /** A solver's step over a whole batch of {@code count} samples (row 0, first 0: the caller places it). */
  public static StepState of(int step, int steps, int count, float[] x, float[] x0) {
    return new StepState(0, 0, count, step, steps, x, x0);
  }

  /** This state as samples {@code first} … of row {@code row}. */
  public StepState at(int row, int first) {
    return new StepState(row, first, count, step, steps, x, x0);
  }
}
