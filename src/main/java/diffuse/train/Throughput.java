package diffuse.train;

/**
 * Images per second of a run, from its second step on (the first includes TensorFlow's graph
 * optimisation); before that, the figure of the previous run.
 */
final class Throughput {
  private final int batchSize;
  private long timedFrom = System.nanoTime();
  private long timedSteps = -1;
  private double imagesPerSecond;

  Throughput(int batchSize, double previous) {
    this.batchSize = batchSize;
    this.imagesPerSecond = previous;
  }

  /** A step has finished. */
  void stepDone() {
    if (timedSteps < 0) {
      timedFrom = System.nanoTime();
      timedSteps = 0;
    } else {
      timedSteps++;
      imagesPerSecond = timedSteps * batchSize / ((System.nanoTime() - timedFrom) / 1e9);
    }
  }

  double imagesPerSecond() {
    return imagesPerSecond;
  }
}
