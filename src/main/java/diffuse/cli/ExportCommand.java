package diffuse.cli;

import diffuse.io.ModelStore;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diffuse export}: a run's current model without its training state, for shipping. */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Copy a run's current model without its training state (model.json + SavedModel).",
        "", "This is how models/mnist was made from the training run; the copy cannot be resumed."})
final class ExportCommand implements Callable<Integer> {
  @Parameters(paramLabel = "RUN_DIR", description = "The training run.") Path run;
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to put the model (replaced if present).") Path out;

  @Override
  public Integer call() throws Exception {
    if (run.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--out must differ from the run directory");
    }
    ModelStore.StoredModel m = ModelStore.export(run, out);
    System.out.printf("exported %s (%s, step %d) to %s%n", run, m.info().checkpoint(), m.info().training().step(), out);
    return 0;
  }
}
