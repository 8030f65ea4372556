package diffuse.serve;

import diffuse.api.Listener;
import diffuse.api.StepState;
import diffuse.api.DiffuseException;
import diffuse.sampling.Generator;
import diffuse.sampling.Guidance;
import diffuse.sampling.Guider;
import diffuse.sampling.SamplerSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Dynamic batching for one model: requests that arrive within {@code maxWaitMillis} of each other
 * and can share a sampler run (same sampler and steps; guided, conditional-only or
 * unconditional-only alike) are merged into one TensorFlow batch of at most {@code maxBatch}
 * images. Every image keeps its own random stream (seed, index), so a request's images are those it
 * would get alone. The queue is bounded: a full one refuses new work with {@code BUSY}.
 *
 * <p>One worker thread runs the batches; a cancelled ticket still queued is dropped, and a running
 * batch stops at its next step once every ticket in it is cancelled.
 */
final class Batcher implements AutoCloseable {
  /** Work for {@code count} images: samples 0 … count−1 of {@code seed}, one class and scale. */
  public static final class Ticket {
    final int label;
    final double scale;
    final long seed;
    final int count;
    final SamplerSpec spec;
    final Guider method;
    final Listener listener;
    final CompletableFuture<float[]> result = new CompletableFuture<>();
    volatile boolean cancelled;
    /** Taken from the queue into a run. */
    volatile boolean started;
    /** Its batcher, which a cancelled ticket still queued leaves at once; null in a ticket never queued. */
    volatile Batcher owner;

    Ticket(int label, double scale, long seed, int count, SamplerSpec spec, Guider method, Listener listener) {
      this.method = method;
      this.label = label;
      this.scale = scale;
      this.seed = seed;
      this.count = count;
      this.spec = spec;
      this.listener = listener;
    }

    /** The images, [count · H·W·C], once sampled. */
    public CompletableFuture<float[]> result() {
      return result;
    }

    /** Gives up on this ticket: dropped if still queued; its batch stops if nobody else waits for it. */
    public void cancel() {
      cancelled = true;
      result.completeExceptionally(new DiffuseException(DiffuseException.Code.CANCELLED, "cancelled"));
      Batcher b = owner;
      if (b != null) {
        b.drop(this);
      }
    }

    /** Whether a run has taken it (it may still be waiting for company, or running). */
    public boolean started() {
      return started;
    }

    /** Which tickets may share a run: the same sampler, and the same half of the doubled batch needed. */
    boolean compatible(Ticket o) {
      return spec.equals(o.spec) && method.equals(o.method) && mode() == o.mode();
    }

    private int mode() {
      return scale == 1.0 ? 1 : scale == 0.0 ? 0 : 2;
    }
  }

  /**
   * Counters since start, for /api/health and {@code bench serve}.
   *
   * @param batches network runs finished
   * @param images images delivered
   * @param tickets requests accepted
   * @param refused requests refused because the queue was full
   * @param cancelled accepted requests given up before their images were delivered
   * @param stopped runs stopped between steps because every request in them was cancelled
   * @param queued requests waiting now
   */
  public record Stats(long batches, long images, long tickets, long refused, long cancelled, long stopped,
      int queued) {}

  private final Generator generator;
  private final int maxBatch;
  private final long maxWaitNanos;
  private final int capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  private final Deque<Ticket> queue = new ArrayDeque<>();
  private final Thread worker;
  private volatile boolean closed;
  private long batches, images, tickets, refused, cancelled, stopped;

