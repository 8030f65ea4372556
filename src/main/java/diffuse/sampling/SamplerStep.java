package diffuse.sampling;

/**
 * What one solver step returns: the next sample and the estimate of the clean images it used.
 *
 * @param x the next sample x_{t−1} (or x̃ in the σ view), [batch · dim]
 * @param x0 the x̂_0 the step was computed from, [batch · dim]
 */
record SamplerStep(float[] x, float[] x0) {}
