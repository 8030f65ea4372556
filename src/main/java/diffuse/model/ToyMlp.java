package diffuse.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * ε_θ(x_t, t, y) for points in the plane: h₀ = Dense(x); then {@code layers} times
 * h = SiLU(Dense(h) + Dense(e)), with e = MLP(sinusoid(t)) + E[y] as in the U-Net; out = Dense(h).
 * Shapes: x [B, 2] → ε [B, 2].
 */
public final class ToyMlp implements NoiseNet {
  private final MlpConfig config;

  public ToyMlp(MlpConfig config) {
    this.config = config;
  }

  public MlpConfig config() {
    return config;
  }

  @Override
  public Shape inputShape() {
    return Shape.of(-1, config.dim());
  }

  @Override
  public int numClasses() {
    return config.numClasses();
  }

  @Override
  public List<ParamSpec> paramSpecs() {
    List<ParamSpec> specs = new ArrayList<>();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      build(tf, s -> {
        specs.add(s);
        return tf.zeros(tf.constant(s.shape()), TFloat32.class);
      }, tf.placeholder(TFloat32.class, Placeholder.shape(inputShape())),
          tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1))),
          tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))));
    }
    return specs;
  }

  @Override
  public Operand<TFloat32> build(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> x,
      Operand<TFloat32> t, Operand<TInt32> y) {
    int d = config.embedDim();
    int half = d / 2;
    float[] freqs = new float[half];
    for (int k = 0; k < half; k++) {
      freqs[k] = (float) Math.exp(-Math.log(10000.0) * k / half);
    }
    Operand<TFloat32> args = tf.math.mul(tf.expandDims(t, tf.constant(1)),
        tf.reshape(tf.constant(freqs), tf.constant(new int[] {1, half})));
    Operand<TFloat32> emb = dense(tf, params, tf.concat(Arrays.asList(tf.math.sin(args), tf.math.cos(args)),
        tf.constant(1)), "temb.fc0", d, d);
    emb = dense(tf, params, silu(tf, emb), "temb.fc1", d, d);
    Operand<TFloat32> table = params.apply(new ParamSpec("class_emb", new long[] {config.numClasses() + 1, d},
        ParamSpec.Init.NORMAL, 1.0));
    emb = tf.math.add(emb, tf.linalg.matMul(
        tf.oneHot(y, tf.constant(config.numClasses() + 1), tf.constant(1f), tf.constant(0f)), table));
    Operand<TFloat32> e = silu(tf, emb);
    Operand<TFloat32> h = dense(tf, params, x, "in", config.dim(), config.hidden());
    for (int l = 0; l < config.layers(); l++) {
      h = silu(tf, tf.math.add(dense(tf, params, h, "h" + l, config.hidden(), config.hidden()),
          dense(tf, params, e, "h" + l + ".emb", d, config.hidden())));
    }
    return tf.withName(GraphNames.OUTPUT_EPS).identity(dense(tf, params, h, "out", config.hidden(), config.dim()));
  }

  private static Operand<TFloat32> silu(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(x, tf.math.sigmoid(x));
  }

  private static Operand<TFloat32> dense(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> x,
      String name, int in, int out) {
    Operand<TFloat32> w = params.apply(new ParamSpec(name + ".w", new long[] {in, out}, ParamSpec.Init.NORMAL,
        Math.sqrt(1.0 / in)));
    Operand<TFloat32> b = params.apply(new ParamSpec(name + ".b", new long[] {out}, ParamSpec.Init.ZEROS, 0));
    return tf.math.add(tf.linalg.matMul(x, w), b);
  }
}
