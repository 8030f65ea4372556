package diffuse.toy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.data.PointSet;
import diffuse.data.ToyShapes;
import diffuse.model.MlpConfig;
import diffuse.model.ToyMlp;
import diffuse.sampling.GaussianMixture;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import diffuse.train.TrainSettings;
import diffuse.train.Trainer;
import diffuse.train.TrainingGraph;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

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

  @Test
  void aToyModelLearnsAFieldCloseToTheExactOne() {
    GaussianMixture exact = ToyShapes.mixture(2);
    PointSet data = ToyShapes.sample(ToyShapes.Shape.MIXTURE, 2, 4096, 1);
    ToyMlp net = new ToyMlp(MlpConfig.defaults(2));
    TrainSettings s = new TrainSettings(256, 2e-3, 100, 0.1, 0.99, 1.0, 3);
    try (TrainingGraph g = new TrainingGraph(net, s.gradClip(), TestData.oneThread())) {
      g.initialize(s.seed());
      Trainer t = new Trainer(g, SCHEDULE, data, s, 2);
      for (int step = 1; step <= 2500; step++) {
        t.step(step);
      }
      Map<String, float[]> ema = g.emaWeights();
      try (diffuse.model.EpsilonGraph eg = new diffuse.model.EpsilonGraph(net)) {
        for (int tt : new int[] {200, 400, 600}) {
          for (int label : new int[] {0, 1, 2}) {
            double[] err = error(eg, ema, exact, tt, label);
            assertTrue(err[0] < 0.2 * err[1], String.format("t = %d, y = %d: mean error %.3f vs mean |ε*| %.3f",
                tt, label, err[0], err[1]));
          }
        }
      }
    }
  }

  /** Mean ‖ε_model − ε*‖ and mean ‖ε*‖ at points drawn from q(x_t | y). */
  static double[] error(diffuse.model.EpsilonGraph eg, Map<String, float[]> w, GaussianMixture exact, int t, int label) {
    int n = 1000;
    SplittableRandom rng = new SplittableRandom(t * 31L + label);
    float[] x0 = exact.sample(n, label, rng, null);
    float[] eps = new float[x0.length];
    for (int i = 0; i < eps.length; i++) {
      eps[i] = (float) rng.nextGaussian();
    }
    float[] xt = new float[x0.length];
    int[] ts = new int[n];
    Arrays.fill(ts, t);
    SCHEDULE.qSample(x0, ts, eps, xt);
    int[] labels = new int[n];
    Arrays.fill(labels, label);
    float[] model = eg.predict(w, xt, n, t, labels);
    float[] star = exact.denoiser(SCHEDULE).predictNoise(xt, n, t, labels);
    double e = 0, m = 0;
    for (int i = 0; i < n; i++) {
      e += Math.hypot(model[2 * i] - star[2 * i], model[2 * i + 1] - star[2 * i + 1]) / n;
      m += Math.hypot(star[2 * i], star[2 * i + 1]) / n;
    }
    return new double[] {e, m};
  }
}
