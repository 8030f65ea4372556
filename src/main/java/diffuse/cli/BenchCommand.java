package diffuse.cli;

import diffuse.data.Dataset;
import diffuse.io.ModelStore;
import diffuse.model.UNet;
import diffuse.model.UNetConfig;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.SamplerSpec;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import diffuse.runtime.Device;
import diffuse.model.TrainSettings;
import diffuse.train.Trainer;
import diffuse.train.TrainingGraph;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code diffuse bench}: throughput and memory measurements (not tests: numbers depend on the machine). */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measure training throughput and memory, sampling time, and the server under load, on this machine.",
    subcommands = {BenchCommand.Train.class, BenchCommand.Sample.class, BenchServeCommand.class,
      BenchTwinCommand.class, BenchProfileCommand.class})
final class BenchCommand {

  /** Resident memory of this process in MB (Linux), or -1. */
  static double rssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // not Linux
    }
    return -1;
  }

  /** Eight batches of random 28x28 "digits", labels 0 … 9 in turn: what the training benchmarks train on. */
  static Dataset randomDigits(int batch) {
    int n = batch * 8;
    byte[] px = new byte[n * 784];
    new Random(1).nextBytes(px);
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 10;
    }
    return new Dataset("random", px, labels, 28, 28, 1, diffuse.data.Datasets.DIGIT_LABELS);
  }

  /**
   * Which network and training step the training benchmarks measure: by default what {@code train} trains
   * (its defaults: {@link diffuse.api.Defaults#TRAIN_ADA_GN AdaGN}, {@link diffuse.api.Defaults#TRAIN_PREDICTION v},
   * log-normal noise levels); {@code --plain}: the bias U-Net with ε and t uniform, the shared PyTorch
   * twin's own network and step.
   */
  static final class Recipe {
    @Option(names = "--plain", description = "Measure the U-Net with the embedding as a bias, ε and t uniform (the"
        + " PyTorch twin as it is) instead of train's defaults (AdaGN, v, log-normal noise levels).") boolean plain;
  }

  /**
   * The default U-Net's training step on {@link #randomDigits}, as every training benchmark runs it
   * (Adam lr 1e-4 without warm-up, linear schedule of 1000 steps); close it to free the graph.
   */
  record BenchTraining(UNetConfig config, TrainingGraph graph, Trainer trainer) implements AutoCloseable {
    /** The network {@code train} builds for 28×28 digits by default, or with {@code plain} the bias one. */
    static UNetConfig config(boolean plain) {
      return UNetConfig.defaults(28, 28, 1, 10).withScaleShiftNorm(!plain && diffuse.api.Defaults.TRAIN_ADA_GN);
    }

    /**
     * Opens the benchmark's training step: {@code train}'s default objective (its prediction and
     * log-normal noise levels), or with {@code plain} ε-prediction with t uniform.
     */
    static BenchTraining open(int batch, Device.Choice d, boolean plain) {
      UNetConfig c = config(plain);
      TrainSettings.Builder sb = TrainSettings.builder().batchSize(batch).learningRate(1e-4).warmupSteps(0).emaDecay(0.999)
          .seed(1);
      if (!plain) {
        sb.prediction(diffuse.sampling.Prediction.parse(diffuse.api.Defaults.TRAIN_PREDICTION))
            .logNormalNoise(diffuse.api.Defaults.TRAIN_P_MEAN, diffuse.api.Defaults.TRAIN_P_STD);
      }
      TrainSettings s = sb.build();
      TrainingGraph g = TrainingGraph.builder(new UNet(c))
          .gradClip(s.gradClip()).config(d.config()).towers(d.towers()).build();
      try {
        g.initialize(1);
        return new BenchTraining(c, g, new Trainer(g, NoiseSchedule.of(ScheduleKind.LINEAR, 1000), randomDigits(batch), s,
            c.nullLabel()));
      } catch (RuntimeException e) {
        g.close();
        throw e;
      }
    }

    /** Multiply-add FLOPs of one training image: three forwards ({@link diffuse.model.NoiseNet#forwardFlopsPerSample}). */
    static double trainFlopsPerImage(boolean plain) {
      return 3.0 * new UNet(config(plain)).forwardFlopsPerSample();
    }

    /** "default U-Net (AdaGN, v, log-normal noise levels)" or "plain U-Net (bias, ε, t uniform)". */
    static String describe(boolean plain) {
      return plain ? "plain U-Net (embedding as a bias, ε, t uniform)"
          : "default U-Net (" + (config(false).scaleShiftNorm() ? "AdaGN" : "embedding as a bias") + ", "
              + diffuse.api.Defaults.TRAIN_PREDICTION + ", log-normal noise levels)";
    }

    @Override
    public void close() {
      graph.close();
    }
  }

  /**
   * "≈ X GFLOP/s (…)" for a measured rate in FLOP/s: training counted as three forwards of the
   * analytic multiply-add count ({@link diffuse.model.NoiseNet#forwardFlopsPerSample}); with the
   * share of {@code peakGflops} when given.
   */
  static String flopLine(double flopsPerSecond, Double peakGflops) {
    String line = String.format(java.util.Locale.ROOT, "compute: %.1f GFLOP/s (training counted as 3 forwards)",
        flopsPerSecond / 1e9);
    return peakGflops == null ? line
        : line + String.format(java.util.Locale.ROOT, ", %.0f %% of the %.0f GFLOP/s peak", 100 * flopsPerSecond / 1e9 / peakGflops, peakGflops);
  }

  /** CPU time of this process (all threads, native ones included), or 0. */
  static long cpuNanos() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return 0;
  }

  @Command(name = "train", mixinStandardHelpOptions = true,
      description = "Train the default U-Net (as train builds it; --plain: the bias one) on random 28x28 data;"
          + " report images/s and resident memory over the steps.")
  static final class Train implements Callable<Integer> {
    @Option(names = "--steps", defaultValue = "60", paramLabel = "N") int steps;
    @Option(names = "--batch-size", defaultValue = "128", paramLabel = "N") int batch;
    @Option(names = "--warmup-steps", defaultValue = "5", paramLabel = "N", description = "Untimed steps first (default: ${DEFAULT-VALUE}).") int warmup;
    @Mixin DeviceOptions device;
    @Mixin Recipe recipe;
    @Option(names = "--devices", split = ",", paramLabel = "D1,D2,...", description = "Replicate over these devices, as train does.")
    List<String> devices;
    @Option(names = "--peak-gflops", paramLabel = "GFLOP/S",
        description = "The machine's measured peak, to print the share of it that training reaches.") Double peakGflops;

    @Override
    public Integer call() {
      if (steps < 1 || batch < 1 || warmup < 0) {
        throw new IllegalArgumentException("--steps, --batch-size must be >= 1 and --warmup-steps >= 0");
      }
      Device.Choice d = devices == null ? device.resolve() : device.resolve().withTowers(devices);
      try (BenchTraining bt = BenchTraining.open(batch, d, recipe.plain)) {
        TrainingGraph g = bt.graph();
        Trainer t = bt.trainer();
        System.out.printf("%s (%,d parameters), batch %d, device %s, %d cores%n",
            BenchTraining.describe(recipe.plain), g.parameterCount(), batch, d.description(), Runtime.getRuntime().availableProcessors());
        for (int i = 1; i <= warmup; i++) {
          t.step(i);
        }
        double rssStart = rssMb();
        long cpu0 = cpuNanos();
        long t0 = System.nanoTime();
        int report = Math.max(1, steps / 6);
        for (int i = 1; i <= steps; i++) {
          t.step(warmup + i);
          if (i % report == 0 || i == steps) {
            double sec = (System.nanoTime() - t0) / 1e9;
            System.out.printf("step %4d  %6.1f images/s  RSS %.0f MB%n", i, (double) i * batch / sec, rssMb());
          }
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        double util = (cpuNanos() - cpu0) / 1e9 / (sec * Runtime.getRuntime().availableProcessors());
        System.out.printf("training: %.1f images/s (%.3f s/step), CPU utilisation %.0f%% of %d cores;"
            + " RSS %.0f MB -> %.0f MB over %d steps%n", steps * batch / sec, sec / steps, 100 * util,
            Runtime.getRuntime().availableProcessors(), rssStart, rssMb(), steps);
        System.out.println(flopLine(BenchTraining.trainFlopsPerImage(recipe.plain) * steps * batch / sec, peakGflops));
      }
      return 0;
    }
  }

  @Command(name = "sample", mixinStandardHelpOptions = true,
      description = "Time guided sampling of a model: DDIM at the default steps and DDPM over all T steps.")
  static final class Sample implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "Model (default: the shipped one).") Path model;
    @Option(names = {"-n", "--count"}, defaultValue = "16", paramLabel = "N") int count;
    @Option(names = "--ddpm", negatable = true, defaultValue = "true", fallbackValue = "true",
        description = "Also time DDPM over all T steps (default: on).") boolean ddpm;
    @Mixin DeviceOptions device;

    @Override
    public Integer call() {
      if (count < 1) {
        throw new IllegalArgumentException("-n must be >= 1");
      }
      ModelStore.StoredModel m = ModelStore.open(model != null ? model : GenerateOptions.defaultModel());
      SamplingOptions opts = new SamplingOptions();
      opts.device = device;
      opts.batchSize = count;
      List<SamplerSpec> specs = ddpm
          ? List.of(new SamplerSpec(SamplerKind.DDIM, SamplingOptions.DEFAULT_DDIM_STEPS, 0, true),
              new SamplerSpec(SamplerKind.DDPM, m.info().schedule().steps(), 0, true))
          : List.of(new SamplerSpec(SamplerKind.DDIM, SamplingOptions.DEFAULT_DDIM_STEPS, 0, true));
      long t0 = System.nanoTime();
      try (diffuse.app.LoadedModel loaded = opts.load(m)) {
        System.out.printf("model loaded in %.2f s%n", (System.nanoTime() - t0) / 1e9);
        loaded.generator().sample(0, 3.0, new SamplerSpec(SamplerKind.DDIM, 2, 0, true), 0, 0, count,
            diffuse.api.Listener.NONE); // warm-up
        for (SamplerSpec spec : specs) {
          long s0 = System.nanoTime();
          loaded.generator().sample(7, diffuse.api.Defaults.GUIDANCE, spec, 1, 0, count, diffuse.api.Listener.NONE);
          double sec = (System.nanoTime() - s0) / 1e9;
          System.out.printf("%s %4d steps, batch %d (doubled for guidance): %.2f s = %.3f s/image, %.1f ms/step%n",
              spec.kind().id(), spec.steps(), count, sec, sec / count, 1000 * sec / spec.steps());
        }
      }
      return 0;
    }
  }
}
