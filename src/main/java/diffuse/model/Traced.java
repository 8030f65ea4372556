package diffuse.model;

import java.util.function.Consumer;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;

/** Running a session call with TensorFlow's full step trace, for {@code bench profile}. */
public final class Traced {
  private Traced() {}

  /**
   * Runs {@code runner}; when {@code sink} is set, with FULL_TRACE, handing the call's
   * {@code RunMetadata} (per-op timings in its step stats) to {@code sink}. The caller closes the result.
   */
  public static Result run(Session.Runner runner, Consumer<RunMetadata> sink) {
    if (sink == null) {
      return runner.run();
    }
    Result r = runner.setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build())
        .runAndFetchMetadata();
    r.getMetadata().ifPresent(sink);
    return r;
  }
}
