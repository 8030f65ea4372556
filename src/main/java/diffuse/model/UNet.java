package diffuse.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The class-conditioned noise-prediction U-Net ε_θ(x_t, t, y) as TensorFlow graph ops (Ho et al.
 * 2020 §4 and Appendix B; class conditioning as in Ho &amp; Salimans 2022, "Classifier-Free
 * Diffusion Guidance").
 *
 * <ul>
 *   <li>input x_t: float32 [B, H, W, C]; t: float32 [B]; y: int32 [B] in 0 … numClasses (the last
 *       value being the null label);
 *   <li>embedding e = MLP(sinusoid(t)) + E[y], E a learned [numClasses+1, embedDim] table (a one-hot
 *       product, so its gradient is a MatMul's);
 *   <li>each level: {@code resBlocks} residual blocks (GroupNorm, SiLU, 3×3 conv, + Dense(SiLU(e)),
 *       GroupNorm, SiLU, 3×3 conv, 1×1 skip where widths differ), then 2×2 average pooling; with
 *       {@link UNetConfig#scaleShiftNorm()} the embedding instead scales and shifts the second
 *       GroupNorm's output, GN(h)·(1 + s) + b with [s, b] = Dense(SiLU(e)) (AdaGN, Dhariwal &amp;
 *       Nichol 2021 §3); the
 *       deepest level runs two more blocks; the way up concatenates the skip of the same level and
 *       resizes by nearest neighbour;
 *   <li>output: GroupNorm, SiLU, 3×3 conv to C channels: the predicted noise, same shape as x_t.
 * </ul>
 *
 * This class only builds ops. Where its weights live is decided by the {@code params} function
 * given to {@link #build}: the trainer passes variables, tests may pass anything.
 */
public final class UNet implements NoiseNet {
  private final UNetConfig config;

  public UNet(UNetConfig config) {
    this.config = config;
  }

  public UNetConfig config() {
    return config;
  }

  @Override
  public int numClasses() {
    return config.numClasses();
  }

  /** Shape of x_t and of the output: [-1, H, W, C]. */
  @Override
  public Shape inputShape() {
    return Shape.of(-1, config.height(), config.width(), config.channels());
  }

  /**
   * Adds the network to the graph of {@code tf}.
   *
   * @param params maps each parameter spec to the operand holding its value
   * @param x noisy images, float32 [B, H, W, C]
   * @param t timesteps, float32 [B]
   * @param y labels, int32 [B]
   * @return predicted noise, float32 [B, H, W, C]
   */
  @Override
  public Operand<TFloat32> build(
      Ops tf,
      Function<ParamSpec, Operand<TFloat32>> params,
      Operand<TFloat32> x,
      Operand<TFloat32> t,
      Operand<TInt32> y) {
    return new Builder(tf, params).network(x, t, y);
  }

  /** GroupNorm's ε, as PyTorch's default. */
  static final float GROUP_NORM_EPS = 1e-5f;

  /**
   * GroupNorm (Wu &amp; He 2018, eq. 1 with the statistics of eq. 2 taken per sample over H, W and the
   * C/G channels of a group): y = γ·(x − μ)/√(σ² + ε) + β.
   *
   * <p>The statistics are per-channel E[x] and E[x²] averaged within each group by the constant
   * {@code groupAverage} matrix ([C, C], see {@link #groupAverage}), which needs no 5-D reshape. The
   * normalisation is then folded into one scale and one shift per sample and channel, a = γ/√(σ²+ε)
   * and b = β − μ·a, both [B, C], so the full-size tensor sees a single multiply and add: y = x·a + b.
   * Against centring, scaling by 1/√(σ²+ε), by γ and shifting x one after another that removes two
   * full-size ops as written (one after grappler, which merged the two scalings) and their gradients;
   * the guided step got 10–20 % faster (docs/journal/2026-12-speed.md, "Against the PyTorch twin").
   *
   * @param x float32 [B, H, W, C]
   * @param gamma float32 [C]
   * @param beta float32 [C]
   * @return float32 [B, H, W, C]
   */
  static Operand<TFloat32> groupNorm(Ops tf, Operand<TFloat32> x, Operand<TFloat32> gamma, Operand<TFloat32> beta,
      Operand<TFloat32> groupAverage) {
    return groupNorm(tf, x, gamma, beta, groupAverage, null, null);
  }

  /**
   * GroupNorm followed by a per-sample modulation, GN(x)·(1 + s) + b (AdaGN, Dhariwal &amp; Nichol
   * 2021 §3). The modulation folds into GroupNorm's own per-sample scale and shift,
   * a' = a·(1 + s) and b' = b·(1 + s) + b_mod, so the full-size tensor still sees one multiply and
   * one add.
   *
   * @param modScale s, float32 [B, C], or null for none
   * @param modShift b_mod, float32 [B, C], or null for none (both or neither)
   */
  static Operand<TFloat32> groupNorm(Ops tf, Operand<TFloat32> x, Operand<TFloat32> gamma, Operand<TFloat32> beta,
      Operand<TFloat32> groupAverage, Operand<TFloat32> modScale, Operand<TFloat32> modShift) {
    Operand<TInt32> hw = tf.constant(new int[] {1, 2});
    Operand<TFloat32> mean = tf.linalg.matMul(tf.math.mean(x, hw), groupAverage); // μ, [B, C]
    Operand<TFloat32> meanSq = tf.linalg.matMul(tf.math.mean(tf.math.square(x), hw), groupAverage);
    Operand<TFloat32> var = tf.math.maximum(tf.math.sub(meanSq, tf.math.square(mean)), tf.constant(0f));
    Operand<TFloat32> scale = tf.math.mul(gamma, tf.math.rsqrt(tf.math.add(var, tf.constant(GROUP_NORM_EPS))));
    Operand<TFloat32> shift = tf.math.sub(beta, tf.math.mul(mean, scale));
    if (modScale != null) {
      Operand<TFloat32> onePlus = tf.math.add(modScale, tf.constant(1f));
      scale = tf.math.mul(scale, onePlus);
      shift = tf.math.add(tf.math.mul(shift, onePlus), modShift);
    }
    Operand<TInt32> b11c = tf.constant(new int[] {-1, 1, 1, (int) groupAverage.shape().get(0)});
    return tf.math.add(tf.math.mul(x, tf.reshape(scale, b11c)), tf.reshape(shift, b11c));
  }

  /**
   * The [C, C] matrix that averages the channels of each of {@code groups} groups:
   * A[i][j] = G/C where channels i and j share a group, 0 elsewhere.
   */
  static Operand<TFloat32> groupAverage(Ops tf, int c, int groups) {
    int per = c / groups;
    float[][] avg = new float[c][c];
    for (int i = 0; i < c; i++) {
      for (int j = 0; j < c; j++) {
        avg[i][j] = (i / per == j / per) ? 1f / per : 0f;
      }
    }
    return tf.constant(avg);
  }

  private final class Builder {
    private final Ops tf;
    private final Function<ParamSpec, Operand<TFloat32>> params;
    /** One group-averaging matrix per channel count, shared by every GroupNorm of that width. */
    private final java.util.Map<Integer, Operand<TFloat32>> groupAverages = new java.util.HashMap<>();

    Builder(Ops tf, Function<ParamSpec, Operand<TFloat32>> params) {
      this.tf = tf;
      this.params = params;
    }

    Operand<TFloat32> network(Operand<TFloat32> x, Operand<TFloat32> t, Operand<TInt32> y) {
      List<Integer> widths = config.widths();
      Operand<TFloat32> emb = embedding(t, y);
      Operand<TFloat32> h = conv(x, "in", config.channels(), widths.get(0), 3, 1.0);
      List<Operand<TFloat32>> skips = new ArrayList<>();
      int cin = widths.get(0);
      for (int level = 0; level < widths.size(); level++) {
        int w = widths.get(level);
        for (int r = 0; r < config.resBlocks(); r++) {
          h = resBlock(h, emb, "down" + level + ".res" + r, cin, w);
          cin = w;
        }
        skips.add(h);
        if (level < widths.size() - 1) {
          h = tf.nn.avgPool(h, List.of(1L, 2L, 2L, 1L), List.of(1L, 2L, 2L, 1L), "VALID");
        }
      }
      h = resBlock(h, emb, "mid.res0", cin, cin);
      h = resBlock(h, emb, "mid.res1", cin, cin);
      for (int level = widths.size() - 1; level >= 0; level--) {
        int w = widths.get(level);
        Operand<TFloat32> skip = skips.get(level);
        h = tf.concat(Arrays.asList(h, skip), tf.constant(3));
        int concatWidth = cin + w;
        for (int r = 0; r < config.resBlocks(); r++) {
          h = resBlock(h, emb, "up" + level + ".res" + r, r == 0 ? concatWidth : w, w);
        }
        cin = w;
        if (level > 0) {
          int scale = 1 << (level - 1);
          h = tf.image.resizeNearestNeighbor(
              h, tf.constant(new int[] {config.height() / scale, config.width() / scale}));
        }
      }
      h = silu(groupNorm(h, "out.norm", cin));
      h = conv(h, "out", cin, config.channels(), 3, 0.1);
      return tf.withName(GraphNames.OUTPUT_EPS).identity(h);
    }

    /** e = MLP(sinusoid(t)) + E[y]: [B, embedDim]. */
    Operand<TFloat32> embedding(Operand<TFloat32> t, Operand<TInt32> y) {
      return Conditioning.embed(tf, params, t, y, config.numClasses(), config.embedDim());
    }

    Operand<TFloat32> resBlock(Operand<TFloat32> h, Operand<TFloat32> emb, String name, int cin, int cout) {
      Operand<TFloat32> a = conv(silu(groupNorm(h, name + ".norm1", cin)), name + ".conv1", cin, cout, 3, 1.0);
      if (config.scaleShiftNorm()) {
        Operand<TFloat32> se = silu(emb);
        Operand<TFloat32> s = dense(se, name + ".ada_scale", config.embedDim(), cout);
        Operand<TFloat32> b = dense(se, name + ".ada_shift", config.embedDim(), cout);
        a = groupNorm(a, name + ".norm2", cout, s, b);
      } else {
        Operand<TFloat32> e = dense(silu(emb), name + ".emb", config.embedDim(), cout);
        a = tf.math.add(a, tf.reshape(e, tf.constant(new int[] {-1, 1, 1, cout})));
        a = groupNorm(a, name + ".norm2", cout);
      }
      a = conv(silu(a), name + ".conv2", cout, cout, 3, 0.5);
      Operand<TFloat32> skip = cin == cout ? h : conv(h, name + ".skip", cin, cout, 1, 1.0);
      return tf.math.add(skip, a);
    }

    Operand<TFloat32> groupNorm(Operand<TFloat32> x, String name, int c) {
      return groupNorm(x, name, c, null, null);
    }

    /** GroupNorm, then GN·(1 + s) + b where s and b ([B, C]) are given. */
    Operand<TFloat32> groupNorm(Operand<TFloat32> x, String name, int c, Operand<TFloat32> s, Operand<TFloat32> b) {
      Operand<TFloat32> gamma = params.apply(new ParamSpec(name + ".gamma", new long[] {c}, ParamSpec.Init.ONES, 0));
      Operand<TFloat32> beta = params.apply(new ParamSpec(name + ".beta", new long[] {c}, ParamSpec.Init.ZEROS, 0));
      return UNet.groupNorm(tf, x, gamma, beta, groupAverages.computeIfAbsent(c, k -> groupAverage(tf, k, config.groups())),
          s, b);
    }

    Operand<TFloat32> silu(Operand<TFloat32> x) {
      return Conditioning.silu(tf, x);
    }

    /** k×k SAME convolution with bias, He-normal weights scaled by {@code gain}. */
    Operand<TFloat32> conv(Operand<TFloat32> x, String name, int cin, int cout, int k, double gain) {
      double std = gain * Math.sqrt(2.0 / (k * k * cin));
      Operand<TFloat32> w = params.apply(new ParamSpec(name + ".w", new long[] {k, k, cin, cout}, ParamSpec.Init.NORMAL, std));
      Operand<TFloat32> b = params.apply(new ParamSpec(name + ".b", new long[] {cout}, ParamSpec.Init.ZEROS, 0));
      return tf.nn.biasAdd(tf.nn.conv2d(x, w, List.of(1L, 1L, 1L, 1L), "SAME"), b);
    }

    Operand<TFloat32> dense(Operand<TFloat32> x, String name, int in, int out) {
      return Conditioning.dense(tf, params, x, name, in, out);
    }
  }
}
