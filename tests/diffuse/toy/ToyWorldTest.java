package diffuse.toy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.data.PointSet;
import diffuse.data.ToyShapes;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.util.regex.Pattern;
import java.util.regex.Matcher;
import java.nio.file.Path;

/** The two-pixel world: a toy model trained here against the exact field of its mixture. */
class ToyWorldTest {
  static final NoiseSchedule SCHEDULE = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);

  @Test
  void shapesHaveTheRequestedClassesAndRoundTripTheirSpec() {
    for (ToyShapes.Shape s : ToyShapes.Shape.values()) {
      int k = s == ToyShapes.Shape.MOONS ? 2 : 3;
      PointSet p = ToyShapes.sample(s, k, 600, 4);
      assertEquals(600, p.size());
      assertEquals(k, Arrays.stream(p.labels()).distinct().count());
      for (float v : p.points()) {
        assertTrue(Math.abs(v) < 1.5, s + " point outside the plot: " + v);
      }
      assertTrue(Arrays.equals(p.points(), ToyShapes.fromSpec(p.name()).points()));
    }
  }

  /**
   * The README's published numbers, from the README's own commands: {@code toy train --shape mixture
   * --classes 3} at its defaults, then {@code toy field --model}, which prints the mean
   * ‖ε_model − ε*‖ over noised data against the exact field of the mixture.
   */
  @Test
  void theReadmesToyModelLearnsTheExactFieldAsPublished(@TempDir Path dir) {
    Path model = dir.resolve("toy");
    assertEquals(0, cli("toy", "train", "--shape", "mixture", "--classes", "3", "--out", model.toString())[0].length());
    String out = cli("toy", "field", "--model", model.toString(), "--class", "1", "--out", dir.resolve("f.png").toString())[1];
    Map<Integer, Double> uncond = new java.util.TreeMap<>();
    Map<Integer, Double> cond = new java.util.TreeMap<>();
    Matcher m = Pattern.compile("t =\\s+(\\d+)\\s+([0-9.]+) / ([0-9.]+)").matcher(out);
    while (m.find()) {
      uncond.put(Integer.parseInt(m.group(1)), Double.parseDouble(m.group(2)));
      cond.put(Integer.parseInt(m.group(1)), Double.parseDouble(m.group(3)));
    }
    assertEquals(8, uncond.size(), out);
    // README: 0.11 at t = 10, 0.20 at t = 50, 0.07 at t = 200, 0.04 at t = 300, 0.015 from t = 500 on
    // (|ε*| is about 1); the bounds leave about 30 % for another machine's arithmetic
    double[][] bounds = {{10, 0.15}, {50, 0.27}, {200, 0.09}, {300, 0.05}, {500, 0.02}, {700, 0.02}, {900, 0.02}};
    for (double[] b : bounds) {
      double e = uncond.get((int) b[0]);
      assertTrue(e < b[1], String.format("t = %d: unconditional error %.4f, published bound %.3f%n%s", (int) b[0], e, b[1], out));
    }
    for (var e : cond.entrySet()) {
      assertTrue(e.getValue() < 0.1, "class 1 at t = " + e.getKey() + ": " + e.getValue() + "\n" + out);
    }
  }

  /** Runs the CLI; returns {error lines of stderr, stdout} and fails on a non-zero exit. */
  static String[] cli(String... args) {
    diffuse.TestCli.Run r = diffuse.TestCli.run(args);
    assertEquals(0, r.code(), r.err());
    String errors = r.err().lines().filter(l -> l.contains("error")).reduce("", (a, b) -> a + b);
    return new String[] {errors, r.out()};
  }
}
