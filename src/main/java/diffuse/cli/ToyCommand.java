package diffuse.cli;

import diffuse.data.PointSet;
import diffuse.data.ToyShapes;
import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.model.MlpConfig;
import diffuse.model.SavedModelDenoiser;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.sampling.Denoiser;
import diffuse.sampling.GaussianMixture;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import diffuse.model.TrainSettings;
import diffuse.train.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code diffuse toy}: the two-pixel world, where every image is a point in the plane. */
@Command(name = "toy", mixinStandardHelpOptions = true,
    description = {"The two-pixel world: train, look at the vector field, and follow sample paths.",
        "", "Each 'image' has two pixels, so it is a point in the plane; a data set is a shape, noise",
        "melts it into a Gaussian cloud, and the model learns the arrows that lead back."},
    subcommands = {ToyCommand.Train.class, ToyCommand.Field.class, ToyCommand.Sample.class})
final class ToyCommand {
  static final NoiseSchedule SCHEDULE = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);

  @Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Train the toy MLP denoiser on a 2-D shape, with the same trainer as the image models.")
  static final class Train implements Callable<Integer> {
    @Option(names = "--shape", defaultValue = "spirals", paramLabel = "spirals|moons|mixture") String shape;
    @Option(names = "--classes", defaultValue = "2", paramLabel = "K") int classes;
    @Option(names = "--points", defaultValue = "6000", paramLabel = "N") int points;
    @Option(names = "--out", required = true, paramLabel = "DIR") Path out;
    @Option(names = "--epochs", defaultValue = "150", paramLabel = "N") double epochs;
    @Option(names = "--seed", defaultValue = "0", paramLabel = "N") long seed;
    @Option(names = "--p-uncond", defaultValue = "0.1", paramLabel = "P") double pUncond;
    @Mixin DeviceOptions device;

    @Override
    public Integer call() {
      if (points < 256 || classes < 1 || !(epochs > 0)) {
        throw new IllegalArgumentException("need --points >= 256, --classes >= 1 and --epochs > 0");
      }
      if (Files.exists(out.resolve(ModelStore.MODEL_JSON))) {
        throw new IllegalArgumentException(out + " already holds a model; choose another --out");
      }
      ToyShapes.Shape s = ToyShapes.Shape.parse(shape);
      PointSet data = ToyShapes.sample(s, classes, points, seed);
      MlpConfig mlp = MlpConfig.defaults(classes);
      TrainSettings settings = new TrainSettings(256, 2e-3, 100, pUncond, 0.995, 1.0, seed, 0L);
      int[] counts = new int[classes];
      for (int y : data.labels()) {
        counts[y]++;
      }
      ModelInfo info = new ModelInfo(ModelInfo.FORMAT, null, mlp, new ModelInfo.Schedule(ScheduleKind.LINEAR, 1000),
          data.labelNames(), classes, new ModelInfo.Data(data.name(), points, 1, 2, 1,
              Arrays.stream(counts).boxed().toList()),
          new ModelInfo.Training(settings, 0, 0, 0, 0, "", List.of()), null);
      new TrainingRun(out, info, data, false, epochs, device.resolve(), Main.commandLine(), System.err).run();
      return 0;
    }
  }

  /** Either a trained toy model or the exact score of the mixture shape. */
  static final class Source {
    @Option(names = "--model", paramLabel = "DIR", description = "A model trained by `toy train`.") Path model;
    @Option(names = "--exact", description = "Use the exact score of a Gaussian mixture (no network).") boolean exact;
  }

  /** The denoiser, the data it stands for, and a name for titles. */
  record Loaded(Denoiser net, int nullLabel, PointSet data, String name, AutoCloseable closer, GaussianMixture exact)
      implements AutoCloseable {
    @Override
    public void close() throws Exception {
      if (closer != null) {
        closer.close();
      }
    }
  }

  static Loaded load(Source src, String shape, int classes, DeviceOptions device) {
    if (src == null || (src.model == null) == !src.exact) {
      throw new IllegalArgumentException("give either --model DIR or --exact");
    }
    if (src.exact) {
      if (ToyShapes.Shape.parse(shape) != ToyShapes.Shape.MIXTURE) {
        throw new IllegalArgumentException("--exact needs --shape mixture: only a Gaussian mixture has an exact score");
      }
      GaussianMixture m = ToyShapes.mixture(classes);
      return new Loaded(m.denoiser(SCHEDULE), m.nullLabel(), ToyShapes.sample(ToyShapes.Shape.MIXTURE, classes, 3000, 0),
          "exact score of a " + classes + "-blob mixture", null, m);
    }
    ModelStore.StoredModel sm = ModelStore.open(src.model);
    ModelInfo info = sm.info();
    if (!info.isToy()) {
      throw new IllegalArgumentException(src.model + " is an image model; toy commands need a model from `toy train`");
    }
    SavedModelDenoiser net = new SavedModelDenoiser(sm.savedModel(), info.network(), device.resolve().config());
    PointSet data = ToyShapes.fromSpec(info.data().dataset());
    GaussianMixture exact = ToyShapes.shapeOf(info.data().dataset()) == ToyShapes.Shape.MIXTURE
        ? ToyShapes.mixture(info.labels().size()) : null;
    return new Loaded(net, info.nullLabel(), data, "model " + src.model + " (" + data.name() + ")", net, exact);
  }

  static int checkClass(int label, Loaded l) {
    if (label < 0 || label >= l.nullLabel()) {
      throw new IllegalArgumentException("--class must be between 0 and " + (l.nullLabel() - 1) + ", got " + label);
    }
    return label;
  }

  @Command(name = "field", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Draw the guided ε̃ field as arrows at one noise level, a panel per guidance scale.",
          "For a model trained on the mixture shape, also print its mean error against the exact field."})
  static final class Field implements Callable<Integer> {
    @ArgGroup(exclusive = false, multiplicity = "1") Source source;
    @Option(names = "--shape", defaultValue = "mixture", paramLabel = "NAME", description = "With --exact: the shape (mixture).") String shape;
    @Option(names = "--classes", defaultValue = "2", paramLabel = "K", description = "With --exact: number of blobs (default: ${DEFAULT-VALUE}).") int classes;
    @Option(names = "--t", defaultValue = "300", paramLabel = "T", description = "Noise level: timestep 0..999 (default: ${DEFAULT-VALUE}).") int t;
    @Option(names = "--class", defaultValue = "0", paramLabel = "Y") int label;
    @Option(names = "--guidance", defaultValue = "0,1,4", split = ",", paramLabel = "S1,S2,...") List<Double> scales;
    @Option(names = "--out", defaultValue = "field.png", paramLabel = "FILE.png") Path out;
    @Mixin DeviceOptions device;

    @Override
    public Integer call() throws Exception {
      scales.forEach(ClassifierFreeGuidance::requireFinite);
      if (t < 0 || t >= SCHEDULE.numSteps()) {
        throw new IllegalArgumentException("--t must be within 0.." + (SCHEDULE.numSteps() - 1) + ", got " + t);
      }
      AtomicFiles.checkWritable(out);
      try (Loaded l = load(source, shape, classes, device)) {
        checkClass(label, l);
        String title = String.format("Guided field at t = %d (√ᾱ = %.2f, noise √(1−ᾱ) = %.2f), class %d — %s", t,
            SCHEDULE.sqrtAlphasCumprod(t), SCHEDULE.sqrtOneMinusAlphasCumprod(t), label, l.name());
        Images.writePng(diffuse.viz.ToyPictures.field(title, l.net(), SCHEDULE, t, label, l.nullLabel(), scales, l.data()), out);
        System.out.println("wrote " + out);
        if (source.model != null && l.exact() != null) {
          System.out.println("mean ‖ε_model − ε_exact‖ over noised data, per noise level (unconditional / class " + label + "):");
          for (int tt : new int[] {10, 50, 100, 200, 300, 500, 700, 900}) {
            System.out.printf("  t = %3d  %.4f / %.4f%n", tt, fieldError(l, tt, l.nullLabel()), fieldError(l, tt, label));
          }
        }
      }
      return 0;
    }
  }

  /** Mean Euclidean distance between the loaded field and the exact one at points drawn from q(x_t | y). */
  static double fieldError(Loaded l, int t, int label) {
    int n = 2000;
    java.util.SplittableRandom rng = new java.util.SplittableRandom(t);
    float[] x0 = l.exact().sample(n, label, rng, null);
    float[] eps = new float[x0.length];
    for (int i = 0; i < eps.length; i++) {
      eps[i] = (float) rng.nextGaussian();
    }
    float[] xt = new float[x0.length];
    int[] ts = new int[n];
    java.util.Arrays.fill(ts, t);
    SCHEDULE.qSample(x0, ts, eps, xt);
    int[] labels = new int[n];
    java.util.Arrays.fill(labels, label);
    float[] a = l.net().predictNoise(xt, n, t, labels);
    float[] b = l.exact().denoiser(SCHEDULE).predictNoise(xt, n, t, labels);
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += Math.hypot(a[2 * i] - b[2 * i], a[2 * i + 1] - b[2 * i + 1]);
    }
    return sum / n;
  }

  @Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Draw sample paths from noise to data: DDPM (jagged) beside DDIM η = 0 (smooth).")
  static final class Sample implements Callable<Integer> {
    @ArgGroup(exclusive = false, multiplicity = "1") Source source;
    @Option(names = "--shape", defaultValue = "mixture", paramLabel = "NAME") String shape;
    @Option(names = "--classes", defaultValue = "2", paramLabel = "K") int classes;
    @Option(names = "--class", defaultValue = "0", paramLabel = "Y") int label;
    @Option(names = "--guidance", defaultValue = "3", paramLabel = "S") double scale;
    @Option(names = "--paths", defaultValue = "200", paramLabel = "N") int paths;
    @Option(names = "--steps", defaultValue = "50", paramLabel = "N", description = "DDIM steps (default: ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--seed", defaultValue = "0", paramLabel = "N") long seed;
    @Option(names = "--out", defaultValue = "paths.png", paramLabel = "FILE.png") Path out;
    @Mixin DeviceOptions device;

    @Override
    public Integer call() throws Exception {
      ClassifierFreeGuidance.requireFinite(scale);
      if (paths < 1 || steps < 1) {
        throw new IllegalArgumentException("--paths and --steps must be >= 1");
      }
      AtomicFiles.checkWritable(out);
      try (Loaded l = load(source, shape, classes, device)) {
        checkClass(label, l);
        String title = String.format("%d sample paths toward class %d at guidance s = %s — %s", paths, label,
            GenerateCommand.fmt(scale), l.name());
        Images.writePng(diffuse.viz.ToyPictures.paths(title, l.net(), SCHEDULE, label, l.nullLabel(), scale, paths, seed,
            steps, l.data()), out);
        System.out.println("wrote " + out);
      }
      return 0;
    }
  }
}
