package diffuse.sampling;

/** The samplers of {@code --sampler}. */
public enum SamplerKind {
  /** Ancestral sampling through every training step (Ho et al. 2020, Algorithm 2). */
  DDPM,
  /** Deterministic (η = 0) or stochastic DDIM over a subset of steps (Song et al. 2021). */
  DDIM
}
