package diffuse.cli;

import diffuse.data.Dataset;
import diffuse.data.DatasetSpec;
import diffuse.data.Datasets;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.model.UNetConfig;
import diffuse.schedule.ScheduleKind;
import diffuse.train.Device;
import diffuse.model.TrainSettings;
import diffuse.train.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code diffuse train}: trains a class-conditional U-Net with label dropout. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Train a class-conditional diffusion U-Net with label dropout.",
      "",
      "DDPM ε-prediction loss; each label is replaced by the null label with probability --p-uncond, so the",
      "model learns both ε(x,t,y) and the unconditional ε(x,t,∅) that classifier-free guidance needs.",
      "Ctrl-C saves a checkpoint and exits; --resume continues from it."})
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--dataset", paramLabel = "NAME",
      description = "mnist, fashion-mnist or folder:PATH (one subfolder per class). Required unless --resume.")
  String dataset;

  @Option(names = "--out", paramLabel = "DIR", description = "Run directory to create.")
  Path out;

  @Option(names = "--resume", paramLabel = "DIR", description = "Continue the run in DIR (settings come from its model.json).")
  Path resume;

  @Option(names = "--epochs", defaultValue = "5", paramLabel = "N",
      description = "Total passes over the data the model should have at the end (default: ${DEFAULT-VALUE}).")
  double epochs;

  @Option(names = "--batch-size", defaultValue = "128", paramLabel = "N") int batchSize;
  @Option(names = "--lr", defaultValue = "1e-3", paramLabel = "RATE", description = "Adam learning rate (default: ${DEFAULT-VALUE}).") double lr;
  @Option(names = "--warmup", defaultValue = "200", paramLabel = "STEPS", description = "Linear learning-rate warm-up steps (default: ${DEFAULT-VALUE}).") int warmup;
  @Option(names = "--p-uncond", defaultValue = "0.1", paramLabel = "P",
      description = "Probability that a label is replaced by the null label (default: ${DEFAULT-VALUE}).") double pUncond;
  @Option(names = "--ema-decay", defaultValue = "0.999", paramLabel = "D", description = "Decay of the weight average used for sampling (default: ${DEFAULT-VALUE}).") double emaDecay;
  @Option(names = "--grad-clip", defaultValue = "1.0", paramLabel = "NORM", description = "Global gradient-norm clip (default: ${DEFAULT-VALUE}).") double gradClip;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed of every random choice; same seed, same run (default: ${DEFAULT-VALUE}).") long seed;

  @Option(names = "--schedule", defaultValue = "linear", paramLabel = "linear|cosine", description = "Noise schedule (default: ${DEFAULT-VALUE}).") ScheduleKind schedule;
  @Option(names = "--timesteps", defaultValue = "1000", paramLabel = "T", description = "Diffusion steps T (default: ${DEFAULT-VALUE}).") int timesteps;
  @Option(names = "--widths", defaultValue = "32,64,128", split = ",", paramLabel = "C1,C2,...",
      description = "U-Net channels per resolution level (default: ${DEFAULT-VALUE}).") List<Integer> widths;
  @Option(names = "--res-blocks", defaultValue = "1", paramLabel = "N", description = "Residual blocks per level (default: ${DEFAULT-VALUE}).") int resBlocks;
  @Option(names = "--embed-dim", defaultValue = "128", paramLabel = "N", description = "Timestep/class embedding width (default: ${DEFAULT-VALUE}).") int embedDim;
  @Option(names = "--groups", defaultValue = "8", paramLabel = "N", description = "GroupNorm groups (default: ${DEFAULT-VALUE}).") int groups;

  @Option(names = "--image-size", paramLabel = "PX", description = "Side of folder images after resizing (default: 32; folder data sets only).") Integer imageSize;
  @Option(names = "--data-dir", paramLabel = "DIR", description = "Where MNIST is cached / Fashion-MNIST is read (default: ~/.cache/diffuse/mnist, /usr/share/datasets/fashion-mnist).") Path dataDir;
  @Option(names = "--limit", paramLabel = "N", description = "Train on the first N images only (quick experiments).") Integer limit;
  @Option(names = "--checkpoint-every", defaultValue = "1000", paramLabel = "STEPS", description = "Steps between checkpoints; 0 = only at the end (default: ${DEFAULT-VALUE}; kept in model.json, so --resume keeps it unless given).") long checkpointEvery;

  @Mixin DeviceOptions deviceOptions;

  @Option(names = "--devices", split = ",", paramLabel = "D1,D2,...|all",
      description = "Replicate training over these devices (cpu:0,cpu:1 virtual CPU devices; gpu:0,gpu:1,...; all = every GPU)."
          + " The batch is split evenly; the model and its checkpoints are the same as on one device.")
  List<String> devices;

  @Option(names = "--cluster", split = ",", paramLabel = "HOST:PORT,...",
      description = "Train across machines with TensorFlow's distributed runtime: every task's host:port, task 0 first."
          + " Run the same command on every machine with its --task-index; task 0 trains and saves, the others serve.")
  List<String> cluster;

  @Option(names = "--task-index", paramLabel = "I", description = "This machine's task in --cluster (default: 0).")
  Integer taskIndex;

  @Spec CommandSpec spec;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec cmd;

  @Override
  public Integer call() throws Exception {
    if (!(epochs > 0) || !Double.isFinite(epochs)) {
      throw new IllegalArgumentException("--epochs must be a positive number, got " + epochs);
    }
    if (checkpointEvery < 0) {
      throw new IllegalArgumentException("--checkpoint-every must be >= 0, got " + checkpointEvery);
    }
    if (limit != null && limit < 1) {
      throw new IllegalArgumentException("--limit must be >= 1, got " + limit);
    }
    String command = Main.commandLine(cmd);
    Device.Choice device = deviceOptions.resolve();
    if (devices != null && cluster != null) {
      throw new IllegalArgumentException("give --devices (one machine) or --cluster (several), not both");
    }
    if (taskIndex != null && cluster == null) {
      throw new IllegalArgumentException("--task-index needs --cluster");
    }
    if (devices != null) {
      device = device.withTowers(devices);
    }
    if (cluster != null) {
      int task = taskIndex == null ? 0 : taskIndex;
      org.tensorflow.Server server = diffuse.train.ClusterSession.startServer(cluster, task);
      if (task != 0) {
        System.err.printf("task %d of %d serving on %s for the chief (task 0, %s); stop with Ctrl-C when it is done%n",
            task, cluster.size(), cluster.get(task), cluster.get(0));
        server.join();
        return 0;
      }
      device = device.onCluster(cluster);
    }
    ModelInfo info;
    Dataset data;
    Path runDir;
    boolean resuming = resume != null;
    if (resuming) {
      if (out != null) {
        throw new IllegalArgumentException("--resume continues a run in place; drop --out");
      }
      runDir = resume;
      info = ModelStore.open(runDir).info();
      if (info.isToy()) {
        throw new IllegalArgumentException(runDir + " is a two-pixel toy model; train a new one with `diffuse toy train` (seconds)");
      }
      checkNoConflicts(info);
      if (given("--checkpoint-every") && checkpointEvery != info.training().settings().checkpointInterval()) {
        System.err.printf("checkpoints every %d steps from now on (the run had %d)%n", checkpointEvery,
            info.training().settings().checkpointInterval());
        info = info.withTraining(info.training().withSettings(info.training().settings().withCheckpointEvery(checkpointEvery)));
      }
      DatasetSpec recorded = DatasetSpec.parse(info.data().dataset());
      DatasetSpec dspec = dataset != null ? DatasetSpec.parse(dataset) : recorded;
      int size = info.architecture().height();
      Dataset full = Datasets.load(dspec, Datasets.Split.TRAIN, dataDir, size);
      // the run used the first data().images() images (all of them unless it was started with --limit)
      if (full.size() < info.data().images()) {
        throw new IllegalArgumentException(dspec + " has " + full.size() + " images; the run trained on "
            + info.data().images());
      }
      data = firstImages(full, info.data().images());
      checkMatches(info, data);
      if (!dspec.toString().equals(recorded.toString())) {
        System.err.printf("data: %s in place of the recorded %s (same labels, size and class counts)%n", dspec, recorded);
        var d = info.data();
        info = info.withData(new ModelInfo.Data(dspec.toString(), d.images(), d.height(), d.width(), d.channels(),
            d.classCounts()));
      }
    } else {
      if (dataset == null) {
        throw new IllegalArgumentException("--dataset is required (mnist, fashion-mnist or folder:PATH), or --resume DIR");
      }
      if (out == null) {
        throw new IllegalArgumentException("--out DIR is required for a new run");
      }
      if (Files.exists(out.resolve(ModelStore.MODEL_JSON))) {
        throw new IllegalArgumentException(out + " already holds a model; continue it with --resume " + out
            + " or choose another --out");
      }
      runDir = out;
      TrainSettings settings = new TrainSettings(batchSize, lr, warmup, pUncond, emaDecay, gradClip, seed, checkpointEvery);
      if (timesteps < 2) {
        throw new IllegalArgumentException("--timesteps must be >= 2, got " + timesteps);
      }
      DatasetSpec dspec = DatasetSpec.parse(dataset);
      Dataset full = Datasets.load(dspec, Datasets.Split.TRAIN, dataDir, folderImageSize(dspec, imageSize));
      data = limit == null ? full : firstImages(full, limit);
      UNetConfig arch = new UNetConfig(data.height(), data.width(), data.channels(), data.numClasses(),
          widths, resBlocks, embedDim, groups);
      info = new ModelInfo(ModelInfo.FORMAT, arch, null, new ModelInfo.Schedule(schedule, timesteps),
          data.labelNames(), arch.nullLabel(),
          new ModelInfo.Data(dspec.toString(), data.size(), data.height(), data.width(), data.channels(),
              Arrays.stream(data.classCounts()).boxed().toList()),
          new ModelInfo.Training(settings, 0, 0, 0, 0, "", List.of()), null);
    }
    TrainingRun run = new TrainingRun(runDir, info, data, resuming, epochs, device, command, System.err);
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      run.requestStop();
      try {
        finished.await(10, TimeUnit.MINUTES);
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    }, "save-on-interrupt");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      run.run();
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook is running and now returns
      }
    }
    return 0;
  }

  private boolean given(String option) {
    return spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  /**
   * A resumed run keeps the settings it was started with (model.json): a flag that would change one
   * is an error rather than silently ignored. The same value again is accepted.
   */
  private void checkNoConflicts(ModelInfo info) {
    TrainSettings s = info.training().settings();
    UNetConfig a = info.architecture();
    List<String> conflicts = new java.util.ArrayList<>();
    conflict(conflicts, "--batch-size", batchSize, s.batchSize());
    conflict(conflicts, "--lr", lr, s.learningRate());
    conflict(conflicts, "--warmup", warmup, s.warmupSteps());
    conflict(conflicts, "--p-uncond", pUncond, s.pUncond());
    conflict(conflicts, "--ema-decay", emaDecay, s.emaDecay());
    conflict(conflicts, "--grad-clip", gradClip, s.gradClip());
    conflict(conflicts, "--seed", seed, s.seed());
    conflict(conflicts, "--schedule", schedule, info.schedule().kind());
    conflict(conflicts, "--timesteps", timesteps, info.schedule().steps());
    conflict(conflicts, "--widths", widths, a.widths());
    conflict(conflicts, "--res-blocks", resBlocks, a.resBlocks());
    conflict(conflicts, "--embed-dim", embedDim, a.embedDim());
    conflict(conflicts, "--groups", groups, a.groups());
    conflict(conflicts, "--image-size", imageSize, a.height());
    conflict(conflicts, "--limit", limit, info.data().images());
    if (!conflicts.isEmpty()) {
      throw new IllegalArgumentException("a resumed run keeps its settings (" + resume.resolve(ModelStore.MODEL_JSON)
          + "): " + String.join(", ", conflicts) + "; drop the flag, or start a new run with --out");
    }
  }

  private void conflict(List<String> out, String option, Object given, Object recorded) {
    if (given(option) && !java.util.Objects.equals(normalise(given), normalise(recorded))) {
      out.add(option + " " + given + " differs from the run's " + recorded);
    }
  }

  private static Object normalise(Object v) {
    return v instanceof Number n && !(v instanceof Double) && !(v instanceof Float) ? (Object) n.longValue()
        : v instanceof Float f ? (Object) f.doubleValue() : v;
  }

  /** The first {@code n} images of a data set (the --limit of quick runs, kept by a resumed one). */
  private static Dataset firstImages(Dataset d, int n) {
    if (n >= d.size()) {
      return d;
    }
    int per = d.imageSize();
    return new Dataset(d.name(), Arrays.copyOf(d.pixels(), n * per), Arrays.copyOf(d.labels(), n),
        d.height(), d.width(), d.channels(), d.labelNames());
  }

  /** The side folder images are resized to; {@code --image-size} with MNIST-style data is an error, not ignored. */
  static int folderImageSize(DatasetSpec spec, Integer given) {
    if (given == null) {
      return 32;
    }
    if (spec.kind() != DatasetSpec.Kind.FOLDER) {
      throw new IllegalArgumentException("--image-size applies to folder:PATH data sets only; " + spec
          + " images are 28x28 and are used as they are");
    }
    return given;
  }

  private static void checkMatches(ModelInfo info, Dataset data) {
    var a = info.architecture();
    if (a.height() != data.height() || a.width() != data.width() || a.channels() != data.channels()
        || !info.labels().equals(data.labelNames())
        || !Arrays.stream(data.classCounts()).boxed().toList().equals(info.data().classCounts())) {
      throw new IllegalArgumentException("the data (" + data.height() + "x" + data.width() + "x" + data.channels()
          + ", labels " + data.labelNames() + ") does not match the model (" + a.height() + "x" + a.width()
          + "x" + a.channels() + ", labels " + info.labels() + ")");
    }
  }
}
