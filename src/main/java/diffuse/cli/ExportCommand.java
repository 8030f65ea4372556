package diffuse.cli;

import diffuse.io.ModelCard;
import diffuse.io.ModelStore;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diffuse export}: a run's current model without its training state, for shipping or serving. */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Copy a run's current model without its training state (model.json + SavedModel + "
        + ModelCard.FILE + "),", "or with --layout tf-serving as DIR/NAME/STEP/ for TensorFlow Serving.",
        "", "This is how models/mnist was made from the training run; the copy cannot be resumed."})
final class ExportCommand implements Callable<Integer> {
  @Parameters(paramLabel = "RUN_DIR", description = "The training run.") Path run;
  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "Where to put the model (a diffuse model there is replaced; with tf-serving: the base directory"
          + " that gets NAME/VERSION/).") Path out;
  @Option(names = "--layout", paramLabel = "LAYOUT", defaultValue = "diffuse",
      description = "diffuse: a model directory diffuse reads (default); tf-serving: DIR/NAME/VERSION/ with"
          + " VERSION = the training step, a SavedModel with assets.extra/diffuse.json and " + ModelCard.FILE + ".")
  String layout;
  @Option(names = "--name", paramLabel = "NAME",
      description = "With --layout tf-serving: the model name (default: RUN_DIR's name).") String name;
  @Option(names = "--ema", paramLabel = "D",
      description = "Export the weight average of decay D: one the run keeps with train --extra-ema (default: the"
          + " model's own, --ema-decay).") Double ema;
  @Option(names = "--guidance", paramLabel = "S",
      description = "The guidance scale the model samples at when a request gives none (kept in model.json; default:"
          + " the source's, else " + diffuse.api.Defaults.GUIDANCE + ").") Double guidance;
  @Option(names = "--guidance-interval", paramLabel = "LO,HI|none",
      description = "The noise levels σ in (LO, HI] to which the model limits classifier-free guidance when a request"
          + " names no interval (kept in model.json); none: every step (default: the source's, else every step).")
  String interval;
  @Option(names = "--guide-model", paramLabel = "NAME|none",
      description = "The model that guides this one by autoguidance when a request names no guide (kept in"
          + " model.json): a directory beside --out's, e.g. mnist-guide; --guidance is then its w. none: classifier-free"
          + " guidance alone (default: the source's, else none).")
  String guideModel;
  @Option(names = "--guide-cfg", paramLabel = "S",
      description = "With --guide-model: the CFG scale applied to the model first, limited by --guidance-interval.")
  Double guideCfg;
  @Option(names = "--guide-interval", paramLabel = "LO,HI",
      description = "With --guide-model: the noise levels σ in (LO, HI] at which the guide is called (default: every"
          + " step).")
  String guideInterval;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    // a model's scale is what its author types, never a user's default for generate (DIFFUSE_GUIDANCE, ~/.diffuse.properties)
    Double guidance = spec.commandLine().getParseResult().hasMatchedOption("--guidance") ? this.guidance : null;
    String interval = spec.commandLine().getParseResult().hasMatchedOption("--guidance-interval") ? this.interval : null;
    if (run.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--out must differ from the run directory");
    }
    switch (layout) {
      case "diffuse" -> {
        if (name != null) {
          throw new IllegalArgumentException("--name is for --layout tf-serving; a diffuse export is named by --out");
        }
        if (guideModel == null && (guideCfg != null || guideInterval != null)) {
          throw diffuse.api.DiffuseException.badValue("guideModel", "--guide-cfg and --guide-interval need --guide-model");
        }
        ModelStore.Guide guide = guideModel == null ? null : new ModelStore.Guide(guideModel, guideCfg,
            guideInterval == null ? null : SamplingOptions.twoLevels("guideInterval", "--guide-interval", guideInterval));
        ModelStore.StoredModel m = ModelStore.export(run, out, ema, Main.commandLine(spec), guidance,
            SamplingOptions.interval(interval), guide);
        System.out.printf("exported %s (%s, step %d) to %s%n", run, m.info().checkpoint(), m.info().training().step(),
            out);
      }
      case "tf-serving" -> {
        if (guidance != null || interval != null || guideModel != null) {
          throw new IllegalArgumentException("--guidance and --guidance-interval are for --layout diffuse; a TensorFlow Serving export keeps the"
              + " run's own");
        }
        Path fileName = run.toAbsolutePath().normalize().getFileName();
        String model = name != null ? name : fileName == null ? "model" : fileName.toString();
        Path version = ModelStore.exportServing(run, out, model, ema);
        System.out.printf("exported %s to %s (TensorFlow Serving: model base path %s, version %s)%n", run, version,
            version.getParent(), version.getFileName());
      }
      default -> throw new IllegalArgumentException("--layout must be diffuse or tf-serving, got '" + layout + "'");
    }
    return 0;
  }
}
