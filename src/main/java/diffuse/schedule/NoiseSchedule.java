package diffuse.schedule;

import java.util.Arrays;

/**
 * An immutable diffusion noise schedule: every quantity of the forward process q(x_t | x_{t-1}) =
 * N(√(1−β_t) x_{t-1}, β_t I) and of its posterior q(x_{t-1} | x_t, x_0), precomputed in double and
 * named after Ho et al. 2020 ("Denoising Diffusion Probabilistic Models", Eqs. 4, 6, 7).
 *
 * <p>Arrays are indexed by the step index i = 0 … {@link #numSteps()}−1. For a full schedule the
 * step index is the timestep t (0-based, so index 0 is the paper's t = 1). A schedule made by {@link
 * #respace(int)} keeps a subset of the original timesteps; {@link #timestep(int)} maps its step
 * index back to the original t that the network was trained on (improved-diffusion respace.py).
 *
 * <p>Instances never change; accessor methods return copies or single values.
 */
public final class NoiseSchedule {
  private final ScheduleKind kind;
  private final int trainSteps;
  private final int[] timesteps;
  private final double[] betas;
  private final double[] alphasCumprod;
  private final double[] alphasCumprodPrev;
  private final double[] posteriorVariance;
  private final double[] posteriorMeanCoef1;
  private final double[] posteriorMeanCoef2;

  private NoiseSchedule(ScheduleKind kind, int trainSteps, int[] timesteps, double[] betas) {
    this.kind = kind;
    this.trainSteps = trainSteps;
    this.timesteps = timesteps;
    this.betas = betas;
    int n = betas.length;
    alphasCumprod = new double[n];
    alphasCumprodPrev = new double[n];
    posteriorVariance = new double[n];
    posteriorMeanCoef1 = new double[n];
    posteriorMeanCoef2 = new double[n];
    double prod = 1.0;
    for (int i = 0; i < n; i++) {
      alphasCumprodPrev[i] = prod;
      prod *= 1.0 - betas[i];
      alphasCumprod[i] = prod;
      // Eq. 7: β̃_t = (1−ᾱ_{t−1})/(1−ᾱ_t)·β_t; μ̃_t = coef1·x_0 + coef2·x_t
      posteriorVariance[i] = betas[i] * (1.0 - alphasCumprodPrev[i]) / (1.0 - alphasCumprod[i]);
      posteriorMeanCoef1[i] = betas[i] * Math.sqrt(alphasCumprodPrev[i]) / (1.0 - alphasCumprod[i]);
      posteriorMeanCoef2[i] =
          (1.0 - alphasCumprodPrev[i]) * Math.sqrt(1.0 - betas[i]) / (1.0 - alphasCumprod[i]);
    }
  }

  /**
   * The chain that visits exactly the levels β gives (ᾱ_i = Π(1 − β_j)), with {@code of}'s kind and
   * T; its timesteps are step indices. What {@link TimeGrid} computes its numbers with.
   */
  static NoiseSchedule chain(NoiseSchedule of, double[] betas) {
    int[] ts = new int[betas.length];
    for (int i = 0; i < ts.length; i++) {
      ts[i] = i;
    }
    return new NoiseSchedule(of.kind, of.trainSteps, ts, betas.clone());
  }

  /** A schedule of the given kind over T steps, with the standard constants of its paper. */
  public static NoiseSchedule of(ScheduleKind kind, int steps) {
    return switch (kind) {
      case LINEAR -> linear(steps, 1e-4, 0.02);
      case COSINE -> cosine(steps, 0.008);
    };
  }

