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
    inScratchGraph((tf, s) -> {
      specs.add(s);
      return tf.zeros(tf.constant(s.shape()), TFloat32.class);
    }, g -> { });
    return specs;
  }

  /**
   * Builds the network once in a throw-away graph, on placeholders for x, t and y, with
   * {@code params} for its parameters, and hands the graph to {@code inspect} before closing it.
   */
  private void inScratchGraph(java.util.function.BiFunction<Ops, ParamSpec, Operand<TFloat32>> params,
      java.util.function.Consumer<org.tensorflow.Graph> inspect) {
    try (org.tensorflow.Graph g = new org.tensorflow.Graph()) {
      Ops tf = Ops.create(g);
      build(tf, s -> params.apply(tf, s),
          tf.placeholder(TFloat32.class, org.tensorflow.op.core.Placeholder.shape(inputShape())),
          tf.placeholder(TFloat32.class, org.tensorflow.op.core.Placeholder.shape(Shape.of(-1))),
          tf.placeholder(TInt32.class, org.tensorflow.op.core.Placeholder.shape(Shape.of(-1))));
      inspect.accept(g);
    }
  }

  /**
   * Multiply-add FLOPs (2 per multiply-accumulate) of one sample's forward pass, counted from the ops
   * the network builds: every Conv2D (2·H_out·W_out·k_h·k_w·C_in·C_out) and every MatMul of a row per
   * sample (2·K·N: dense layers, the one-hot class product, GroupNorm's group averaging). Element-wise
   * ops, pooling, resizing and reductions are left out, as in the PyTorch twin's analytic count
   * ({@code ../shared/bench/torch_twin.py --flops}); one training step costs about three forwards.
   */
  default long forwardFlopsPerSample() {
    long[] flops = {0};
    inScratchGraph((tf, s) -> tf.placeholder(TFloat32.class, org.tensorflow.op.core.Placeholder.shape(Shape.of(s.shape()))),
        g -> {
          for (java.util.Iterator<org.tensorflow.GraphOperation> it = g.operations(); it.hasNext(); ) {
            org.tensorflow.GraphOperation op = it.next();
            if (op.type().equals("Conv2D")) {
              Shape w = op.input(1).shape(), out = op.output(0).shape();
              flops[0] += 2 * out.get(1) * out.get(2) * w.get(0) * w.get(1) * w.get(2) * w.get(3);
            } else if (op.type().equals("MatMul")) {
              flops[0] += 2 * op.input(0).shape().get(1) * op.output(0).shape().get(1);
            }
          }
        });
    return flops[0];
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
