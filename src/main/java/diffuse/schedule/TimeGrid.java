package diffuse.schedule;

import java.util.Arrays;

/**
 * The times a solver steps through: n continuous training times t_{n−1} &gt; … &gt; t_0 within
 * [0, T−1], each with its ᾱ, and the step from each to the next lower level; the step from t_0
 * goes to the clean image (ᾱ = 1). Immutable, in double precision.
 *
 * <p>Indexed like {@link NoiseSchedule}: step index i = 0 … n−1, i = 0 the least noisy, walked from
 * n−1 down. Per step the β of the chain that visits exactly these levels, β_i = 1 − ᾱ_i/ᾱ_{i−1}
 * (ᾱ_{−1} = 1), and from it ᾱ and the DDPM posterior (Ho et al. 2020, Eq. 7) are computed as
 * {@link NoiseSchedule} computes them, so a grid made {@link #of} a respaced schedule gives the
 * samplers exactly the numbers the schedule does.
 *
 * <p>Whole times are training timesteps; a continuous time t is what the network is asked at as a
 * float, with ᾱ(t) from {@link NoiseSchedule#alphaCumprodAt} (log σ linear between timesteps).
 */
public final class TimeGrid {
  private final double[] times;
  private final NoiseSchedule chain; // ᾱ, β and the posterior of the chain through these levels

  private TimeGrid(double[] times, NoiseSchedule chain) {
    this.times = times;
    this.chain = chain;
  }

  /** The whole training timesteps of a (respaced) schedule, with its ᾱ and β. */
  public static TimeGrid of(NoiseSchedule schedule) {
    int n = schedule.numSteps();
    double[] t = new double[n];
    for (int i = 0; i < n; i++) {
      t[i] = schedule.timestep(i);
    }
    return new TimeGrid(t, schedule);
  }

  /**
   * Continuous times on a full schedule, noisiest first.
   *
   * @param schedule the model's training schedule (not respaced)
   * @param descending t_{n−1} &gt; … &gt; t_0, each within [0, T−1]
   * @throws IllegalArgumentException for an empty, non-decreasing or out-of-range list
   */
  public static TimeGrid at(NoiseSchedule schedule, double... descending) {
    int n = descending.length;
    if (n == 0) {
      throw new IllegalArgumentException("a time grid needs at least one time");
    }
    double[] t = new double[n];
    double[] b = new double[n];
    double last = 1.0;
    for (int i = 0; i < n; i++) {
      t[i] = descending[n - 1 - i];
      if (i > 0 && !(t[i] > t[i - 1])) {
        throw new IllegalArgumentException("times must decrease strictly, got " + Arrays.toString(descending));
      }
      double ab = schedule.alphaCumprodAt(t[i]);
      b[i] = 1.0 - ab / last;
      last = ab;
    }
    return new TimeGrid(t, NoiseSchedule.chain(schedule, b));
  }

  /**
   * n noise levels of Karras et al. 2022, Eq. 5, σ_k = (σ_max^{1/ρ} + k/(n−1)·(σ_min^{1/ρ} −
   * σ_max^{1/ρ}))^ρ, ρ = {@value Spacing#KARRAS_RHO}, between the schedule's largest and smallest σ,
   * each at its own continuous time (not rounded to a timestep as {@link Spacing#KARRAS} is).
   */
  public static TimeGrid karras(NoiseSchedule schedule, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("steps must be >= 1, got " + n);
    }
    int last = schedule.numSteps() - 1;
    double hi = Math.pow(schedule.sigma(last), 1 / Spacing.KARRAS_RHO);
    double lo = Math.pow(schedule.sigma(0), 1 / Spacing.KARRAS_RHO);
    double[] t = new double[n];
    for (int k = 0; k < n; k++) {
      double sigma = Math.pow(n == 1 ? hi : hi + (double) k / (n - 1) * (lo - hi), Spacing.KARRAS_RHO);
      t[k] = k == 0 ? last : k == n - 1 ? 0 : schedule.timeAt(sigma); // the ends exactly, not by inversion
    }
    return at(schedule, t);
  }

  /** Number of steps n. */
  public int numSteps() {
    return times.length;
  }

  /** The continuous training time of step index i. */
  public double time(int i) {
    return times[i];
  }

  /** ᾱ at step index i. */
  public double alphaCumprod(int i) {
    return chain.alphaCumprod(i);
  }

  /** ᾱ of the level the step from i lands on; 1 (the clean image) for i = 0. */
  public double alphaCumprodPrev(int i) {
    return chain.alphaCumprodPrev(i);
  }

  /** σ = √((1−ᾱ)/ᾱ) at step index i. */
  public double sigma(int i) {
    return chain.sigma(i);
  }

  /** β_i = 1 − ᾱ_i/ᾱ_{i−1}. */
  public double beta(int i) {
    return chain.beta(i);
  }

  /** β̃ of q(x_{i−1} | x_i, x_0) (DDPM Eq. 7). */
  public double posteriorVariance(int i) {
    return chain.posteriorVariance(i);
  }

  /** Coefficient of x_0 in μ̃ (DDPM Eq. 7). */
  public double posteriorMeanCoef1(int i) {
    return chain.posteriorMeanCoef1(i);
  }

  /** Coefficient of x_i in μ̃ (DDPM Eq. 7). */
  public double posteriorMeanCoef2(int i) {
    return chain.posteriorMeanCoef2(i);
  }

  /** True if every time is a whole training timestep. */
  public boolean isWhole() {
    for (double t : times) {
      if (t != Math.rint(t)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "TimeGrid" + Arrays.toString(times);
  }
}
