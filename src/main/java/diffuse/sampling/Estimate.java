package diffuse.sampling;

import java.util.Arrays;

/**
 * What a denoiser returns: a prediction at x_t = α·x_0 + σ·ε (α = √ᾱ, σ = √(1−ᾱ)), tagged with its
 * parameterisation and the ᾱ of every sample, so that a sampler can read it as whichever of ε, x_0
 * and v its update is written in (Salimans &amp; Ho 2022, Appendix D, for the conversions). For an
 * {@link Prediction#EPS} estimate {@link #eps()} is the output itself, so an ε network feeds the
 * samplers exactly the numbers it computed.
 *
 * @param kind what {@code output} is
 * @param output the prediction, [batch · dim]
 * @param xt the noisy samples it was made at, [batch · dim]
 * @param alphaBar ᾱ per sample, [batch]
 */
public record Estimate(Prediction kind, float[] output, float[] xt, double[] alphaBar) {
  public Estimate {
    if (output.length != xt.length || alphaBar.length == 0 || xt.length % alphaBar.length != 0) {
      throw new IllegalArgumentException("an estimate needs output and x_t of one size and a ᾱ per sample, got "
          + output.length + ", " + xt.length + ", " + alphaBar.length);
    }
  }

  /** An estimate whose samples all share one ᾱ. */
  public static Estimate of(Prediction kind, float[] output, float[] xt, int batch, double alphaBar) {
    double[] ab = new double[batch];
    Arrays.fill(ab, alphaBar);
    return new Estimate(kind, output, xt, ab);
  }

  /** Number of samples. */
  public int batch() {
    return alphaBar.length;
  }

  /** Values per sample. */
  public int dim() {
    return xt.length / alphaBar.length;
  }

  /** The predicted noise ε, [batch · dim]. */
  public float[] eps() {
    return as(Prediction.EPS);
  }

  /** The predicted clean sample x_0, [batch · dim] (unclipped). */
  public float[] x0() {
    return as(Prediction.X0);
  }

  /** The predicted velocity v = α·ε − σ·x_0, [batch · dim]. */
  public float[] v() {
    return as(Prediction.V);
  }

  /** The prediction in parameterisation {@code target}: the output itself when it is already that. */
  public float[] as(Prediction target) {
    if (target == kind) {
      return output;
    }
    if (uniform()) {
      return convert(kind, target, xt, output, alphaBar[0]);
    }
    int dim = dim();
    float[] out = new float[output.length];
    for (int b = 0; b < batch(); b++) {
      float[] part = convert(kind, target, Arrays.copyOfRange(xt, b * dim, (b + 1) * dim),
          Arrays.copyOfRange(output, b * dim, (b + 1) * dim), alphaBar[b]);
      System.arraycopy(part, 0, out, b * dim, dim);
    }
    return out;
  }

  /** This estimate re-expressed as {@code target} (same x_t and ᾱ). */
  public Estimate to(Prediction target) {
    return target == kind ? this : new Estimate(target, as(target), xt, alphaBar);
  }

  /** Samples {@code from} … {@code from+n−1} of this estimate. */
  public Estimate slice(int from, int n) {
    int dim = dim();
    return new Estimate(kind, Arrays.copyOfRange(output, from * dim, (from + n) * dim),
        Arrays.copyOfRange(xt, from * dim, (from + n) * dim), Arrays.copyOfRange(alphaBar, from, from + n));
  }

  private boolean uniform() {
    for (double a : alphaBar) {
      if (a != alphaBar[0]) {
        return false;
      }
    }
    return true;
  }

  /** Conversion through ε: ε from the source kind, then the target from ε. */
  private static float[] convert(Prediction from, Prediction to, float[] xt, float[] out, double ab) {
    float[] eps = from.toEpsilon(xt, out, ab);
    return switch (to) {
      case EPS -> eps;
      case X0 -> from == Prediction.V ? Prediction.x0FromV(xt, out, ab) : Prediction.x0FromEps(xt, eps, ab);
      case V -> Prediction.vFromEps(from == Prediction.X0 ? out : Prediction.x0FromEps(xt, eps, ab), eps, ab,
          new float[xt.length]);
    };
  }
}
