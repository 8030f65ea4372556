package diffuse.sampling;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Looks at a two-dimensional denoiser: the guided field −ε̃(x, t, y) on a grid, and whole sample
 * paths. Shared by the pictures of {@code diffuse toy} and the server's two-pixel view.
 */
public final class FieldProbe {
  private FieldProbe() {}

  /** Cell centres of a cells×cells grid over [−range, range]², row by row from the bottom: [cells² · 2]. */
  public static float[] grid(int cells, double range) {
    float[] grid = new float[2 * cells * cells];
    for (int i = 0; i < cells; i++) {
      for (int j = 0; j < cells; j++) {
        grid[2 * (i * cells + j)] = (float) (-range + 2 * range * (j + 0.5) / cells);
        grid[2 * (i * cells + j) + 1] = (float) (-range + 2 * range * (i + 0.5) / cells);
      }
    }
    return grid;
  }

  /**
   * The guided ε̃(x, t, y) at every point of {@code points} ([n · 2]), one array per scale, each
   * from one (doubled-batch) call of the network.
   */
  public static List<float[]> field(Denoiser net, int nullLabel, float[] points, int t, int label, List<Double> scales) {
    int n = points.length / 2;
    int[] labels = new int[n];
    Arrays.fill(labels, label);
    List<float[]> out = new ArrayList<>();
    for (double s : scales) {
      out.add(ClassifierFreeGuidance.guided(net, nullLabel, s).eps(points, t, labels));
    }
    return out;
  }

  /**
   * Sample paths: the positions of samples 0 … count−1 of {@code seed} at x_T and after every step,
   * [steps + 1] arrays of [count · dim].
   */
  public static List<float[]> paths(Generator gen, SamplerSpec spec, int label, double scale, int count, long seed) {
    List<float[]> steps = new ArrayList<>();
    steps.add(gen.initialNoise(seed, 0, count));
    gen.sample(label, scale, spec, seed, 0, count, diffuse.api.Listener.ofSteps(s -> steps.add(s.x().clone())));
    return steps;
  }
}
