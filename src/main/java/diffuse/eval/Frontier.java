package diffuse.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The quality–diversity frontier of one or more evaluations: per guidance scale, accuracy against
 * the Fréchet distance and against the diversity, each relative to the same number of real images
 * of the class (per class, then averaged — and the worst class), one curve per sampling method.
 */
public final class Frontier {
  private Frontier() {}

  /**
   * One scale of one method, over the classes evaluated.
   *
   * @param fdRatio mean over classes of FD(samples, class) / FD(real, class) at the same n
   * @param diversityRatio mean over classes of the samples' diversity / the real images'
   * @param kidRatio mean KID over classes / mean KID of the real test images (NaN without KID, or where
   *     the real images' KID is 0 within two standard errors: {@link Evaluator#kidRatio})
   * @param worstKid the largest KID of a class
   * @param coverage mean coverage over classes (NaN without it)
   * @param worstCoverage the smallest coverage of a class
   * @param density mean density over classes
   */
  public record Point(double scale, int n, double accuracy, double worstAccuracy, double fdRatio, double worstFdRatio,
      double diversityRatio, double worstDiversityRatio, double kidRatio, double worstKid, double coverage,
      double worstCoverage, double density) {

    /** True if KID, coverage and density were measured (KID/real compares across n; coverage only at one n). */
    public boolean hasDistribution() {
      return !Double.isNaN(coverage);
    }
  }

  /** The points of an evaluation, by increasing scale. */
  public static List<Point> of(List<Evaluator.Metrics> rows, List<Evaluator.Metrics> baseline) {
    Map<Integer, Evaluator.Metrics> real = new LinkedHashMap<>();
    baseline.forEach(b -> real.put(b.label(), b));
    List<Point> out = new ArrayList<>();
    rows.stream().map(Evaluator.Metrics::scale).distinct().sorted().forEach(s -> {
      List<Evaluator.Metrics> at = rows.stream().filter(m -> m.scale().equals(s)).toList();
      double acc = 0, worstAcc = Double.POSITIVE_INFINITY, fd = 0, worstFd = 0, div = 0, worstDiv = Double.POSITIVE_INFINITY;
      double kid = 0, realKid = 0, realKidVar = 0, worstKid = Double.NEGATIVE_INFINITY, cov = 0, worstCov = Double.POSITIVE_INFINITY,
          dens = 0;
      boolean distribution = true;
      for (Evaluator.Metrics m : at) {
        Evaluator.Metrics r = real.get(m.label());
        if (r == null) {
          throw new IllegalArgumentException("no real baseline for class " + m.labelName());
        }
        double ratio = m.fdClass() / r.fdClass();
        acc += m.accuracy() / at.size();
        worstAcc = Math.min(worstAcc, m.accuracy());
        fd += ratio / at.size();
        worstFd = Math.max(worstFd, ratio);
        div += m.diversityRatio() / at.size();
        worstDiv = Math.min(worstDiv, m.diversityRatio());
        distribution &= m.hasDistribution() && r.hasDistribution();
        kid += m.kid() / at.size();
        realKid += r.kid() / at.size();
        realKidVar += r.kidSe() * r.kidSe() / ((double) at.size() * at.size());
        worstKid = Math.max(worstKid, m.kid());
        cov += m.coverage() / at.size();
        worstCov = Math.min(worstCov, m.coverage());
        dens += m.density() / at.size();
      }
      double nan = Double.NaN;
      double ratio = distribution ? Evaluator.kidRatio(kid, realKid, Math.sqrt(realKidVar)) : nan;
      out.add(new Point(s, at.get(0).n(), acc, worstAcc, fd, worstFd, div, worstDiv, ratio,
          distribution ? worstKid : nan, distribution ? cov : nan, distribution ? worstCov : nan,
          distribution ? dens : nan));
    });
    return out;
  }

  /**
   * The coverage that a frontier's coverage chart is read against: the real test images' mean over their
   * classes, measured at their own n (coverage rises with n, so a fixed goal such as 0.92 at n = 1,000
   * says nothing at n = 200); NaN when they were measured without it.
   */
  public static double meanCoverage(List<Evaluator.Metrics> real) {
    if (real == null || real.isEmpty() || !real.stream().allMatch(Evaluator.Metrics::hasDistribution)) {
      return Double.NaN;
    }
    return real.stream().mapToDouble(Evaluator.Metrics::coverage).average().orElse(Double.NaN);
  }

