package diffuse.cli;

import diffuse.app.LoadedModel;
import diffuse.io.ModelStore;
import diffuse.runtime.Device;
import diffuse.train.Trainer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code diffuse bench profile}: where the time of a training step or of a forward goes, by
 * TensorFlow op type (after grappler's rewrites, so fused ops show under their fused names), from
 * TensorFlow's own step trace. Shares are of the summed op time; with two threads running ops side
 * by side that sum exceeds the wall time, and tracing adds its own cost.
 */
@Command(name = "profile", mixinStandardHelpOptions = true,
    description = {"Time by TensorFlow op type for the default U-Net's training step or the model's forward.",
      "Shares are of the summed op time, which the step trace measures (tracing slows the steps)."})
final class BenchProfileCommand implements Callable<Integer> {
  enum Mode { train, forward }

  @Option(names = "--mode", defaultValue = "train", paramLabel = "MODE",
      description = "train (random data, as bench train) or forward (the model's network, a guided step's doubled batch); default: ${DEFAULT-VALUE}.")
  Mode mode;
  @Option(names = "--batch-size", paramLabel = "N", description = "Images per step (default: 128 train, 32 forward).") Integer batch;
  @Option(names = "--steps", defaultValue = "5", paramLabel = "N", description = "Traced steps (default: ${DEFAULT-VALUE}).") int steps;
  @Option(names = "--warmup-steps", defaultValue = "3", paramLabel = "N", description = "Untraced steps first (default: ${DEFAULT-VALUE}).") int warmup;
  @Option(names = "--top", defaultValue = "15", paramLabel = "N", description = "Op types listed (default: ${DEFAULT-VALUE}).") int top;
  @Option(names = "--nodes", description = "List single graph nodes instead of op types.") boolean nodes;
  @Option(names = "--model", paramLabel = "DIR", description = "Model for --mode forward (default: the shipped one).") Path model;
  @Mixin DeviceOptions device;
  @Mixin BenchCommand.Recipe recipe;

  /** Summed time and count of each op type over the traced steps. */
  static final class OpTimes {
    private final Map<String, long[]> byType = new HashMap<>();
    private final boolean byNode;
    private int runs;

    OpTimes(boolean byNode) {
      this.byNode = byNode;
    }

    void add(RunMetadata m) {
      runs++;
      for (DeviceStepStats d : m.getStepStats().getDevStatsList()) {
        for (NodeExecStats n : d.getNodeStatsList()) {
          String key = byNode ? n.getNodeName() + " " + opType(n) + outputShape(n) : opType(n);
          long[] acc = byType.computeIfAbsent(key, k -> new long[2]);
          acc[0] += n.getAllEndRelMicros();
          acc[1]++;
        }
      }
    }

    /** The first output's shape, as " [d0, d1, …]", or "" when the trace has none. */
    static String outputShape(NodeExecStats n) {
      if (n.getOutputCount() == 0 || !n.getOutput(0).getTensorDescription().hasShape()) {
        return "";
      }
      StringBuilder b = new StringBuilder(" [");
      n.getOutput(0).getTensorDescription().getShape().getDimList().forEach(d -> b.append(b.length() > 2 ? "," : "").append(d.getSize()));
      return b.append(']').toString();
    }

    /** The op type from a timeline label "name = Type(inputs)", else the node name. */
    static String opType(NodeExecStats n) {
      String label = n.getTimelineLabel();
      int eq = label.indexOf(" = ");
      if (eq < 0) {
        return n.getNodeName();
      }
      int paren = label.indexOf('(', eq);
      return label.substring(eq + 3, paren < 0 ? label.length() : paren);
    }

    /** One line per op type, largest first: share, ms per run, ops per run. */
    List<String> table(int top) {
      long total = byType.values().stream().mapToLong(v -> v[0]).sum();
      List<String> lines = new java.util.ArrayList<>();
      byType.entrySet().stream()
          .sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]))
          .limit(top)
          .forEach(e -> lines.add(String.format(Locale.ROOT, "  %-64s %5.1f %%  %8.2f ms  %5d ops", e.getKey(),
              100.0 * e.getValue()[0] / Math.max(1, total), e.getValue()[0] / 1000.0 / runs, e.getValue()[1] / runs)));
      lines.add(String.format(Locale.ROOT, "  %-64s %5.1f %%  %8.2f ms  (per traced step, %d steps)", "all ops", 100.0,
          total / 1000.0 / runs, runs));
      return lines;
    }
  }

  @Override
  public Integer call() {
    int b = batch != null ? batch : mode == Mode.train ? 128 : 32;
    if (b < 2 || steps < 1 || warmup < 0 || top < 1) {
      throw new IllegalArgumentException("--batch-size must be >= 2, --steps and --top >= 1, --warmup-steps >= 0");
    }
    Device.Choice d = device.resolve();
    OpTimes times = new OpTimes(nodes);
    long wall;
    if (mode == Mode.train) {
      try (BenchCommand.BenchTraining bt = BenchCommand.BenchTraining.open(b, d, recipe.plain)) {
        Trainer t = bt.trainer();
        for (int i = 1; i <= warmup; i++) {
          t.step(i);
        }
        bt.graph().traceSteps(times::add);
        long t0 = System.nanoTime();
        for (int i = 1; i <= steps; i++) {
          t.step(warmup + i);
        }
        wall = System.nanoTime() - t0;
      }
    } else {
      try (LoadedModel net = LoadedModel.load(ModelStore.open(model != null ? model : GenerateOptions.defaultModel()), d)) {
        int dim = net.info().network().sampleSize();
        BenchTwinCommand.forwardTimes(net.network(), dim, net.info().nullLabel(), b, warmup, 0);
        net.network().traceCalls(times::add);
        long t0 = System.nanoTime();
        BenchTwinCommand.forwardTimes(net.network(), dim, net.info().nullLabel(), b, 0, steps);
        wall = System.nanoTime() - t0;
      }
    }
    System.out.printf(Locale.ROOT, "%s, batch %d, device %s, %d cores, TF_ENABLE_ONEDNN_OPTS %s: %.1f ms wall per traced step%n",
        mode == Mode.train ? "training step" : "forward", b, d.description(), Runtime.getRuntime().availableProcessors(),
        System.getenv(Device.ONEDNN_ENV) == null ? "unset (off)" : "=" + System.getenv(Device.ONEDNN_ENV), wall / 1e6 / steps);
    times.table(top).forEach(System.out::println);
    return 0;
  }
}
