package diffuse.app;

import diffuse.api.DiffuseException;
import diffuse.sampling.ClassifierFreeGuidance;
import java.util.List;

/**
 * A generation job: {@code count} images for every (prompt, scale) pair, prompts outer. {@code
 * generate} asks for several prompts at one scale, {@code sweep} for one prompt at several scales;
 * the same noise (samples 0 … count−1 of the seed) starts every row.
 *
 * @param prompts what to draw, each naming one label ("digit 7")
 * @param scales guidance scales s in ε̃ = ε_uncond + s·(ε_cond − ε_uncond); empty: the model's own
 *     ({@link diffuse.io.ModelInfo#defaultGuidance}), which {@link GenerateService#plan} fills in
 * @param count images per row
 * @param sampling sampler, steps, seed, batch size
 */
public record GenerateRequest(List<String> prompts, List<Double> scales, int count, SamplingRequest sampling) {
  public GenerateRequest {
    if (prompts == null || prompts.isEmpty()) {
      throw DiffuseException.badValue("prompt", "prompt is missing: name what to draw, e.g. \"digit 7\"");
    }
    if (scales == null) {
      scales = List.of();
    }
    scales.forEach(s -> ClassifierFreeGuidance.requireFinite(s == null ? Double.NaN : s));
    if (count < 1) {
      throw DiffuseException.badValue("count", "count must be >= 1, got " + count);
    }
    if (sampling == null) {
      throw DiffuseException.badValue("sampling", "sampling options are missing");
    }
    prompts = List.copyOf(prompts);
    scales = List.copyOf(scales);
  }

  /** Number of rows: prompts × scales (one scale when the model's own is meant). */
  public int rows() {
    return prompts.size() * Math.max(1, scales.size());
  }

  /** This request, at the model's own scale {@code modelDefault} if it names none. */
  public GenerateRequest withDefaultScale(double modelDefault) {
    return scales.isEmpty() ? new GenerateRequest(prompts, List.of(modelDefault), count, sampling) : this;
  }
}
