package diffuse.data;

import java.util.List;

/**
 * Labelled points in d dimensions ("two-pixel images").
 *
 * @param name e.g. "toy:spirals"
 * @param points n·dim coordinates
 * @param labels n labels
 * @param dim coordinates per point
 * @param labelNames class names
 */
public record PointSet(String name, float[] points, int[] labels, int dim, List<String> labelNames)
    implements TrainingData {
  public PointSet {
    labelNames = List.copyOf(labelNames);
    if (points.length != labels.length * dim) {
      throw new DataException(name + ": " + labels.length + " labels but " + points.length / dim + " points");
    }
  }

  @Override
  public int size() {
    return labels.length;
  }

  @Override
  public int sampleSize() {
    return dim;
  }

  @Override
  public void fill(int[] indices, float[] out) {
    for (int b = 0; b < indices.length; b++) {
      System.arraycopy(points, indices[b] * dim, out, b * dim, dim);
    }
  }
}
