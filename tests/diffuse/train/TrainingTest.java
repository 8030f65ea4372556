package diffuse.train;

import diffuse.model.TrainSettings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.data.Dataset;
import diffuse.model.UNet;
import diffuse.model.UNetConfig;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import org.junit.jupiter.api.Test;

class TrainingTest {
  @Test
  void aFewHundredStepsLowerTheLossClearly() {
    Dataset data = TestData.bars(256, 8, 1);
    UNetConfig c = new UNetConfig(8, 8, 1, 2, java.util.List.of(16, 32), 1, 32, 4);
    TrainSettings s = TrainSettings.builder().batchSize(32).learningRate(2e-3).warmupSteps(20).emaDecay(0.99).seed(5)
        .build();
    try (TrainingGraph g = TrainingGraph.builder(new UNet(c))
        .gradClip(s.gradClip()).config(TestData.oneThread()).build()) {
      g.initialize(s.seed());
      Trainer trainer = new Trainer(g, NoiseSchedule.of(ScheduleKind.LINEAR, 1000), data, s, c.nullLabel());
      double first = 0, last = 0;
      int steps = 300;
      for (int step = 1; step <= steps; step++) {
        float loss = trainer.step(step).loss();
        assertTrue(Float.isFinite(loss));
        if (step <= 30) {
          first += loss / 30;
        }
        if (step > steps - 50) {
          last += loss / 50;
        }
      }
      assertTrue(last < 0.5 * first, "loss went from " + first + " to " + last);
    }
  }

  @Test
  void aVModelRegressesVAndMinSnrWeightsTheLossPerSample() {
    Dataset data = TestData.bars(64, 8, 1);
    NoiseSchedule sched = NoiseSchedule.of(ScheduleKind.LINEAR, 100);
    TrainSettings eps = TrainSettings.builder().batchSize(16).learningRate(1e-3).warmupSteps(0).emaDecay(0.99).seed(9)
        .checkpointEvery(0L).build();
    TrainSettings v = TrainSettings.builder().batchSize(16).learningRate(1e-3).warmupSteps(0).emaDecay(0.99).seed(9)
        .checkpointEvery(0L).prediction(diffuse.sampling.Prediction.V).minSnrGamma(5.0).build();
    Trainer.Batch be = new Trainer(null, sched, data, eps, 2).batch(3);
    float[] epsTarget = be.target().clone();
    float[] xt = be.xt().clone();
    assertArrayEquals(be.noise(), epsTarget, "an ε model regresses ε");
    assertEquals(null, be.weights());
    Trainer.Batch bv = new Trainer(null, sched, data, v, 2).batch(3);
    assertArrayEquals(xt, bv.xt(), "the same step draws the same x_t whatever the target");
    // v = α·ε − σ·x0, and x0 = α·x_t − σ·v recovers the clean image: check via ε = σ·x_t + α·v
    int dim = data.sampleSize();
    for (int i = 0; i < 16; i++) {
      double ab = sched.alphaCumprod(bv.t()[i]);
      float[] xi = java.util.Arrays.copyOfRange(bv.xt(), i * dim, (i + 1) * dim);
      float[] vi = java.util.Arrays.copyOfRange(bv.target(), i * dim, (i + 1) * dim);
      float[] ei = java.util.Arrays.copyOfRange(bv.noise(), i * dim, (i + 1) * dim);
      assertArrayEquals(ei, diffuse.sampling.Prediction.epsFromV(xi, vi, ab), 1e-4f);
      double snr = ab / (1 - ab);
      assertEquals(Math.min(snr, 5.0) / (snr + 1), bv.weights()[i], 1e-6);
    }
    // the weighted graph with all weights 1 is the plain loss; weights 2 double it
    UNetConfig c = new UNetConfig(8, 8, 1, 2, java.util.List.of(8, 16), 1, 16, 4);
    float[] ones = new float[16];
    float[] twos = new float[16];
    java.util.Arrays.fill(ones, 1f);
    java.util.Arrays.fill(twos, 2f);
    float plain;
    try (TrainingGraph g = TrainingGraph.builder(new UNet(c)).config(TestData.oneThread()).build()) {
      g.initialize(1);
      plain = g.step(xt, be.t(), be.labels(), epsTarget, 0, 1, 0.5).loss();
    }
    try (TrainingGraph g = TrainingGraph.builder(new UNet(c))
        .config(TestData.oneThread()).lossWeights(true).build()) {
      g.initialize(1);
      assertEquals(plain, g.step(xt, be.t(), be.labels(), epsTarget, ones, 0, 1, 0.5).loss(), 1e-6 * plain);
    }
    try (TrainingGraph g = TrainingGraph.builder(new UNet(c))
        .config(TestData.oneThread()).lossWeights(true).build()) {
      g.initialize(1);
      assertEquals(2 * plain, g.step(xt, be.t(), be.labels(), epsTarget, twos, 0, 1, 0.5).loss(), 1e-5 * plain);
      assertThrows(IllegalArgumentException.class, () -> g.step(xt, be.t(), be.labels(), epsTarget, 0, 1, 0.5));
    }
  }

