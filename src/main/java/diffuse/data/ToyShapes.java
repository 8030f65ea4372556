package diffuse.data;

import diffuse.sampling.GaussianMixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/** Two-dimensional labelled data sets: the "two-pixel world". Points lie roughly within [−1, 1]². */
public final class ToyShapes {
  private ToyShapes() {}

  /** The shapes of {@code --shape}. */
  public enum Shape {
    /** Interleaved spiral arms, one class per arm. */
    SPIRALS,
    /** Two interleaved half circles (two classes). */
    MOONS,
    /** Gaussian blobs on a ring, one class per blob: its noised density and score are exact. */
    MIXTURE;

    public static Shape parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new DataException("unknown shape '" + s + "': use spirals, moons or mixture");
      }
    }
  }

  /** The mixture the MIXTURE shape is drawn from: blobs of std 0.08 on a ring of radius 0.6. */
  public static GaussianMixture mixture(int classes) {
    List<GaussianMixture.Component> cs = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      double a = 2 * Math.PI * c / classes + Math.PI / 2;
      cs.add(new GaussianMixture.Component(1.0 / classes, new double[] {0.6 * Math.cos(a), 0.6 * Math.sin(a)}, 0.08, c));
    }
    return new GaussianMixture(cs);
  }

  /** How a toy data set is named in model.json, so it can be drawn again: toy:SHAPE:CLASSES:POINTS:SEED. */
  public static String spec(Shape shape, int classes, int n, long seed) {
    return "toy:" + shape.name().toLowerCase(Locale.ROOT) + ":" + classes + ":" + n + ":" + seed;
  }

  /** The data set named by {@link #spec}. */
  public static PointSet fromSpec(String spec) {
    String[] f = spec.split(":");
    if (f.length != 5 || !f[0].equals("toy")) {
      throw new DataException("not a toy data set: " + spec);
    }
    return sample(Shape.parse(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]), Long.parseLong(f[4]));
  }

  /** The shape named by a {@link #spec}. */
  public static Shape shapeOf(String spec) {
    return Shape.parse(spec.split(":")[1]);
  }

  /** n points of a shape with {@code classes} classes (moons always has 2). */
  public static PointSet sample(Shape shape, int classes, int n, long seed) {
    if (classes < 1 || (shape == Shape.MOONS && classes != 2)) {
      throw new DataException(shape == Shape.MOONS ? "moons has exactly 2 classes" : "need at least one class");
    }
    SplittableRandom rng = new SplittableRandom(seed);
    float[] p = new float[2 * n];
    int[] y = new int[n];
    if (shape == Shape.MIXTURE) {
      p = mixture(classes).sample(n, classes, rng, y);
    } else {
      for (int i = 0; i < n; i++) {
        int c = i % classes;
        y[i] = c;
        double px, py;
        if (shape == Shape.SPIRALS) {
          double u = Math.sqrt(0.05 + 0.95 * rng.nextDouble());
          double theta = u * 2.5 * Math.PI + 2 * Math.PI * c / classes;
          double r = 0.9 * u;
          px = r * Math.cos(theta) + 0.025 * rng.nextGaussian();
          py = r * Math.sin(theta) + 0.025 * rng.nextGaussian();
        } else {
          double a = Math.PI * rng.nextDouble();
          if (c == 0) {
            px = Math.cos(a) - 0.5;
            py = Math.sin(a) - 0.25;
          } else {
            px = 0.5 - Math.cos(a);
            py = 0.25 - Math.sin(a);
          }
          px = 0.6 * px + 0.04 * rng.nextGaussian();
          py = 0.6 * py + 0.04 * rng.nextGaussian();
        }
        p[2 * i] = (float) px;
        p[2 * i + 1] = (float) py;
      }
    }
    List<String> names = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      names.add(String.valueOf(c));
    }
    return new PointSet(spec(shape, classes, n, seed), p, y, 2, names);
  }
}
