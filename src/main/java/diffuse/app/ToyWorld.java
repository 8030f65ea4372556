package diffuse.app;

import diffuse.data.PointSet;
import diffuse.data.ToyShapes;
import diffuse.api.DiffuseException;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.model.SavedModelNetwork;
import diffuse.sampling.Denoiser;
import diffuse.sampling.GaussianMixture;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import diffuse.runtime.Device;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The two-pixel world of one denoiser: a trained toy model, or the exact score of a Gaussian
 * mixture; with the clean data it stands for, its schedule, and (for the mixture shape) the exact
 * field to compare with.
 *
 * @param net ε(x, t, y) on points [n · 2]
 * @param nullLabel the label meaning "no class"
 * @param data the clean points
 * @param name for titles
 * @param schedule the schedule the denoiser belongs to
 * @param exact the exact mixture, when the data is one (else null)
 */
public record ToyWorld(Denoiser net, int nullLabel, PointSet data, String name, NoiseSchedule schedule,
    GaussianMixture exact, AutoCloseable closer) implements AutoCloseable {
  /** The schedule of the exact mixture field, and of every toy model `toy train` makes. */
  public static final ModelInfo.Schedule TOY_SCHEDULE = new ModelInfo.Schedule(ScheduleKind.LINEAR, 1000);

  /** The exact score of a {@code classes}-blob mixture on a ring. */
  public static ToyWorld exact(int classes) {
    if (classes < 1 || classes > 12) {
      throw DiffuseException.badValue("classes", "classes must be within 1..12, got " + classes);
    }
    GaussianMixture m = ToyShapes.mixture(classes);
    NoiseSchedule schedule = TOY_SCHEDULE.build();
    return new ToyWorld(m.denoiser(schedule), m.nullLabel(), ToyShapes.sample(ToyShapes.Shape.MIXTURE, classes, 3000, 0),
        "exact score of a " + classes + "-blob mixture", schedule, m, null);
  }

  /**
   * The toy-train use case: the MLP denoiser on {@code points} points of a 2-D shape, with the same
   * trainer, loss and label dropout as the image models, saved in {@code out}.
   */
  public static ModelInfo train(ToyShapes.Shape shape, int classes, int points, double epochs, long seed,
      double pUncond, Path out, Device.Choice device, String command, diffuse.api.Listener listener) {
    if (points < 256) {
      throw DiffuseException.badValue("points", "points must be >= 256, not " + points);
    }
    if (classes < 1) {
      throw DiffuseException.badValue("classes", "classes must be >= 1, not " + classes);
    }
    if (!(epochs > 0)) {
      throw DiffuseException.badValue("epochs", "epochs must be > 0, not " + epochs);
    }
    if (java.nio.file.Files.exists(out.resolve(ModelStore.MODEL_JSON))) {
      throw DiffuseException.badValue("out", "out " + out + " already holds a model; choose another directory");
    }
    PointSet data = ToyShapes.sample(shape, classes, points, seed);
    diffuse.model.MlpConfig mlp = diffuse.model.MlpConfig.defaults(classes);
    diffuse.model.TrainSettings settings = diffuse.model.TrainSettings.builder().batchSize(256).learningRate(2e-3)
        .warmupSteps(100).pUncond(pUncond).emaDecay(0.995).seed(seed).checkpointEvery(0L).build();
    int[] counts = new int[classes];
    for (int y : data.labels()) {
      counts[y]++;
    }
    ModelInfo info = new ModelInfo(ModelInfo.FORMAT, null, mlp, TOY_SCHEDULE, data.labelNames(), classes,
        new ModelInfo.Data(data.name(), points, 1, 2, 1, java.util.Arrays.stream(counts).boxed().toList()),
        new ModelInfo.Training(settings, 0, 0, 0, 0, "", java.util.List.of()), null);
    return new diffuse.train.TrainingRun(out, info, data, false, epochs, device, command, listener).run();
  }

  /** A model from {@code toy train}, loaded onto {@code device}. */
  public static ToyWorld open(Path dir, Device.Choice device) {
    ModelStore.StoredModel sm = ModelStore.open(dir);
    ModelInfo info = sm.info();
    if (!info.isToy()) {
      throw new DiffuseException(DiffuseException.Code.BAD_VALUE, "model",
          dir + " is an image model; toy commands need a model from `toy train`", null);
    }
    SavedModelNetwork net = new SavedModelNetwork(sm.savedModel(), info.network(), info.prediction(), device.config(),
        false);
    PointSet data = ToyShapes.fromSpec(info.data().dataset());
    GaussianMixture exact = ToyShapes.shapeOf(info.data().dataset()) == ToyShapes.Shape.MIXTURE
        ? ToyShapes.mixture(info.labels().size()) : null;
    var schedule = info.schedule().build();
    return new ToyWorld(info.prediction().denoiser(net, schedule), info.nullLabel(), data,
        "model " + dir + " (" + data.name() + ")", schedule, exact, net);
  }

  /** Fails unless {@code label} is one of the classes. */
  public int checkClass(int label) {
    if (label < 0 || label >= nullLabel) {
      throw DiffuseException.badValue("class", "class must be between 0 and " + (nullLabel - 1) + ", got " + label);
    }
    return label;
  }

  /** Fails unless {@code t} is a timestep of the schedule. */
  public int checkTimestep(int t) {
    if (t < 0 || t >= schedule.numSteps()) {
      throw DiffuseException.badValue("t", "t must be within 0.." + (schedule.numSteps() - 1) + ", got " + t);
    }
    return t;
  }

  /**
   * Mean Euclidean distance between this world's field and the exact one, at 2000 points drawn
   * from q(x_t | y) (y = the null label: the whole mixture).
   */
  public double fieldError(int t, int label) {
    if (exact == null) {
      throw new IllegalStateException("no exact field for " + name);
    }
    int n = 2000;
    SplittableRandom rng = new SplittableRandom(t);
    float[] x0 = exact.sample(n, label, rng, null);
    float[] eps = new float[x0.length];
    for (int i = 0; i < eps.length; i++) {
      eps[i] = (float) rng.nextGaussian();
    }
    float[] xt = new float[x0.length];
    int[] ts = new int[n];
    Arrays.fill(ts, t);
    schedule.qSample(x0, ts, eps, xt);
    int[] labels = new int[n];
    Arrays.fill(labels, label);
    float[] a = net.eps(xt, t, labels);
    float[] b = exact.denoiser(schedule).eps(xt, t, labels);
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += Math.hypot(a[2 * i] - b[2 * i], a[2 * i + 1] - b[2 * i + 1]);
    }
    return sum / n;
  }

  @Override
  public void close() throws Exception {
    if (closer != null) {
      closer.close();
    }
  }
}
