package diffuse.serve;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import diffuse.api.DiffuseException;
import diffuse.api.Listener;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * Generations to poll instead of waiting on: {@code POST /api/jobs} queues a generate body on the
 * model's batcher (as {@code /api/generate} does) and answers an id at once; {@code GET
 * /api/jobs/{id}} tells its state, progress, a preview and, when done, the generate answer;
 * {@code DELETE} cancels it.
 *
 * <p>Memory stays flat: work in flight is bounded by the batchers' queues (a full one refuses a job
 * with 429), and a finished job is kept for {@code keepMillis} at most, and only the newest
 * {@code keepFinished} of them; the rest are forgotten (their id then answers 404). A running job
 * holds the last step's x̂₀ of its own images only; the preview PNG is drawn when asked for.
 */
final class Jobs {
  /** Finished jobs kept by default, newest first. */
  static final int KEEP_FINISHED = 64;
  /** How long a finished job is kept by default: 10 minutes. */
  static final long KEEP_MILLIS = 10 * 60_000;

  enum State { queued, running, done, cancelled, failed }

  /** One submitted generation. */
  static final class Job {
    final String id;
    final Api.Call call;
    volatile Api.Pending pending;
    volatile int step;
    volatile float[] x0;
    volatile State end; // null while queued or running
    volatile JsonElement result;
    volatile JsonElement error;
    volatile long finishedAt;

    Job(String id, Api.Call call) {
      this.id = id;
      this.call = call;
    }

    State state() {
      State e = end;
      if (e != null) {
        return e;
      }
      Api.Pending p = pending;
      return p != null && p.tickets().get(0).started() ? State.running : State.queued;
    }
  }

  private final int keepFinished;
  private final long keepMillis;
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final SecureRandom random = new SecureRandom();

  Jobs(int keepFinished, long keepMillis) {
    this.keepFinished = keepFinished;
    this.keepMillis = keepMillis;
  }

  /** POST /api/jobs: queues {@code call}; answers {@code {"id", "position"}} with 202. */
  Reply submit(Api api, Api.Call call) {
    if (call.png()) {
      throw DiffuseException.badValue("format", "format must be json for a job: its result is the JSON answer"
          + " (the grid is in result.grid)");
    }
    String id = HexFormat.of().formatHex(bytes());
    Job job = new Job(id, call);
    Api.Pending p = api.submit(call, Listener.ofSteps(s -> {
      job.step = s.step();
      job.x0 = s.x0();
    }));
    job.pending = p;
    int position = call.slot().batcher().position(p.tickets().get(0));
    synchronized (this) {
      evict();
      jobs.put(id, job);
    }
    p.samples().whenComplete((samples, err) -> {
      State end;
      Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      if (e == null) {
        try {
          job.result = json(Api.reply(call, samples));
          end = State.done;
        } catch (RuntimeException ex) {
          e = ex;
          end = State.failed;
        }
      } else {
        end = e instanceof DiffuseException d && d.code() == DiffuseException.Code.CANCELLED ? State.cancelled
            : State.failed;
      }
      if (e != null && end == State.failed) {
        job.error = json(e instanceof DiffuseException d ? Reply.error(d) : Reply.error(500, null, "internal error: " + e));
      }
      job.x0 = null;
      job.finishedAt = System.currentTimeMillis();
      job.end = end; // after finishedAt, which eviction reads once end is set
      job.pending = null; // its tickets hold the pixels
      synchronized (this) {
        evict();
      }
    });
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", id);
    out.put("position", position);
    Reply r = Reply.json(202, out);
    return new Reply(202, r.contentType(), r.body(), Map.of("Location", "/api/jobs/" + id));
  }

  private byte[] bytes() {
    byte[] b = new byte[12];
    random.nextBytes(b);
    return b;
  }

  /** GET /api/jobs/{id} */
  Reply get(String id) {
    return Reply.json(200, describe(find(id)));
  }

  /** DELETE /api/jobs/{id}: cancels queued or running work; a finished job stays as it is. */
  Reply cancel(String id) {
    Job job = find(id);
    Api.Pending p = job.pending;
    if (job.end == null && p != null) {
      p.cancel(); // fails the samples' future at once: the job is cancelled
    }
    return Reply.json(200, describe(job));
  }

  private Job find(String id) {
    Job job;
    synchronized (this) {
      evict();
      job = jobs.get(id);
    }
    if (job == null) {
      throw new DiffuseException(DiffuseException.Code.NOT_FOUND, "id", "no job '" + id + "' (finished jobs are"
          + " kept " + keepMillis / 60_000 + " minutes, the newest " + keepFinished + " of them)", null);
    }
    return job;
  }

  /** Jobs held now, finished or not (for tests). */
  synchronized int size() {
    evict();
    return jobs.size();
  }

  private Map<String, Object> describe(Job job) {
    State state = job.state();
    int total = job.call.spec().steps();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", job.id);
    out.put("state", state.name());
    out.put("progress", Map.of("done", state == State.done ? total : job.step, "total", total));
    Api.Pending p = job.pending;
    if (state == State.queued && p != null) {
      out.put("position", job.call.slot().batcher().position(p.tickets().get(0)));
    }
    float[] x0 = job.x0;
    if (state == State.running && x0 != null) {
      out.put("preview", Api.preview(job.call.slot(), x0, job.call.n()));
    }
    if (job.result != null) {
      out.put("result", job.result);
    }
    if (job.error != null) {
      out.put("error", job.error);
    }
    return out;
  }

  /** Forgets finished jobs older than keepMillis, then all but the newest keepFinished finished ones. */
  private void evict() {
    long now = System.currentTimeMillis();
    int finished = 0;
    for (Job j : jobs.values()) {
      if (j.end != null) {
        finished++;
      }
    }
    for (Iterator<Job> it = jobs.values().iterator(); it.hasNext(); ) {
      Job j = it.next();
      if (j.end != null && (now - j.finishedAt > keepMillis || finished > keepFinished)) {
        it.remove();
        finished--;
      }
    }
  }

  private static JsonElement json(Reply r) {
    return JsonParser.parseString(new String(r.body(), StandardCharsets.UTF_8));
  }
}
