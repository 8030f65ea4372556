package diffuse.data;

import java.util.List;

/**
 * A labelled image data set held as unsigned bytes, NHWC.
 *
 * @param name what it is ("mnist", "fashion-mnist", "folder:/path")
 * @param pixels N·H·W·C bytes, 0 … 255
 * @param labels N labels in 0 … labelNames.size()−1
 * @param height image height
 * @param width image width
 * @param channels 1 or 3
 * @param labelNames human names of the classes, index = label
 */
public record Dataset(
    String name, byte[] pixels, int[] labels, int height, int width, int channels,
    List<String> labelNames) implements TrainingData {

  public Dataset {
    labelNames = List.copyOf(labelNames);
    long per = (long) height * width * channels;
    if (per * labels.length != pixels.length) {
      throw new DataException(String.format(
          "%s: %d labels but %d bytes of images (%d per image)", name, labels.length,
          pixels.length, per));
    }
    for (int y : labels) {
      if (y < 0 || y >= labelNames.size()) {
        throw new DataException(name + ": label " + y + " outside 0.." + (labelNames.size() - 1));
      }
    }
  }

  @Override
  public int size() {
    return labels.length;
  }

  public int numClasses() {
    return labelNames.size();
  }

  /** Values per image, H·W·C. */
  public int imageSize() {
    return height * width * channels;
  }

  @Override
  public int sampleSize() {
    return imageSize();
  }

  /** Copies images {@code indices} into {@code out}, scaled from [0, 255] to [−1, 1]. */
  @Override
  public void fill(int[] indices, float[] out) {
    int per = imageSize();
    for (int b = 0; b < indices.length; b++) {
      int src = indices[b] * per;
      int dst = b * per;
      for (int j = 0; j < per; j++) {
        out[dst + j] = (pixels[src + j] & 0xff) / 127.5f - 1f;
      }
    }
  }

  /** Number of images of each class. */
  public int[] classCounts() {
    int[] c = new int[numClasses()];
    for (int y : labels) {
      c[y]++;
    }
    return c;
  }

  /**
   * Splits off every {@code k}-th image of each class (the k-th, 2k-th, … in file order) as a
   * held-out set; classes with fewer than k images give none.
   *
   * @return {kept, heldOut}
   */
  public Dataset[] holdOut(int k) {
    int[] seen = new int[numClasses()];
    java.util.List<Integer> keep = new java.util.ArrayList<>(), out = new java.util.ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      (++seen[labels[i]] % k == 0 ? out : keep).add(i);
    }
    return new Dataset[] {subset(keep, name), subset(out, name + " (held out)")};
  }

  private Dataset subset(java.util.List<Integer> idx, String subsetName) {
    int per = imageSize();
    byte[] px = new byte[idx.size() * per];
    int[] ys = new int[idx.size()];
    for (int j = 0; j < idx.size(); j++) {
      System.arraycopy(pixels, idx.get(j) * per, px, j * per, per);
      ys[j] = labels[idx.get(j)];
    }
    return new Dataset(subsetName, px, ys, height, width, channels, labelNames);
  }
}