  /**
   * @param maxBatch most images in one run (tickets are never split)
   * @param maxWaitMillis how long the first ticket of a batch waits for company
   * @param capacity most tickets waiting
   */
  public Batcher(String name, Generator generator, int maxBatch, long maxWaitMillis, int capacity) {
    if (maxBatch < 1 || maxWaitMillis < 0 || capacity < 1) {
      throw new IllegalArgumentException("maxBatch and capacity must be >= 1, maxWait >= 0");
    }
    this.generator = generator;
    this.maxBatch = maxBatch;
    this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMillis);
    this.capacity = capacity;
    this.worker = new Thread(this::work, "batcher-" + name);
    worker.setDaemon(true);
    worker.start();
  }

  public int maxBatch() {
    return maxBatch;
  }

  /** Queues work; fails with {@code BUSY} when the queue is full. */
  public Ticket submit(int label, double scale, long seed, int count, SamplerSpec spec, Listener listener) {
    return submit(label, scale, seed, count, spec, Guidance.PLAIN.guider(), listener);
  }

  /** Queues work guided by {@code method}; only tickets with the same sampler and method share a run. */
  public Ticket submit(int label, double scale, long seed, int count, SamplerSpec spec, Guider method,
      Listener listener) {
    if (count < 1 || count > maxBatch) {
      throw DiffuseException.badValue("n", "n must be within 1.." + maxBatch + ", got " + count);
    }
    Ticket t = new Ticket(label, scale, seed, count, spec, method, listener == null ? Listener.NONE : listener);
    lock.lock();
    try {
      if (closed) {
        throw new DiffuseException(DiffuseException.Code.UNAVAILABLE, "the server is shutting down");
      }
      if (queue.size() >= capacity) {
        refused++;
        throw new DiffuseException(DiffuseException.Code.BUSY, "the queue is full (" + capacity
            + " requests waiting); try again shortly");
      }
      queue.addLast(t);
      t.owner = this;
      tickets++;
      arrived.signalAll();
    } finally {
      lock.unlock();
    }
    return t;
  }

  /** Takes a cancelled ticket out of the queue now, so that it holds no place (and no memory) there. */
  private void drop(Ticket t) {
    lock.lock();
    try {
      if (queue.remove(t)) {
        cancelled++;
      }
    } finally {
      lock.unlock();
    }
  }

  /** How many tickets wait ahead of {@code t} in the queue: 0 when it is next, taken or gone. */
  public int position(Ticket t) {
    lock.lock();
    try {
      int ahead = 0;
      for (Ticket q : queue) {
        if (q == t) {
          return ahead;
        }
        ahead++;
      }
      return 0;
    } finally {
      lock.unlock();
    }
  }

  public Stats stats() {
    lock.lock();
    try {
      return new Stats(batches, images, tickets, refused, cancelled, stopped, queue.size());
    } finally {
      lock.unlock();
    }
  }

  private void work() {
    while (!closed) {
      List<Ticket> batch;
      try {
        batch = nextBatch();
      } catch (InterruptedException e) {
        return;
      }
      if (batch != null && !batch.isEmpty()) {
        run(batch);
      }
    }
  }

  /** Waits for a first ticket, then up to maxWait for compatible ones, up to maxBatch images. */
  private List<Ticket> nextBatch() throws InterruptedException {
    lock.lock();
    try {
      Ticket first = null;
      while (first == null) {
        while (queue.isEmpty()) {
          if (closed) {
            return null;
          }
          arrived.await();
        }
        first = queue.pollFirst();
        first.started = true;
        if (first.cancelled) {
          cancelled++;
          first = null;
        }
      }
      List<Ticket> batch = new ArrayList<>(List.of(first));
      int size = first.count;
      long deadline = System.nanoTime() + maxWaitNanos;
      while (size < maxBatch) {
        for (Iterator<Ticket> it = queue.iterator(); it.hasNext() && size < maxBatch; ) {
          Ticket t = it.next();
          if (t.cancelled) {
            it.remove();
            cancelled++;
          } else if (first.compatible(t) && size + t.count <= maxBatch) {
            it.remove();
            t.started = true;
            batch.add(t);
            size += t.count;
          }
        }
        long left = deadline - System.nanoTime();
        if (size >= maxBatch || left <= 0 || closed) {
          break;
        }
        arrived.awaitNanos(left);
      }
      return batch;
    } finally {
      lock.unlock();
    }
  }

  private void run(List<Ticket> batch) {
    int n = batch.stream().mapToInt(t -> t.count).sum();
    int[] labels = new int[n];
    double[] scales = new double[n];
    long[] seeds = new long[n];
    int[] indices = new int[n];
    int at = 0;
    for (Ticket t : batch) {
      for (int i = 0; i < t.count; i++, at++) {
        labels[at] = t.label;
        scales[at] = t.scale;
        seeds[at] = t.seed;
        indices[at] = i;
      }
    }
    int dim = generator.dim();
    boolean finished = false, halted = false;
    try {
      float[] x = generator.sample(new Generator.Batch(labels, scales, seeds, indices), batch.get(0).spec,
          batch.get(0).method,
          Listener.ofSteps(state -> {
            int step = state.step(), steps = state.steps();
            float[] xs = state.x(), x0 = state.x0();
            boolean anyone = false;
            int off = 0;
            for (Ticket t : batch) {
              if (!t.cancelled) {
                anyone = true;
                if (t.listener == Listener.NONE) {
                  off += t.count;
                  continue;
                }
                try {
                  // the ticket's own images: [count · H·W·C]
                  t.listener.step(new StepState(0, 0, t.count, step, steps,
                      Arrays.copyOfRange(xs, off * dim, (off + t.count) * dim),
                      Arrays.copyOfRange(x0, off * dim, (off + t.count) * dim)));
                } catch (RuntimeException e) {
                  t.cancel(); // a listener that cannot deliver (client gone) gives up its ticket
                }
              }
              off += t.count;
            }
            if (!anyone || closed) { // closed: the server stops; the models close once the worker is done
              throw new Stop();
            }
          }));
      int off = 0;
      for (Ticket t : batch) {
        t.result.complete(Arrays.copyOfRange(x, off * dim, (off + t.count) * dim));
        off += t.count;
      }
      finished = true;
    } catch (Stop e) {
      halted = true;
      for (Ticket t : batch) {
        t.result.completeExceptionally(new DiffuseException(DiffuseException.Code.UNAVAILABLE,
            "the server is shutting down"));
      }
    } catch (RuntimeException | Error e) { // an Error too (out of memory, a native library's): the worker lives on
      for (Ticket t : batch) {
        t.result.completeExceptionally(e);
      }
    }
    lock.lock();
    try {
      if (finished) {
        batches++;
      }
      if (halted) {
        stopped++;
      }
      for (Ticket t : batch) {
        if (t.cancelled) {
          cancelled++;
        } else if (finished) {
          images += t.count;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Thrown out of the sampler's step listener when nobody waits for the batch any more. */
  private static final class Stop extends RuntimeException {
    Stop() {
      super("every request of the batch was cancelled", null, false, false);
    }
  }

  /**
   * Stops the worker after the step it is running (a batch being sampled halts there, its requests
   * failing with UNAVAILABLE as the queued ones do), so that the models are closed only when no
   * session of theirs runs.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      for (Ticket t : queue) {
        t.result.completeExceptionally(new DiffuseException(DiffuseException.Code.UNAVAILABLE, "the server is shutting down"));
      }
      queue.clear();
      arrived.signalAll();
    } finally {
      lock.unlock();
    }
    try {
      worker.join(60_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
