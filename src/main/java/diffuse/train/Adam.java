package diffuse.train;

import diffuse.model.ParamSpec;
import diffuse.model.Parameters;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Adam (Kingma &amp; Ba 2015) on a set of variables as graph ops: gradients of the loss, clipping by
 * their global norm, and one fused {@code ApplyAdam} per variable. The moments live in variables
 * {@code adam_m.<name>} and {@code adam_v.<name>}, so they are saved and restored with the weights.
 * The learning rate and the bias corrections β₁^step, β₂^step are fed per step ({@link #feeds}).
 */
public final class Adam {
  public static final float BETA1 = 0.9f;
  public static final float BETA2 = 0.999f;
  public static final float EPSILON = 1e-8f;

  private final Parameters moments1;
  private final Parameters moments2;
  private final Placeholder<TFloat32> lr;
  private final Placeholder<TFloat32> beta1Power;
  private final Placeholder<TFloat32> beta2Power;
  private final List<Operand<TFloat32>> gradients = new ArrayList<>();
  private final Operand<TFloat32> gradNorm;
  private final List<Op> updates = new ArrayList<>();

  /** Adam on the gradients of {@code loss} (one tower: the single-device case). */
  public Adam(Ops tf, Parameters weights, Operand<TFloat32> loss, double gradClip) {
    this(tf, weights, gradientsOf(tf, loss, weights), gradClip);
  }

  /**
   * Adam applied once to gradients computed elsewhere (one tower's, or several towers' reduced by
   * {@link GradientReducer}); the moments are created with {@code tf}'s device.
   *
   * @param grads d loss / d weight, one per variable of {@code weights}, in order
   */
  public Adam(Ops tf, Parameters weights, List<Operand<TFloat32>> grads, double gradClip) {
    List<ParamSpec> specs = weights.specs();
    moments1 = new Parameters(tf, "adam_m.").createAll(specs);
    moments2 = new Parameters(tf, "adam_v.").createAll(specs);
    lr = scalar(tf, "lr");
    beta1Power = scalar(tf, "beta1_power");
    beta2Power = scalar(tf, "beta2_power");
    List<Operand<TFloat32>> squares = new ArrayList<>();
    for (int i = 0; i < specs.size(); i++) {
      Operand<TFloat32> g = grads.get(i);
      gradients.add(g);
      squares.add(tf.sum(tf.math.mul(g, g), allAxes(tf, specs.get(i).shape().length)));
    }
    gradNorm = tf.withName("grad_norm").math.sqrt(tf.math.addN(squares));
    Operand<TFloat32> clip = tf.constant((float) gradClip);
    Operand<TFloat32> scale = tf.math.div(clip, tf.math.maximum(gradNorm, clip));
    List<Variable<TFloat32>> vars = weights.variables();
    for (int i = 0; i < specs.size(); i++) {
      updates.add(tf.train.applyAdam(vars.get(i), moments1.variables().get(i), moments2.variables().get(i),
          beta1Power, beta2Power, lr, tf.constant(BETA1), tf.constant(BETA2), tf.constant(EPSILON),
          tf.math.mul(gradients.get(i), scale)));
    }
  }

  /** d loss / d weight for every variable of {@code weights}, in order. */
  public static List<Operand<TFloat32>> gradientsOf(Ops tf, Operand<TFloat32> loss, Parameters weights) {
    Gradients grads = tf.gradients(loss, weights.operands());
    List<Operand<TFloat32>> out = new ArrayList<>();
    for (int i = 0; i < weights.specs().size(); i++) {
      out.add(grads.<TFloat32>dy(i));
    }
    return out;
  }

  /** Sets both moments to zero. */
  public void initialize(Session session) {
    Map<String, float[]> zeros = Parameters.zeros(moments1.specs());
    moments1.load(session, zeros);
    moments2.load(session, zeros);
  }

  /** The update ops; run them (or something depending on them) once per step. */
  public List<Op> updates() {
    return updates;
  }

  /** d loss / d weight per variable, before clipping. */
  public List<Operand<TFloat32>> gradients() {
    return gradients;
  }

  /** Global norm of the gradients before clipping. */
  public Operand<TFloat32> gradNorm() {
    return gradNorm;
  }

  /** First moments, keyed by parameter name. */
  public Map<String, float[]> firstMoments(Session session) {
    return moments1.read(session);
  }

  /** The per-step scalars for 1-based step {@code step}; the caller closes the tensors. */
  public List<TFloat32> feeds(Session.Runner runner, double learningRate, long step) {
    TFloat32 a = TFloat32.scalarOf((float) learningRate);
    TFloat32 b = TFloat32.scalarOf((float) Math.pow(BETA1, step));
    TFloat32 c = TFloat32.scalarOf((float) Math.pow(BETA2, step));
    runner.feed(lr, a).feed(beta1Power, b).feed(beta2Power, c);
    return List.of(a, b, c);
  }

  static Placeholder<TFloat32> scalar(Ops tf, String name) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }

  static Operand<TInt32> allAxes(Ops tf, int rank) {
    int[] axes = new int[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    return tf.constant(axes);
  }
}
