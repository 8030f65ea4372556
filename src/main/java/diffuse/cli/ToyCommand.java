package diffuse.cli;

import diffuse.app.ToyWorld;
import diffuse.data.ToyShapes;
import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.schedule.NoiseSchedule;
import java.nio.file.Path;
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
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec cmd;

    @Override
    public Integer call() {
      ToyWorld.train(ToyShapes.Shape.parse(shape), classes, points, epochs, seed, pUncond, out, device.resolve(),
          Main.commandLine(cmd), diffuse.io.ConsoleListener.stderr());
      return 0;
    }
  }

  /** Either a trained toy model or the exact score of the mixture shape. */
  static final class Source {
    @Option(names = "--model", paramLabel = "DIR", description = "A model trained by `toy train`.") Path model;
    @Option(names = "--exact", description = "Use the exact score of a Gaussian mixture (no network).") boolean exact;
  }

  static ToyWorld load(Source src, String shape, int classes, DeviceOptions device) {
    if (src == null || (src.model == null) == !src.exact) {
      throw new IllegalArgumentException("give either --model DIR or --exact");
    }
    if (src.exact) {
      if (ToyShapes.Shape.parse(shape) != ToyShapes.Shape.MIXTURE) {
        throw new IllegalArgumentException("--exact needs --shape mixture: only a Gaussian mixture has an exact score");
      }
      return ToyWorld.exact(classes);
    }
    return ToyWorld.open(src.model, device.resolve());
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
      AtomicFiles.checkWritable(out);
      try (ToyWorld l = load(source, shape, classes, device)) {
        l.checkTimestep(t);
        l.checkClass(label);
        NoiseSchedule schedule = l.schedule();
        String title = String.format("Guided field at t = %d (√ᾱ = %.2f, noise √(1−ᾱ) = %.2f), class %d — %s", t,
            schedule.sqrtAlphasCumprod(t), schedule.sqrtOneMinusAlphasCumprod(t), label, l.name());
        Images.writePng(diffuse.viz.ToyPictures.field(title, l.net(), schedule, t, label, l.nullLabel(), scales, l.data()), out);
        System.out.println("wrote " + out);
        if (source.model != null && l.exact() != null) {
          System.out.println("mean ‖ε_model − ε_exact‖ over noised data, per noise level (unconditional / class " + label + "):");
          for (int tt : new int[] {10, 50, 100, 200, 300, 500, 700, 900}) {
            System.out.printf("  t = %3d  %.4f / %.4f%n", tt, l.fieldError(tt, l.nullLabel()), l.fieldError(tt, label));
          }
        }
      }
      return 0;
    }
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
      try (ToyWorld l = load(source, shape, classes, device)) {
        l.checkClass(label);
        String title = String.format("%d sample paths toward class %d at guidance s = %s — %s", paths, label,
            GenerateCommand.fmt(scale), l.name());
        Images.writePng(diffuse.viz.ToyPictures.paths(title, l.net(), l.schedule(), label, l.nullLabel(), scale, paths, seed,
            steps, l.data()), out);
        System.out.println("wrote " + out);
      }
      return 0;
    }
  }
}
