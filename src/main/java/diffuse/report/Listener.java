package diffuse.report;

/**
 * Where long-running library code (training, evaluation, fetching data) reports what it does,
 * instead of printing: the CLI renders it on the terminal ({@code io.ConsoleListener}), a server or a
 * test collects it or drops it. Called from the thread that does the work.
 */
public interface Listener {
  /** Reports nothing. */
  Listener NONE = new Listener() {};

  /** A line worth showing a person ("model: 1,702,145 parameters …", "saved runs/mnist-1 …"). */
  default void message(String line) {}

  /** Something went wrong but the work goes on (a failed intermediate checkpoint). */
  default void warning(String line) {}

  /**
   * Progress of {@code task} ("train", "evaluate"): {@code done} of {@code total} units, with a short
   * status such as the loss.
   */
  default void progress(String task, long done, long total, String status) {}

  /** {@code task} has ended (normally or not); a progress line it drew can be closed. */
  default void finished(String task) {}
}
