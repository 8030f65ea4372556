package diffuse.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Frontier points are per-class ratios to the class's own real baseline, averaged, and the worst class. */
class FrontierTest {
  static Evaluator.Metrics m(int label, Double scale, double acc, double fd, double divRatio) {
    return new Evaluator.Metrics(label, "c" + label, scale, 10, acc, acc, fd, fd, divRatio, divRatio);
  }

  @Test
  void pointsByHand() {
    List<Evaluator.Metrics> base = List.of(m(0, null, 0.98, 10, 1), m(1, null, 0.99, 20, 1));
    List<Evaluator.Metrics> rows = List.of(m(0, 2.0, 1.0, 30, 0.8), m(1, 2.0, 0.96, 20, 0.9),
        m(0, 1.0, 0.9, 15, 1.1), m(1, 1.0, 0.8, 40, 1.0));
    List<Frontier.Point> p = Frontier.of(rows, base);
    assertEquals(2, p.size());
    assertEquals(1.0, p.get(0).scale());
    // s = 1: FD ratios 15/10 = 1.5 and 40/20 = 2 → mean 1.75, worst 2; accuracy 0.85 (worst 0.8)
    assertEquals(1.75, p.get(0).fdRatio(), 1e-12);
    assertEquals(2.0, p.get(0).worstFdRatio(), 1e-12);
    assertEquals(0.85, p.get(0).accuracy(), 1e-12);
    assertEquals(0.8, p.get(0).worstAccuracy(), 1e-12);
    // s = 2: ratios 3 and 1 → 2, worst 3; diversity 0.85, worst 0.8
    assertEquals(2.0, p.get(1).fdRatio(), 1e-12);
    assertEquals(3.0, p.get(1).worstFdRatio(), 1e-12);
    assertEquals(0.85, p.get(1).diversityRatio(), 1e-12);
    assertEquals(0.8, p.get(1).worstDiversityRatio(), 1e-12);
    assertTrue(Double.isNaN(p.get(0).kidRatio()) && !p.get(0).hasDistribution(), "no KID measured, none reported");
    var img = Frontier.render("t", Map.of("a", p), 99.5, 1.5, 0.9, 0.92);
    assertTrue(img.getWidth() > 1000 && img.getHeight() > 400);
  }

  static Evaluator.Metrics d(int label, Double scale, double acc, double kid, double coverage, double density) {
    return new Evaluator.Metrics(label, "c" + label, scale, 10, acc, acc, 1, 1, 1, 1, acc, kid, 0.001, 10, density,
        coverage, 10);
  }

  /** KID as a ratio of means (mean KID of the samples / mean KID of the real images), coverage and density as means. */
  @Test
  void distributionFiguresByHand() {
    List<Evaluator.Metrics> base = List.of(d(0, null, 0.99, 0.010, 0.95, 1.0), d(1, null, 0.99, 0.030, 0.93, 1.0));
    List<Evaluator.Metrics> rows = List.of(d(0, 2.0, 1.0, 0.100, 0.80, 1.1), d(1, 2.0, 1.0, 0.020, 0.90, 0.9));
    Frontier.Point p = Frontier.of(rows, base).get(0);
    // KID: mean 0.06 over real mean 0.02 = 3×; worst class 0.1; coverage 0.85 (worst 0.8); density 1.0
    assertEquals(3.0, p.kidRatio(), 1e-12);
    assertEquals(0.1, p.worstKid(), 1e-12);
    assertEquals(0.85, p.coverage(), 1e-12);
    assertEquals(0.80, p.worstCoverage(), 1e-12);
    assertEquals(1.0, p.density(), 1e-12);
    assertEquals(0.94, Frontier.meanCoverage(base), 1e-12, "the coverage chart's reference: the real images' own");
    assertTrue(Double.isNaN(Frontier.meanCoverage(List.of(new Evaluator.Metrics(0, "c0", null, 10, 1, 1, 1, 1, 1, 1)))),
        "none where the real images were measured without it");
    var img = Frontier.render("t", Map.of("a", List.of(p)), 99.5, 1.5, 0.9, 0.92);
    assertTrue(img.getHeight() > 800, "a second row of charts: KID and coverage against accuracy");
    // a missing target (NaN) draws no line of its own and leaves the other one whole
    var chart = Frontier.xyChart("c", "x", Map.of("a", List.of(p)), Frontier.Point::coverage, 99.5, Double.NaN, "none");
    assertFalse(chart.getSeriesMap().containsKey("none"));
    double[] xs = chart.getSeriesMap().get("target accuracy 99.50 %").getXData();
    assertEquals(0.85, xs[0], 1e-12);
    assertEquals(0.85, xs[1], 1e-12);
    chart = Frontier.xyChart("c", "x", Map.of("a", List.of(p)), Frontier.Point::coverage, Double.NaN, 0.94, "real");
    assertFalse(chart.getSeriesMap().keySet().stream().anyMatch(k -> k.startsWith("target accuracy")));
    assertTrue(Double.isFinite(chart.getSeriesMap().get("real").getYData()[0]), "the coverage line from the lowest accuracy");
  }

  /**
   * Real images whose KID is 0 within two standard errors (Fashion-MNIST's) make no denominator: no KID
   * ratio, while coverage and density stay, and the chart shows coverage alone.
   */
  @Test
  void noKidRatioWhereTheRealImagesKidIsZeroWithinItsError() {
    assertEquals(3.0, Evaluator.kidRatio(0.06, 0.02, 0.009), 1e-12);
    assertTrue(Double.isNaN(Evaluator.kidRatio(0.06, 0.02, 0.01)), "exactly two standard errors is not enough");
    assertTrue(Double.isNaN(Evaluator.kidRatio(0.06, -0.001, 0.0001)));
    // real KIDs 0.0005 and -0.0002, each ± 0.001: mean 0.00015 ± 0.00071
    List<Evaluator.Metrics> base = List.of(d(0, null, 0.99, 0.0005, 0.95, 1.0), d(1, null, 0.99, -0.0002, 0.93, 1.0));
    List<Evaluator.Metrics> rows = List.of(d(0, 2.0, 1.0, 0.100, 0.80, 1.1), d(1, 2.0, 1.0, 0.020, 0.90, 0.9));
    Frontier.Point p = Frontier.of(rows, base).get(0);
    assertTrue(Double.isNaN(p.kidRatio()), "ratio " + p.kidRatio());
    assertTrue(p.hasDistribution());
    assertEquals(0.85, p.coverage(), 1e-12);
    assertEquals(0.1, p.worstKid(), 1e-12);
    var img = Frontier.render("t", Map.of("a", List.of(p)), 99.5, 1.5, 0.9, 0.92);
    assertTrue(img.getHeight() > 800, "the coverage chart below");
    // a caption wider than the one chart below it widens its row rather than being cut off
    var row = TradeoffPlot.sideBySide("x".repeat(200), 15, new java.awt.image.BufferedImage(300, 100,
        java.awt.image.BufferedImage.TYPE_INT_RGB));
    assertTrue(row.getWidth() > 1000, "width " + row.getWidth());
  }
}
