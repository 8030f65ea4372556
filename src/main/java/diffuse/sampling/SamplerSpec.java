package diffuse.sampling;

import diffuse.api.DiffuseException;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.Spacing;
import diffuse.schedule.TimeGrid;

/**
 * A sampler and its options: the one sampler configuration, from a request (where the steps may be
 * left to the sampler's default) to the sidecar that records it (where they are filled in).
 *
 * @param kind DDPM, DDIM, DPM-Solver++(2M), Euler or Heun
 * @param steps solver steps; DDPM with fewer than T steps runs on the respaced schedule;
 *     {@link #DEFAULT_STEPS} for the sampler's default, filled in by {@link #resolve}
 * @param eta DDIM's η within [0, 1]: 0 deterministic, 1 the DDPM posterior variance (Song et al.
 *     2021, Eq. 16); DDPM and DPM-Solver++ have no η and take 0 here
 * @param clip clip the predicted x_0 to the data range [−1, 1]
 * @param spacing which training timesteps the steps evaluate ({@link #defaultSpacing})
 */
public record SamplerSpec(SamplerKind kind, int steps, double eta, boolean clip, Spacing spacing) {
  /** Steps left to the sampler: {@link #defaultSteps} for the model's T. */
  public static final int DEFAULT_STEPS = 0;
  /** Default DDIM (and Euler) steps: quick on a CPU, and indistinguishable from 100 steps on MNIST by eye. */
  public static final int DEFAULT_DDIM_STEPS = 25;
  /** Default DPM-Solver++(2M) steps: the regime it is made for (Lu et al. 2022 use 10–20). */
  public static final int DEFAULT_DPM_STEPS = 10;
  /** Default Heun steps: 10 steps, 19 network evaluations. */
  public static final int DEFAULT_HEUN_STEPS = 10;

  /** {@code kind} at its default steps and spacing, clipping x̂_0. */
  public static SamplerSpec of(SamplerKind kind) {
    return new SamplerSpec(kind, DEFAULT_STEPS, 0, true);
  }

  /** The steps a sampler takes when none are given, for a model of T timesteps. */
  public static int defaultSteps(SamplerKind kind, int timesteps) {
    return switch (kind) {
      case DDIM, EULER -> Math.min(DEFAULT_DDIM_STEPS, timesteps);
      case DPMPP_2M -> Math.min(DEFAULT_DPM_STEPS, timesteps);
      case HEUN -> Math.min(DEFAULT_HEUN_STEPS, timesteps);
      case DDPM -> timesteps;
    };
  }

  /**
   * This sampler for a model of T timesteps: default steps filled in.
   *
   * @throws DiffuseException naming {@code steps} when they exceed T
   */
  public SamplerSpec resolve(int timesteps) {
    int n = steps == DEFAULT_STEPS ? defaultSteps(kind, timesteps) : steps;
    if (n > timesteps) {
      throw DiffuseException.badValue("steps", "steps " + n + " exceeds the model's T = " + timesteps);
    }
    return n == steps ? this : new SamplerSpec(kind, n, eta, clip, spacing);
  }

  /** A sampler at its kind's {@link #defaultSpacing}. */
  public SamplerSpec(SamplerKind kind, int steps, double eta, boolean clip) {
    this(kind, steps, eta, clip, defaultSpacing(kind));
  }

  /**
   * LINSPACE for DDIM and DDPM (what they have always used, so old seeds give the same images);
   * TRAILING for DPM-Solver++, chosen on samples rather than on ODE error: on the exact field of a
   * sharp mixture LOGSNR (equal steps in the λ it integrates over) lands 2.5× closer to the exact
   * flow at 10 steps (DpmSolverTest), but on the shipped MNIST model it spends its steps at noise
   * levels where nothing is decided and its samples are further from the data (Fréchet distance
   * 2.95× the real baseline at s = 2, n = 200 per digit, against 2.38× trailing and 2.46× linspace);
   * trailing also starts at t = T − 1, the noise that x_T is drawn as (Lin et al. 2024, "Common
   * Diffusion Noise Schedules and Sample Steps are Flawed").
   */
  public static Spacing defaultSpacing(SamplerKind kind) {
    return switch (kind) {
      case DPMPP_2M -> Spacing.TRAILING;
      case EULER, HEUN -> Spacing.KARRAS; // EDM's steps (Karras et al. 2022, Eq. 5), rounded to timesteps
      default -> Spacing.LINSPACE;
    };
  }

  public SamplerSpec {
    if (kind == null) {
      throw DiffuseException.badValue("sampler", "sampler must be ddim, ddpm, dpm++2m, euler or heun");
    }
    if (spacing == null) { // also what records written before spacings existed read back as
      spacing = defaultSpacing(kind);
    }
    if (steps < 1 && steps != DEFAULT_STEPS) {
      throw DiffuseException.badValue("steps", "steps must be >= 1, got " + steps);
    }
    if (kind == SamplerKind.DDPM && eta != 0) {
      throw DiffuseException.badValue("eta", "eta applies to the ddim sampler only; ddpm always adds the posterior noise"
          + " (what ddim does at eta 1)");
    }
    if (kind != SamplerKind.DDIM && kind != SamplerKind.DDPM && eta != 0) {
      throw DiffuseException.badValue("eta", "eta applies to the ddim sampler only; " + kind.id() + " is deterministic");
    }
    if (!(eta >= 0 && eta <= 1)) {
      throw DiffuseException.badValue("eta", "eta must be a number within [0, 1] (0 deterministic, 1 DDPM-like noise), got "
          + eta);
    }
  }

  /**
   * The times this sampler steps through on {@code schedule} (the model's training schedule):
   * continuous for {@link Spacing#KARRAS_EXACT}, else the whole timesteps of the respaced schedule.
   */
  public TimeGrid grid(NoiseSchedule schedule) {
    int n = steps == DEFAULT_STEPS ? resolve(schedule.numSteps()).steps() : steps;
    if (spacing == Spacing.KARRAS_EXACT) {
      return TimeGrid.karras(schedule, n);
    }
    return TimeGrid.of(n == schedule.numSteps() && spacing == Spacing.LINSPACE ? schedule
        : schedule.respace(n, spacing));
  }

  /** Builds the sampler for a model trained with {@code schedule}. */
  public Sampler create(NoiseSchedule schedule) {
    if (steps == DEFAULT_STEPS || steps > schedule.numSteps()) {
      return resolve(schedule.numSteps()).create(schedule);
    }
    TimeGrid s = grid(schedule);
    return switch (kind) {
      case DDPM -> new DdpmSampler(s, clip);
      case DDIM -> new DdimSampler(s, eta, clip);
      case DPMPP_2M -> new DpmSolverPlusPlus2M(s, clip);
      case EULER -> new EulerSampler(s, clip);
      case HEUN -> new HeunSampler(s, clip);
    };
  }
}
