package diffuse.app;

import diffuse.api.DiffuseException;
import diffuse.sampling.ClassifierFreeGuidance;
import java.nio.file.Path;
import java.util.List;

/**
 * An evaluation of a model against the guidance scale: {@code count} samples per class and scale,
 * measured by an independent classifier.
 *
 * @param scales guidance scales, each finite
 * @param prompt one class to evaluate, or null for every class
 * @param count samples per (class, scale), ≥ 2 (diversity needs pairs); also the number of real
 *     images in the baseline
 * @param classifier the classifier's directory, or null for {@code <models>/<dataset>-classifier}
 *     next to the model
 * @param dataDir where the data set's test split is read from, or null for the default
 * @param sampling how to sample (steps, seed, batch size)
 */
public record EvaluateRequest(List<Double> scales, String prompt, int count, Path classifier, Path dataDir,
    SamplingRequest sampling) {
  public EvaluateRequest {
    if (scales == null || scales.isEmpty()) {
      throw DiffuseException.badValue("guidance", "guidance needs at least one scale");
    }
    scales = List.copyOf(scales);
    scales.forEach(ClassifierFreeGuidance::requireFinite);
    if (count < 2) {
      throw DiffuseException.badValue("count", "count must be >= 2 (diversity needs pairs), got " + count);
    }
    if (sampling == null) {
      throw DiffuseException.badValue("sampling", "sampling options are required");
    }
  }
}
