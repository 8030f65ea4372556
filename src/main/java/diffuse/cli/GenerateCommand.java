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
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code diffuse generate}: images of the class a prompt names, with classifier-free guidance. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Generate images of the class a prompt names, with classifier-free guidance.",
      "",
      "A prompt names a label: \"digit 7\", \"seven\", \"7\", \"sneaker\". Guidance combines the model's",
      "conditional and unconditional predictions: ε̃ = ε_uncond + s·(ε_cond − ε_uncond), s = --guidance.",
      "s = 0 is unconditional, s = 1 plain conditional, s > 1 guided (the CFG paper's w is s − 1).",
      "Writes a PNG grid (a labelled row per prompt) or one PNG per sample, each with a JSON sidecar."})
final class GenerateCommand implements Callable<Integer> {
  /**
   * Default guidance scale, chosen from the evaluation of the shipped model (README, "The guidance
   * trade-off"): the smallest scale at which every digit is recognised at least 99 % of the time;
   * larger scales add nothing to accuracy and cost Fréchet distance and diversity.
   */
  static final double DEFAULT_GUIDANCE = 2.0;

  static final class PromptSource {
    @Option(names = "--prompt", paramLabel = "TEXT", description = "What to draw, e.g. \"digit 7\". Repeatable.")
    List<String> prompts;

    @Option(names = "--prompts", paramLabel = "FILE", description = "A file of prompts, one per line (# comments).")
    Path file;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  PromptSource source;

  @Option(names = {"-n", "--count"}, defaultValue = "16", paramLabel = "N", description = "Images per prompt (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--guidance", defaultValue = "" + DEFAULT_GUIDANCE, paramLabel = "S",
      description = "Guidance scale s: 0 unconditional, 1 conditional, >1 guided (default: ${DEFAULT-VALUE}).")
  double guidance;

  @Option(names = "--out", paramLabel = "FILE.png", description = "Grid to write (default: samples.png unless --out-dir).")
  Path out;

  @Option(names = "--out-dir", paramLabel = "DIR", description = "Write one PNG per sample (with a sidecar each) into DIR.")
  Path outDir;

  @Option(names = "--animate", paramLabel = "FILE.gif",
      description = "Also write an animated GIF of the grid being denoised, step by step (at most 60 frames).")
  Path animate;

  @Option(names = "--columns", defaultValue = "8", paramLabel = "N", description = "Images per grid line (default: ${DEFAULT-VALUE}).")
  int columns;

  @Option(names = "--scale", defaultValue = "3", paramLabel = "K", description = "Pixel magnification in the grid (default: ${DEFAULT-VALUE}).")
  int pixelScale;

  @Mixin SamplingOptions sampling;

