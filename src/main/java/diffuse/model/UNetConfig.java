package diffuse.model;

import java.util.List;

/**
 * Architecture of the class-conditioned U-Net. Stored in {@code model.json}, so a model rebuilds
 * from it without flags.
 *
 * @param height image height in pixels
 * @param width image width in pixels
 * @param channels image channels, 1 (grayscale) or 3 (RGB)
 * @param numClasses number of real classes; the class embedding has {@code numClasses + 1} rows,
 *     the last one ({@link #nullLabel()}) being the reserved "no label" of classifier-free guidance
 * @param widths feature channels per resolution level; level k runs at 1/2^k of the image size
 * @param resBlocks residual blocks per level on the way down (the way up has the same number)
 * @param embedDim width of the timestep and class embeddings
 * @param groups GroupNorm groups (must divide every width)
 * @param scaleShiftNorm true: the time and class embedding scales and shifts the second GroupNorm
 *     of every residual block, h = GN(h)·(1 + s(e)) + b(e) ("AdaGN", Dhariwal &amp; Nichol 2021 §3,
 *     improved-diffusion's {@code use_scale_shift_norm}); false: it is added to the block's
 *     features as a bias before that GroupNorm (Ho et al. 2020). Absent in older model.json files,
 *     which read as false, so their graphs are unchanged.
 */
public record UNetConfig(
    int height,
    int width,
    int channels,
    int numClasses,
    List<Integer> widths,
    int resBlocks,
    int embedDim,
    int groups,
    boolean scaleShiftNorm) {

  /** A U-Net whose embedding enters each residual block as a bias (no AdaGN). */
  public UNetConfig(int height, int width, int channels, int numClasses, List<Integer> widths, int resBlocks,
      int embedDim, int groups) {
    this(height, width, channels, numClasses, widths, resBlocks, embedDim, groups, false);
  }

  /** The same network with the embedding entering as scale and shift (true) or as a bias (false). */
  public UNetConfig withScaleShiftNorm(boolean on) {
    return new UNetConfig(height, width, channels, numClasses, widths, resBlocks, embedDim, groups, on);
  }

  public UNetConfig {
    widths = List.copyOf(widths);
    validate(height, width, channels, numClasses, widths, resBlocks, embedDim, groups);
  }

  /** The default: 32/64/128 channels at full, ½ and ¼ resolution, ≈ 1.6 M parameters for 28×28. */
  public static UNetConfig defaults(int height, int width, int channels, int numClasses) {
    return new UNetConfig(height, width, channels, numClasses, List.of(32, 64, 128), 1, 128, 8);
  }

  /** The label value that means "no class" (classifier-free guidance's ∅). */
  public int nullLabel() {
    return numClasses;
  }

  /** Number of resolution levels. */
  public int levels() {
    return widths.size();
  }

  private static void validate(
      int height, int width, int channels, int numClasses, List<Integer> widths, int resBlocks,
      int embedDim, int groups) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("images must have 1 or 3 channels, got " + channels);
    }
    if (numClasses < 1) {
      throw new IllegalArgumentException("need at least one class, got " + numClasses);
    }
    if (widths.isEmpty()) {
      throw new IllegalArgumentException("widths must name at least one level");
    }
    int factor = 1 << (widths.size() - 1);
    if (height < factor || width < factor || height % factor != 0 || width % factor != 0) {
      throw new IllegalArgumentException(
          "image size " + height + "x" + width + " must be divisible by " + factor
              + " for " + widths.size() + " levels");
    }
    if (resBlocks < 1) {
      throw new IllegalArgumentException("resBlocks must be >= 1, got " + resBlocks);
    }
    if (embedDim < 2 || embedDim % 2 != 0) {
      throw new IllegalArgumentException("embedDim must be even and >= 2, got " + embedDim);
    }
    for (int w : widths) {
      if (w < 1 || groups < 1 || w % groups != 0) {
        throw new IllegalArgumentException(
            "every width must be a positive multiple of groups=" + groups + ", got " + widths);
      }
    }
  }
}
