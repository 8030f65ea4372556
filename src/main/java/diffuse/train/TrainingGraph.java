package diffuse.train;

import diffuse.runtime.ClusterSession;
import diffuse.model.GraphNames;
import diffuse.model.ParamSpec;
import diffuse.model.Parameters;
import diffuse.model.NoiseNet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The training graph: a {@link NoiseNet} (the U-Net or the toy MLP) on trainable variables, the ε-prediction loss
 * L = E‖ε − ε_θ(x_t, t, y)‖² (Ho et al. 2020, Eq. 14), gradient clipping by global norm, Adam
 * (Kingma &amp; Ba 2015, the fused {@code ApplyAdam} kernel) and an exponential moving average of
 * the weights updated after each Adam step.
 *
 * <p>Variables: {@code <name>} weights, {@code adam_m.<name>}, {@code adam_v.<name>} Adam moments,
 * {@code ema.<name>} the average that sampling uses, and {@code ema<k>.<name>}, k = 1 … the extra
 * averages of other lengths. {@link #saveState}/{@link #restoreState} write and read all of them as a
 * TensorFlow checkpoint.
 *
 * <p>Feeds per step: x_t [B,H,W,C], t [B], y [B], ε [B,H,W,C] and four scalars (learning rate,
 * β₁^step, β₂^step, EMA decay); the noising itself is done by the caller with the schedule.
 */
public final class TrainingGraph implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Session session;
  private final NoiseNet net;
  private final Parameters weights;
  private final Parameters ema;
  /** The extra averages ema1., ema2., … with their decays fed per step. */
  private final List<Parameters> extraEma = new ArrayList<>();
  private final List<Placeholder<TFloat32>> extraEmaDecay = new ArrayList<>();
  private final Adam adam;
  /** Receives each step's trace when set ({@link #traceSteps}); null: steps run untraced. */
  private java.util.function.Consumer<org.tensorflow.proto.RunMetadata> stepTrace;
  /** Per tower r: inputs x_t, t, y and the target ε (tower 0 uses the names of {@link GraphNames}). */
  private final List<Placeholder<TFloat32>> x = new ArrayList<>();
  private final List<Placeholder<TFloat32>> t = new ArrayList<>();
  private final List<Placeholder<TInt32>> y = new ArrayList<>();
  private final List<Placeholder<TFloat32>> target = new ArrayList<>();
  /** Per tower: the per-sample loss weights, when the graph has them. */
  private final List<Placeholder<TFloat32>> weight = new ArrayList<>();
  private final Placeholder<TFloat32> emaDecay;
  private final Operand<TFloat32> loss;
  private final Op trainOp;
  private final List<String> towers;

  /** A training graph for {@code net}; the builder's defaults are one tower, a local session, no loss weights. */
  public static Builder builder(NoiseNet net) {
    return new Builder(net);
  }

  /** The options of a {@link TrainingGraph}; every setter returns the builder. */
  public static final class Builder {
    private final NoiseNet net;
    private double gradClip = 1.0;
    private ConfigProto config = ConfigProto.getDefaultInstance();
    private List<String> towers = List.of();
    private String sessionTarget;
    private GradientReducer.Kind reduce = GradientReducer.Kind.AUTO;
    private boolean lossWeights;
    private int extraEmas;

    private Builder(NoiseNet net) {
      this.net = net;
    }

    /** Global-norm clipping threshold of the gradients (default 1). */
    public Builder gradClip(double c) {
      gradClip = c;
      return this;
    }

    /** TensorFlow session options: threads, device (default: TensorFlow's). */
    public Builder config(ConfigProto c) {
      config = c;
      return this;
    }

    /**
     * Synchronous data parallelism: one tower of the network per device, all on the same variables,
     * which live on the first device with Adam's moments and the EMA. Each tower computes the loss
     * and gradients of its shard of the batch; {@link GradientReducer} averages the gradients; Adam
     * applies them once and the EMA is updated once. The variables, their names and so the
     * checkpoints are those of the one-tower graph, so a run saved on R devices resumes on any number.
     *
     * @param devices {@code cpu:N}, {@code gpu:N} or, across machines, {@code worker:N}; empty (the
     *     default): one tower that places nothing explicitly
     */
    public Builder towers(List<String> devices) {
      towers = devices;
      return this;
    }

    /**
     * Towers across machines run on {@code grpc://target} ({@link diffuse.runtime.ClusterSession}).
     *
     * @param target host:port of this process's own server, or null (the default) for a local session
     */
    public Builder sessionTarget(String target) {
      sessionTarget = target;
      return this;
    }

    /** How the towers' gradients are summed ({@link GradientReducer.Kind}; default AUTO). */
    Builder reduce(GradientReducer.Kind kind) {
      reduce = kind;
      return this;
    }

    /**
     * Weight each sample's squared error by a fed per-sample weight (Min-SNR-γ); without it (the
     * default) the loss is the plain mean, the graph of every earlier run op for op.
     */
    public Builder lossWeights(boolean on) {
      lossWeights = on;
      return this;
    }

    /**
     * Keep {@code n} further weight averages ({@code ema1.} … {@code ema<n>.}), each with its own
     * decay fed per step; without them (the default) the graph is that of every earlier run op for op.
     */
    public Builder extraEmas(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("extra averages must be >= 0, got " + n);
      }
      extraEmas = n;
      return this;
    }

    public TrainingGraph build() {
      return new TrainingGraph(net, gradClip, config, towers, sessionTarget, reduce, lossWeights, extraEmas);
    }
  }

  private TrainingGraph(NoiseNet net, double gradClip, ConfigProto config, List<String> towers, String sessionTarget,
      GradientReducer.Kind reduce, boolean lossWeights, int extraEmas) {
    this.net = net;
    this.towers = List.copyOf(towers);
    boolean built = false;
    try {
      Ops root = Ops.create(graph);
      int replicas = Math.max(1, towers.size());
      Ops tf = towers.isEmpty() ? root : root.withDevice(deviceSpec(towers.get(0)));
      weights = new Parameters(tf, "");
      List<Operand<TFloat32>> losses = new ArrayList<>();
      List<List<Operand<TFloat32>>> grads = new ArrayList<>();
      for (int r = 0; r < replicas; r++) {
        Ops tr = towers.isEmpty() ? root : root.withDevice(deviceSpec(towers.get(r)));
        String sfx = r == 0 ? "" : "_" + r;
        x.add(tr.withName(GraphNames.INPUT_X + sfx).placeholder(TFloat32.class, Placeholder.shape(net.inputShape())));
        t.add(tr.withName(GraphNames.INPUT_T + sfx).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1))));
        y.add(tr.withName(GraphNames.INPUT_Y + sfx).placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))));
        target.add(tr.withName("eps_target" + sfx).placeholder(TFloat32.class, Placeholder.shape(net.inputShape())));
        Operand<TFloat32> eps = net.build(tr, r == 0 ? weights::create : weights::existing, x.get(r), t.get(r), y.get(r));
        Operand<TFloat32> err = tr.math.squaredDifference(eps, target.get(r));
        if (lossWeights) {
          // w per sample, [B] → [B, 1, …, 1]: w_i·‖ε̂_i − target_i‖² averaged like the plain loss
          weight.add(tr.withName("loss_weight" + sfx).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1))));
          long[] dims = new long[net.inputShape().numDimensions()];
          java.util.Arrays.fill(dims, 1);
          dims[0] = -1;
          err = tr.math.mul(err, tr.reshape(weight.get(r), tr.constant(dims)));
        }
        Operand<TFloat32> l = tr.withName(replicas == 1 ? "loss" : "loss" + "_tower" + r).math.mean(
            err, Adam.allAxes(tr, net.inputShape().numDimensions()));
        losses.add(l);
        grads.add(Adam.gradientsOf(tr, l, weights));
      }
      emaDecay = Adam.scalar(tf, "ema_decay");
      loss = GradientReducer.meanLoss(tf, losses);
      adam = new Adam(tf, weights, GradientReducer.mean(tf, grads, GradientReducer.resolve(reduce, this.towers)), gradClip);
      // EMA shadows come after the optimizer's variables and are updated once the Adam step is done
      ema = new Parameters(tf, "ema.").createAll(weights.specs());
      Ops after = tf.withControlDependencies(adam.updates());
      List<Op> emaUpdates = new ArrayList<>();
      Operand<TFloat32> oneMinusDecay = after.math.sub(after.constant(1f), emaDecay);
      List<Variable<TFloat32>> vars = weights.variables();
      for (int i = 0; i < vars.size(); i++) {
        Variable<TFloat32> e = ema.variables().get(i);
        emaUpdates.add(after.assignSub(e, after.math.mul(after.math.sub(e, vars.get(i)), oneMinusDecay)));
      }
      for (int k = 1; k <= extraEmas; k++) {
        Placeholder<TFloat32> dk = Adam.scalar(tf, "ema_decay" + k);
        Parameters ek = new Parameters(tf, "ema" + k + ".").createAll(weights.specs());
        extraEmaDecay.add(dk);
        extraEma.add(ek);
        Operand<TFloat32> oneMinus = after.math.sub(after.constant(1f), dk);
        for (int i = 0; i < vars.size(); i++) {
          Variable<TFloat32> e = ek.variables().get(i);
          emaUpdates.add(after.assignSub(e, after.math.mul(after.math.sub(e, vars.get(i)), oneMinus)));
        }
      }
      trainOp = tf.withControlDependencies(emaUpdates).withName("train").noOp();
      session = sessionTarget == null ? new Session(graph, config) : ClusterSession.open(graph, config, sessionTarget);
      built = true;
    } finally {
      if (!built) {
        graph.close(); // a failed construction leaves no native graph behind
      }
    }
  }

  /** {@code cpu:1} → /device:CPU:1, {@code gpu:0} → /device:GPU:0, {@code worker:2} → /job:worker/task:2/device:CPU:0. */
  static DeviceSpec deviceSpec(String device) {
    java.util.regex.Matcher w = java.util.regex.Pattern.compile("worker:(\\d+)").matcher(device);
    if (w.matches()) {
      return DeviceSpec.newBuilder().job("worker").replica(0).task(Integer.parseInt(w.group(1)))
          .deviceType(DeviceSpec.DeviceType.CPU).deviceIndex(0).build();
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(cpu|gpu):(\\d+)").matcher(device);
    if (!m.matches()) {
      throw new IllegalArgumentException("a device is cpu:N or gpu:N, got '" + device + "'");
    }
    return DeviceSpec.newBuilder().deviceType(m.group(1).equals("cpu") ? DeviceSpec.DeviceType.CPU : DeviceSpec.DeviceType.GPU)
        .deviceIndex(Integer.parseInt(m.group(2))).build();
  }

  /** The types of the graph's operations (tests: which reduction was built). */
  java.util.Set<String> opTypes() {
    java.util.Set<String> out = new java.util.HashSet<>();
    graph.operations().forEachRemaining(op -> out.add(op.type()));
    return out;
  }

  /** Number of towers (replicas) a step is split over. */
  public int replicas() {
    return Math.max(1, towers.size());
  }

  /** Rows [from, to) of a global batch of {@code batch} that replica {@code r} of {@code replicas} computes. */
  public static int[] shard(int batch, int replicas, int r) {
    if (batch % replicas != 0) {
      throw new IllegalArgumentException("a batch of " + batch + " does not split evenly over " + replicas + " devices");
    }
    int per = batch / replicas;
    return new int[] {r * per, (r + 1) * per};
  }

  /** Fresh weights drawn with {@code seed}; EMA starts equal to them, Adam moments at zero. */
  public void initialize(long seed) {
    Map<String, float[]> init = Parameters.initialValues(weights.specs(), new Random(seed));
    weights.load(session, init);
    ema.load(session, init);
    for (Parameters e : extraEma) {
      e.load(session, init);
    }
    adam.initialize(session);
  }

  /**
   * Runs the following steps with TensorFlow's full trace and hands each step's {@code RunMetadata}
   * (per-op timings in its step stats) to {@code sink}; null switches tracing off. For
   * {@code bench profile}: tracing itself slows a step.
   */
  public void traceSteps(java.util.function.Consumer<org.tensorflow.proto.RunMetadata> sink) {
    this.stepTrace = sink;
  }

  /** What one step reports. */
  public record StepResult(float loss, float gradNorm) {}

  /**
   * One optimisation step.
   *
   * @param xt noisy images, [B·H·W·C]
   * @param timesteps t per image, [B]
   * @param labels y per image (possibly the null label), [B]
   * @param noise the ε that made xt, [B·H·W·C]
   * @param step 1-based Adam step number, for the bias corrections β^step
   */
  public StepResult step(
      float[] xt, int[] timesteps, int[] labels, float[] noise, double learningRate, long step,
      double decay) {
    return step(xt, timesteps, labels, noise, null, learningRate, step, decay);
  }

  /**
   * One optimisation step with a per-sample loss weight.
   *
   * @param noise the regression target: ε for an ε model, v for a v model, [B·H·W·C]
   * @param weights loss weight per image, [B]; null for a graph built without weights
   */
  public StepResult step(
      float[] xt, int[] timesteps, int[] labels, float[] noise, float[] weights, double learningRate, long step,
      double decay) {
    return step(xt, timesteps, labels, noise, weights, learningRate, step, new double[] {decay});
  }

  /**
   * One optimisation step updating every average.
   *
   * @param decays the main average's decay, then each extra average's, [1 + extra averages]
   */
  public StepResult step(
      float[] xt, int[] timesteps, int[] labels, float[] noise, float[] weights, double learningRate, long step,
      double[] decays) {
    if (decays.length != 1 + extraEma.size()) {
      throw new IllegalArgumentException("this graph keeps " + (1 + extraEma.size()) + " averages, got "
          + decays.length + " decays");
    }
    double decay = decays[0];
    if ((weights != null) != !weight.isEmpty()) {
      throw new IllegalArgumentException(weight.isEmpty() ? "this graph has no loss weights"
          : "this graph needs a loss weight per sample");
    }
    List<AutoCloseable> open = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      feedBatch(runner, open, xt, timesteps, labels, noise);
      if (weights != null) {
        for (int r = 0; r < replicas(); r++) {
          int[] rows = shard(labels.length, replicas(), r);
          TFloat32 wT = TFloat32.vectorOf(java.util.Arrays.copyOfRange(weights, rows[0], rows[1]));
          open.add(wT);
          runner.feed(weight.get(r), wT);
        }
      }
      TFloat32 dT = TFloat32.scalarOf((float) decay);
      open.add(dT);
      runner.feed(emaDecay, dT);
      for (int k = 0; k < extraEmaDecay.size(); k++) {
        TFloat32 dk = TFloat32.scalarOf((float) decays[k + 1]);
        open.add(dk);
        runner.feed(extraEmaDecay.get(k), dk);
      }
      open.addAll(adam.feeds(runner, learningRate, step));
      try (Result r = diffuse.model.Traced.run(runner.addTarget(trainOp).fetch(loss).fetch(adam.gradNorm()), stepTrace)) {
        return new StepResult(((TFloat32) r.get(0)).getFloat(), ((TFloat32) r.get(1)).getFloat());
      }
    } finally {
      closeAll(open);
    }
  }

  /** Feeds each tower its shard of the global batch; the tensors made are added to {@code open}. */
  private void feedBatch(Session.Runner runner, List<AutoCloseable> open, float[] xt, int[] timesteps, int[] labels,
      float[] noise) {
    int b = labels.length;
    int dim = net.sampleSize();
    for (int r = 0; r < replicas(); r++) {
      int[] rows = shard(b, replicas(), r);
      int n = rows[1] - rows[0];
      Shape img = diffuse.model.SavedModelNetwork.batchShape(net, n);
      float[] tf = new float[n];
      for (int i = 0; i < n; i++) {
        tf[i] = timesteps[rows[0] + i];
      }
      TFloat32 xT = TFloat32.tensorOf(img, DataBuffers.of(xt, true, false).slice((long) rows[0] * dim, (long) n * dim));
      open.add(xT);
      TFloat32 tT = TFloat32.vectorOf(tf);
      open.add(tT);
      TInt32 yT = TInt32.vectorOf(java.util.Arrays.copyOfRange(labels, rows[0], rows[1]));
      open.add(yT);
      TFloat32 eT = TFloat32.tensorOf(img, DataBuffers.of(noise, true, false).slice((long) rows[0] * dim, (long) n * dim));
      open.add(eT);
      runner.feed(x.get(r), xT).feed(t.get(r), tT).feed(y.get(r), yT).feed(target.get(r), eT);
    }
  }

  private static void closeAll(List<AutoCloseable> open) {
    for (AutoCloseable c : open) {
      try {
        c.close();
      } catch (Exception ignored) {
        // tensors do not fail to close
      }
    }
  }

  /** ε_θ and per-parameter gradients of the loss for one batch, without updating anything. */
  public List<float[]> gradients(float[] xt, int[] timesteps, int[] labels, float[] noise) {
    List<float[]> out = new ArrayList<>();
    List<AutoCloseable> open = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      feedBatch(runner, open, xt, timesteps, labels, noise);
      adam.gradients().forEach(runner::fetch);
      try (Result r = runner.run()) {
        for (int i = 0; i < adam.gradients().size(); i++) {
          float[] a = new float[weights.specs().get(i).size()];
          ((TFloat32) r.get(i)).copyTo(DataBuffers.of(a, false, false));
          out.add(a);
        }
      }
    } finally {
      closeAll(open);
    }
    return out;
  }

  /** Current weights θ, keyed by parameter name. */
  public Map<String, float[]> weights() {
    return weights.read(session);
  }

  /** Current EMA of the weights, keyed by parameter name. */
  public Map<String, float[]> emaWeights() {
    return ema.read(session);
  }

  /** Extra average k (1-based, in the order of the run's extra decays), keyed by parameter name. */
  public Map<String, float[]> emaWeights(int k) {
    return extraEma.get(k - 1).read(session);
  }

  /** Adam's first moments, keyed by parameter name. */
  public Map<String, float[]> adamFirstMoments() {
    return adam.firstMoments(session);
  }

  public List<ParamSpec> paramSpecs() {
    return weights.specs();
  }

  public long parameterCount() {
    return weights.count();
  }

  /** Writes weights, Adam moments and EMA as a TensorFlow checkpoint at {@code prefix}. */
  public void saveState(String prefix) {
    session.save(prefix);
  }

  /** Reads back a checkpoint written by {@link #saveState}. */
  public void restoreState(String prefix) {
    session.restore(prefix);
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
