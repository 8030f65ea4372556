package diffuse.model;

/**
 * Architecture of the evaluation classifier (a small VGG-style CNN).
 *
 * @param height image height (divisible by 4)
 * @param width image width (divisible by 4)
 * @param channels 1 or 3
 * @param numClasses number of classes
 * @param width1 channels of the two convolutions at full resolution
 * @param width2 channels of the two convolutions at half resolution
 * @param featureDim width of the penultimate layer, the feature space of the Fréchet distance
 */
public record ClassifierConfig(int height, int width, int channels, int numClasses, int width1, int width2, int featureDim) {
  public ClassifierConfig {
    if (height % 4 != 0 || width % 4 != 0 || height < 4 || width < 4) {
      throw new IllegalArgumentException("classifier images must have sides divisible by 4, got " + height + "x" + width);
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("images must have 1 or 3 channels, got " + channels);
    }
    if (numClasses < 2 || width1 < 1 || width2 < 1 || featureDim < 1) {
      throw new IllegalArgumentException("classifier needs >= 2 classes and positive widths");
    }
  }

  public static ClassifierConfig defaults(int height, int width, int channels, int numClasses) {
    return new ClassifierConfig(height, width, channels, numClasses, 32, 64, 128);
  }
}
