package diffuse.schedule;

/** The β_t schedules the tool knows. */
public enum ScheduleKind {
  /** Linear β_t from 1e-4 to 0.02 (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", §4). */
  LINEAR,
  /**
   * ᾱ_t = f(t)/f(0), f(t) = cos²(((t/T)+s)/(1+s)·π/2), s = 0.008, β_t clipped at 0.999 (Nichol &amp;
   * Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models", Eq. 17).
   */
  COSINE
}
