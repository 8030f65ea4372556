package diffuse.model;

import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
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
  public Operand<TFloat32> build(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> x,
      Operand<TFloat32> t, Operand<TInt32> y) {
    int d = config.embedDim();
    Operand<TFloat32> emb = Conditioning.embed(tf, params, t, y, config.numClasses(), d);
    Operand<TFloat32> e = silu(tf, emb);
    Operand<TFloat32> h = dense(tf, params, x, "in", config.dim(), config.hidden());
    for (int l = 0; l < config.layers(); l++) {
      h = silu(tf, tf.math.add(dense(tf, params, h, "h" + l, config.hidden(), config.hidden()),
          dense(tf, params, e, "h" + l + ".emb", d, config.hidden())));
    }
    return tf.withName(GraphNames.OUTPUT_EPS).identity(dense(tf, params, h, "out", config.hidden(), config.dim()));
  }

  private static Operand<TFloat32> silu(Ops tf, Operand<TFloat32> x) {
    return Conditioning.silu(tf, x);
  }

  private static Operand<TFloat32> dense(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> x,
      String name, int in, int out) {
    return Conditioning.dense(tf, params, x, name, in, out);
  }
}
