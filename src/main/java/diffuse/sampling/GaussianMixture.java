package diffuse.sampling;

import diffuse.schedule.NoiseSchedule;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A labelled mixture of isotropic Gaussians in d dimensions and its exact noise prediction under a
 * schedule. The forward process keeps a mixture a mixture: if x_0 ~ Σ_k w_k N(μ_k, s_k² I) then
 *
 * <pre>
 * p_t(x) = Σ_k w_k N(x; √ᾱ_t μ_k, (ᾱ_t s_k² + 1 − ᾱ_t) I),
 * ∇ log p_t(x) = −Σ_k r_k(x)·(x − √ᾱ_t μ_k)/(ᾱ_t s_k² + 1 − ᾱ_t),   r_k the posterior responsibilities,
 * ε*(x, t) = −√(1 − ᾱ_t)·∇ log p_t(x)
 * </pre>
 *
 * (the minimiser of the DDPM loss; Song et al. 2021 "Score-Based Generative Modeling through SDEs").
 * Conditioning on a class keeps only that class's components; the null label keeps all, which is
 * exactly what a perfectly trained classifier-free-guidance network would output.
 */
public final class GaussianMixture {
  /** One component: weight, mean, standard deviation and class. */
  public record Component(double weight, double[] mean, double std, int label) {}

  private final List<Component> components;
  private final int dim;
  private final int numClasses;

  public GaussianMixture(List<Component> components) {
    if (components.isEmpty()) {
      throw new IllegalArgumentException("a mixture needs at least one component");
    }
    this.components = List.copyOf(components);
    this.dim = components.get(0).mean().length;
    this.numClasses = components.stream().mapToInt(Component::label).max().orElse(0) + 1;
  }

  public List<Component> components() {
    return components;
  }

  public int dim() {
    return dim;
  }

  public int numClasses() {
    return numClasses;
  }

  /** The null label: {@link #numClasses()}. */
  public int nullLabel() {
    return numClasses;
  }

  /** log p_t(x | y) at ᾱ (ᾱ = 1 is the data density); y = null label for the marginal. */
  public double logDensity(double[] x, double alphaBar, int label) {
    double[] logs = logTerms(x, alphaBar, label);
    double max = Arrays.stream(logs).max().orElseThrow();
    double sum = 0;
    for (double l : logs) {
      sum += Math.exp(l - max);
    }
    return max + Math.log(sum);
  }

  private double[] logTerms(double[] x, double alphaBar, int label) {
    double[] logs = new double[components.size()];
    for (int k = 0; k < components.size(); k++) {
      logs[k] = logTerm(k, x, alphaBar, label);
    }
    return logs;
  }

  /** log(w_k N(x; √ᾱ μ_k, v_k I)), −∞ for components outside the class. */
  private double logTerm(int k, double[] x, double alphaBar, int label) {
    Component c = components.get(k);
    if (label != nullLabel() && c.label() != label) {
      return Double.NEGATIVE_INFINITY;
    }
    double v = alphaBar * c.std() * c.std() + 1 - alphaBar;
    double a = Math.sqrt(alphaBar);
    double sq = 0;
    for (int j = 0; j < dim; j++) {
      double d = x[j] - a * c.mean()[j];
      sq += d * d;
    }
    return Math.log(c.weight()) - 0.5 * sq / v - 0.5 * dim * Math.log(2 * Math.PI * v);
  }

  /** ∇_x log p_t(x | y) at ᾱ. */
  public double[] score(double[] x, double alphaBar, int label) {
    double[] logs = logTerms(x, alphaBar, label);
    double max = Arrays.stream(logs).max().orElseThrow();
    double norm = 0;
    for (int k = 0; k < logs.length; k++) {
      logs[k] = Math.exp(logs[k] - max);
      norm += logs[k];
    }
    double[] g = new double[dim];
    double a = Math.sqrt(alphaBar);
    for (int k = 0; k < components.size(); k++) {
      double r = logs[k] / norm;
      if (r == 0) {
        continue;
      }
      Component c = components.get(k);
      double v = alphaBar * c.std() * c.std() + 1 - alphaBar;
      for (int j = 0; j < dim; j++) {
        g[j] -= r * (x[j] - a * c.mean()[j]) / v;
      }
    }
    return g;
  }

  /**
   * The exact ε*(x_t, t, y) = −√(1−ᾱ_t)·∇ log p_t(x_t | y) as a {@link Denoiser}, each sample at its
   * own continuous time ({@link NoiseSchedule#alphaCumprodAt}).
   *
   * @param schedule a full (not respaced) schedule
   */
  public Denoiser denoiser(NoiseSchedule schedule) {
    return (x, t, labels) -> {
      int batch = labels.length;
      double[] alphaBars = new double[batch];
      float[] out = new float[x.length];
      double[] p = new double[dim];
      for (int b = 0; b < batch; b++) {
        double alphaBar = schedule.alphaCumprodAt(t[b]);
        alphaBars[b] = alphaBar;
        double s = Math.sqrt(1 - alphaBar);
        for (int j = 0; j < dim; j++) {
          p[j] = x[b * dim + j];
        }
        double[] g = score(p, alphaBar, labels[b]);
        for (int j = 0; j < dim; j++) {
          out[b * dim + j] = (float) (-s * g[j]);
        }
      }
      return new Estimate(Prediction.EPS, out, x, alphaBars);
    };
  }

  /** n samples of x_0 ~ p(x | y) (y = null label: the whole mixture) into [n · dim]; labels into {@code labelsOut}. */
  public float[] sample(int n, int label, RandomGenerator rng, int[] labelsOut) {
    double total = 0;
    for (Component c : components) {
      if (label == nullLabel() || c.label() == label) {
        total += c.weight();
      }
    }
    float[] out = new float[n * dim];
    for (int i = 0; i < n; i++) {
      double u = rng.nextDouble() * total;
      Component pick = null;
      for (Component c : components) {
        if (label == nullLabel() || c.label() == label) {
          pick = c;
          u -= c.weight();
          if (u <= 0) {
            break;
          }
        }
      }
      for (int j = 0; j < dim; j++) {
        out[i * dim + j] = (float) (pick.mean()[j] + pick.std() * rng.nextGaussian());
      }
      if (labelsOut != null) {
        labelsOut[i] = pick.label();
      }
    }
    return out;
  }

  /** Index of the component whose mean is nearest to x. */
  public int nearest(float[] xs, int index) {
    int best = -1;
    double bestD = Double.POSITIVE_INFINITY;
    for (int k = 0; k < components.size(); k++) {
      double d = 0;
      for (int j = 0; j < dim; j++) {
        double e = xs[index * dim + j] - components.get(k).mean()[j];
        d += e * e;
      }
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    return best;
  }
}
