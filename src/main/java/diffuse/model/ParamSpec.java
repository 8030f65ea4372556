package diffuse.model;

import java.util.Arrays;

/**
 * One trainable tensor of a network: its variable name (no '/' — TensorFlow Java's optimizers and
 * savers derive slot names from it), its shape, and how it starts.
 *
 * @param name dotted path such as {@code down1.res0.conv1.w}
 * @param shape dimensions
 * @param init initial distribution
 * @param std standard deviation for {@link Init#NORMAL}
 */
public record ParamSpec(String name, long[] shape, Init init, double std) {
  /** Initial value of a parameter. */
  public enum Init {
    ZEROS,
    ONES,
    NORMAL
  }

  public ParamSpec {
    if (name.contains("/") || name.isBlank()) {
      throw new IllegalArgumentException("parameter names must be non-empty without '/': " + name);
    }
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Number of scalars. */
  public int size() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape);
  }
}
