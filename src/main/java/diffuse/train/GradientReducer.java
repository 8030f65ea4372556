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
 * <p>How the sum is formed: {@link Kind#SUM} copies every tower's gradients to the variables' device
 * and adds them there (any devices); {@link Kind#NCCL} uses NCCL's reduce ({@code NcclReduce}, GPUs
 * only) so the copies go GPU to GPU over NVLink/PCIe without the host. {@link Kind#AUTO} picks NCCL
 * when every tower is a GPU.
 */
final class GradientReducer {
  /** How the towers' gradients are summed. */
  enum Kind { AUTO, SUM, NCCL }

  private GradientReducer() {}

  /** The kind a run uses: NCCL only for two or more towers that are all GPUs. */
  static Kind resolve(Kind asked, List<String> towers) {
    boolean gpus = towers.size() > 1 && towers.stream().allMatch(t -> t.startsWith("gpu:"));
    if (asked == Kind.NCCL && !gpus) {
      throw new IllegalArgumentException("NCCL all-reduce needs two or more gpu:N devices, got " + towers);
    }
    return asked == Kind.AUTO ? (gpus ? Kind.NCCL : Kind.SUM) : asked;
  }

  /**
   * ḡ_i = (1/R)·Σ_r g_{r,i} for every variable i: NCCL's reduce when {@code kind} is NCCL, else an AddN.
   *
   * @param perTower one list per tower, each one gradient per variable, in variable order
   */
  static List<Operand<TFloat32>> mean(Ops tf, List<List<Operand<TFloat32>>> perTower, Kind kind) {
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
      Operand<TFloat32> sum = kind == Kind.NCCL ? tf.distribute.ncclReduce(parts, "sum") : tf.math.addN(parts);
      out.add(tf.math.mul(sum, scale));
    }
    return out;
  }

  /** {@link #mean(Ops, List, Kind)} with an AddN. */
  static List<Operand<TFloat32>> mean(Ops tf, List<List<Operand<TFloat32>>> perTower) {
    return mean(tf, perTower, Kind.SUM);
  }

  /** The mean of the towers' losses, which is the mean loss over the global batch. */
  static Operand<TFloat32> meanLoss(Ops tf, List<Operand<TFloat32>> losses) {
    return losses.size() == 1 ? losses.get(0)
        : tf.withName("loss").math.mul(tf.math.addN(losses), tf.constant(1f / losses.size()));
  }
}
