package diffuse.viz;

import diffuse.data.PointSet;
import diffuse.sampling.FieldProbe;
import diffuse.sampling.Denoiser;
import diffuse.sampling.Generator;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.SamplerSpec;
import diffuse.schedule.NoiseSchedule;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/** Pictures of the two-pixel world: guided vector fields and sample paths. */
public final class ToyPictures {
  static final int SIZE = 420;
  static final double RANGE = 1.5;
  static final int GRID = 21;
  static final double PATH_RANGE = 2.5;

  private ToyPictures() {}

  /**
   * Arrows of −ε̃(x, t, y) — the direction of ∇ log p_t, toward higher density — on a grid at
   * noise level t, one panel per guidance scale, over the clean data (the requested class solid, the
   * others faint). Arrow lengths share one scale across panels, so panels compare.
   */
  public static BufferedImage field(String title, Denoiser net, NoiseSchedule schedule, int t, int label,
      int nullLabel, List<Double> scales, PointSet data) {
    int n = GRID * GRID;
    float[] grid = FieldProbe.grid(GRID, RANGE);
    List<float[]> fields = FieldProbe.field(net, nullLabel, grid, t, label, scales);
    double max = 1e-12;
    for (float[] eps : fields) {
      for (int k = 0; k < n; k++) {
        max = Math.max(max, Math.hypot(eps[2 * k], eps[2 * k + 1]));
      }
    }
    double cell = 2 * RANGE / GRID;
    double factor = 0.95 * cell / max;
    BufferedImage img = Panel2D.canvas(scales.size(), SIZE, title, 30);
    Graphics2D g = img.createGraphics();
    for (int p = 0; p < scales.size(); p++) {
      double s = scales.get(p);
      String what = s == 0 ? " (unconditional)" : s == 1 ? " (conditional)" : " (guided)";
      Panel2D panel = new Panel2D(g, Panel2D.panelX(p, SIZE), 50, SIZE, RANGE,
          "s = " + fmt(s) + what);
      drawData(panel, data, label);
      float[] eps = fields.get(p);
      for (int k = 0; k < n; k++) {
        panel.arrow(grid[2 * k], grid[2 * k + 1], -factor * eps[2 * k], -factor * eps[2 * k + 1],
            new Color(20, 20, 20), 1.1f);
      }
    }
    legend(g, img, data, label, "arrows: −ε̃, toward higher density of x_t");
    g.dispose();
    return img;
  }

  /**
   * Sample paths from noise to data: DDPM's ancestral walk (jagged) beside deterministic DDIM (η = 0,
   * smooth), both guided toward {@code label} at scale s.
   */
  public static BufferedImage paths(String title, Denoiser net, NoiseSchedule schedule, int label, int nullLabel,
      double scale, int count, long seed, int ddimSteps, PointSet data) {
    List<SamplerSpec> specs = List.of(new SamplerSpec(SamplerKind.DDPM, schedule.numSteps(), 0, false),
        new SamplerSpec(SamplerKind.DDIM, ddimSteps, 0, false));
    BufferedImage img = Panel2D.canvas(2, SIZE, title, 30);
    Graphics2D g = img.createGraphics();
    Generator gen = new Generator(net, schedule, nullLabel, 2);
    for (int p = 0; p < specs.size(); p++) {
      SamplerSpec spec = specs.get(p);
      List<float[]> steps = FieldProbe.paths(gen, spec, label, scale, count, seed);
      String name = spec.kind() == SamplerKind.DDPM ? "DDPM, " + spec.steps() + " steps (stochastic)"
          : "DDIM η = 0, " + spec.steps() + " steps (deterministic)";
      Panel2D panel = new Panel2D(g, Panel2D.panelX(p, SIZE), 50, SIZE, PATH_RANGE, name);
      drawData(panel, data, label);
      // a thousand noisy DDPM steps per path would hide everything: draw fewer paths, every 5th step
      boolean ddpm = spec.kind() == SamplerKind.DDPM;
      int every = ddpm ? 5 : 1;
      int drawn = ddpm ? Math.min(count, 40) : count;
      Color line = ddpm ? new Color(30, 30, 120, 90) : new Color(30, 30, 120, 70);
      for (int b = 0; b < drawn; b++) {
        int kept = (steps.size() - 1) / every + 1;
        double[] xs = new double[2 * kept];
        for (int j = 0; j < kept; j++) {
          int k = Math.min(steps.size() - 1, j * every);
          xs[2 * j] = steps.get(k)[2 * b];
          xs[2 * j + 1] = steps.get(k)[2 * b + 1];
        }
        panel.path(xs, line, 1f);
        panel.point(xs[0], xs[1], new Color(150, 150, 150), 2);
        panel.point(xs[xs.length - 2], xs[xs.length - 1], Color.BLACK, 2.5);
      }
    }
    legend(g, img, data, label, "grey: start x_T ~ N(0, I); black: end x_0; lines: the path (DDPM: 40 paths, every 5th step)");
    g.dispose();
    return img;
  }

  private static void drawData(Panel2D panel, PointSet data, int label) {
    if (data == null) {
      return;
    }
    int shown = Math.min(data.size(), 1500);
    for (int k = 0; k < shown; k++) {
      int i = (int) ((k * 7919L) % data.size()); // a spread-out subset, whatever the label order
      int c = data.labels()[i];
      Color base = Panel2D.CLASS_COLORS[c % Panel2D.CLASS_COLORS.length];
      Color col = c == label ? base : new Color(base.getRed(), base.getGreen(), base.getBlue(), 50);
      panel.point(data.points()[2 * i], data.points()[2 * i + 1], col, c == label ? 2.2 : 1.6);
    }
  }

  private static void legend(Graphics2D g, BufferedImage img, PointSet data, int label, String note) {
    int y = img.getHeight() - 14;
    if (data != null) {
      String[] names = new String[data.labelNames().size()];
      Color[] cols = new Color[names.length];
      for (int c = 0; c < names.length; c++) {
        names[c] = "class " + data.labelNames().get(c) + (c == label ? " (requested)" : "");
        cols[c] = Panel2D.CLASS_COLORS[c % Panel2D.CLASS_COLORS.length];
      }
      Panel2D.legend(g, 60, y, names, cols, false);
    }
    g.setColor(Color.DARK_GRAY);
    g.drawString(note, img.getWidth() - g.getFontMetrics().stringWidth(note) - 16, y);
  }

  static String fmt(double s) {
    return diffuse.sampling.ClassifierFreeGuidance.formatScale(s);
  }
}
