package diffuse.eval;

import diffuse.api.Listener;
import diffuse.data.Dataset;
import diffuse.sampling.Generator;
import diffuse.sampling.SamplerSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures what guidance does. For every (class, scale) it samples n images and reports, with the
 * evaluation classifier: accuracy for the requested class, mean confidence in it, the Fréchet
 * distance of the samples' features to the real test images of that class and to the whole test
 * set, and the diversity (mean pairwise feature distance) with its ratio to real images of the
 * class. The same figures for n real held-out images are the baseline: at small n the Fréchet
 * distance is biased upwards and only means something next to it.
 *
 * <p>Each class's test images, in a fixed pseudo-random order ({@link #drawOrder}), are dealt
 * alternately into a reference half and a baseline half, so the baseline never compares a set with
 * itself.
 *
 * <p>Given the training images too, each row also carries figures whose expectation does not move
 * with n: accuracy's one-sided 95 % lower bound ({@link Proportion}), the unbiased KID against all
 * the class's training images ({@link KernelDistance}), and density and coverage (k = 5) against a
 * fixed reference of {@value #DC_REFERENCE} of the class's training images
 * ({@link DensityCoverage}), always measured on the same number of images, {@link #dcSamples()}:
 * the smallest test class's size, or n if less. The yardstick ("real") row measures those on the
 * class's whole test split (up to n images): fresh real images by other writers.
 */
public final class Evaluator {
  /** The task name of its progress reports. */
  public static final String TASK = "evaluate";

  /** Training images per class in the density/coverage reference. */
  public static final int DC_REFERENCE = 1000;

  /**
   * Mean KID of samples over the real test images' mean KID, or NaN where that makes no denominator:
   * an unbiased estimate within two standard errors of 0 (Fashion-MNIST's real images, whose KID
   * against the training images is 0 within its error) would turn noise into a huge or negative ratio.
   *
   * @param kid the samples' mean KID over classes
   * @param realKid the real test images' mean KID over classes
   * @param realKidSe the standard error of {@code realKid}
   */
  public static double kidRatio(double kid, double realKid, double realKidSe) {
    return realKid > 2 * realKidSe && realKid > 0 ? kid / realKid : Double.NaN;
  }

  /**
   * Figures for one class at one scale; {@code scale} is null for the real-image baseline.
   *
   * @param accuracyLow one-sided 95 % lower bound of {@code accuracy} (Wilson), NaN if not measured
   * @param kid unbiased KID (MMD²ᵤ, cubic kernel) against the class's training images, NaN without them
   * @param kidSe its standard error
   * @param kidN images the KID was measured on
   * @param density density (Naeem et al. 2020, k = 5) against {@value #DC_REFERENCE} training images of the class
   * @param coverage coverage, same reference
   * @param dcN images density and coverage were measured on (the same for every row of an evaluation)
   */
  public record Metrics(int label, String labelName, Double scale, int n, double accuracy, double confidence,
      double fdClass, double fdAll, double diversity, double diversityRatio, double accuracyLow, double kid,
      double kidSe, int kidN, double density, double coverage, int dcN) {

    /** Figures without the n-independent ones (evaluations without training images, and older files). */
    public Metrics(int label, String labelName, Double scale, int n, double accuracy, double confidence,
        double fdClass, double fdAll, double diversity, double diversityRatio) {
      this(label, labelName, scale, n, accuracy, confidence, fdClass, fdAll, diversity, diversityRatio, Double.NaN,
          Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN, 0);
    }

    public boolean isBaseline() {
      return scale == null;
    }

    /** True if the n-independent figures were measured. */
    public boolean hasDistribution() {
      return kidN > 0;
    }

    Metrics withDistribution(double kid, double kidSe, int kidN, double density, double coverage, int dcN) {
      return new Metrics(label, labelName, scale, n, accuracy, confidence, fdClass, fdAll, diversity, diversityRatio,
          accuracyLow, kid, kidSe, kidN, density, coverage, dcN);
    }
  }

  /**
   * What came out: one row per (class, scale), the baseline rows, and timing.
   *
   * @param unconditionalShares if the scales include 0: the share of each class, as the classifier
   *     labels them, among all samples drawn at s = 0 (which ignore the prompt); else null
   */
  public record Report(List<Metrics> rows, List<Metrics> baseline, List<float[]> firstSamples, double seconds,
      long imagesGenerated, double[] unconditionalShares) {}

  /**
   * The seed class {@code label} is sampled from: every class gets its own noise, so that at s = 0,
   * where the prompt is ignored, the classes are independent unconditional samples rather than the
   * same images measured K times.
   */
  public static long classSeed(long seed, int label) {
    return seed ^ ((label + 1L) * 0xD1B54A32D192ED03L);
  }

  private final ClassifierModel classifier;
  private final Dataset test;
  // reference statistics and real-image diversities are computed once, not per (class, scale)
  private final FrechetDistance.Stats referenceAll;
  private final List<FrechetDistance.Stats> referenceByClass = new ArrayList<>();
  private final java.util.Map<List<Integer>, Double> realDiversity = new java.util.HashMap<>();
  private final List<float[]> baselineImages = new ArrayList<>();
  // the n-independent figures: per class, the training images and the whole test split; built on first use
  private final Dataset train;
  private final List<List<Integer>> trainByClass = new ArrayList<>();
  private final List<List<Integer>> testByClass = new ArrayList<>();
  /** Per class: the KID reference (all its training images) and the density/coverage balls (the first of them). */
  private record Reference(KernelDistance.Reference kid, DensityCoverage dc) {}
  private final java.util.Map<Integer, Reference> references = new java.util.HashMap<>();
  private final int dcSamples;

  /** An evaluator of FD, accuracy and diversity only (no training images given). */
  public Evaluator(ClassifierModel classifier, Dataset test, int n) {
    this(classifier, test, null, n);
  }

  /**
   * @param test the real held-out images: FD reference, baseline and yardstick
   * @param train the training images (KID, density and coverage reference), or null to skip those figures
   * @param n samples per (class, scale)
   */
  public Evaluator(ClassifierModel classifier, Dataset test, Dataset train, int n) {
    this.classifier = classifier;
    this.test = test;
    this.train = train;
    int k = test.numClasses();
    List<List<Integer>> even = new ArrayList<>(), odd = new ArrayList<>();
    for (int c = 0; c < k; c++) {
      even.add(new ArrayList<>());
      odd.add(new ArrayList<>());
    }
    for (int c = 0; c < k; c++) {
      trainByClass.add(new ArrayList<>());
      testByClass.add(drawOrder(indicesOf(test, c), c));
      for (int i : testByClass.get(c)) {
        (even.get(c).size() <= odd.get(c).size() ? even : odd).get(c).add(i);
      }
    }
    List<double[]> all = new ArrayList<>();
    for (int c = 0; c < k; c++) {
      double[][] f = features(images(even.get(c)), even.get(c).size());
      referenceByClass.add(FrechetDistance.Stats.of(f));
      all.addAll(List.of(f));
      List<Integer> base = odd.get(c).subList(0, Math.min(n, odd.get(c).size()));
      baselineImages.add(images(base));
    }
    referenceAll = FrechetDistance.Stats.of(all.toArray(double[][]::new));
    int smallestTest = Integer.MAX_VALUE;
    for (int c = 0; c < k; c++) {
      smallestTest = Math.min(smallestTest, testByClass.get(c).size());
    }
    if (train != null) {
      if (train.numClasses() != k) {
        throw new IllegalArgumentException("training and test data have " + train.numClasses() + " and " + k
            + " classes");
      }
      for (int c = 0; c < k; c++) {
        trainByClass.get(c).addAll(drawOrder(indicesOf(train, c), c));
      }
    }
    this.dcSamples = Math.min(n, smallestTest);
  }

  /** The seed of {@link #drawOrder}: one fixed order, so that every evaluation measures against the same images. */
  static final long DRAW_SEED = 20201112L;

  /**
   * The order in which a class's real images are drawn, as baseline, yardstick and density/coverage
   * reference: a fixed pseudo-random permutation, not the file's order. Data sets are often ordered
   * by source (MNIST's test split: its first 5,000 images are by Census Bureau employees and cleaner
   * than the last 5,000, by students; a folder data set sorted by file name), so the first n would be
   * a biased yardstick at small n.
   */
  static List<Integer> drawOrder(List<Integer> indices, int label) {
    List<Integer> order = new ArrayList<>(indices);
    java.util.Collections.shuffle(order, new java.util.Random(DRAW_SEED * 31 + label));
    return order;
  }

  private static List<Integer> indicesOf(Dataset data, int label) {
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < data.size(); i++) {
      if (data.labels()[i] == label) {
        idx.add(i);
      }
    }
    return idx;
  }

  /** The number of images every row's density and coverage are measured on: min(n, smallest test class). */
  public int dcSamples() {
    return dcSamples;
  }

  /**
   * The references of class {@code label}, from one pass of the classifier over its training images:
   * all of them for KID, the first {@value #DC_REFERENCE} in {@link #drawOrder} for density and coverage.
   */
  private Reference reference(int label) {
    List<Integer> idx = trainByClass.get(label);
    double[][] f = features(images(train, idx), idx.size());
    return new Reference(KernelDistance.reference(f),
        DensityCoverage.of(java.util.Arrays.copyOf(f, Math.min(DC_REFERENCE, f.length)), DensityCoverage.DEFAULT_K));
  }

  /**
   * Adds KID, density and coverage of the features {@code f} (the first {@link #dcSamples()} for
   * the latter two) to {@code m}; unchanged without training images or with fewer than two images.
   */
  private Metrics withDistribution(Metrics m, double[][] f) {
    int label = m.label();
    if (train == null || trainByClass.get(label).size() <= DensityCoverage.DEFAULT_K || f.length < 2) {
      return m;
    }
    Reference ref = references.computeIfAbsent(label, this::reference);
    KernelDistance.Estimate kid = KernelDistance.between(f, ref.kid());
    int dn = Math.min(dcSamples, f.length);
    DensityCoverage.Result dc = ref.dc().measure(java.util.Arrays.copyOf(f, dn));
    return m.withDistribution(kid.value(), kid.standardError(), f.length, dc.density(), dc.coverage(), dn);
  }

  private float[] images(List<Integer> idx) {
    return images(test, idx);
  }

  /** The images {@code idx} of {@code data}, [idx.size() · dim]. */
  private static float[] images(Dataset data, List<Integer> idx) {
    float[] x = new float[idx.size() * data.imageSize()];
    data.fill(idx.stream().mapToInt(Integer::intValue).toArray(), x);
    return x;
  }

  private double[][] features(float[] x, int n) {
    ClassifierModel.Prediction p = classifier.predict(x, n);
    double[][] f = new double[n][];
    for (int i = 0; i < n; i++) {
      f[i] = p.feature(i);
    }
    return f;
  }

  /** Metrics of n images [n·dim] meant to be of class {@code label}. */
  public Metrics measure(int label, Double scale, float[] x, int n) {
    ClassifierModel.Prediction p = classifier.predict(x, n);
    int hits = 0;
    double conf = 0;
    double[][] f = new double[n][];
    for (int i = 0; i < n; i++) {
      hits += p.argmax(i) == label ? 1 : 0;
      conf += p.prob(i, label);
      f[i] = p.feature(i);
    }
    double diversity = FrechetDistance.meanPairwiseDistance(f);
    double real = realDiversity.computeIfAbsent(List.of(label, n),
        k -> FrechetDistance.meanPairwiseDistance(baselineFeatures(label, n)));
    FrechetDistance.Stats samples = FrechetDistance.Stats.of(f);
    Metrics m = new Metrics(label, test.labelNames().get(label), scale, n, (double) hits / n, conf / n,
        FrechetDistance.between(samples, referenceByClass.get(label)), FrechetDistance.between(samples, referenceAll),
        diversity, real > 0 ? diversity / real : Double.NaN, Proportion.lower95(hits, n), Double.NaN, Double.NaN, 0,
        Double.NaN, Double.NaN, 0);
    return scale == null ? m : withDistribution(m, f);
  }

  private double[][] baselineFeatures(int label, int n) {
    float[] imgs = baselineImages.get(label);
    int m = Math.min(n, imgs.length / test.imageSize());
    return features(java.util.Arrays.copyOf(imgs, m * test.imageSize()), m);
  }

  /**
   * The real-image baseline of a class: n held-out test images (the half not used as FD reference)
   * measured like samples, and as yardstick of KID, density and coverage the class's whole test
   * split, up to n images, in {@link #drawOrder}.
   */
  public Metrics baseline(int label, int n) {
    float[] imgs = baselineImages.get(label);
    int m = Math.min(n, imgs.length / test.imageSize());
    Metrics base = measure(label, null, java.util.Arrays.copyOf(imgs, m * test.imageSize()), m);
    if (train == null) {
      return base;
    }
    List<Integer> idx = testByClass.get(label);
    idx = idx.subList(0, Math.min(n, idx.size()));
    return withDistribution(base, features(images(idx), idx.size()));
  }

  /**
   * Samples n images per (class, scale) in batches of {@code batch} and measures them; keeps the
   * first {@code keep} samples of each (class, scale) for pictures.
   * Progress goes to {@code listener} (task {@value #TASK}, one unit per image).
   */
  public Report run(Generator generator, List<Integer> labels, List<Double> scales, SamplerSpec spec, int n,
      int batch, long seed, int keep, Listener listener) {
    return run(generator, labels, scales, spec, diffuse.sampling.Guidance.PLAIN.guider(), n, batch, seed, keep, listener);
  }

  /** {@link #run(Generator, List, List, SamplerSpec, int, int, long, int, Listener)} with guidance applied by {@code method}. */
  public Report run(Generator generator, List<Integer> labels, List<Double> scales, SamplerSpec spec,
      diffuse.sampling.Guider method, int n, int batch, long seed, int keep, Listener listener) {
    long total = (long) labels.size() * scales.size() * n;
    long started = System.nanoTime();
    List<Metrics> rows = new ArrayList<>();
    List<float[]> kept = new ArrayList<>();
    long done = 0;
    int dim = test.imageSize();
    long[] uncond = new long[test.numClasses()];
    long uncondTotal = 0;
    for (double s : scales) {
      for (int label : labels) {
        float[] x = new float[n * dim];
        for (int first = 0; first < n; first += batch) {
          if (listener.cancelled()) { // polled between batches, as generation polls between steps
            throw new diffuse.api.DiffuseException(diffuse.api.DiffuseException.Code.CANCELLED, "cancelled");
          }
          int b = Math.min(batch, n - first);
          float[] part = generator.sample(Generator.Batch.of(label, s, classSeed(seed, label), first, b), spec, method,
              diffuse.api.Listener.NONE);
          System.arraycopy(part, 0, x, first * dim, part.length);
          done += b;
          listener.progress(TASK, done, total, String.format("s = %s, class %s", s, test.labelNames().get(label)));
        }
        rows.add(measure(label, s, x, n));
        if (s == 0) {
          ClassifierModel.Prediction p = classifier.predict(x, n);
          for (int i = 0; i < n; i++) {
            uncond[p.argmax(i)]++;
          }
          uncondTotal += n;
        }
        kept.add(java.util.Arrays.copyOf(x, Math.min(keep, n) * dim));
      }
    }
    listener.finished(TASK);
    List<Metrics> base = new ArrayList<>();
    for (int label : labels) {
      base.add(baseline(label, n));
    }
    double[] shares = null;
    if (uncondTotal > 0) {
      shares = new double[uncond.length];
      for (int k = 0; k < uncond.length; k++) {
        shares[k] = (double) uncond[k] / uncondTotal;
      }
    }
    return new Report(rows, base, kept, (System.nanoTime() - started) / 1e9, done, shares);
  }
}
