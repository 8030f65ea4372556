package diffuse.sampling;

import diffuse.schedule.NoiseSchedule;

/**
 * A guidance method: turns the model's denoiser into the guided denoiser that a solver walks with.
 * Solvers never see guidance; they call whatever denoiser they are given (k-diffusion's
 * {@code CFGDenoiser}, diffusers' {@code guiders/}). A guider may call the model once (plain CFG on a
 * doubled batch, {@link Guidance#guider}), or call a second network too ({@link Autoguidance}).
 */
@FunctionalInterface
public interface Guider {
  /**
   * @param net the model's denoiser D(x; t, y)
   * @param nullLabel the label ∅ of the unconditional model
   * @param scales the guidance scale of every sample of the batches to come, [batch]
   * @param schedule the model's full training schedule, for σ(t)
   * @return the guided denoiser, for batches of {@code scales.length} samples
   */
  Denoiser guide(Denoiser net, int nullLabel, double[] scales, NoiseSchedule schedule);
}
