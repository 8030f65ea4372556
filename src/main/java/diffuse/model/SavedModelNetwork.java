package diffuse.model;

import diffuse.api.ModelException;
import diffuse.sampling.Network;
import diffuse.sampling.Prediction;
import java.nio.file.Path;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The network f_θ(x, t, y) of a SavedModel written by {@link EpsilonGraph}, as a {@link Network}
 * (its output is ε, x_0 or v as the model's config says; {@code Prediction.denoiser} tags it). Feeds and
 * fetches the tensors its serving signature names for the inputs of {@link GraphNames} and its one
 * output, whose key is the prediction's name or, in SavedModels written before that, {@code eps}
 * ({@link GraphNames#outputMatches}); each call's tensors are closed before it returns.
 */
public final class SavedModelNetwork implements Network, AutoCloseable {
  private final SavedModelBundle bundle;
  private final NoiseNet net;
  /** The tensors the serving signature names. */
  private final Tensors tensors;

  /**
   * Tensor names ("op:index") the serving signature gives for x, t, y and the output.
   *
   * @param key the output's key in the signature (eps, x0 or v)
   */
  private record Tensors(String x, String t, String y, String output, String key) {}
  /** Receives each call's trace when set ({@link #traceCalls}); null: calls run untraced. */
  private java.util.function.Consumer<org.tensorflow.proto.RunMetadata> callTrace;

  /**
   * Batches of at least this many samples run as two concurrent halves when halves are on. Measured
   * on the 2-core development machine (default U-Net, one session with 2 intra-op threads, 10 rounds
   * alternating): batch 32 (a guided step of 16 images) 120–156 → 112–132 ms, median −7 %; batch 128
   * −8 %; batch 8 no change; batch 2 40 % slower, hence the threshold.
   */
  public static final int HALVES_FROM = 16;

  /** Runs the first half of a split batch; null when halves are off. */
  private final java.util.concurrent.ExecutorService halfRunner;

  /** A network whose calls run as one session call each, whatever its signature says it predicts. */
  public SavedModelNetwork(Path savedModel, NoiseNet net, ConfigProto session) {
    this(savedModel, net, null, session, false);
  }

  /** A network that may run batches as halves, whatever its signature says it predicts. */
  public SavedModelNetwork(Path savedModel, NoiseNet net, ConfigProto session, boolean concurrentHalves) {
    this(savedModel, net, null, session, concurrentHalves);
  }

  /**
   * @param prediction what model.json says the network predicts, which the signature's output key
   *     must agree with ({@link GraphNames#outputMatches}); null: not checked
   * @param concurrentHalves run batches of at least {@link #HALVES_FROM} as two session calls at
   *     once, each on half the batch (a CPU with two or more threads: one call's small
   *     convolutions and element-wise ops leave cores idle that the other call fills; results are
   *     per sample, the same network on the same inputs)
   */
  public SavedModelNetwork(Path savedModel, NoiseNet net, Prediction prediction, ConfigProto session,
      boolean concurrentHalves) {
    this.net = net;
    SavedModelBundle loaded;
    try {
      loaded = SavedModelBundle.loader(savedModel.toString()).withTags(GraphNames.TAG)
          .withConfigProto(session).load();
    } catch (RuntimeException e) {
      throw new ModelException("cannot load the SavedModel in " + savedModel + ": "
          + firstLine(e.getMessage()), e);
    }
    try {
      tensors = signatureTensors(loaded, savedModel, prediction);
    } catch (RuntimeException e) {
      loaded.close(); // a refused SavedModel leaves no session behind
      throw e;
    }
    bundle = loaded;
    this.halfRunner = concurrentHalves ? java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread th = new Thread(r, "diffuse-half-batch");
      th.setDaemon(true);
      return th;
    }) : null;
  }

  /**
   * The tensor names of x, t, y and the output in {@code b}'s serving signature, then the output's
   * key; a SavedModel without that signature, its inputs or one output, or whose output names
   * another prediction than {@code prediction}, is a {@link ModelException} naming {@code dir}.
   */
  private static Tensors signatureTensors(SavedModelBundle b, Path dir, Prediction prediction) {
    Signature sig = b.signatures().stream().filter(s -> s.key().equals(GraphNames.SIGNATURE_KEY)).findFirst()
        .orElseThrow(() -> new ModelException("the SavedModel in " + dir + " has no signature '"
            + GraphNames.SIGNATURE_KEY + "'"));
    var in = sig.getInputs();
    for (String k : java.util.List.of(GraphNames.INPUT_X, GraphNames.INPUT_T, GraphNames.INPUT_Y)) {
      if (!in.containsKey(k)) {
        throw new ModelException("the SavedModel in " + dir + ": signature '" + GraphNames.SIGNATURE_KEY
            + "' has no input '" + k + "' (inputs: " + String.join(", ", new java.util.TreeSet<>(in.keySet())) + ")");
      }
    }
    var out = sig.getOutputs();
    if (out.size() != 1) {
      throw new ModelException("the SavedModel in " + dir + ": signature '" + GraphNames.SIGNATURE_KEY
          + "' has " + out.size() + " outputs, expected one (the network's prediction)");
    }
    String key = out.keySet().iterator().next();
    if (prediction != null && !GraphNames.outputMatches(key, prediction)) {
      throw new ModelException("the SavedModel in " + dir + " outputs '" + key + "' but model.json says the"
          + " network predicts " + GraphNames.outputName(prediction));
    }
    return new Tensors(in.get(GraphNames.INPUT_X).name, in.get(GraphNames.INPUT_T).name,
        in.get(GraphNames.INPUT_Y).name, out.get(key).name, key);
  }

  /** The signature's output key: what the network predicts ({@code eps} in SavedModels older than that). */
  public String outputKey() {
    return tensors.key();
  }

  private static String firstLine(String s) {
    return s == null ? "unknown error" : s.lines().findFirst().orElse(s).trim();
  }

  /**
   * A network output copied out of its tensor, with the tensor's shape.
   *
   * @param values the elements, row-major
   * @param shape the tensor's dimensions
   */
  public record Output(float[] values, long[] shape) {
    /** Copies {@code t} out, failing if its shape is not {@code expected} (a wrong graph, not a user error). */
    static Output of(TFloat32 t, Shape expected) {
      long[] got = t.shape().asArray();
      if (!t.shape().equals(expected)) {
        throw new IllegalStateException("the network returned shape " + t.shape() + ", expected " + expected);
      }
      float[] out = new float[(int) t.shape().size()];
      t.copyTo(DataBuffers.of(out, false, false));
      return new Output(out, got);
    }
  }

  @Override
  public float[] predict(float[] x, double[] t, int[] labels) {
    int batch = labels.length;
    if (halfRunner == null || batch < HALVES_FROM || callTrace != null) { // a traced call stays one call
      return predictShaped(x, t, labels).values();
    }
    int h = batch / 2, dim = x.length / batch;
    java.util.concurrent.Future<float[]> first = halfRunner.submit(() -> predictShaped(
        java.util.Arrays.copyOf(x, h * dim), java.util.Arrays.copyOf(t, h), java.util.Arrays.copyOf(labels, h)).values());
    float[] second;
    try {
      second = predictShaped(java.util.Arrays.copyOfRange(x, h * dim, x.length),
          java.util.Arrays.copyOfRange(t, h, batch), java.util.Arrays.copyOfRange(labels, h, batch)).values();
    } catch (RuntimeException e) {
      try {
        first.get(); // never leave a session call running behind a failure
      } catch (Exception ignored) {
        // the first failure is the one reported
      }
      throw e;
    }
    float[] out = new float[x.length];
    try {
      System.arraycopy(first.get(), 0, out, 0, h * dim);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      first.cancel(true);
      throw new IllegalStateException("interrupted while the network ran", e);
    }
    System.arraycopy(second, 0, out, h * dim, second.length);
    return out;
  }

  /**
   * The network's output for a batch, with the shape of the tensor the SavedModel returned
   * (expected: [B, H, W, C]).
   *
   * @param x [B · H · W · C]
   * @param t continuous training time per sample, [B] (fed as float32)
   * @param labels [B]
   */
  public Output predictShaped(float[] x, double[] t, int[] labels) {
    int batch = labels.length;
    if (t.length != batch) {
      throw new IllegalArgumentException(t.length + " times for " + batch + " labels");
    }
    Shape shape = batchShape(net, batch);
    float[] ts = new float[batch];
    for (int b = 0; b < batch; b++) {
      ts[b] = (float) t[b];
    }
    try (TFloat32 xT = TFloat32.tensorOf(shape, DataBuffers.of(x, true, false));
        TFloat32 tT = TFloat32.vectorOf(ts);
        TInt32 yT = TInt32.vectorOf(labels);
        Result r = Traced.run(bundle.session().runner()
            .feed(tensors.x(), xT)
            .feed(tensors.t(), tT)
            .feed(tensors.y(), yT)
            .fetch(tensors.output()), callTrace)) {
      return Output.of((TFloat32) r.get(0), shape);
    }
  }

  /**
   * Runs the following calls with TensorFlow's full trace and hands each call's {@code RunMetadata}
   * to {@code sink}; null switches tracing off. For {@code bench profile}: tracing slows a call.
   */
  public void traceCalls(java.util.function.Consumer<org.tensorflow.proto.RunMetadata> sink) {
    this.callTrace = sink;
  }

  /** The network's input shape with the batch dimension set. */
  public static Shape batchShape(NoiseNet net, int batch) {
    long[] dims = net.inputShape().asArray();
    dims[0] = batch;
    return Shape.of(dims);
  }

  @Override
  public void close() {
    if (halfRunner != null) {
      halfRunner.shutdown();
      try {
        halfRunner.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS); // a half still running
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    bundle.close();
  }
}