  /** Linear β_t from {@code betaStart} to {@code betaEnd} over T steps (DDPM §4). */
  public static NoiseSchedule linear(int steps, double betaStart, double betaEnd) {
    requireSteps(steps);
    if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd)) {
      throw new IllegalArgumentException(
          "need 0 < betaStart <= betaEnd < 1, got " + betaStart + ", " + betaEnd);
    }
    double[] b = new double[steps];
    for (int i = 0; i < steps; i++) {
      b[i] = steps == 1 ? betaStart : betaStart + (betaEnd - betaStart) * i / (steps - 1);
    }
    return new NoiseSchedule(ScheduleKind.LINEAR, steps, identity(steps), b);
  }

  /** Cosine schedule (Improved DDPM Eq. 17): β_t = 1 − ᾱ_t/ᾱ_{t−1}, clipped at 0.999. */
  public static NoiseSchedule cosine(int steps, double s) {
    requireSteps(steps);
    double[] b = new double[steps];
    for (int i = 0; i < steps; i++) {
      double f0 = cosineF(i, steps, s);
      double f1 = cosineF(i + 1, steps, s);
      b[i] = Math.min(1.0 - f1 / f0, 0.999);
    }
    return new NoiseSchedule(ScheduleKind.COSINE, steps, identity(steps), b);
  }

  private static double cosineF(int t, int steps, double s) {
    double c = Math.cos(((double) t / steps + s) / (1 + s) * Math.PI / 2);
    return c * c;
  }

  /**
   * A schedule over {@code steps} of this schedule's timesteps, evenly spaced and always including
   * the last one, with β recomputed so that ᾱ at the kept timesteps is unchanged (improved-diffusion
   * respace.py). Used by DDIM and by short DDPM runs.
   */
  public NoiseSchedule respace(int steps) {
    return respace(steps, Spacing.LINSPACE);
  }

  /**
   * A schedule over {@code steps} of this schedule's timesteps chosen by {@code spacing}, with β
   * recomputed so that ᾱ at the kept timesteps is unchanged. Karras spacing can map two σ to one
   * timestep when steps approach T; it then keeps each timestep once (fewer steps).
   */
  public NoiseSchedule respace(int steps, Spacing spacing) {
    if (steps < 1 || steps > numSteps()) {
      throw new IllegalArgumentException(
          "steps must be between 1 and " + numSteps() + ", got " + steps);
    }
    int last = numSteps() - 1;
    int[] keep = new int[steps];
    for (int k = 0; k < steps; k++) { // ascending: keep[steps-1] = last
      keep[k] = switch (spacing) {
        case LINSPACE -> steps == 1 ? last : (int) Math.round((double) k * last / (steps - 1));
        case UNIFORM -> (int) Math.round((double) (k + 1) * last / steps);
        case TRAILING -> (int) Math.round((double) (k + 1) * numSteps() / steps) - 1;
        case KARRAS, KARRAS_EXACT -> nearestInLogSigma(karrasSigma(steps - 1 - k, steps));
        case LOGSNR -> nearestInLogSigma(Math.exp(steps == 1 ? Math.log(sigma(last))
            : Math.log(sigma(last)) + (double) (steps - 1 - k) / (steps - 1) * (Math.log(sigma(0)) - Math.log(sigma(last)))));
      };
    }
    keep = java.util.Arrays.stream(keep).distinct().sorted().toArray();
    return keepOnly(keep);
  }

  /** σ = √((1−ᾱ)/ᾱ) at index i: the noise-to-signal ratio of the variance-exploding view (Karras et al. 2022). */
  public double sigma(int i) {
    return Math.sqrt((1 - alphasCumprod[i]) / alphasCumprod[i]);
  }

  /**
   * ᾱ at a continuous training time t ∈ [0, T−1] of a full (not respaced) schedule: the table's
   * value at a whole t; between two whole timesteps, log σ (σ = √((1−ᾱ)/ᾱ)) interpolated linearly
   * in t and ᾱ = 1/(1 + σ²), the continuous extension of a discrete schedule that k-diffusion's
   * {@code DiscreteSchedule.t_to_sigma} uses. A network trained on whole timesteps takes the same t
   * as a float, so samplers may ask it at any time in between.
   *
   * @throws IllegalArgumentException if this schedule is respaced or t is outside [0, T−1]
   */
  public double alphaCumprodAt(double t) {
    if (numSteps() != trainSteps) {
      throw new IllegalArgumentException("continuous time needs the full schedule, not a respaced one (" + this + ")");
    }
    if (!(t >= 0 && t <= trainSteps - 1)) {
      throw new IllegalArgumentException("time must be within [0, " + (trainSteps - 1) + "], got " + t);
    }
    int lo = (int) Math.floor(t);
    if (lo == t) {
      return alphasCumprod[lo];
    }
    double w = t - lo;
    double logSigma = (1 - w) * Math.log(sigma(lo)) + w * Math.log(sigma(lo + 1));
    return 1 / (1 + Math.exp(2 * logSigma));
  }

  /**
   * The continuous time t ∈ [0, T−1] whose σ is {@code sigma}: the inverse of
   * {@link #alphaCumprodAt} (log σ linear in t between timesteps), clamped to the schedule's range.
   *
   * @throws IllegalArgumentException if this schedule is respaced or sigma is not positive
   */
  public double timeAt(double sigma) {
    if (numSteps() != trainSteps) {
      throw new IllegalArgumentException("continuous time needs the full schedule, not a respaced one (" + this + ")");
    }
    if (!(sigma > 0)) {
      throw new IllegalArgumentException("sigma must be positive, got " + sigma);
    }
    int last = trainSteps - 1;
    if (sigma <= sigma(0)) {
      return 0;
    }
    if (sigma >= sigma(last)) {
      return last;
    }
    int lo = 0, hi = last; // σ increases with t: σ(lo) < sigma <= σ(hi)
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (sigma(mid) < sigma) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    double a = Math.log(sigma(lo)), b = Math.log(sigma(hi));
    return lo + (Math.log(sigma) - a) / (b - a);
  }

  /** σ_k of Karras et al. 2022, Eq. 5, between this schedule's largest and smallest σ, k = 0 … n−1. */
  private double karrasSigma(int k, int n) {
    double hi = Math.pow(sigma(numSteps() - 1), 1 / Spacing.KARRAS_RHO);
    double lo = Math.pow(sigma(0), 1 / Spacing.KARRAS_RHO);
    return Math.pow(n == 1 ? hi : hi + (double) k / (n - 1) * (lo - hi), Spacing.KARRAS_RHO);
  }

  /** The step index whose σ is nearest to {@code sigma} in log (the timestep itself for a full schedule). */
  public int nearestTimestep(double sigma) {
    return nearestInLogSigma(sigma);
  }

  private int nearestInLogSigma(double target) {
    int best = 0;
    double bestGap = Double.POSITIVE_INFINITY;
    double lt = Math.log(target);
    for (int i = 0; i < numSteps(); i++) {
      double gap = Math.abs(Math.log(sigma(i)) - lt);
      if (gap < bestGap) {
        bestGap = gap;
        best = i;
      }
    }
    return best;
  }

  private NoiseSchedule keepOnly(int[] keep) {
    int steps = keep.length;
    double[] b = new double[steps];
    int[] ts = new int[steps];
    double last = 1.0;
    for (int k = 0; k < steps; k++) {
      double ab = alphasCumprod[keep[k]];
      b[k] = 1.0 - ab / last;
      last = ab;
      ts[k] = timesteps[keep[k]];
    }
    return new NoiseSchedule(kind, trainSteps, ts, b);
  }

  /** x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, the closed form of q(x_t | x_0) (DDPM Eq. 4), per sample. */
  public void qSample(float[] x0, int[] stepIndex, float[] eps, float[] out) {
    int per = x0.length / stepIndex.length;
    for (int b = 0; b < stepIndex.length; b++) {
      double a = sqrtAlphasCumprod(stepIndex[b]);
      double s = sqrtOneMinusAlphasCumprod(stepIndex[b]);
      for (int j = b * per, end = j + per; j < end; j++) {
        out[j] = (float) (a * x0[j] + s * eps[j]);
      }
    }
  }

  public ScheduleKind kind() {
    return kind;
  }

  /** Number of steps of this schedule (T for a full schedule). */
  public int numSteps() {
    return betas.length;
  }

  /** T of the schedule the model was trained with. */
  public int trainSteps() {
    return trainSteps;
  }

  /** The training timestep (0 … T−1) that step index {@code i} stands for. */
  public int timestep(int i) {
    return timesteps[i];
  }

  public double beta(int i) {
    return betas[i];
  }

  public double alphaCumprod(int i) {
    return alphasCumprod[i];
  }

  /** ᾱ_{t−1}; 1 for the first step. */
  public double alphaCumprodPrev(int i) {
    return alphasCumprodPrev[i];
  }

  public double sqrtAlphasCumprod(int i) {
    return Math.sqrt(alphasCumprod[i]);
  }

  public double sqrtOneMinusAlphasCumprod(int i) {
    return Math.sqrt(1.0 - alphasCumprod[i]);
  }

  /** β̃_t of q(x_{t−1} | x_t, x_0) (DDPM Eq. 7). */
  public double posteriorVariance(int i) {
    return posteriorVariance[i];
  }

  /** Coefficient of x_0 in μ̃_t (DDPM Eq. 7). */
  public double posteriorMeanCoef1(int i) {
    return posteriorMeanCoef1[i];
  }

  /** Coefficient of x_t in μ̃_t (DDPM Eq. 7). */
  public double posteriorMeanCoef2(int i) {
    return posteriorMeanCoef2[i];
  }

  public double[] alphasCumprod() {
    return alphasCumprod.clone();
  }

  public double[] betas() {
    return betas.clone();
  }

  private static void requireSteps(int steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("a schedule needs at least one step, got " + steps);
    }
  }

  private static int[] identity(int n) {
    int[] a = new int[n];
    Arrays.setAll(a, i -> i);
    return a;
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase() + "(T=" + trainSteps + ", steps=" + numSteps() + ")";
  }
}
