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
import diffuse.io.PngSettings;
import diffuse.io.ProgressBar;
import diffuse.io.Sidecar;
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

  static final class PromptSource {
    @Option(names = "--prompt", paramLabel = "TEXT", description = "What to draw, e.g. \"digit 7\". Repeatable.")
    List<String> prompts;

    @Option(names = "--prompts", paramLabel = "FILE", description = "A file of prompts, one per line (# comments).")
    Path file;

    @Option(names = "--from", paramLabel = "FILE.png|FILE.json",
        description = "Draw a picture again, to the same pixels: the settings inside a PNG that generate, sweep or"
            + " serve wrote, or in its .json sidecar. Only --out, --out-dir, --batch-size, --no-metadata and the"
            + " device options may be given with it.")
    Path from;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  PromptSource source;

  @Option(names = {"-n", "--count"}, defaultValue = "" + diffuse.api.Defaults.COUNT, paramLabel = "N", description = "Images per prompt (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--guidance", paramLabel = "S",
      description = "Guidance scale s: 0 unconditional, 1 conditional, >1 guided (default: the model's own, kept in"
          + " its model.json, else " + diffuse.api.Defaults.GUIDANCE + ").")
  Double guidance;

  @Option(names = "--out", paramLabel = "FILE.png", description = "Grid to write (default: samples.png unless --out-dir).")
  Path out;

  @Option(names = "--out-dir", paramLabel = "DIR", description = "Write one PNG per sample (with a sidecar each) into DIR.")
  Path outDir;

  @Option(names = "--animate", paramLabel = "FILE.gif",
      description = "Also write an animated GIF of the grid being denoised, step by step (at most 60 frames).")
  Path animate;

  /** Default images per grid line. */
  static final int DEFAULT_COLUMNS = 8;

  @Option(names = "--columns", defaultValue = "" + DEFAULT_COLUMNS, paramLabel = "N", description = "Images per grid line (default: ${DEFAULT-VALUE}).")
  int columns;

  @Option(names = "--scale", defaultValue = "" + Images.DEFAULT_SCALE, paramLabel = "K", description = "Pixel magnification in the grid (default: ${DEFAULT-VALUE}).")
  int pixelScale;

  @Option(names = "--no-metadata",
      description = "Write PNGs without their settings in text chunks (the .json sidecars are written all the same).")
  boolean noMetadata;

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
    if (source.from != null) {
      return replay();
    }
    Path grid = out == null && outDir == null ? Path.of("samples.png") : out;
    List<String> prompts = source.prompts != null ? source.prompts : Prompts.readFile(source.file);
    // fail on an unknown prompt or an unwritable destination before loading or sampling anything
    ModelStore.StoredModel model = modelFor(prompts);
    if (guidance == null) {
      guidance = model.info().defaultGuidance();
    }
    GenerateRequest request = new GenerateRequest(prompts, List.of(guidance), count, sampling.request());
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
      Sidecar.Grid layout = layout(samples, prompts.size(), sampling.seed, columns, pixelScale);
      List<Images.Row> rows = write(samples, layout, 0, grid, command);
      if (animate != null) {
        List<List<float[]>> f = frames.frames();
        writeAnimation(f, rows, spec, samples.guidanceOrPlain().describeScale(samples.rows().get(0).scale()),
            model.info().architecture().height(),
            model.info().architecture().width(), model.info().architecture().channels());
        // FILE.gif.json, so it never replaces the sidecar of a PNG grid of the same name
        Path gifSidecar = animate.resolveSibling(animate.getFileName() + ".json");
        Json.writeAtomically(gifSidecar, samples.sidecar(command).withGrid(layout));
        System.out.println("wrote " + animate + " (" + f.size() + " frames) and " + gifSidecar);
      }
      System.out.printf("sampling took %.1fs%n", bar.elapsedSeconds());
    }
    return 0;
  }

  /**
   * How {@code generate} lays out the grid of {@code samples} (one row per prompt): a title with the
   * scale, sampler and seed; each row captioned by its label (and by its prompt where that says
   * something else, or where there are several prompts).
   */
  static Sidecar.Grid layout(Samples samples, int prompts, long seed, int columns, int scale) {
    SamplerSpec spec = samples.spec();
    String how = samples.guidanceOrPlain().describeScale(samples.rows().get(0).scale());
    String title = String.format("%s, %s %d steps, seed %d", how, spec.kind().id(), spec.steps(), seed);
    List<String> labels = samples.rows().stream().map(r -> prompts == 1 && r.prompt().equalsIgnoreCase(r.labelName())
        ? r.labelName() : r.prompt() + " → " + r.labelName()).toList();
    return new Sidecar.Grid(title, labels, columns, scale);
  }

  /**
   * Writes {@code samples}: the grid laid out as {@code layout} to {@code gridFile} (or, where
   * {@code layout} is null, the one image alone), and with {@code --out-dir} one PNG per sample, each
   * with its sidecar beside it and, unless {@code --no-metadata}, inside it; prints what it wrote.
   *
   * @param firstIndex the sample number of the first image of each row (non-zero in a replay of one image)
   * @return the grid's rows
   */
  private List<Images.Row> write(Samples samples, Sidecar.Grid layout, int firstIndex, Path gridFile, String command)
      throws IOException {
    List<Images.Row> rows = new ArrayList<>();
    int images = 0;
    for (int k = 0; k < samples.rows().size(); k++) {
      Samples.Row r = samples.rows().get(k);
      List<BufferedImage> pictures = samples.images(r);
      images += pictures.size();
      rows.add(new Images.Row(layout == null ? "" : layout.labels().get(k), pictures));
      if (outDir != null) {
        for (int i = 0; i < pictures.size(); i++) {
          String base = String.format("%s-%s-%04d", slug(r.labelName()), fmt(r.scale()), firstIndex + i);
          Sidecar side = samples.sidecar(r, firstIndex + i, command);
          writePng(samples, pictures.get(i), side, outDir.resolve(base + ".png"), !noMetadata);
          Json.writeAtomically(outDir.resolve(base + ".json"), side);
        }
      }
    }
    if (gridFile != null) {
      Sidecar side;
      BufferedImage picture;
      if (layout == null) {
        side = samples.sidecar(samples.rows().get(0), firstIndex, command);
        picture = rows.get(0).images().get(0);
      } else {
        side = samples.sidecar(command).withGrid(layout);
        picture = Images.grid(layout.title(), rows, layout.columns(), layout.scale());
      }
      writePng(samples, picture, side, gridFile, !noMetadata);
      Json.writeAtomically(sidecarPath(gridFile), side);
      System.out.println("wrote " + gridFile + " (" + images + " images) and "
          + sidecarPath(gridFile));
    }
    if (outDir != null) {
      System.out.println("wrote " + images + " PNGs with sidecars to " + outDir);
    }
    return rows;
  }

  /** Writes {@code img} to {@code file}, carrying {@code sidecar} in its text chunks if {@code metadata}. */
  static void writePng(Samples samples, BufferedImage img, Sidecar sidecar, Path file, boolean metadata)
      throws IOException {
    if (metadata) {
      AtomicFiles.write(file, samples.png(img, sidecar));
    } else {
      Images.writePng(img, file);
    }
  }

  /** The options that may come with --from: where the picture goes and how it runs, not what it shows. */
  private static final java.util.Set<String> WITH_FROM = java.util.Set.of("--from", "--out", "--out-dir",
      "--batch-size", "--no-metadata", "--device", "--threads", "--xla", "--bf16");

  /**
   * {@code --from FILE}: the request recorded in FILE's sidecar (PNG chunk or .json) run again,
   * written as it was (the recorded grid layout; one image for the sidecar of one image).
   */
  private Integer replay() throws IOException {
    for (picocli.CommandLine.Model.OptionSpec o : cmd.commandLine().getParseResult().matchedOptions()) {
      if (!WITH_FROM.contains(o.longestName())) {
        throw new picocli.CommandLine.ParameterException(cmd.commandLine(), o.longestName() + " cannot be given"
            + " with --from, which draws " + source.from + " again with its own settings; give only --out, --out-dir,"
            + " --batch-size, --no-metadata or device options with it");
      }
    }
    Sidecar s = PngSettings.readSidecar(source.from, "from");
    String file = "from " + source.from;
    List<String> prompts = s.rows().stream().map(Sidecar.Row::prompt).distinct().toList();
    List<Double> scales = s.rows().stream().map(Sidecar.Row::guidance).distinct().toList();
    Sidecar.Row first = s.rows().get(0);
    for (int k = 0; k < s.rows().size(); k++) {
      Sidecar.Row r = s.rows().get(k);
      if (s.rows().size() != prompts.size() * scales.size() || !r.prompt().equals(prompts.get(k / scales.size()))
          || r.guidance() != scales.get(k % scales.size()) || r.count() != first.count()
          || r.firstIndex() != first.firstIndex()) {
        throw diffuse.api.DiffuseException.badValue("from", file + " has rows that are not every prompt at every"
            + " scale with the same images, which generate cannot draw");
      }
    }
    if (s.guidance() != null && s.guidance().isCustom()) {
      throw diffuse.api.DiffuseException.badValue("from", file + " was drawn with a program's own guidance rule ("
          + s.guidance().custom() + "), which the command line cannot run");
    }
    diffuse.schedule.Spacing spacing;
    try {
      spacing = s.spacing() == null ? diffuse.schedule.Spacing.LINSPACE : diffuse.schedule.Spacing.parse(s.spacing());
    } catch (IllegalArgumentException e) {
      throw diffuse.api.DiffuseException.badValue("from", file + " has an unknown spacing '" + s.spacing() + "'");
    }
    diffuse.app.SamplingRequest sr = new diffuse.app.SamplingRequest(new SamplerSpec(
        diffuse.sampling.SamplerKind.parse(s.sampler()), s.steps(), s.eta() == null ? 0 : s.eta(), s.clip(), spacing),
        s.seed(), sampling.batchSize, replayed(s.guidance()));
    GenerateRequest request = new GenerateRequest(prompts, scales, first.count(), sr);
    Path dir = replayModel(s.model(), file);
    ModelStore.StoredModel model = diffuse.app.LoadedModel.openImageModel(dir);
    knows(model, prompts);
    SamplerSpec spec = sr.spec(model.info());
    Path grid = out == null && outDir == null ? Path.of("samples.png") : out;
    if (grid != null) {
      AtomicFiles.checkWritable(grid);
    }
    if (outDir != null) {
      AtomicFiles.checkWritable(outDir.resolve(".probe.png"));
    }
    if (s.modelHash() != null && !s.modelHash().equals(model.modelHash())) {
      System.err.println("warning: " + source.from + " was drawn by weights with hash " + s.modelHash() + "; those of "
          + dir + " hash to " + model.modelHash() + ", so the pixels will differ");
    }
    String command = Main.commandLine(cmd);
    try (LoadedModel loaded = sampling.load(model)) {
      diffuse.app.GenerationPlan plan = GenerateService.plan(loaded, request);
      String guideWas = s.guidance() == null ? null : s.guidance().guideCheckpoint();
      if (guideWas != null && plan.guidance() != null && !guideWas.equals(plan.guidance().guideCheckpoint())) {
        System.err.println("warning: " + source.from + " was guided by checkpoint " + guideWas + " of "
            + s.guidance().guideModel() + ", which is now at " + plan.guidance().guideCheckpoint());
      }
      ProgressBar bar = ProgressBar.stderr("sample", plan.totalSteps(sampling.batchSize));
      Samples samples = GenerateService.run(plan, first.firstIndex(), new Listener() {
        @Override
        public void progress(String task, long done, long total, String status) {
          bar.update(done, "");
        }
      });
      bar.finish();
      boolean one = s.grid() == null && s.rows().size() == 1 && first.count() == 1;
      Sidecar.Grid layout = s.grid() != null ? s.grid() : one ? null : scales.size() > 1
          ? SweepCommand.layout(samples, s.seed(), Images.DEFAULT_SCALE)
          : layout(samples, prompts.size(), s.seed(), DEFAULT_COLUMNS, Images.DEFAULT_SCALE);
      write(samples, layout, first.firstIndex(), grid, command);
      System.out.printf("sampling took %.1fs%n", bar.elapsedSeconds());
    }
    return 0;
  }

  /**
   * The guidance a sidecar records, as a request that runs it again: a sidecar records the interval the
   * samples were guided in, none when every step was, so none here means every step, not the model's own.
   */
  static diffuse.sampling.Guidance replayed(diffuse.sampling.Guidance recorded) {
    diffuse.sampling.Guidance g = recorded == null ? diffuse.sampling.Guidance.PLAIN : recorded;
    return g.interval() == null ? g.withInterval(List.of()) : g;
  }

  /**
   * The model a sidecar names: its directory, or, for the server's sidecars (which name a model by
   * its id), the shipped model of that name.
   */
  private static Path replayModel(String recorded, String file) {
    Path p = Path.of(recorded);
    if (Files.isDirectory(p)) {
      return p;
    }
    Path shipped = GenerateOptions.shipped(recorded);
    if (p.getNameCount() == 1 && Files.isDirectory(shipped)) {
      return shipped;
    }
    throw diffuse.api.DiffuseException.badValue("from", file + " names the model " + recorded
        + ", which is not a model directory here");
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

  private void writeAnimation(List<List<float[]>> frames, List<Images.Row> finalRows, SamplerSpec spec, String how,
      int h, int w, int c) throws IOException {
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
      pictures.add(Images.grid(title + ",  " + how, rows, columns, pixelScale));
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
