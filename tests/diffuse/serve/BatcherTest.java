package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import diffuse.api.Listener;
import diffuse.sampling.Denoiser;
import diffuse.sampling.GaussianMixture;
import diffuse.sampling.Generator;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.SamplerSpec;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class BatcherTest {
  /**
   * An Error in a run (an OutOfMemoryError, a native library's) fails that run's requests and leaves
   * the batcher serving: before, it ended the one worker thread, and every later request waited for ever.
   */
  @Test
  void anErrorInARunFailsItsRequestsAndTheNextRunIsServed() throws Exception {
    NoiseSchedule t = NoiseSchedule.of(ScheduleKind.LINEAR, 100);
    GaussianMixture m = new GaussianMixture(List.of(
        new GaussianMixture.Component(0.5, new double[] {-0.5, 0.0}, 0.1, 0),
        new GaussianMixture.Component(0.5, new double[] {0.5, 0.0}, 0.1, 1)));
    Denoiser exact = m.denoiser(t);
    AtomicBoolean fail = new AtomicBoolean(true);
    Denoiser flaky = (x, times, labels) -> {
      if (fail.getAndSet(false)) {
        throw new OutOfMemoryError("test: no memory for this run");
      }
      return exact.denoise(x, times, labels);
    };
    try (Batcher b = new Batcher("toy", new Generator(flaky, t, m.nullLabel(), m.dim()), 8, 0, 8)) {
      SamplerSpec spec = new SamplerSpec(SamplerKind.DDIM, 2, 0, true);
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> b.submit(0, 1, 1, 2, spec, Listener.NONE).result().get(30, TimeUnit.SECONDS));
      assertInstanceOf(OutOfMemoryError.class, e.getCause());
      float[] x = b.submit(1, 1, 1, 2, spec, Listener.NONE).result().get(30, TimeUnit.SECONDS);
      assertEquals(2 * m.dim(), x.length);
    }
  }

  /**
   * Closing stops a long batch after the step it is in, failing its request with UNAVAILABLE, rather
   * than waiting for its end (or a minute, after which the server closed the models under it).
   */
  @Test
  void closingStopsALongBatchAfterItsCurrentStep() throws Exception {
    NoiseSchedule t = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
    GaussianMixture m = new GaussianMixture(List.of(
        new GaussianMixture.Component(1.0, new double[] {0.0, 0.0}, 0.1, 0)));
    Denoiser exact = m.denoiser(t);
    java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
    Denoiser slow = (x, times, labels) -> {
      running.countDown();
      try {
        Thread.sleep(20); // 1,000 steps: 20 s
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return exact.denoise(x, times, labels);
    };
    Batcher b = new Batcher("toy", new Generator(slow, t, m.nullLabel(), m.dim()), 8, 0, 8);
    java.util.concurrent.CompletableFuture<float[]> r =
        b.submit(0, 1, 1, 1, new SamplerSpec(SamplerKind.DDIM, 1000, 0, true), Listener.NONE).result();
    running.await(30, TimeUnit.SECONDS);
    long t0 = System.nanoTime();
    b.close();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    org.junit.jupiter.api.Assertions.assertTrue(ms < 5_000, "close took " + ms + " ms");
    ExecutionException e = assertThrows(ExecutionException.class, () -> r.get(5, TimeUnit.SECONDS));
    assertEquals(diffuse.api.DiffuseException.Code.UNAVAILABLE,
        assertInstanceOf(diffuse.api.DiffuseException.class, e.getCause()).code());
  }
}
