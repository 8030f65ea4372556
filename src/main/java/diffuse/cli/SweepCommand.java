package diffuse.cli;

import diffuse.app.GenerateRequest;
import diffuse.app.GenerateService;
import diffuse.app.LoadedModel;
import diffuse.app.Samples;
import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import diffuse.io.Json;
import diffuse.io.ModelStore;
import diffuse.io.ProgressBar;
import diffuse.io.Sidecar;
import diffuse.prompt.Prompts;
import diffuse.sampling.SamplerSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffuse sweep}: the same noise drawn at several guidance scales, a labelled row per scale. */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Draw one prompt at several guidance scales, a labelled row per scale.",
      "",
      "Every row starts from the same noise, so the rows show what the scale alone does: higher s",
      "gives clearer class features and less variety."})
final class SweepCommand implements Callable<Integer> {
  @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "What to draw, e.g. \"digit 7\".")
  String prompt;

  @Option(names = "--guidance", required = true, split = ",", paramLabel = "S1,S2,...",
      description = "Guidance scales, e.g. 0,1,2,3,5,8.")
  List<Double> scales;

  @Option(names = {"-n", "--count"}, defaultValue = "" + diffuse.api.Defaults.SWEEP_COUNT, paramLabel = "N", description = "Images per scale (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--out", defaultValue = "sweep.png", paramLabel = "FILE.png", description = "Grid to write (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--scale", defaultValue = "" + Images.DEFAULT_SCALE, paramLabel = "K", description = "Pixel magnification (default: ${DEFAULT-VALUE}).")
  int pixelScale;

  @Option(names = "--no-metadata",
      description = "Write the PNG without its settings in text chunks (the .json sidecar is written all the same).")
  boolean noMetadata;

  @Mixin SamplingOptions sampling;

  @Spec CommandSpec cmd;

  /**
   * How {@code sweep} lays out the grid of {@code samples} (one prompt, a row per scale): a title with
   * the prompt, its label, the sampler and the seed; rows captioned by their scale; a line per row.
   */
  static Sidecar.Grid layout(Samples samples, long seed, int scale) {
    Samples.Row first = samples.rows().get(0);
    diffuse.sampling.Guidance g = samples.guidanceOrPlain();
    String title = String.format("\"%s\" → %s; %s %d steps, seed %d%s, same noise in every row", first.prompt(),
        first.labelName(), samples.spec().kind().id(), samples.spec().steps(), seed, g.isPlain() ? "" : ", " + g.describe());
    List<String> labels = samples.rows().stream().map(r -> g.scaleSymbol() + " = " + GenerateCommand.fmt(r.scale())).toList();
    return new Sidecar.Grid(title, labels, Math.max(first.count(), 1), scale);
  }

  @Override
  public Integer call() throws IOException {
    if (pixelScale < 1) {
      throw new IllegalArgumentException("-n and --scale must be >= 1");
    }
    GenerateRequest request = new GenerateRequest(List.of(prompt), scales, count, sampling.request());
    ModelStore.StoredModel model = sampling.openModel();
    SamplerSpec spec = request.sampling().spec(model.info());
    new Prompts(model.info().labels()).resolve(prompt);
    AtomicFiles.checkWritable(out);
    String command = Main.commandLine(cmd);
    try (LoadedModel loaded = sampling.load(model)) {
      ProgressBar bar = ProgressBar.stderr("sweep", (long) spec.steps()
          * GenerateCommand.batches(scales.size(), count, sampling.batchSize));
      Samples samples = GenerateService.generate(loaded, request, new diffuse.api.Listener() {
        @Override
        public void progress(String task, long done, long total, String status) {
          bar.update(done, "");
        }
      });
      bar.finish();
      Sidecar.Grid layout = layout(samples, sampling.seed, pixelScale);
      List<Images.Row> rows = new ArrayList<>();
      for (int k = 0; k < samples.rows().size(); k++) {
        rows.add(new Images.Row(layout.labels().get(k), samples.images(samples.rows().get(k))));
      }
      Sidecar sidecar = samples.sidecar(command).withGrid(layout);
      GenerateCommand.writePng(samples, Images.grid(layout.title(), rows, layout.columns(), layout.scale()), sidecar,
          out, !noMetadata);
      Json.writeAtomically(GenerateCommand.sidecarPath(out), sidecar);
      System.out.println("wrote " + out + " and " + GenerateCommand.sidecarPath(out));
      System.out.printf("sampling took %.1fs%n", bar.elapsedSeconds());
    }
    return 0;
  }
}
