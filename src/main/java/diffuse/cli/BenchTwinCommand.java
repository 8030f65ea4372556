package diffuse.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import diffuse.app.LoadedModel;
import diffuse.io.ModelStore;
import diffuse.model.UNet;
import diffuse.model.UNetConfig;
import diffuse.model.SavedModelNetwork;
import diffuse.sampling.Denoiser;
import diffuse.runtime.Device;
import diffuse.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code diffuse bench twin}: this product and its PyTorch twin ({@code ../shared/bench/torch_twin.py},
 * the same U-Net and training step) on the same work, alternating, round by round, so both see the
 * same machine state; prints each round's ratio and their min/median/max. Ratios above 1 mean this
 * product is faster. The twin runs tuned, as its README says (single-threaded OpenBLAS, glibc malloc
 * that keeps its memory), unless {@code --untuned}. It runs through the jar's {@code bench/twin.py},
 * which makes it the network and step measured here: {@code train}'s defaults (AdaGN, v, log-normal
 * noise levels) unless {@code --plain}; for the forward, the model's own network. With {@code --bf16}
 * both sides run their own bf16 mixed precision: ours grappler's oneDNN pass, the twin's forward under
 * {@code torch.autocast}. Each side's parameter count is compared before any timing.
 */
@Command(name = "twin", mixinStandardHelpOptions = true,
    description = {"Training and sampling speed against the PyTorch twin of the default U-Net, side by side.",
      "Alternates the two for --rounds rounds and prints twin time / our time (above 1: we are faster)",
      "as min/median/max. Needs python3 with torch (Debian: apt-get install python3-torch)."})
final class BenchTwinCommand implements Callable<Integer> {
  @Option(names = "--twin", defaultValue = "../shared/bench/torch_twin.py", paramLabel = "FILE",
      description = "The twin script (default: ${DEFAULT-VALUE}).") Path twin;
  @Option(names = "--python", defaultValue = "/usr/bin/python3", paramLabel = "EXE",
      description = "Python with torch (default: ${DEFAULT-VALUE}).") String python;
  @Option(names = "--rounds", defaultValue = "3", paramLabel = "N", description = "Alternations (default: ${DEFAULT-VALUE}).") int rounds;
  @Option(names = "--train-batch", defaultValue = "128", paramLabel = "N") int trainBatch;
  @Option(names = "--train-steps", defaultValue = "20", paramLabel = "N", description = "Timed training steps per round (default: ${DEFAULT-VALUE}).") int trainSteps;
  @Option(names = "--fwd-batch", defaultValue = "32", paramLabel = "N",
      description = "Images per forward: one guided step of half as many samples (default: ${DEFAULT-VALUE}).") int fwdBatch;
  @Option(names = "--fwd-steps", defaultValue = "50", paramLabel = "N") int fwdSteps;
  @Option(names = "--warmup-steps", defaultValue = "5", paramLabel = "N", description = "Untimed steps first, both sides (default: ${DEFAULT-VALUE}).") int warmup;
  @Option(names = "--untuned", description = "Run the twin with Debian's default OpenBLAS threads and malloc.") boolean untuned;
  @Option(names = "--model", paramLabel = "DIR", description = "Model whose network the forward uses (default: the shipped one).") Path model;
  @Option(names = "--peak-gflops", paramLabel = "GFLOP/S",
      description = "The machine's measured peak, to print the share of it that each side's training reaches.") Double peakGflops;
  @Mixin DeviceOptions device;
  @Mixin BenchCommand.Recipe recipe;

  /** A copy of the jar's bench/twin.py, through which the twin runs (the variant flags, bf16). */
  private Path wrapper;
  private boolean bf16;

  /** One side's time per step, in ms. */
  record Timing(double medianMs, double minMs, double maxMs) {}

