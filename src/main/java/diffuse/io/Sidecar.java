package diffuse.io;

import diffuse.sampling.Guidance;
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
 * @param guidance how guidance was applied, when not plain CFG (null: plain): {@link Guidance}
 */
public record Sidecar(
    String model, String checkpoint, String sampler, int steps, Double eta, boolean clip, long seed,
    List<Row> rows, String command, String spacing, Guidance guidance) {

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