  /**
   * Log-normal noise levels (EDM): the σ of the drawn timesteps has ln σ ≈ N(P_mean, P_std²) (the
   * linear schedule's σ runs from 0.01 to 157, so N(−1.2, 1.2²) is rarely clamped), each t the
   * timestep nearest in log σ; batches still depend only on (seed, step); uniform t is unchanged.
   */
  @Test
  void logNormalNoiseLevelsHaveTheRequestedLogSigmaAndStayReproducible() {
    NoiseSchedule sched = NoiseSchedule.of(ScheduleKind.LINEAR, 1000);
    TrainSettings s = TrainSettings.builder().batchSize(256).learningRate(1e-3).warmupSteps(0).emaDecay(0.99).seed(4)
        .build().withLogNormalNoise(-1.2, 1.2);
    Dataset data = TestData.bars(256, 8, 1);
    Trainer a = new Trainer(null, sched, data, s, 2), b = new Trainer(null, sched, data, s, 2);
    double sum = 0, sq = 0;
    int n = 0;
    for (long step = 1; step <= 40; step++) {
      int[] t = a.batch(step).t().clone();
      assertArrayEquals(t, b.batch(step).t(), "step " + step);
      for (int ti : t) {
        double ls = Math.log(sched.sigma(ti));
        // the nearest timestep in log σ: its neighbours are no nearer to some σ that maps to it
        assertEquals(ti, sched.nearestTimestep(sched.sigma(ti)));
        sum += ls;
        sq += ls * ls;
        n++;
      }
    }
    double mean = sum / n, std = Math.sqrt(sq / n - mean * mean);
    assertEquals(-1.2, mean, 0.05, "mean of ln σ over " + n + " draws");
    assertEquals(1.2, std, 0.05, "std of ln σ");
    // by hand: σ = 1 is between σ_t of the schedule; its nearest timestep has |ln σ_t| smallest
    int one = sched.nearestTimestep(1.0);
    for (int t = 0; t < 1000; t++) {
      assertTrue(Math.abs(Math.log(sched.sigma(one))) <= Math.abs(Math.log(sched.sigma(t))) + 1e-12);
    }
    // the uniform draw is what it was: the first 256 draws of the step's stream, t = nextInt(T)
    TrainSettings u = TrainSettings.builder().batchSize(256).learningRate(1e-3).warmupSteps(0).emaDecay(0.99).seed(4)
        .build();
    java.util.SplittableRandom rng = new java.util.SplittableRandom(4 ^ (7 * 0x9E3779B97F4A7C15L));
    int[] want = new int[256];
    for (int i = 0; i < want.length; i++) {
      want[i] = rng.nextInt(1000);
    }
    assertArrayEquals(want, new Trainer(null, sched, data, u, 2).batch(7).t());
    assertEquals("pStd", assertThrows(diffuse.api.DiffuseException.class,
        () -> u.withLogNormalNoise(0, 0)).field());
  }

  @Test
  void batchesDependOnlyOnSeedAndStep() {
    Dataset data = TestData.bars(64, 8, 1);
    TrainSettings s = TrainSettings.builder().batchSize(16).learningRate(1e-3).warmupSteps(0).pUncond(0.5)
        .emaDecay(0.99).seed(9).build();
    NoiseSchedule sched = NoiseSchedule.of(ScheduleKind.LINEAR, 100);
    Trainer a = new Trainer(null, sched, data, s, 2);
    Trainer b = new Trainer(null, sched, data, s, 2);
    Trainer.Batch a7 = a.batch(7);
    float[] a7xt = a7.xt().clone();
    b.batch(1);
    Trainer.Batch b7 = b.batch(7);
    assertArrayEquals(a7xt, b7.xt());
    assertArrayEquals(a7.t(), b7.t());
    assertArrayEquals(a7.labels(), b7.labels());
    assertEquals(4, a.stepsPerEpoch());
    assertThrows(IllegalArgumentException.class, () -> new Trainer(null, sched, TestData.bars(8, 8, 1), s, 2));
  }