  @Override
  public Integer call() throws Exception {
    if (rounds < 1 || trainBatch < 1 || trainSteps < 1 || fwdBatch < 2 || fwdSteps < 1 || warmup < 0) {
      throw new IllegalArgumentException("--rounds, batches and steps must be >= 1 (--fwd-batch >= 2), --warmup-steps >= 0");
    }
    if (!Files.isRegularFile(twin)) {
      throw new Main.UserException("the twin " + twin + " is not there; give its path with --twin");
    }
    int threads = Runtime.getRuntime().availableProcessors();
    Device.Choice d = device.resolve();
    bf16 = d.bf16();
    wrapper = Files.createTempFile("twin", ".py");
    wrapper.toFile().deleteOnExit();
    try (var in = BenchTwinCommand.class.getResourceAsStream("/bench/twin.py")) {
      Files.write(wrapper, in.readAllBytes());
    }
    System.out.printf(Locale.ROOT, "diffuse vs %s%s twin (%s), %d cores, device %s; training: the %s, batch %d x %d steps;"
        + " forward batch %d x %d; %d rounds%n", untuned ? "untuned" : "tuned", bf16 ? " bf16 (torch.autocast)" : "", twin, threads,
        d.description(), BenchCommand.BenchTraining.describe(recipe.plain), trainBatch, trainSteps, fwdBatch, fwdSteps, rounds);
    double trainFlops = BenchCommand.BenchTraining.trainFlopsPerImage(recipe.plain) * trainBatch;
    List<Double> ourTrainMs = new ArrayList<>();
    List<Double> twinTrainMs = new ArrayList<>();
    List<Double> trainRatios = new ArrayList<>();
    List<Double> fwdRatios = new ArrayList<>();
    try (LoadedModel net = LoadedModel.load(ModelStore.open(model != null ? model : GenerateOptions.defaultModel()), d)) {
      UNetConfig arch = net.info().architecture();
      UNetConfig twins = arch == null ? null : UNetConfig.defaults(28, 28, 1, 10).withScaleShiftNorm(arch.scaleShiftNorm());
      if (arch == null || !arch.equals(twins)) {
        throw new Main.UserException("the model " + net.dir() + " is not the twin's network (28x28x1, 10 classes, widths"
            + " 32,64,128, 1 residual block, embedding 128, 8 groups); give one that is with --model");
      }
      List<String> trainFlags = recipe.plain ? List.of() : trainRecipeFlags();
      List<String> fwdFlags = arch.scaleShiftNorm() ? List.of("--ada-gn") : List.of();
      long ourTrainParams = parameters(BenchCommand.BenchTraining.config(recipe.plain));
      long ourFwdParams = parameters(arch);
      for (int r = 1; r <= rounds; r++) {
        Timing tt = twin("train", trainBatch, trainSteps, threads, trainFlags, r == 1 ? ourTrainParams : -1);
        Timing ot = ourTraining(d);
        Timing tf = twin("fwd", fwdBatch, fwdSteps, threads, fwdFlags, r == 1 ? ourFwdParams : -1);
        Timing of = ourForward(net.network(), net.info().nullLabel());
        trainRatios.add(tt.medianMs() / ot.medianMs());
        ourTrainMs.add(ot.medianMs());
        twinTrainMs.add(tt.medianMs());
        fwdRatios.add(tf.medianMs() / of.medianMs());
        System.out.printf(Locale.ROOT, "round %d  train: twin %.1f ms, ours %.1f ms/step -> %.2fx   forward: twin %.1f ms,"
            + " ours %.1f ms -> %.2fx%n", r, tt.medianMs(), ot.medianMs(), trainRatios.get(r - 1), tf.medianMs(),
            of.medianMs(), fwdRatios.get(r - 1));
      }
    }
    System.out.println(summary("training, batch " + trainBatch, trainRatios));
    System.out.println(summary("forward, batch " + fwdBatch, fwdRatios));
    System.out.println("ours:  " + BenchCommand.flopLine(trainFlops / (medianOf(ourTrainMs) / 1e3), peakGflops));
    System.out.println("twin:  " + BenchCommand.flopLine(trainFlops / (medianOf(twinTrainMs) / 1e3), peakGflops));
    return 0;
  }

  /** "NAME: ours/twin speed min a, median b, max c over n rounds". */
  static String summary(String name, List<Double> ratios) {
    double[] r = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return String.format(Locale.ROOT, "%s: we run at %.2fx the twin's speed (min %.2fx, max %.2fx, %d rounds)", name,
        median(r), r[0], r[r.length - 1], r.length);
  }

  private static double medianOf(List<Double> xs) {
    return median(xs.stream().mapToDouble(Double::doubleValue).sorted().toArray());
  }

  static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static Timing timing(double[] ms) {
    double[] s = ms.clone();
    Arrays.sort(s);
    return new Timing(median(s), s[0], s[s.length - 1]);
  }

  /** Parameters of the U-Net {@code c}, counted from its specs (no graph to train). */
  static long parameters(UNetConfig c) {
    return new UNet(c).paramSpecs().stream().mapToLong(diffuse.model.ParamSpec::size).sum();
  }

