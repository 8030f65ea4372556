package diffuse.model;

import java.util.List;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The evaluation classifier as graph ops: two blocks of (3×3 conv, ReLU, 3×3 conv, ReLU, 2×2 max
 * pool), a dense ReLU layer of {@code featureDim} units (the features used for Fréchet distance and
 * diversity, as Inception's pool layer is for FID, Heusel et al. 2017), and a dense layer to logits.
 */
public final class Classifier {
  /** Output names in the classifier's SavedModel. */
  public static final String OUTPUT_LOGITS = "logits";
  public static final String OUTPUT_FEATURES = "features";

  private final ClassifierConfig config;

  public Classifier(ClassifierConfig config) {
    this.config = config;
  }

  public ClassifierConfig config() {
    return config;
  }

  /** Logits [B, numClasses] and features [B, featureDim] of images x [B, H, W, C] in [−1, 1]. */
  public record Outputs(Operand<TFloat32> logits, Operand<TFloat32> features) {}

  public Outputs build(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> x) {
    ClassifierConfig c = config;
    Operand<TFloat32> h = conv(tf, params, x, "c1", c.channels(), c.width1());
    h = conv(tf, params, h, "c2", c.width1(), c.width1());
    h = pool(tf, h);
    h = conv(tf, params, h, "c3", c.width1(), c.width2());
    h = conv(tf, params, h, "c4", c.width2(), c.width2());
    h = pool(tf, h);
    int flat = c.height() / 4 * c.width() / 4 * c.width2();
    h = tf.reshape(h, tf.constant(new int[] {-1, flat}));
    Operand<TFloat32> features = tf.withName(OUTPUT_FEATURES).nn.relu(dense(tf, params, h, "fc1", flat, c.featureDim()));
    Operand<TFloat32> logits = tf.withName(OUTPUT_LOGITS).identity(dense(tf, params, features, "fc2", c.featureDim(), c.numClasses()));
    return new Outputs(logits, features);
  }

  private static Operand<TFloat32> conv(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> x,
      String name, int cin, int cout) {
    Operand<TFloat32> w = params.apply(new ParamSpec(name + ".w", new long[] {3, 3, cin, cout}, ParamSpec.Init.NORMAL,
        Math.sqrt(2.0 / (9 * cin))));
    Operand<TFloat32> b = params.apply(new ParamSpec(name + ".b", new long[] {cout}, ParamSpec.Init.ZEROS, 0));
    return tf.nn.relu(tf.nn.biasAdd(tf.nn.conv2d(x, w, List.of(1L, 1L, 1L, 1L), "SAME"), b));
  }

  private static Operand<TFloat32> pool(Ops tf, Operand<TFloat32> x) {
    return tf.nn.maxPool(x, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
  }

  private static Operand<TFloat32> dense(Ops tf, Function<ParamSpec, Operand<TFloat32>> params, Operand<TFloat32> x,
      String name, int in, int out) {
    Operand<TFloat32> w = params.apply(new ParamSpec(name + ".w", new long[] {in, out}, ParamSpec.Init.NORMAL, Math.sqrt(2.0 / in)));
    Operand<TFloat32> b = params.apply(new ParamSpec(name + ".b", new long[] {out}, ParamSpec.Init.ZEROS, 0));
    return tf.math.add(tf.linalg.matMul(x, w), b);
  }
}
