package diffuse.api;

import diffuse.app.GenerateRequest;
import diffuse.app.SamplingRequest;
import diffuse.sampling.Guidance;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.SamplerSpec;
import diffuse.schedule.Spacing;
import java.util.List;

/** Builders' values into the services' requests: one place, so API and server validate alike. */
final class Requests {
  private Requests() {}

  /** A method spec ({@code evaluate --method}) as sampling settings; fails naming "method". */
  static SamplingRequest method(String spec) {
    try {
      return SamplingRequest.defaults().withMethod(spec);
    } catch (RuntimeException e) { // a part's own error names the part (sampler, rescale): the field is the spec
      throw DiffuseException.badValue("method", "method '" + spec + "': " + DiffuseException.firstLine(e.getMessage()));
    }
  }

  static GenerateRequest generate(GenerationRequest.Builder b) {
    SamplerKind kind;
    try {
      kind = SamplerKind.parse(b.sampler == null ? Defaults.SAMPLER : b.sampler);
    } catch (RuntimeException e) {
      throw DiffuseException.badValue("sampler", "sampler must be ddim, ddpm, dpm++2m, euler or heun, not '"
          + b.sampler + "'");
    }
    Spacing spacing = null;
    if (b.spacing != null) {
      try {
        spacing = Spacing.parse(b.spacing);
      } catch (RuntimeException e) {
        throw DiffuseException.badValue("spacing", "spacing must be linspace, uniform, trailing, karras, karras-exact or logsnr, not '"
            + b.spacing + "'");
      }
    }
    if (b.steps != null && b.steps < 1) {
      throw DiffuseException.badValue("steps", "steps must be >= 1, got " + b.steps);
    }
    if (b.eta != null && !(b.eta >= 0 && b.eta <= 1)) {
      throw DiffuseException.badValue("eta", "eta must be within [0, 1], got " + b.eta);
    }
    // Guidance checks the interval, rescale and the rest, naming each field as this API does
    Guidance g = new Guidance(b.everyStep ? List.of() : b.intervalLo == null ? null
        : java.util.Arrays.asList(b.intervalLo, b.intervalHi),
        b.rescale, b.negative, null, b.apg, b.apgNorm, b.guideModel, null, b.guideCfg,
        b.guideIntervalLo == null ? null : List.of(b.guideIntervalLo, b.guideIntervalHi), null);
    SamplingRequest s = new SamplingRequest(new SamplerSpec(kind, b.steps == null ? SamplerSpec.DEFAULT_STEPS : b.steps,
        b.eta == null ? 0 : b.eta, b.clip, spacing), b.seed, b.batchSize, g);
    List<Double> scales = List.copyOf(b.scales); // empty: the model's own scale, filled in by the plan
    return new GenerateRequest(List.copyOf(b.prompts), scales, b.count, s);
  }
}
