package diffuse.api;

import diffuse.app.TrainService;
import diffuse.train.TrainingRun;
import java.nio.file.Path;

/**
 * A prepared training run: settings checked, data loaded; it holds no native resource (the network
 * is built, and closed, inside {@link #run}).
 *
 * <pre>{@code
 * Training job = Training.prepare(TrainingRequest.newRun("mnist", Path.of("runs/m1")).epochs(1).build(),
 *     RuntimeOptions.defaults(), listener);
 * job.run(); // returns at the end, or after requestStop() or listener.cancelled(), with a checkpoint saved
 * }</pre>
 *
 * The run directory is a model directory ({@link DiffusionModel#open} reads it) and a checkpoint:
 * {@link TrainingRequest#resume} continues it exactly where it stopped.
 */
public final class Training {
  private final TrainingRun run;
  private final Path dir;

  private Training(TrainingRun run, Path dir) {
    this.run = run;
    this.dir = dir;
  }

  /**
   * Loads the data (fetching MNIST on first use); {@link #run} builds the training graph. {@code listener}
   * receives data, model and progress messages (task "train") and may cancel.
   *
   * @throws DiffuseException naming the field at fault: a missing data set, an out directory that
   *     already holds a model, a setting that contradicts a resumed run's record
   */
  public static Training prepare(TrainingRequest request, RuntimeOptions runtime, Listener listener) {
    if (request == null) {
      throw DiffuseException.badValue("request", "request is missing");
    }
    var r = request.internal();
    TrainingRun run;
    try {
      run = TrainService.prepare(r, DiffusionModel.device(runtime == null ? RuntimeOptions.defaults() : runtime),
          "diffuse.api.Training " + (r.resuming() ? "resume " + r.resume() : "new run " + r.dataset() + " -> " + r.out())
              + ", epochs " + r.epochs(),
          listener == null ? Listener.NONE : listener);
    } catch (DiffuseException e) {
      throw TrainingRequest.apiNames(e);
    }
    return new Training(run, r.resuming() ? r.resume() : r.out());
  }

  /** Trains to the requested epochs, or until stopped; saves a checkpoint either way. Blocks. */
  public void run() {
    run.run();
  }

  /** Asks {@link #run()} to stop after the current step and save. Safe from any thread. */
  public void requestStop() {
    run.requestStop();
  }

  /**
   * {@link #requestStop()}, then waits until {@link #run()} has saved and returned, at most
   * {@code timeout}: what a shutdown hook calls, since the JVM halts as soon as its hooks return.
   *
   * @return true if the run ended in time
   */
  public boolean stopAndWait(java.time.Duration timeout) throws InterruptedException {
    return run.stopAndWait(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** The run directory. */
  public Path dir() {
    return dir;
  }
}
