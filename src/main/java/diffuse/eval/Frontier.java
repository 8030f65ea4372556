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
   */
  public record Point(double scale, int n, double accuracy, double worstAccuracy, double fdRatio, double worstFdRatio,
      double diversityRatio, double worstDiversityRatio) {}

  /** The points of an evaluation, by increasing scale. */
  public static List<Point> of(List<Evaluator.Metrics> rows, List<Evaluator.Metrics> baseline) {
    Map<Integer, Evaluator.Metrics> real = new LinkedHashMap<>();
    baseline.forEach(b -> real.put(b.label(), b));
    List<Point> out = new ArrayList<>();
    rows.stream().map(Evaluator.Metrics::scale).distinct().sorted().forEach(s -> {
      List<Evaluator.Metrics> at = rows.stream().filter(m -> m.scale().equals(s)).toList();
      double acc = 0, worstAcc = Double.POSITIVE_INFINITY, fd = 0, worstFd = 0, div = 0, worstDiv = Double.POSITIVE_INFINITY;
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
      }
      out.add(new Point(s, at.get(0).n(), acc, worstAcc, fd, worstFd, div, worstDiv));
    });
    return out;
  }

  /**
   * Two charts side by side: mean accuracy (%) against mean FD/real and against mean diversity/real,
   * a curve per method with its scales marked, and the targets as dashed lines.
   *
   * @param curves method name → its points
   * @param targets accuracy (%), FD ratio and diversity ratio to draw as dashed lines; NaN for none
   */
  public static BufferedImage render(String title, Map<String, List<Point>> curves, double accuracyTarget,
      double fdTarget, double diversityTarget) {
    BufferedImage a = chart("Accuracy against Fréchet distance", "FD to the class / FD of real images (mean)",
        curves, Point::fdRatio, accuracyTarget, fdTarget);
    BufferedImage b = chart("Accuracy against diversity", "diversity / real images' (mean)", curves,
        Point::diversityRatio, accuracyTarget, diversityTarget);
    return TradeoffPlot.sideBySide(title, 15, a, b);
  }

  private static BufferedImage chart(String title, String xTitle, Map<String, List<Point>> curves,
      ToDoubleFunction<Point> x, double yTarget, double xTarget) {
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
      XYSeries t = chart.addSeries("target accuracy " + yTarget + " %", new double[] {Math.min(lo, xTarget), Math.max(hi, xTarget)},
          new double[] {yTarget, yTarget});
      t.setMarker(SeriesMarkers.NONE);
      t.setLineColor(new Color(200, 30, 30));
      t.setLineStyle(dashed);
    }
    if (!Double.isNaN(xTarget)) {
      XYSeries t = chart.addSeries("target " + xTarget + "×", new double[] {xTarget, xTarget},
          new double[] {Math.min(yLo, yTarget), 100});
      t.setMarker(SeriesMarkers.NONE);
      t.setLineColor(new Color(30, 30, 200));
      t.setLineStyle(dashed);
    }
    return BitmapEncoder.getBufferedImage(chart);
  }
}
