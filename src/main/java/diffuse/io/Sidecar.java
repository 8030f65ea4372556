package diffuse.io;

import java.util.List;

/**
 * The JSON written next to every generated PNG: everything needed to draw the same pixels again.
 *
 * @param model model directory used
 * @param checkpoint checkpoint of that model
 * @param sampler ddpm or ddim
 * @param steps sampling steps
 * @param eta DDIM η; null for DDPM, which has none
 * @param clip whether x̂_0 was clipped to [−1, 1]
 * @param seed seed; sample i of a row used the random stream (seed, firstIndex + i)
 * @param rows the rows of the picture, top to bottom
 * @param command the command line that made it
 * @param spacing the step spacing, when it is not linspace (null: linspace)
 * @param guidance how guidance was applied, when not plain CFG (null: plain)
 */
public record Sidecar(
    String model, String checkpoint, String sampler, int steps, Double eta, boolean clip, long seed,
    List<Row> rows, String command, String spacing, Guidance guidance) {

  /**
   * Guidance beyond plain CFG; unset parts are null.
   *
   * @param interval [σ_lo, σ_hi]: guidance only for noise levels in (σ_lo, σ_hi]
   * @param rescale CFG rescale φ
   * @param negative the prompt of the class steered away from, and its label
   * @param apg adaptive projected guidance's η (null: not used)
   * @param apgNorm APG's norm threshold r (null: none)
   * @param guideModel autoguidance's guide model directory (null: not used)
   * @param guideCheckpoint the guide's checkpoint
   * @param guideCfg the CFG scale blended with autoguidance (null: none)
   * @param custom the class of a program's own guidance rule (the library's customGuidance), null if none
   */
  public record Guidance(double[] interval, Double rescale, String negative, Integer negativeLabel, Double apg,
      Double apgNorm, String guideModel, String guideCheckpoint, Double guideCfg, String custom) {
    /** With autoguidance, without a custom rule. */
    public Guidance(double[] interval, Double rescale, String negative, Integer negativeLabel, Double apg,
        Double apgNorm, String guideModel, String guideCheckpoint, Double guideCfg) {
      this(interval, rescale, negative, negativeLabel, apg, apgNorm, guideModel, guideCheckpoint, guideCfg, null);
    }

    /** A program's own rule, by name. */
    public static Guidance custom(String name) {
      return new Guidance(null, null, null, null, null, null, null, null, null, name);
    }

    /** Without APG. */
    public Guidance(double[] interval, Double rescale, String negative, Integer negativeLabel) {
      this(interval, rescale, negative, negativeLabel, null, null);
    }

    /** Without autoguidance. */
    public Guidance(double[] interval, Double rescale, String negative, Integer negativeLabel, Double apg,
        Double apgNorm) {
      this(interval, rescale, negative, negativeLabel, apg, apgNorm, null, null, null);
    }
  }

  /**
   * One row: a prompt at a guidance scale.
   *
   * @param prompt the prompt as typed
   * @param label the label index it resolved to
   * @param labelName the label's name
   * @param guidance the scale s in ε̃ = ε_uncond + s·(ε_cond − ε_uncond)
   * @param firstIndex sample number of the first image
   * @param count number of images
   */
  public record Row(String prompt, int label, String labelName, double guidance, int firstIndex, int count) {}
}
