package diffuse.app;

/**
 * What a running use case reports, and how its caller stops it. Services call it from the thread
 * they run on; the CLI draws a progress bar from it, the server streams it to the page.
 */
public interface Progress {
  /** Reports nothing and never cancels. */
  Progress NONE = (done, total) -> {};

  /**
   * One unit of work finished (a sampling step of one batch, a training step, …).
   *
   * @param done units finished so far, 1 … total
   * @param total units in the whole job
   */
  void onStep(long done, long total);

  /**
   * The sampler's state after a step, for previews and animations: samples {@code first} …
   * {@code first+n−1} of row {@code row}.
   *
   * @param step steps finished in this batch, 1 … steps
   * @param x the current x_t, [n · H·W·C]; do not modify
   * @param x0 the current prediction x̂_0, [n · H·W·C]; do not modify
   */
  default void onState(int row, int first, int n, int step, int steps, float[] x, float[] x0) {}

  /** Polled between steps; once true the service stops with a {@code CANCELLED} failure. */
  default boolean cancelled() {
    return false;
  }
}
