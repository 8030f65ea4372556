package diffuse.sampling;

/** Sees every sampling step: for progress bars, trajectories and animations. */
@FunctionalInterface
public interface StepListener {
  StepListener NONE = (done, total, x, x0) -> {};

  /**
   * @param done steps finished (1 … total)
   * @param total number of steps
   * @param x the current sample x_{t−1}, [batch · dim]; do not modify
   * @param x0 the model's current estimate of x_0, [batch · dim]; do not modify
   */
  void onStep(int done, int total, float[] x, float[] x0);
}
