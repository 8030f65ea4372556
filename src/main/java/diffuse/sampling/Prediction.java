package diffuse.sampling;

import diffuse.api.DiffuseException;
import diffuse.schedule.NoiseSchedule;
import java.util.Locale;

/**
 * What the network predicts (its parameterisation), with x_t = α_t·x_0 + σ_t·ε, α_t = √ᾱ_t,
 * σ_t = √(1−ᾱ_t). {@link #denoiser} tags a network's output with its parameterisation; samplers
 * read the {@link Estimate} as the quantity their update is written in, so every sampler works with
 * every parameterisation.
 */
public enum Prediction {
  /** The noise ε (Ho et al. 2020). */
  EPS,
  /**
   * The clean image x_0 (Ho et al. 2020 §3.2 discuss it; the "sample" prediction of diffusers);
   * then ε = (x_t − α_t·x_0)/σ_t.
   */
  X0,
  /**
   * The velocity v = α_t·ε − σ_t·x_0 (Salimans &amp; Ho 2022, "Progressive Distillation for Fast
   * Sampling of Diffusion Models", §4 and Appendix D); then ε = σ_t·x_t + α_t·v and
   * x_0 = α_t·x_t − σ_t·v.
   */
  V;

  /** Parses eps, x0 or v. */
  public static Prediction parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw DiffuseException.badValue("prediction", "prediction must be eps, x0 or v, got '" + s + "'");
    }
  }

  /**
   * What a network of this parameterisation is trained to output for the sample x_t = α·x_0 + σ·ε:
   * ε, x_0 or v = α·ε − σ·x_0, element-wise over {@code from … from+len} into {@code out}.
   */
  public void target(float[] x0, float[] eps, double alphaBar, float[] out, int from, int len) {
    double a = Math.sqrt(alphaBar), s = Math.sqrt(1 - alphaBar);
    for (int j = from, end = from + len; j < end; j++) {
      out[j] = switch (this) {
        case EPS -> eps[j];
        case X0 -> x0[j];
        case V -> (float) (a * eps[j] - s * x0[j]);
      };
    }
  }

  /** ε from this parameterisation's output at x_t: itself, (x_t − α·x_0)/σ, or σ·x_t + α·v. */
  public float[] toEpsilon(float[] xt, float[] output, double alphaBar) {
    return switch (this) {
      case EPS -> output;
      case X0 -> epsFromX0(xt, output, alphaBar);
      case V -> epsFromV(xt, output, alphaBar);
    };
  }

  /** x_0 from this parameterisation's output at x_t: (x_t − σ·ε)/α, itself, or α·x_t − σ·v. */
  public float[] toX0(float[] xt, float[] output, double alphaBar) {
    return switch (this) {
      case EPS -> x0FromEps(xt, output, alphaBar);
      case X0 -> output;
      case V -> x0FromV(xt, output, alphaBar);
    };
  }

  /** ε = (x_t − α·x_0)/σ (the samplers' own {@code Steps.epsFromX0}). */
  public static float[] epsFromX0(float[] xt, float[] x0, double alphaBar) {
    return Steps.epsFromX0(xt, x0, alphaBar);
  }

  /** x_0 = (x_t − σ·ε)/α (Ho et al. 2020 Eq. 4 inverted; the samplers' {@code Steps.predictX0}, unclipped). */
  public static float[] x0FromEps(float[] xt, float[] eps, double alphaBar) {
    return Steps.predictX0(xt, eps, alphaBar, false);
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** ε from a v prediction: ε = σ·x_t + α·v, element-wise. */
  public static float[] epsFromV(float[] xt, float[] v, double alphaBar) {
    double a = Math.sqrt(alphaBar), s = Math.sqrt(1 - alphaBar);
    float[] out = new float[xt.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (s * xt[i] + a * v[i]);
    }
    return out;
  }

  /** v from x_0 and ε: v = α·ε − σ·x_0, element-wise (the training target of a v model). */
  public static float[] vFromEps(float[] x0, float[] eps, double alphaBar, float[] out) {
    double a = Math.sqrt(alphaBar), s = Math.sqrt(1 - alphaBar);
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (a * eps[i] - s * x0[i]);
    }
    return out;
  }

  /** x_0 from a v prediction: x_0 = α·x_t − σ·v. */
  public static float[] x0FromV(float[] xt, float[] v, double alphaBar) {
    double a = Math.sqrt(alphaBar), s = Math.sqrt(1 - alphaBar);
    float[] out = new float[xt.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (a * xt[i] - s * v[i]);
    }
    return out;
  }

  /**
   * The network as a {@link Denoiser}: each call's output tagged as this parameterisation, with
   * ᾱ(t) of every sample from {@code schedule} ({@link NoiseSchedule#alphaCumprodAt}), so samplers
   * read it as ε, x_0 or v without knowing what the network was trained to predict.
   *
   * @param schedule the model's full training schedule (t indexes it)
   */
  public Denoiser denoiser(Network net, NoiseSchedule schedule) {
    return (x, t, labels) -> {
      double[] alphaBar = new double[t.length];
      for (int b = 0; b < t.length; b++) {
        alphaBar[b] = schedule.alphaCumprodAt(t[b]);
      }
      return new Estimate(this, net.predict(x, t, labels), x, alphaBar);
    };
  }

  /**
   * Min-SNR-γ loss weight (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting
   * Strategy", Eq. 9 and §3.4): with SNR = ᾱ/(1−ᾱ), min(SNR, γ)/SNR for an ε model and
   * min(SNR, γ)/(SNR + 1) for a v model, min(SNR, γ) for an x_0 model: all three weight the x_0
   * error by min(SNR, γ).
   */
  public double minSnrWeight(double alphaBar, double gamma) {
    double snr = alphaBar / (1 - alphaBar);
    return Math.min(snr, gamma) / switch (this) {
      case EPS -> snr;
      case X0 -> 1;
      case V -> snr + 1;
    };
  }
}
