package diffuse.cli;

import diffuse.api.Listener;
import diffuse.api.StepState;
import diffuse.app.GenerateRequest;
import diffuse.app.GenerateService;
import diffuse.app.LoadedModel;
import diffuse.app.Samples;
import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import diffuse.io.Json;
import diffuse.io.ModelStore;
import diffuse.io.ProgressBar;
import diffuse.prompt.Prompts;
import diffuse.sampling.Generator;
import diffuse.sampling.SamplerSpec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
  static final double DEFAULT_GUIDANCE = GenerateRequest.DEFAULT_GUIDANCE;

  static final class PromptSource {
    @Option(names = "--prompt", paramLabel = "TEXT", description = "What to draw, e.g. \"digit 7\". Repeatable.")
    List<String> prompts;

    @Option(names = "--prompts", paramLabel = "FILE", description = "A file of prompts, one per line (# comments).")
    Path file;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  PromptSource source;

  @Option(names = {"-n", "--count"}, defaultValue = "" + diffuse.api.Defaults.COUNT, paramLabel = "N", description = "Images per prompt (default: ${DEFAULT-VALUE}).")
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

  @Spec CommandSpec cmd;

  /**
   * The model that draws {@code prompts}: --model if given; else the shipped MNIST model, or, when it
   * does not know every prompt, the first other shipped model that does ("sneaker" → models/fashion-mnist).
   * An unknown prompt is reported against the model that was asked or the default one.
   */
  private ModelStore.StoredModel modelFor(List<String> prompts) {
    ModelStore.StoredModel first = sampling.openModel();
    try {
      knows(first, prompts);
      return first;
    } catch (diffuse.prompt.PromptException e) {
      if (sampling.model != null) {
        throw e;
      }
      for (String name : GenerateOptions.SHIPPED.subList(1, GenerateOptions.SHIPPED.size())) {
        Path dir = GenerateOptions.shipped(name);
        if (Files.isDirectory(dir)) {
          ModelStore.StoredModel other = diffuse.app.LoadedModel.openImageModel(dir);
          try {
            knows(other, prompts);
            System.out.println("using " + dir + ", which knows " + String.join(", ", prompts));
            sampling.model = dir;
            return other;
          } catch (diffuse.prompt.PromptException ignored) {
            // try the next one
          }
        }
      }
      throw e;
    }
  }

  private static void knows(ModelStore.StoredModel m, List<String> prompts) {
    Prompts parser = new Prompts(m.info().labels());
    prompts.forEach(parser::resolve);
  }

  @Override
  public Integer call() throws IOException {
    if (columns < 1 || pixelScale < 1) {
      throw new IllegalArgumentException("--columns and --scale must be >= 1");
    }
    Path grid = out == null && outDir == null ? Path.of("samples.png") : out;
    List<String> prompts = source.prompts != null ? source.prompts : Prompts.readFile(source.file);
    GenerateRequest request = new GenerateRequest(prompts, List.of(guidance), count, sampling.request());
    // fail on an unknown prompt or an unwritable destination before loading or sampling anything
    ModelStore.StoredModel model = modelFor(prompts);
    SamplerSpec spec = request.sampling().spec(model.info());
    if (grid != null) {
      AtomicFiles.checkWritable(grid);
    }
    if (outDir != null) {
      AtomicFiles.checkWritable(outDir.resolve(".probe.png"));
    }
    if (animate != null) {
      AtomicFiles.checkWritable(animate);
    }
    String command = Main.commandLine(cmd);
    try (LoadedModel loaded = sampling.load(model)) {
      ProgressBar bar = ProgressBar.stderr("sample", (long) spec.steps() * batches(prompts.size(), count, sampling.batchSize));
      Frames frames = new Frames(bar, animate != null, spec.steps(), loaded.generator(), sampling.seed);
      Samples samples = GenerateService.generate(loaded, request, frames);
      bar.finish();
      List<Images.Row> rows = new ArrayList<>();
      for (Samples.Row r : samples.rows()) {
        String rowLabel = prompts.size() == 1 && r.prompt().equalsIgnoreCase(r.labelName())
            ? r.labelName() : r.prompt() + " → " + r.labelName();
        List<BufferedImage> images = samples.images(r);
        rows.add(new Images.Row(rowLabel, images));
        if (outDir != null) {
          for (int i = 0; i < images.size(); i++) {
            String base = String.format("%s-%s-%04d", slug(r.labelName()), fmt(guidance), i);
            Images.writePng(images.get(i), outDir.resolve(base + ".png"));
            Json.writeAtomically(outDir.resolve(base + ".json"), samples.sidecar(r, i, command));
          }
        }
      }
      if (grid != null) {
        String title = String.format("guidance s = %s, %s %d steps, seed %d", fmt(guidance),
            spec.kind().id(), spec.steps(), sampling.seed);
        Images.writePng(Images.grid(title, rows, columns, pixelScale), grid);
        Json.writeAtomically(sidecarPath(grid), samples.sidecar(command));
        System.out.println("wrote " + grid + " (" + prompts.size() * count + " images) and " + sidecarPath(grid));
      }
      if (outDir != null) {
        System.out.println("wrote " + prompts.size() * count + " PNGs with sidecars to " + outDir);
      }
      if (animate != null) {
        List<List<float[]>> f = frames.frames();
        writeAnimation(f, rows, spec, model.info().architecture().height(), model.info().architecture().width(),
            model.info().architecture().channels());
        // FILE.gif.json, so it never replaces the sidecar of a PNG grid of the same name
        Path gifSidecar = animate.resolveSibling(animate.getFileName() + ".json");
        Json.writeAtomically(gifSidecar, samples.sidecar(command));
        System.out.println("wrote " + animate + " (" + f.size() + " frames) and " + gifSidecar);
      }
      System.out.printf("sampling took %.1fs%n", bar.elapsedSeconds());
    }
    return 0;
  }

  /**
   * The service's progress as the CLI shows it: a progress bar, and, for {@code --animate}, the
   * frames: frame k holds every image drawn so far, batch by batch (x_T, then every
   * {@code every}-th step and the last), as before the service existed.
   */
  static final class Frames implements Listener {
    private final ProgressBar bar;
    private final boolean wanted;
    private final int every;
    private final Generator generator;
    private final long seed;
    private final List<List<float[]>> frames = new ArrayList<>();
    private List<float[]> snaps = new ArrayList<>();

    Frames(ProgressBar bar, boolean wanted, int steps, Generator generator, long seed) {
      this.bar = bar;
      this.wanted = wanted;
      this.every = Math.max(1, (steps + 59) / 60);
      this.generator = generator;
      this.seed = seed;
    }

    @Override
    public void progress(String task, long done, long total, String status) {
      bar.update(done, "");
    }

    @Override
    public void step(StepState s) {
      if (!wanted) {
        return;
      }
      int first = s.first(), n = s.count(), step = s.step(), steps = s.steps();
      float[] x = s.x();
      if (step == 1) {
        snaps = new ArrayList<>();
        snaps.add(generator.initialNoise(seed, first, n));
      }
      if (step % every == 0 || step == steps) {
        snaps.add(x.clone());
      }
      if (step == steps) {
        for (int k = 0; k < snaps.size(); k++) {
          if (frames.size() <= k) {
            frames.add(new ArrayList<>());
          }
          frames.get(k).add(snaps.get(k));
        }
      }
    }

    List<List<float[]>> frames() {
      return frames;
    }
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
      String title = k == 0 ? "x_T: pure noise" : String.format("%s step %d of %d", spec.kind().id(),
          Math.min(spec.steps(), k * Math.max(1, (spec.steps() + 59) / 60)), spec.steps());
      pictures.add(Images.grid(title + String.format(",  guidance s = %s", fmt(guidance)), rows, columns, pixelScale));
    }
    AtomicFiles.write(animate, diffuse.viz.Gif.encode(pictures, total > 30 ? 80 : 150, 2500));
  }

  static long batches(int prompts, int count, int batchSize) {
    return (long) prompts * ((count + batchSize - 1) / batchSize);
  }

  static Path sidecarPath(Path png) {
    String name = png.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String base = dot > 0 ? name.substring(0, dot) : name;
    return png.resolveSibling(base + ".json");
  }

  static String fmt(double s) {
    return diffuse.sampling.ClassifierFreeGuidance.formatScale(s);
  }

  static String slug(String s) {
    return s.toLowerCase().replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
  }
}
