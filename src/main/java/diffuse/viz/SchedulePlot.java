package diffuse.viz;

import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import java.awt.Color;
import java.awt.image.BufferedImage;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Signal and noise shares of x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε against t, for each schedule (XChart). */
public final class SchedulePlot {
  private SchedulePlot() {}

  public static BufferedImage render(int steps) {
    XYChart chart = new XYChartBuilder().width(900).height(520)
        .title("How much of x_0 is left in x_t: linear vs cosine schedule, T = " + steps)
        .xAxisTitle("timestep t").yAxisTitle("coefficient in x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
    chart.getStyler().setXAxisMin(0.0).setXAxisMax((double) steps);
    chart.getStyler().setXAxisDecimalPattern("#");
    Color[] colors = {new Color(31, 119, 180), new Color(214, 39, 40)};
    for (ScheduleKind kind : ScheduleKind.values()) {
      NoiseSchedule s = NoiseSchedule.of(kind, steps);
      // about 60 points: enough for smooth curves, and long enough segments for dashes to show
      int stride = Math.max(1, steps / 60);
      int n = (steps - 1) / stride + 2;
      double[] t = new double[n], signal = new double[n], noise = new double[n];
      for (int k = 0; k < n; k++) {
        int i = Math.min(steps - 1, k * stride);
        t[k] = i;
        signal[k] = s.sqrtAlphasCumprod(i);
        noise[k] = s.sqrtOneMinusAlphasCumprod(i);
      }
      Color c = colors[kind.ordinal() % colors.length];
      String name = kind.name().toLowerCase();
      XYSeries a = chart.addSeries("signal √ᾱ_t, " + name, t, signal);
      a.setMarker(SeriesMarkers.NONE);
      a.setLineColor(c);
      a.setLineWidth(2.5f);
      XYSeries b = chart.addSeries("noise √(1−ᾱ_t), " + name, t, noise);
      b.setMarker(SeriesMarkers.NONE);
      b.setLineColor(c);
      b.setLineStyle(org.knowm.xchart.style.lines.SeriesLines.DASH_DASH);
      b.setLineWidth(2.5f);
    }
    return BitmapEncoder.getBufferedImage(chart);
  }
}
