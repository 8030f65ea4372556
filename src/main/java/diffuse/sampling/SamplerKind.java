package diffuse.sampling;

import diffuse.api.DiffuseException;
import java.util.Locale;

/** The samplers of {@code --sampler}, by the name users type ({@link #id()}). */
public enum SamplerKind {
  /** Ancestral sampling through every training step (Ho et al. 2020, Algorithm 2). */
  DDPM("ddpm"),
  /** Deterministic (η = 0) or stochastic DDIM over a subset of steps (Song et al. 2021). */
  DDIM("ddim"),
  /** DPM-Solver++(2M), multistep second order, deterministic (Lu et al. 2022, Algorithm 2). */
  DPMPP_2M("dpm++2m"),
  /** Euler on the σ view (Karras et al. 2022); the same steps as DDIM with η = 0. */
  EULER("euler"),
  /** Heun, second order on the σ view (Karras et al. 2022, Algorithm 1); 2n − 1 evaluations for n steps. */
  HEUN("heun");

  private final String id;

  SamplerKind(String id) {
    this.id = id;
  }

  /** The name users type and sidecars record: ddpm, ddim, dpm++2m. */
  public String id() {
    return id;
  }

  /** Parses {@link #id()}, ignoring case; "dpmpp-2m" and "dpmpp_2m" are accepted for dpm++2m. */
  public static SamplerKind parse(String name) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace("pp", "++").replace("-", "")
        .replace("_", "");
    for (SamplerKind k : values()) {
      if (k.id.equals(n)) {
        return k;
      }
    }
    throw DiffuseException.badValue("sampler", "sampler must be ddim, ddpm, dpm++2m, euler or heun, got '" + name + "'");
  }

  @Override
  public String toString() {
    return id;
  }
}
