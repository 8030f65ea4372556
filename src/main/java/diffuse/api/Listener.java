package diffuse.api;

/**
 * The one listener of every long-running call (generate, sweep, train, evaluate, fetching data):
 * what it does, how far it is, the sampler's state after each step, and whether to stop. Called
 * from the thread doing the work; every method has a default that does nothing, so an
 * implementation overrides only what it needs. The CLI draws a progress bar from it, the server
 * streams it to the page, a program collects or ignores it.
 */
public interface Listener {
  /** Reports nothing and never cancels. */
  Listener NONE = new Listener() {};

  /** A line worth showing a person ("model: 1,702,145 parameters …", "saved runs/mnist-1 …"). */
  default void message(String line) {}

  /** Something went wrong but the work goes on (a failed intermediate checkpoint). */
  default void warning(String line) {}

  /**
   * Progress of {@code task} ("sample", "train", "evaluate"): {@code done} of {@code total} units
   * (sampling steps of a batch, training steps, images), with a short status such as the loss.
   */
  default void progress(String task, long done, long total, String status) {}

  /** {@code task} has ended (normally or not); a progress line it drew can be closed. */
  default void finished(String task) {}

  /** The sampler's state after one of its steps, for previews and animations. */
  default void step(StepState state) {}

  /** A listener that only sees sampler steps. */
  static Listener ofSteps(java.util.function.Consumer<StepState> onStep) {
    return new Listener() {
      @Override
      public void step(StepState state) {
        onStep.accept(state);
      }
    };
  }

  /**
   * Polled between steps; once true the call stops and throws a {@link DiffuseException} with
   * code {@code CANCELLED}. Training instead saves a checkpoint and returns.
   */
  default boolean cancelled() {
    return false;
  }
}
