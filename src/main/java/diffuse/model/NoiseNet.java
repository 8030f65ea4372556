package diffuse.model;

import java.util.List;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A class-conditional noise predictor ε_θ(x_t, t, y) as graph ops: the U-Net for images, a small MLP
 * for two-pixel toy data. Trainer, exporter and sampler work with any of them.
 */
public interface NoiseNet {
  /** Shape of x_t and of the output, batch dimension −1. */
  Shape inputShape();

  /** Number of classes; the label {@code numClasses()} is the null label. */
  int numClasses();

  /** Values per sample (the product of {@link #inputShape()} without the batch dimension). */
  default int sampleSize() {
    long n = 1;
    for (int i = 1; i < inputShape().numDimensions(); i++) {
      n *= inputShape().get(i);
    }
    return Math.toIntExact(n);
  }

  /** Every parameter, in creation order (found by building the network once in a scratch graph). */
  default List<ParamSpec> paramSpecs() {
    List<ParamSpec> specs = new java.util.ArrayList<>();
    try (org.tensorflow.Graph g = new org.tensorflow.Graph()) {
      Ops tf = Ops.create(g);
      build(tf, s -> {
        specs.add(s);
        return tf.zeros(tf.constant(s.shape()), TFloat32.class);
      }, tf.placeholder(TFloat32.class, org.tensorflow.op.core.Placeholder.shape(inputShape())),
          tf.placeholder(TFloat32.class, org.tensorflow.op.core.Placeholder.shape(Shape.of(-1))),
          tf.placeholder(TInt32.class, org.tensorflow.op.core.Placeholder.shape(Shape.of(-1))));
    }
    return specs;
  }

  /**
   * Adds the network to the graph.
   *
   * @param params maps each parameter spec to the operand holding its value
   * @param x noisy samples, float32 {@link #inputShape()}
   * @param t timesteps, float32 [B]
   * @param y labels, int32 [B]
   * @return predicted noise, same shape as x; its op is named {@link GraphNames#OUTPUT_EPS}
   */
  Operand<TFloat32> build(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> x,
      Operand<TFloat32> t, Operand<TInt32> y);
}
