package diffuse.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The guidance trade-off as three XChart line charts side by side: class accuracy, Fréchet distance
 * to the class's real images, and diversity relative to real images, each against the guidance
 * scale, per class (thin) and averaged over classes (thick), with the real-image baseline dashed.
 */
public final class TradeoffPlot {
  private TradeoffPlot() {}

  public static BufferedImage render(String title, List<Evaluator.Metrics> rows, List<Evaluator.Metrics> baseline) {
    BufferedImage a = chart("Accuracy for the requested class", "accuracy (%)", rows, baseline, m -> 100 * m.accuracy());
    BufferedImage b = chart("Fréchet distance to real images of the class", "FD (classifier features), log scale",
        rows, baseline, Evaluator.Metrics::fdClass);
    BufferedImage c = chart("Diversity relative to real images", "mean pairwise distance / real", rows, baseline,
        Evaluator.Metrics::diversityRatio);
    return sideBySide(title, 16, a, b, c);
  }

  /** Charts of equal height in a row under a title line. */
  static BufferedImage sideBySide(String title, int fontSize, BufferedImage... charts) {
    int titleH = 34;
    java.awt.Font font = new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, fontSize);
    int width = 0;
    for (BufferedImage c : charts) {
      width += c.getWidth();
    }
    Graphics2D probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
    width = Math.max(width, probe.getFontMetrics(font).stringWidth(title) + 24); // the whole title, even over one chart
    probe.dispose();
    BufferedImage out = new BufferedImage(width, charts[0].getHeight() + titleH, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, out.getWidth(), out.getHeight());
    g.setColor(Color.BLACK);
    g.setFont(font);
    g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING, java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.drawString(title, 12, 22);
    int x = 0;
    for (BufferedImage c : charts) {
      g.drawImage(c, x, titleH, null);
      x += c.getWidth();
    }
    g.dispose();
    return out;
  }

  private static BufferedImage chart(String title, String yTitle, List<Evaluator.Metrics> rows,
      List<Evaluator.Metrics> baseline, ToDoubleFunction<Evaluator.Metrics> value) {
    XYChart chart = new XYChartBuilder().width(560).height(440).title(title)
        .xAxisTitle("guidance scale s").yAxisTitle(yTitle).build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setPlotGridLinesVisible(true);
    chart.getStyler().setLegendFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 10));
    // the unconditional samples' distance to one class dwarfs the rest on a linear axis
    chart.getStyler().setYAxisLogarithmic(yTitle.contains("log scale"));
    double[] scales = rows.stream().mapToDouble(Evaluator.Metrics::scale).distinct().sorted().toArray();
    List<Integer> labels = rows.stream().map(Evaluator.Metrics::label).distinct().sorted().toList();
    double[] mean = new double[scales.length];
    for (int label : labels) {
      double[] y = new double[scales.length];
      for (int i = 0; i < scales.length; i++) {
        double s = scales[i];
        y[i] = rows.stream().filter(m -> m.label() == label && m.scale() == s).mapToDouble(value).findFirst().orElse(Double.NaN);
        mean[i] += y[i] / labels.size();
      }
      if (labels.size() > 1) {
        String name = rows.stream().filter(m -> m.label() == label).findFirst().get().labelName();
        XYSeries series = chart.addSeries("class " + name, scales, y);
        series.setMarker(SeriesMarkers.NONE);
        series.setLineWidth(1f);
      }
    }
    XYSeries m = chart.addSeries(labels.size() > 1 ? "mean over classes" : "samples", scales, mean);
    m.setLineWidth(3.5f);
    m.setLineColor(Color.BLACK);
    m.setMarkerColor(Color.BLACK);
    double real = baseline.stream().mapToDouble(value).average().orElse(Double.NaN);
    if (!Double.isNaN(real)) {
      XYSeries r = chart.addSeries("real held-out images", new double[] {scales[0], scales[scales.length - 1]},
          new double[] {real, real});
      r.setMarker(SeriesMarkers.NONE);
      r.setLineColor(new Color(200, 30, 30));
      r.setLineWidth(2.5f);
      r.setLineStyle(new BasicStroke(2.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f}, 0f));
    }
    return BitmapEncoder.getBufferedImage(chart);
  }
}