  /**
   * The twin.py flags that make the twin's training step {@code train}'s default one: AdaGN when the
   * default network has it, v-prediction with log-normal noise levels (P_mean, P_std).
   */
  static List<String> trainRecipeFlags() {
    List<String> f = new ArrayList<>();
    if (diffuse.api.Defaults.TRAIN_ADA_GN) {
      f.add("--ada-gn");
    }
    if (!diffuse.api.Defaults.TRAIN_PREDICTION.equals("v")) {
      throw new IllegalStateException("the twin has v and ε training only, not " + diffuse.api.Defaults.TRAIN_PREDICTION);
    }
    f.addAll(List.of("--v-lognormal", "" + diffuse.api.Defaults.TRAIN_P_MEAN, "" + diffuse.api.Defaults.TRAIN_P_STD));
    return f;
  }

  /**
   * The twin's median step time: one run of the script, its JSON line read back; with {@code ourParams}
   * at least 0, refuses a twin whose parameter count differs (it would not be the same network).
   */
  private Timing twin(String mode, int batch, int steps, int threads, List<String> flags, long ourParams)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(python, wrapper.toString()));
    cmd.addAll(List.of(twin.toString(), mode, "" + batch, "" + steps, "--threads", "" + threads, "--warmup", "" + warmup));
    cmd.addAll(flags);
    if (bf16) {
      cmd.add("--bf16");
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (!untuned) {
      pb.environment().put("OPENBLAS_NUM_THREADS", "1");
      pb.environment().put("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296");
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new Main.UserException("cannot run " + python + ": " + e.getMessage() + " (install python3-torch, or --python)");
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      String last = out.strip().lines().reduce((a, b) -> b).orElse("no output");
      throw new Main.UserException("the twin failed (" + mode + "): " + last);
    }
    String json = out.strip().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
        .orElseThrow(() -> new Main.UserException("the twin printed no result: " + out.strip()));
    JsonObject o = JsonParser.parseString(json).getAsJsonObject();
    if (ourParams >= 0 && o.get("params").getAsLong() != ourParams) {
      throw new Main.UserException(String.format(Locale.ROOT, "the twin's %s network has %,d parameters, ours %,d: not the"
          + " same network (%s %s)", mode, o.get("params").getAsLong(), ourParams, twin, String.join(" ", flags)));
    }
    return new Timing(o.get("median_ms").getAsDouble(), o.get("min_ms").getAsDouble(), o.get("max_ms").getAsDouble());
  }

  /** Our training step on random data, as {@code bench train}: the median over the timed steps. */
  private Timing ourTraining(Device.Choice d) {
    try (BenchCommand.BenchTraining bt = BenchCommand.BenchTraining.open(trainBatch, d, recipe.plain)) {
      Trainer t = bt.trainer();
      for (int i = 1; i <= warmup; i++) {
        t.step(i);
      }
      double[] ms = new double[trainSteps];
      for (int i = 0; i < trainSteps; i++) {
        long t0 = System.nanoTime();
        t.step(warmup + i + 1);
        ms[i] = (System.nanoTime() - t0) / 1e6;
      }
      return timing(ms);
    }
  }

  /** Our network on a guided step's doubled batch, as the twin's fwd. */
  private Timing ourForward(SavedModelNetwork net, int nullLabel) {
    return timing(forwardTimes(net, 28 * 28, nullLabel, fwdBatch, warmup, fwdSteps));
  }

  /**
   * Times {@code steps} calls of {@code net} on a guided step's doubled batch of {@code batch} images
   * of {@code dim} values each (first half label 7, second half the null label) at varying t, after
   * {@code warmup} untimed calls.
   *
   * @return each timed call's wall time in ms
   */
  static double[] forwardTimes(SavedModelNetwork net, int dim, int nullLabel, int batch, int warmup, int steps) {
    float[] x = new float[batch * dim];
    Random rng = new Random(2);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    int[] y = new int[batch];
    for (int i = 0; i < batch; i++) {
      y[i] = i < batch - batch / 2 ? Math.min(7, nullLabel - 1) : nullLabel;
    }
    double[] ms = new double[steps];
    for (int i = 0; i < warmup + steps; i++) {
      int t = 999 - 40 * (i % 25);
      long t0 = System.nanoTime();
      net.predict(x, Denoiser.times(t, batch), y);
      if (i >= warmup) {
        ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
      }
    }
    return ms;
  }
}
