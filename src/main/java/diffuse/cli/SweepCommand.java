package diffuse.cli;

import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import diffuse.io.Json;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.io.ProgressBar;
import diffuse.io.Sidecar;
import diffuse.prompt.Prompts;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.sampling.SamplerSpec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

  @Option(names = {"-n", "--count"}, defaultValue = "8", paramLabel = "N", description = "Images per scale (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--out", defaultValue = "sweep.png", paramLabel = "FILE.png", description = "Grid to write (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--scale", defaultValue = "3", paramLabel = "K", description = "Pixel magnification (default: ${DEFAULT-VALUE}).")
  int pixelScale;

  @Mixin SamplingOptions sampling;

  @Override
  public Integer call() throws IOException {
    scales.forEach(ClassifierFreeGuidance::requireFinite);
    if (count < 1 || pixelScale < 1) {
      throw new IllegalArgumentException("-n and --scale must be >= 1");
    }
    ModelStore.StoredModel model = sampling.openModel();
    ModelInfo info = model.info();
    int label = new Prompts(info.labels()).resolve(prompt);
    SamplerSpec spec = sampling.spec(info);
    AtomicFiles.checkWritable(out);
    var a = info.architecture();
    String command = Main.commandLine();
    try (SamplingOptions.Loaded loaded = sampling.load(model)) {
      ProgressBar bar = ProgressBar.stderr("sweep", (long) spec.steps()
          * GenerateCommand.batches(scales.size(), count, sampling.batchSize));
      long[] done = {0};
      List<Images.Row> rows = new ArrayList<>();
      List<Sidecar.Row> sideRows = new ArrayList<>();
      String labelName = info.labels().get(label);
      for (double s : scales) {
        List<BufferedImage> images = new ArrayList<>();
        for (int first = 0; first < count; first += sampling.batchSize) {
          int n = Math.min(sampling.batchSize, count - first);
          float[] x = loaded.generator().sample(label, s, spec, sampling.seed, first, n,
              (k, total, xs, x0) -> bar.update(++done[0], ""));
          for (int i = 0; i < n; i++) {
            images.add(Images.toImage(x, i, a.height(), a.width(), a.channels()));
          }
        }
        rows.add(new Images.Row("s = " + GenerateCommand.fmt(s), images));
        sideRows.add(new Sidecar.Row(prompt, label, labelName, s, 0, count));
      }
      bar.finish();
      String title = String.format("\"%s\" → %s; %s %d steps, seed %d, same noise in every row", prompt, labelName,
          spec.kind().name().toLowerCase(), spec.steps(), sampling.seed);
      Images.writePng(Images.grid(title, rows, Math.max(count, 1), pixelScale), out);
      Json.writeAtomically(GenerateCommand.sidecarPath(out),
          GenerateCommand.sidecar(model, spec, sampling.seed, sideRows, command));
      System.out.println("wrote " + out + " and " + GenerateCommand.sidecarPath(out));
      System.out.printf("sampling took %.1fs%n", bar.elapsedSeconds());
    }
    return 0;
  }
}
