package diffuse.cli;

import diffuse.api.Defaults;
import diffuse.app.TrainRequest;
import diffuse.app.TrainService;
import diffuse.io.ConsoleListener;
import diffuse.sampling.Prediction;
import diffuse.schedule.ScheduleKind;
import diffuse.runtime.Device;
import diffuse.train.TrainingRun;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
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
      "The diffusion loss (the network predicts ε, x₀ or v: --prediction); each label is replaced by the null",
      "label with probability --p-uncond, so the model learns both the conditional prediction (x,t,y) and",
      "the unconditional (x,t,∅) that classifier-free guidance needs.",
      "Ctrl-C saves a checkpoint and exits; --resume continues from it."})
final class TrainCommand implements Callable<Integer> {

  @Option(names = "--dataset", paramLabel = "NAME",
      description = "mnist, fashion-mnist or folder:PATH (one subfolder per class). Required unless --resume.")
  String dataset;

  @Option(names = "--out", paramLabel = "DIR", description = "Run directory to create.")
  Path out;

  @Option(names = "--resume", paramLabel = "DIR", description = "Continue the run in DIR (settings come from its model.json).")
  Path resume;

  @Option(names = "--epochs", paramLabel = "N",
      description = "Total passes over the data the model should have at the end (default: " + Defaults.TRAIN_EPOCHS + ").")
  Double epochs;

  @Option(names = "--batch-size", paramLabel = "N", description = "Images per step (default: " + Defaults.TRAIN_BATCH_SIZE + ").") Integer batchSize;
  @Option(names = "--lr", paramLabel = "RATE", description = "Adam learning rate (default: " + Defaults.TRAIN_LR + ").") Double lr;
  @Option(names = "--warmup", paramLabel = "STEPS", description = "Linear learning-rate warm-up steps (default: " + Defaults.TRAIN_WARMUP + ").") Integer warmup;
  @Option(names = "--p-uncond", paramLabel = "P",
      description = "Probability that a label is replaced by the null label (default: " + Defaults.TRAIN_P_UNCOND + ").") Double pUncond;
  @Option(names = "--ema-decay", paramLabel = "D", description = "Decay of the weight average used for sampling (default: " + Defaults.TRAIN_EMA_DECAY + ").") Double emaDecay;
  @Option(names = "--grad-clip", paramLabel = "NORM", description = "Global gradient-norm clip (default: " + Defaults.TRAIN_GRAD_CLIP + ").") Double gradClip;
  @Option(names = "--seed", paramLabel = "N", description = "Seed of every random choice; same seed, same run (default: " + Defaults.TRAIN_SEED + ").") Long seed;

  @Option(names = "--schedule", paramLabel = "linear|cosine", description = "Noise schedule (default: linear).") ScheduleKind schedule;
  @Option(names = "--timesteps", paramLabel = "T", description = "Diffusion steps T (default: " + Defaults.TRAIN_TIMESTEPS + ").") Integer timesteps;
  @Option(names = "--widths", split = ",", paramLabel = "C1,C2,...",
      description = "U-Net channels per resolution level (default: 32,64,128).") List<Integer> widths;
  @Option(names = "--res-blocks", paramLabel = "N", description = "Residual blocks per level (default: " + Defaults.TRAIN_RES_BLOCKS + ").") Integer resBlocks;
  @Option(names = "--embed-dim", paramLabel = "N", description = "Timestep/class embedding width (default: " + Defaults.TRAIN_EMBED_DIM + ").") Integer embedDim;
  @Option(names = "--groups", paramLabel = "N", description = "GroupNorm groups (default: " + Defaults.TRAIN_GROUPS + ").") Integer groups;

  @Option(names = "--ada-gn", negatable = true,
      description = "Let the time and class embedding scale and shift the GroupNorm of every residual block"
          + " (AdaGN, Dhariwal & Nichol 2021); --no-ada-gn adds it as a bias instead; kept in model.json (default: on).")
  Boolean adaGn;

  @Option(names = "--p-mean", paramLabel = "M",
      description = "Each sample's noise level is drawn log-normally, ln σ ~ N(M, S²), at the nearest timestep (EDM,"
          + " Karras et al. 2022); with --prediction v this is EDM's weighting for σ_data = 1; kept in model.json"
          + " (default: " + Defaults.TRAIN_P_MEAN + ", EDM's).")
  Double pMean;

  @Option(names = "--p-std", paramLabel = "S",
      description = "S of the log-normal noise levels (default: " + Defaults.TRAIN_P_STD + ", EDM's).")
  Double pStd;

  @Option(names = "--uniform-t",
      description = "Draw t uniformly over 0 … T−1 (DDPM, Ho et al. 2020) instead of the log-normal noise levels;"
          + " kept in model.json.")
  Boolean uniformT;

  @Option(names = "--extra-ema", split = ",", paramLabel = "D1,D2,...",
      description = "Keep further weight averages with these decays beside --ema-decay's, each exported with every"
          + " checkpoint (saved_model-ema<D>), to choose the length after training with `export --ema D`"
          + " (Karras et al. 2024; the best one depends on the guidance scale). Default: none.")
  List<Double> extraEma;

