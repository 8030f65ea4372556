package diffuse.train;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Averages the gradients of R towers into the one gradient Adam applies (synchronous data
 * parallelism): ḡ = (1/R)·Σ_r g_r, an AddN and a scale per variable, placed with {@code tf}'s device
 * (the variables' device). Each tower's loss is the mean over its equal shard, so ḡ is the gradient
 * of the mean loss over the global batch, the single-device gradient up to float rounding.
 *
 * <p>NCCL all-reduce is not used: TensorFlow Java 1.1 exposes no NCCL op, and across the GPUs of one
 * machine the sum on one device moves 2·(R−1)·P·4 bytes per step, which the README puts in figures.
 */
final class GradientReducer {
  private GradientReducer() {}

  /** @param perTower one list per tower, each one gradient per variable, in variable order */
  static List<Operand<TFloat32>> mean(Ops tf, List<List<Operand<TFloat32>>> perTower) {
    if (perTower.size() == 1) {
      return perTower.get(0); // one device: exactly the tower's gradient, no extra ops
    }
    Operand<TFloat32> scale = tf.constant(1f / perTower.size());
    List<Operand<TFloat32>> out = new ArrayList<>();
    for (int i = 0; i < perTower.get(0).size(); i++) {
      List<Operand<TFloat32>> parts = new ArrayList<>();
      for (List<Operand<TFloat32>> g : perTower) {
        parts.add(g.get(i));
      }
      out.add(tf.math.mul(tf.math.addN(parts), scale));
    }
    return out;
  }

  /** The mean of the towers' losses, which is the mean loss over the global batch. */
  static Operand<TFloat32> meanLoss(Ops tf, List<Operand<TFloat32>> losses) {
    return losses.size() == 1 ? losses.get(0)
        : tf.withName("loss").math.mul(tf.math.addN(losses), tf.constant(1f / losses.size()));
  }
}
