package diffuse.model;

import java.util.Arrays;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The conditioning vector shared by every noise network: e = MLP(sinusoid(t)) + E[y], where the
 * sinusoid is the Transformer position encoding of t (Vaswani et al. 2017, used by DDPM) and E a
 * learned [numClasses + 1, d] table whose last row belongs to the null label. The table lookup is a
 * one-hot product so its gradient is a MatMul's. Shapes: t [B], y [B] → e [B, d].
 */
final class Conditioning {
  private Conditioning() {}

  static Operand<TFloat32> embed(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> t,
      Operand<TInt32> y, int numClasses, int d) {
    int half = d / 2;
    float[] freqs = new float[half];
    for (int k = 0; k < half; k++) {
      freqs[k] = (float) Math.exp(-Math.log(10000.0) * k / half);
    }
    Operand<TFloat32> args = tf.math.mul(tf.expandDims(t, tf.constant(1)),
        tf.reshape(tf.constant(freqs), tf.constant(new int[] {1, half})));
    Operand<TFloat32> sinusoid = tf.concat(Arrays.asList(tf.math.sin(args), tf.math.cos(args)), tf.constant(1));
    Operand<TFloat32> temb = dense(tf, params, sinusoid, "temb.fc0", d, d);
    temb = dense(tf, params, silu(tf, temb), "temb.fc1", d, d);
    Operand<TFloat32> table = params.apply(new ParamSpec("class_emb", new long[] {numClasses + 1, d},
        ParamSpec.Init.NORMAL, 1.0));
    Operand<TFloat32> oneHot = tf.oneHot(y, tf.constant(numClasses + 1), tf.constant(1f), tf.constant(0f));
    return tf.math.add(temb, tf.linalg.matMul(oneHot, table));
  }

  /** x·σ(x). */
  static Operand<TFloat32> silu(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(x, tf.math.sigmoid(x));
  }

  /** x·W + b for x [B, in], W initialised N(0, 1/in). */
  static Operand<TFloat32> dense(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> x,
      String name, int in, int out) {
    Operand<TFloat32> w = params.apply(new ParamSpec(name + ".w", new long[] {in, out}, ParamSpec.Init.NORMAL,
        Math.sqrt(1.0 / in)));
    Operand<TFloat32> b = params.apply(new ParamSpec(name + ".b", new long[] {out}, ParamSpec.Init.ZEROS, 0));
    return tf.math.add(tf.linalg.matMul(x, w), b);
  }
}