  /**
   * Two charts side by side: mean accuracy (%) against mean FD/real and against mean diversity/real,
   * a curve per method with its scales marked, and the targets as dashed lines; below them, when
   * every point has them, accuracy against KID/real and against coverage.
   *
   * @param curves method name → its points
   * @param accuracyTarget accuracy (%) to draw as a dashed line; NaN for none
   * @param fdTarget FD ratio to draw as a dashed line; NaN for none
   * @param diversityTarget diversity ratio to draw as a dashed line; NaN for none
   * @param coverageTarget coverage to draw as a dashed line, the real test images' own at the same n (coverage
   *     rises with n, so a fixed figure such as the 0.92 at n = 1,000 means nothing at n = 200); NaN for none
   */
  public static BufferedImage render(String title, Map<String, List<Point>> curves, double accuracyTarget,
      double fdTarget, double diversityTarget, double coverageTarget) {
    BufferedImage a = chart("Accuracy against Fréchet distance", "FD to the class / FD of real images (mean)",
        curves, Point::fdRatio, accuracyTarget, fdTarget, "target " + fdTarget + "×");
    BufferedImage b = chart("Accuracy against diversity", "diversity / real images' (mean)", curves,
        Point::diversityRatio, accuracyTarget, diversityTarget, "target " + diversityTarget + "×");
    BufferedImage top = TradeoffPlot.sideBySide(title, 15, a, b);
    boolean distribution = curves.values().stream().allMatch(ps -> ps.stream().allMatch(Point::hasDistribution));
    if (!distribution) {
      return top;
    }
    BufferedImage d = chart("Accuracy against coverage (at equal accuracy, higher is better)",
        "coverage, k = 5 (mean over classes)", curves, Point::coverage, accuracyTarget, coverageTarget,
        String.format(java.util.Locale.ROOT, "real test images %.3f", coverageTarget));
    boolean ratios = curves.values().stream().allMatch(ps -> ps.stream().allMatch(p -> !Double.isNaN(p.kidRatio())));
    BufferedImage bottom = ratios
        ? TradeoffPlot.sideBySide("KID and coverage at equal accuracy (coverage against the real images' at the same n)", 15,
            chart("Accuracy against KID (at equal accuracy, lower is better)",
                "KID / KID of the real test images (means over classes)", curves, Point::kidRatio, accuracyTarget, 2.0, "target 2×"), d)
        : TradeoffPlot.sideBySide("Coverage at equal accuracy, against the real images' at the same n (no KID ratio: the real images' KID is 0"
            + " within its error)", 15, d);
    BufferedImage both = new BufferedImage(Math.max(top.getWidth(), bottom.getWidth()), top.getHeight() + bottom.getHeight(),
        BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = both.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, both.getWidth(), both.getHeight());
    g.drawImage(top, 0, 0, null);
    g.drawImage(bottom, 0, top.getHeight(), null);
    g.dispose();
    return both;
  }

  private static BufferedImage chart(String title, String xTitle, Map<String, List<Point>> curves,
      ToDoubleFunction<Point> x, double yTarget, double xTarget, String xLabel) {
    return BitmapEncoder.getBufferedImage(xyChart(title, xTitle, curves, x, yTarget, xTarget, xLabel));
  }

  /** One chart: a curve per method, the targets (NaN: none) as dashed lines across the curves' range. */
  static XYChart xyChart(String title, String xTitle, Map<String, List<Point>> curves,
      ToDoubleFunction<Point> x, double yTarget, double xTarget, String xLabel) {
    XYChart chart = new XYChartBuilder().width(640).height(480).title(title).xAxisTitle(xTitle)
        .yAxisTitle("accuracy, % (mean over classes)").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setPlotGridLinesVisible(true);
    chart.getStyler().setLegendFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 10));
    double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, yLo = 100;
    for (var e : curves.entrySet()) {
      double[] xs = e.getValue().stream().mapToDouble(x).toArray();
      double[] ys = e.getValue().stream().mapToDouble(p -> 100 * p.accuracy()).toArray();
      XYSeries s = chart.addSeries(e.getKey(), xs, ys);
      s.setMarker(SeriesMarkers.CIRCLE);
      s.setLineWidth(2f);
      for (double v : xs) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      for (double v : ys) {
        yLo = Math.min(yLo, v);
      }
    }
    BasicStroke dashed = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 5f}, 0f);
    if (!Double.isNaN(yTarget)) {
      XYSeries t = chart.addSeries(String.format(java.util.Locale.ROOT, "target accuracy %.2f %%", yTarget),
          Double.isNaN(xTarget) ? new double[] {lo, hi} : new double[] {Math.min(lo, xTarget), Math.max(hi, xTarget)},
          new double[] {yTarget, yTarget});
      t.setMarker(SeriesMarkers.NONE);
      t.setLineColor(new Color(200, 30, 30));
      t.setLineStyle(dashed);
    }
    if (!Double.isNaN(xTarget)) {
      XYSeries t = chart.addSeries(xLabel, new double[] {xTarget, xTarget},
          new double[] {Double.isNaN(yTarget) ? yLo : Math.min(yLo, yTarget), 100});
      t.setMarker(SeriesMarkers.NONE);
      t.setLineColor(new Color(30, 30, 200));
      t.setLineStyle(dashed);
    }
    return chart;
  }
}