  @Override
  public Integer call() throws IOException {
    ClassifierFreeGuidance.requireFinite(guidance);
    if (count < 1) {
      throw new IllegalArgumentException("-n must be >= 1, got " + count);
    }
    if (columns < 1 || pixelScale < 1) {
      throw new IllegalArgumentException("--columns and --scale must be >= 1");
    }
    Path grid = out == null && outDir == null ? Path.of("samples.png") : out;
    ModelStore.StoredModel model = sampling.openModel();
    ModelInfo info = model.info();
    Prompts parser = new Prompts(info.labels());
    List<String> prompts = source.prompts != null ? source.prompts : Prompts.readFile(source.file);
    List<Integer> labels = prompts.stream().map(parser::resolve).toList();
    SamplerSpec spec = sampling.spec(info);
    // fail on an unwritable destination before any sampling
    if (grid != null) {
      AtomicFiles.checkWritable(grid);
    }
    if (outDir != null) {
      AtomicFiles.checkWritable(outDir.resolve(".probe.png"));
    }
    if (animate != null) {
      AtomicFiles.checkWritable(animate);
    }
    int every = Math.max(1, (spec.steps() + 59) / 60);
    // frames.get(k) holds, for step k of the animation, every image drawn so far in order
    List<List<float[]>> frames = new ArrayList<>();
    var a = info.architecture();
    String command = Main.commandLine();
    try (SamplingOptions.Loaded loaded = sampling.load(model)) {
      ProgressBar bar = ProgressBar.stderr("sample", (long) spec.steps() * batches(prompts.size(), count, sampling.batchSize));
      List<Images.Row> rows = new ArrayList<>();
      List<Sidecar.Row> sideRows = new ArrayList<>();
      long[] done = {0};
      for (int p = 0; p < prompts.size(); p++) {
        int label = labels.get(p);
        List<BufferedImage> images = new ArrayList<>();
        for (int first = 0; first < count; first += sampling.batchSize) {
          int n = Math.min(sampling.batchSize, count - first);
          List<float[]> snaps = new ArrayList<>();
          if (animate != null) {
            snaps.add(loaded.generator().initialNoise(sampling.seed, first, n));
          }
          float[] x = loaded.generator().sample(label, guidance, spec, sampling.seed, first, n,
              (k, total, xs, x0) -> {
                bar.update(++done[0], "");
                if (animate != null && (k % every == 0 || k == total)) {
                  snaps.add(xs.clone());
                }
              });
          for (int k = 0; k < snaps.size(); k++) {
            if (frames.size() <= k) {
              frames.add(new ArrayList<>());
            }
            frames.get(k).add(snaps.get(k));
          }
          for (int i = 0; i < n; i++) {
            images.add(Images.toImage(x, i, a.height(), a.width(), a.channels()));
          }
        }
        bar.finish();
        String labelName = info.labels().get(label);
        String rowLabel = prompts.size() == 1 && prompts.get(0).equalsIgnoreCase(labelName)
            ? labelName : prompts.get(p) + " → " + labelName;
        rows.add(new Images.Row(rowLabel, images));
        sideRows.add(new Sidecar.Row(prompts.get(p), label, labelName, guidance, 0, count));
        if (outDir != null) {
          for (int i = 0; i < images.size(); i++) {
            String base = String.format("%s-%s-%04d", slug(labelName), fmt(guidance), i);
            Images.writePng(images.get(i), outDir.resolve(base + ".png"));
            Json.writeAtomically(outDir.resolve(base + ".json"), sidecar(model, spec, sampling.seed, List.of(
                new Sidecar.Row(prompts.get(p), label, labelName, guidance, i, 1)), command));
          }
        }
      }
      if (grid != null) {
        String title = String.format("guidance s = %s, %s %d steps, seed %d", fmt(guidance),
            spec.kind().name().toLowerCase(), spec.steps(), sampling.seed);
        Images.writePng(Images.grid(title, rows, columns, pixelScale), grid);
        Json.writeAtomically(sidecarPath(grid), sidecar(model, spec, sampling.seed, sideRows, command));
        System.out.println("wrote " + grid + " (" + prompts.size() * count + " images) and " + sidecarPath(grid));
      }
      if (outDir != null) {
        System.out.println("wrote " + prompts.size() * count + " PNGs with sidecars to " + outDir);
      }
      if (animate != null) {
        writeAnimation(frames, rows, spec, a.height(), a.width(), a.channels());
        // FILE.gif.json, so it never replaces the sidecar of a PNG grid of the same name
        Path gifSidecar = animate.resolveSibling(animate.getFileName() + ".json");
        Json.writeAtomically(gifSidecar, sidecar(model, spec, sampling.seed, sideRows, command));
        System.out.println("wrote " + animate + " (" + frames.size() + " frames) and " + gifSidecar);
      }
      System.out.printf("sampling took %.1fs%n", bar.elapsedSeconds());
    }
    return 0;
  }

  private void writeAnimation(List<List<float[]>> frames, List<Images.Row> finalRows, SamplerSpec spec, int h, int w, int c)
      throws IOException {
    List<BufferedImage> pictures = new ArrayList<>();
    int total = frames.size() - 1;
    for (int k = 0; k < frames.size(); k++) {
      List<BufferedImage> all = new ArrayList<>();
      for (float[] chunk : frames.get(k)) {
        for (int i = 0; i < chunk.length / (h * w * c); i++) {
          all.add(Images.toImage(chunk, i, h, w, c));
        }
      }
      List<Images.Row> rows = new ArrayList<>();
      int at = 0;
      for (Images.Row r : finalRows) {
        rows.add(new Images.Row(r.label(), all.subList(at, at + r.images().size())));
        at += r.images().size();
      }
      String title = k == 0 ? "x_T: pure noise" : String.format("%s step %d of %d", spec.kind().name().toLowerCase(),
          Math.min(spec.steps(), k * Math.max(1, (spec.steps() + 59) / 60)), spec.steps());
      pictures.add(Images.grid(title + String.format(",  guidance s = %s", fmt(guidance)), rows, columns, pixelScale));
    }
    AtomicFiles.write(animate, diffuse.viz.Gif.encode(pictures, total > 30 ? 80 : 150, 2500));
  }

  static long batches(int prompts, int count, int batchSize) {
    return (long) prompts * ((count + batchSize - 1) / batchSize);
  }

  static Sidecar sidecar(ModelStore.StoredModel model, SamplerSpec spec, long seed, List<Sidecar.Row> rows, String command) {
    return new Sidecar(model.dir().toString(), model.info().checkpoint(), spec.kind().name().toLowerCase(),
        spec.steps(), spec.kind() == diffuse.sampling.SamplerKind.DDIM ? spec.eta() : null, spec.clip(), seed, rows, command);
  }

  static Path sidecarPath(Path png) {
    String name = png.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String base = dot > 0 ? name.substring(0, dot) : name;
    return png.resolveSibling(base + ".json");
  }

  static String fmt(double s) {
    return s == Math.rint(s) ? String.valueOf((long) s) : String.valueOf(s);
  }

  static String slug(String s) {
    return s.toLowerCase().replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
  }
}