  @Option(names = "--prediction", paramLabel = "eps|x0|v", converter = PredictionName.class,
      description = "What the network learns to predict: eps (the noise), x0 (the clean image) or"
          + " v = α·ε − σ·x₀ (Salimans & Ho 2022, the default);"
          + " kept in model.json, so sampling needs no flag.")
  Prediction prediction;

  @Option(names = "--min-snr-gamma", paramLabel = "γ",
      description = "Min-SNR-γ loss weighting (Hang et al. 2023; 5 in the paper): weight each sample by min(SNR, γ)"
          + " relative to its target (default: off, the plain mean squared error).")
  Double minSnrGamma;

  @Option(names = "--cosine-decay", negatable = true,
      description = "Decay the learning rate along a cosine from its peak to a tenth over the run's --epochs"
          + " (Loshchilov & Hutter 2017); kept in model.json, so --resume follows the same curve (default: constant).")
  Boolean cosineDecay;

  @Option(names = "--cooldown", paramLabel = "STEPS",
      description = "Lower the learning rate linearly to 0 over the run's last STEPS steps (warmup-stable-decay,"
          + " Hägele et al. 2024). With --resume it finishes a constant-rate run: the cooldown ends at --epochs and"
          + " must start at or after the step the run is at; kept in model.json (default: none).")
  Long cooldown;

  /** --prediction by its lower-case name. */
  static final class PredictionName implements picocli.CommandLine.ITypeConverter<Prediction> {
    @Override
    public Prediction convert(String value) {
      try {
        return Prediction.parse(value);
      } catch (diffuse.api.DiffuseException e) {
        throw new picocli.CommandLine.TypeConversionException("eps, x0 or v, not '" + value + "'");
      }
    }
  }

  @Option(names = "--image-size", paramLabel = "PX", description = "Side of folder images after resizing (default: 32; folder data sets only).") Integer imageSize;
  @Option(names = "--data-dir", paramLabel = "DIR", description = "Where MNIST is cached / Fashion-MNIST is read (default: ~/.cache/diffuse/mnist, /usr/share/datasets/fashion-mnist).") Path dataDir;
  @Option(names = "--limit", paramLabel = "N", description = "Train on the first N images only (quick experiments).") Integer limit;
  @Option(names = "--snapshot-every", paramLabel = "STEPS",
      description = "Also keep a copy of the model every STEPS steps in RUN/snapshots/step-STEP (a checkpoint"
          + " is saved at each), for metrics against images seen; kept in model.json, changed by giving it on --resume (0: none; default: none).")
  Long snapshotEvery;
  @Option(names = "--checkpoint-every", paramLabel = "STEPS", description = "Steps between checkpoints; 0 = only at the end (default: " + Defaults.TRAIN_CHECKPOINT_EVERY + "; kept in model.json, so --resume keeps it unless given).") Long checkpointEvery;

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

  @Override
  public Integer call() throws Exception {
    String command = Main.commandLine(spec);
    Device.Choice device = deviceOptions.resolve();
    if (devices != null && cluster != null) {
      throw new IllegalArgumentException("give --devices (one machine) or --cluster (several), not both");
    }
    if (taskIndex != null && cluster == null) {
      throw new IllegalArgumentException("--task-index needs --cluster");
    }
    TrainRequest request = request();
    if (devices != null) {
      device = device.withTowers(devices);
    }
    if (cluster != null) {
      int task = taskIndex == null ? 0 : taskIndex;
      org.tensorflow.Server server = diffuse.runtime.ClusterSession.startServer(cluster, task);
      if (task != 0) {
        System.err.printf("task %d of %d serving on %s for the chief (task 0, %s); stop with Ctrl-C when it is done%n",
            task, cluster.size(), cluster.get(task), cluster.get(0));
        server.join();
        return 0;
      }
      device = device.onCluster(cluster);
    }
    TrainingRun run = TrainService.prepare(request, device, command, ConsoleListener.stderr());
    Thread hook = new Thread(() -> {
      try {
        run.stopAndWait(10, TimeUnit.MINUTES);
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    }, "save-on-interrupt");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      run.run();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook is running and now returns
      }
    }
    return 0;
  }

  /** The options as a request: options not given stay null (defaults for a new run, the recorded value on resume). */
  private TrainRequest request() {
    TrainRequest.Builder b = resume != null ? TrainRequest.resume(resume).out(out).dataset(dataset)
        : TrainRequest.newRun(dataset, out);
    if (epochs != null) {
      b.epochs(epochs);
    }
    return b.dataDir(dataDir).imageSize(imageSize).limit(limit).batchSize(batchSize).lr(lr).warmup(warmup)
        .pUncond(pUncond).emaDecay(emaDecay).gradClip(gradClip).seed(seed).checkpointEvery(checkpointEvery)
        .schedule(schedule).timesteps(timesteps).widths(widths).resBlocks(resBlocks).embedDim(embedDim).groups(groups)
        .prediction(prediction).minSnrGamma(minSnrGamma)
        .cosineDecay(cosineDecay).scaleShiftNorm(adaGn).pMean(pMean).pStd(pStd).uniformT(uniformT).extraEma(extraEma).snapshotEvery(snapshotEvery)
        .cooldown(cooldown).build();
  }
}