  @Test
  void settingsValidateAndSchedule() {
    TrainSettings s = TrainSettings.builder().batchSize(8).learningRate(1e-3).warmupSteps(100).emaDecay(0.999).seed(0)
        .build();
    assertEquals(1e-5, s.learningRateAt(1), 1e-12);
    assertEquals(1e-3, s.learningRateAt(100), 1e-12);
    assertEquals(1e-3, s.learningRateAt(5000), 1e-12);
    assertEquals(2.0 / 11, s.emaDecayAt(1), 1e-12);
    assertEquals(0.999, s.emaDecayAt(1_000_000), 1e-12);
    var e = diffuse.api.DiffuseException.class;
    assertEquals("pUncond", assertThrows(e, () -> TrainSettings.builder().batchSize(8).learningRate(1e-3)
        .warmupSteps(0).pUncond(1.5).emaDecay(0.9).seed(0).build()).field());
    assertEquals("batchSize", assertThrows(e, () -> TrainSettings.builder().batchSize(0).learningRate(1e-3)
        .warmupSteps(0).emaDecay(0.9).seed(0).build()).field());
    assertEquals("lr", assertThrows(e, () -> TrainSettings.builder().batchSize(8).learningRate(Double.NaN)
        .warmupSteps(0).emaDecay(0.9).seed(0).build()).field());
    assertEquals("minSnrGamma", assertThrows(e, () -> TrainSettings.builder().batchSize(8).learningRate(1e-3)
        .warmupSteps(0).emaDecay(0.9).seed(0).checkpointEvery(0L).prediction(diffuse.sampling.Prediction.V)
        .minSnrGamma(-1.0).build()).field());
  }

  @Test
  void cosineDecayFallsFromThePeakToATenthAtTheRunsLastStep() {
    TrainSettings s = TrainSettings.builder().batchSize(8).learningRate(1e-3).warmupSteps(100).emaDecay(0.999).seed(0)
        .build().withCosineDecay(1100);
    assertEquals(1e-5, s.learningRateAt(1), 1e-12, "warm-up is unchanged");
    assertEquals(1e-3, s.learningRateAt(100), 1e-12, "the peak at the end of warm-up");
    // half-way (step 600): 1e-4 + ½·9e-4·(1 + cos(π/2)) = 5.5e-4; a quarter: 1e-4 + ½·9e-4·(1 + √½)
    assertEquals(5.5e-4, s.learningRateAt(600), 1e-12);
    assertEquals(1e-4 + 4.5e-4 * (1 + Math.sqrt(0.5)), s.learningRateAt(350), 1e-12);
    assertEquals(1e-4, s.learningRateAt(1100), 1e-12, "the floor at the horizon");
    assertEquals(1e-4, s.learningRateAt(5000), 1e-12, "and after it, should a resumed run go on");
    assertEquals(1100L, s.withCheckpointEvery(7).lrDecaySteps(), "the horizon survives other changes");
    assertEquals("cosineDecay", assertThrows(diffuse.api.DiffuseException.class,
        () -> TrainSettings.builder().batchSize(8).learningRate(1e-3).warmupSteps(100).emaDecay(0.999).seed(0).build()
            .withCosineDecay(100)).field());
  }

  @Test
  void aCooldownLowersTheRateLinearlyToZeroAtItsEnd() {
    TrainSettings s = TrainSettings.builder().batchSize(8).learningRate(1e-3).warmupSteps(100).emaDecay(0.999).seed(0)
        .build().withCooldown(1000, 1100);
    assertEquals(1e-5, s.learningRateAt(1), 1e-12, "warm-up is unchanged");
    assertEquals(1e-3, s.learningRateAt(1000), 1e-12, "constant up to the cooldown's start");
    // steps 1001 … 1100: η·(1100 − step + 1)/100
    assertEquals(1e-3, s.learningRateAt(1001), 1e-12);
    assertEquals(0.5e-3, s.learningRateAt(1051), 1e-12);
    assertEquals(1e-5, s.learningRateAt(1100), 1e-12, "the last step still learns");
    assertEquals(0, s.learningRateAt(1101), 1e-12);
    assertEquals("cooldown", assertThrows(diffuse.api.DiffuseException.class,
        () -> s.withCosineDecay(2000)).field(), "a cosine and a cooldown are refused together");
    assertEquals("cooldown", assertThrows(diffuse.api.DiffuseException.class,
        () -> s.withCooldown(50, 1100)).field(), "a cooldown inside the warm-up is refused");
  }

