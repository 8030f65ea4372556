package diffuse.sampling;

import diffuse.schedule.NoiseSchedule;
import java.util.Arrays;

/**
 * Autoguidance (Karras, Aittala, Kynkäänniemi, Lehtinen, Aila &amp; Laine 2024, "Guiding a Diffusion
 * Model with a Bad Version of Itself", eq. 2): the model is guided by a weaker model of the same
 * conditioning — smaller, or trained for less time — rather than by its own unconditional half:
 *
 * <pre>D_w(x; σ, y) = D_0(x; σ, y) + w·(D_1(x; σ, y) − D_0(x; σ, y))</pre>
 *
 * with D_1 the main model, D_0 the guide, and w the guidance scale s (w = 1 is the main model
 * alone). The combination is taken on ε, which for weights summing to one equals taking it on x̂_0
 * or v at the same x and σ, so the two models may predict different targets.
 *
 * <p>Optionally blended with classifier-free guidance of the main model at scale {@code cfg}
 * (the paper's §5 combines the two): D_1 is then the main model's CFG estimate
 * D_1(∅) + cfg·(D_1(y) − D_1(∅)), applied the way {@code cfgMethod} says (for example only inside a
 * noise interval, {@link GuidanceInterval}, where outside it D_1 is the conditional estimate alone).
 * Each evaluation is one call of the main model (a doubled batch where CFG applies) and one call of
 * the guide; at w = 1 the guide is not called.
 *
 * @param guideNet the guide's denoiser, on the main model's schedule and labels
 * @param cfg the CFG scale applied to the main model first; 1 for none
 * @param cfgMethod how that CFG is applied ({@link GuidanceMethod#PLAIN}: every step, plain)
 * @param interval the noise levels at which the guide is called and w applies; elsewhere the main
 *     estimate (after its CFG) alone, as at w = 1; null: every step
 */
public record Autoguidance(Denoiser guideNet, double cfg, Guider cfgMethod, GuidanceInterval interval)
    implements Guider {
  public Autoguidance {
    if (guideNet == null) {
      throw new IllegalArgumentException("autoguidance needs a guide model");
    }
    if (cfgMethod == null || cfgMethod instanceof Autoguidance) {
      throw new IllegalArgumentException("the blended CFG needs the model's own guidance method");
    }
    ClassifierFreeGuidance.requireFinite(cfg);
  }

  /** At every step. */
  public Autoguidance(Denoiser guideNet, double cfg, Guider cfgMethod) {
    this(guideNet, cfg, cfgMethod, null);
  }

  /** Blended with plain CFG at {@code cfg}. */
  public Autoguidance(Denoiser guideNet, double cfg) {
    this(guideNet, cfg, GuidanceMethod.PLAIN);
  }

  /** Autoguidance alone. */
  public Autoguidance(Denoiser guideNet) {
    this(guideNet, 1.0);
  }

  @Override
  public Denoiser guide(Denoiser net, int nullLabel, double[] scales, NoiseSchedule schedule) {
    for (double s : scales) {
      ClassifierFreeGuidance.requireFinite(s);
    }
    double[] w = scales.clone();
    double[] cfgScales = new double[w.length];
    Arrays.fill(cfgScales, cfg);
    Denoiser main = cfg == 1.0 ? net : cfgMethod.guide(net, nullLabel, cfgScales, schedule);
    boolean allOne = Arrays.stream(w).allMatch(s -> s == 1.0);
    return (x, t, labels) -> {
      if (labels.length != w.length) {
        throw new IllegalArgumentException("batch of " + labels.length + " for " + w.length + " scales");
      }
      Estimate m = main.denoise(x, t, labels);
      double[] ws = interval == null ? w : interval.scalesAt(w, t, schedule);
      if (allOne || Arrays.stream(ws).allMatch(s -> s == 1.0)) {
        return m;
      }
      float[] d1 = m.eps();
      float[] d0 = guideNet.denoise(x, t, labels).eps();
      int dim = x.length / labels.length;
      float[] out = new float[x.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) (d0[i] + ws[i / dim] * ((double) d1[i] - d0[i]));
      }
      return new Estimate(Prediction.EPS, out, x, m.alphaBar());
    };
  }
}
