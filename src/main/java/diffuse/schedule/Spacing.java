package diffuse.schedule;

import java.util.Locale;

/**
 * Which of the T training timesteps a sampler with n steps evaluates the network at (the step
 * spacings of diffusers' schedulers and of Karras et al. 2022). Timestep indices run 0 … T−1; every
 * spacing starts at T−1, and the walk always ends with a step to the clean image.
 */
public enum Spacing {
  /**
   * round(k·(T−1)/(n−1)), k = n−1 … 0: evenly spaced, first and last training timestep included
   * (the last evaluation, at t = 0, is nearly noise-free). What DDIM and DDPM have always used.
   */
  LINSPACE,
  /**
   * round(k·(T−1)/n), k = n … 1: evenly spaced without t = 0, so the last evaluation is at a real
   * noise level and the step from it goes straight to the clean image (diffusers' "linspace" for its
   * multistep solvers).
   */
  UNIFORM,
  /** k·T/n − 1, k = n … 1: evenly spaced from the end (Lin et al. 2023, "trailing", Table 2). */
  TRAILING,
  /**
   * σ_k = (σ_max^{1/ρ} + k/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ with ρ = 7 (Karras et al. 2022,
   * "Elucidating the Design Space of Diffusion-Based Generative Models", Eq. 5), σ = √((1−ᾱ)/ᾱ),
   * each mapped to the training timestep nearest in log σ; dense at low noise.
   */
  KARRAS,
  /**
   * The σ_k of {@link #KARRAS} exactly, each at its own continuous time (the network is asked at
   * fractional t, with ᾱ(t) of {@link NoiseSchedule#alphaCumprodAt}): EDM's steps without rounding,
   * so n steps are n distinct noise levels however close to T they come. Written "karras-exact".
   */
  KARRAS_EXACT,
  /**
   * λ = log(α/σ) evenly spaced from the largest to the smallest noise, each mapped to the nearest
   * training timestep in λ: the spacing Lu et al. (2022, "DPM-Solver", §3.4) recommend for
   * low-resolution images; every step is the same size in the variable the solver integrates over.
   */
  LOGSNR;

  /** ρ of {@link #KARRAS}. */
  public static final double KARRAS_RHO = 7;

  /** Parses the lower-case name. */
  public static Spacing parse(String name) {
    return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