  /**
   * Extra averages (Karras et al. 2024): each follows e ← e − (e − w)(1 − d_k) after every Adam step
   * with its own decay, checked against the weights step by step; the main average is unchanged by
   * them, and one extra with the main decay equals the main one.
   */
  @Test
  void extraAveragesFollowTheirOwnDecays() {
    Dataset data = TestData.bars(32, 8, 1);
    UNetConfig c = new UNetConfig(8, 8, 1, 2, java.util.List.of(8, 16), 1, 16, 4);
    TrainSettings s = TrainSettings.builder().batchSize(8).learningRate(1e-2).warmupSteps(0).emaDecay(0.9).seed(3)
        .extraEmaDecays(java.util.List.of(0.5, 0.99)).build();
    // each warms up in proportion to its length (1 − β = r · 9/(10 + t), r = (1 − d)/(1 − 0.9)): the short one
    // copies the weights at first, the long one averages 10× longer than the main one; all reach their decays at
    // the step the main one does (t = 80), not the long one only at t = 890
    assertArrayEquals(new double[] {2 / 11.0, 0, 1 - 0.9 / 11}, s.emaDecaysAt(1), 1e-12);
    assertArrayEquals(new double[] {1 - 9 / 60.0, 1 - 45 / 60.0, 1 - 0.9 / 60}, s.emaDecaysAt(50), 1e-12);
    assertArrayEquals(new double[] {0.9, 0.5, 0.99}, s.emaDecaysAt(80), 1e-12);
    assertArrayEquals(new double[] {0.9, 0.5, 0.99}, s.emaDecaysAt(1_000_000), 1e-12);
    NoiseSchedule sched = NoiseSchedule.of(ScheduleKind.LINEAR, 100);
    java.util.Map<String, float[]> mainOnly;
    try (TrainingGraph one = TrainingGraph.builder(new UNet(c)).config(TestData.oneThread()).build()) {
      one.initialize(s.seed());
      Trainer t = new Trainer(one, sched, data, s.toBuilder().extraEmaDecays(null).build(), c.nullLabel());
      for (int step = 1; step <= 12; step++) {
        t.step(step);
      }
      mainOnly = one.emaWeights();
    }
    try (TrainingGraph g = TrainingGraph.builder(new UNet(c)).config(TestData.oneThread()).extraEmas(2).build()) {
      g.initialize(s.seed());
      Trainer t = new Trainer(g, sched, data, s, c.nullLabel());
      java.util.Map<String, float[]> want1 = copy(g.weights()), want2 = copy(g.weights());
      for (int step = 1; step <= 12; step++) {
        t.step(step);
        double[] d = s.emaDecaysAt(step);
        for (var e : g.weights().entrySet()) {
          float[] w = e.getValue(), a = want1.get(e.getKey()), b = want2.get(e.getKey());
          for (int i = 0; i < w.length; i++) {
            a[i] -= (float) ((a[i] - w[i]) * (1 - d[1]));
            b[i] -= (float) ((b[i] - w[i]) * (1 - d[2]));
          }
        }
      }
      for (var e : want1.entrySet()) {
        assertArrayEquals(e.getValue(), g.emaWeights(1).get(e.getKey()), 1e-5f, "ema1 " + e.getKey());
        assertArrayEquals(want2.get(e.getKey()), g.emaWeights(2).get(e.getKey()), 1e-5f, "ema2 " + e.getKey());
        assertArrayEquals(mainOnly.get(e.getKey()), g.emaWeights().get(e.getKey()), "the main average is untouched");
      }
    }
    assertEquals("extraEma", assertThrows(diffuse.api.DiffuseException.class,
        () -> s.toBuilder().extraEmaDecays(java.util.List.of(0.9)).build()).field());
    assertEquals("extraEma", assertThrows(diffuse.api.DiffuseException.class,
        () -> s.toBuilder().extraEmaDecays(java.util.List.of(1.0)).build()).field());
  }

  private static java.util.Map<String, float[]> copy(java.util.Map<String, float[]> m) {
    java.util.Map<String, float[]> out = new java.util.LinkedHashMap<>();
    m.forEach((k, v) -> out.put(k, v.clone()));
    return out;
  }
}
