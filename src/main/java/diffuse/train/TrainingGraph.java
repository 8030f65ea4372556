package diffuse.train;

import diffuse.model.GraphNames;
import diffuse.model.ParamSpec;
import diffuse.model.Parameters;
import diffuse.model.NoiseNet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
 * {@code ema.<name>} the average that sampling uses. {@link #saveState}/{@link #restoreState} write
 * and read all of them as a TensorFlow checkpoint.
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
  private final Adam adam;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TFloat32> t;
  private final Placeholder<TInt32> y;
  private final Placeholder<TFloat32> target;
  private final Placeholder<TFloat32> emaDecay;
  private final Operand<TFloat32> loss;
  private final Op trainOp;

  /**
   * @param net the network
   * @param gradClip global-norm clipping threshold
   * @param config TensorFlow session options (threads, device)
   */
  public TrainingGraph(NoiseNet net, double gradClip, ConfigProto config) {
    this.net = net;
    boolean built = false;
    try {
      Ops tf = Ops.create(graph);
      weights = new Parameters(tf, "");
      x = tf.withName(GraphNames.INPUT_X).placeholder(TFloat32.class, Placeholder.shape(net.inputShape()));
      t = tf.withName(GraphNames.INPUT_T).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      y = tf.withName(GraphNames.INPUT_Y).placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      target = tf.withName("eps_target").placeholder(TFloat32.class, Placeholder.shape(net.inputShape()));
      emaDecay = Adam.scalar(tf, "ema_decay");

      Operand<TFloat32> eps = net.build(tf, weights::create, x, t, y);
      loss = tf.withName("loss").math.mean(tf.math.squaredDifference(eps, target),
          Adam.allAxes(tf, net.inputShape().numDimensions()));
      adam = new Adam(tf, weights, loss, gradClip);
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
      trainOp = tf.withControlDependencies(emaUpdates).withName("train").noOp();
      session = new Session(graph, config);
      built = true;
    } finally {
      if (!built) {
        graph.close(); // a failed construction leaves no native graph behind
      }
    }
  }

  /** Fresh weights drawn with {@code seed}; EMA starts equal to them, Adam moments at zero. */
  public void initialize(long seed) {
    Map<String, float[]> init = Parameters.initialValues(weights.specs(), new Random(seed));
    weights.load(session, init);
    ema.load(session, init);
    adam.initialize(session);
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
    int b = labels.length;
    Shape img = diffuse.model.SavedModelDenoiser.batchShape(net, b);
    float[] tf = new float[b];
    for (int i = 0; i < b; i++) {
      tf[i] = timesteps[i];
    }
    List<TFloat32> scalars = List.of();
    try (TFloat32 xT = TFloat32.tensorOf(img, DataBuffers.of(xt, true, false));
        TFloat32 tT = TFloat32.vectorOf(tf);
        TInt32 yT = TInt32.vectorOf(labels);
        TFloat32 eT = TFloat32.tensorOf(img, DataBuffers.of(noise, true, false));
        TFloat32 dT = TFloat32.scalarOf((float) decay)) {
      Session.Runner runner = session.runner()
          .feed(x, xT).feed(t, tT).feed(y, yT).feed(target, eT).feed(emaDecay, dT);
      scalars = adam.feeds(runner, learningRate, step);
      try (Result r = runner.addTarget(trainOp).fetch(loss).fetch(adam.gradNorm()).run()) {
        return new StepResult(((TFloat32) r.get(0)).getFloat(), ((TFloat32) r.get(1)).getFloat());
      }
    } finally {
      scalars.forEach(TFloat32::close);
    }
  }

  /** ε_θ and per-parameter gradients of the loss for one batch, without updating anything. */
  public List<float[]> gradients(float[] xt, int[] timesteps, int[] labels, float[] noise) {
    int b = labels.length;
    Shape img = diffuse.model.SavedModelDenoiser.batchShape(net, b);
    float[] tf = new float[b];
    for (int i = 0; i < b; i++) {
      tf[i] = timesteps[i];
    }
    List<float[]> out = new ArrayList<>();
    try (TFloat32 xT = TFloat32.tensorOf(img, DataBuffers.of(xt, true, false));
        TFloat32 tT = TFloat32.vectorOf(tf);
        TInt32 yT = TInt32.vectorOf(labels);
        TFloat32 eT = TFloat32.tensorOf(img, DataBuffers.of(noise, true, false))) {
      Session.Runner runner = session.runner().feed(x, xT).feed(t, tT).feed(y, yT).feed(target, eT);
      adam.gradients().forEach(runner::fetch);
      try (Result r = runner.run()) {
        for (int i = 0; i < adam.gradients().size(); i++) {
          float[] a = new float[weights.specs().get(i).size()];
          ((TFloat32) r.get(i)).copyTo(DataBuffers.of(a, false, false));
          out.add(a);
        }
      }
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
