package diffuse.cli;

import diffuse.data.Dataset;
import diffuse.data.DatasetSpec;
import diffuse.data.Datasets;
import diffuse.eval.ClassifierModel;
import diffuse.eval.Evaluator;
import diffuse.eval.TradeoffPlot;
import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import diffuse.io.Json;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.prompt.Prompts;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.sampling.SamplerSpec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code diffuse evaluate}: accuracy, Fréchet distance and diversity against the guidance scale. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measure what guidance does: accuracy, Fréchet distance and diversity per class and scale.",
        "", "Writes a table, metrics.csv, metrics.json, tradeoff.png and a sample grid per scale into --out.",
        "Real held-out test images measured the same way are the baseline."})
final class EvaluateCommand implements Callable<Integer> {
  @Option(names = "--guidance", defaultValue = "0,1,2,3,5", split = ",", paramLabel = "S1,S2,...",
      description = "Guidance scales (default: ${DEFAULT-VALUE}).")
  List<Double> scales;
  @Option(names = "--prompt", paramLabel = "TEXT", description = "Evaluate one class only (default: every class).")
  String prompt;
  @Option(names = {"-n", "--count"}, defaultValue = "100", paramLabel = "N", description = "Samples per class and scale (default: ${DEFAULT-VALUE}).")
  int count;
  @Option(names = "--out", defaultValue = "eval", paramLabel = "DIR", description = "Output directory (default: ${DEFAULT-VALUE}).")
  Path out;
  @Option(names = "--classifier", paramLabel = "DIR", description = "Evaluation classifier (default: models/<dataset>-classifier).")
  Path classifierDir;
  @Option(names = "--data-dir", paramLabel = "DIR") Path dataDir;
  @Mixin SamplingOptions sampling;
  private String reference;

  static Path defaultClassifierDir(String dataset) {
    String name = dataset.startsWith("folder:") ? "folder" : dataset;
    return GenerateOptions.defaultModel().resolveSibling(name + "-classifier");
  }

  @Override
  public Integer call() throws IOException {
    scales.forEach(ClassifierFreeGuidance::requireFinite);
    if (count < 2) {
      throw new IllegalArgumentException("-n must be >= 2 (diversity needs pairs), got " + count);
    }
    ModelStore.StoredModel model = sampling.openModel();
    ModelInfo info = model.info();
    List<Integer> labels = prompt == null ? IntStream.range(0, info.labels().size()).boxed().toList()
        : List.of(new Prompts(info.labels()).resolve(prompt));
    SamplerSpec spec = sampling.request().spec(info);
    AtomicFiles.checkWritable(out.resolve("metrics.csv"));
    Path cdir = classifierDir != null ? classifierDir : defaultClassifierDir(info.data().dataset());
    var device = sampling.device.resolve();
    DatasetSpec ds = DatasetSpec.parse(info.data().dataset());
    boolean folder = ds.kind() == DatasetSpec.Kind.FOLDER;
    reference = folder ? "the model's own training images (a folder data set has no held-out split)"
        : "the test split, held out of training";
    if (folder) {
      System.out.println("note: the reference and baseline images are " + reference
          + "; the Fréchet distance then rewards memorising them");
    }
    Dataset test = Datasets.load(ds, ds.kind() == DatasetSpec.Kind.FOLDER ? Datasets.Split.TRAIN : Datasets.Split.TEST,
        dataDir, info.architecture().height());
    try (ClassifierModel classifier = ClassifierModel.load(cdir, device.config());
        diffuse.app.LoadedModel loaded = sampling.load(model)) {
      if (!classifier.info().labels().equals(info.labels())) {
        throw new IllegalArgumentException("classifier " + cdir + " knows labels " + classifier.info().labels()
            + ", the model " + info.labels());
      }
      Evaluator ev = new Evaluator(classifier, test, count);
      Evaluator.Report r = ev.run(loaded.generator(), labels, scales, spec, count, sampling.batchSize, sampling.seed, 8);
      write(r, info, spec, labels, cdir);
    }
    return 0;
  }

  private void write(Evaluator.Report r, ModelInfo info, SamplerSpec spec, List<Integer> labels, Path cdir) throws IOException {
    Files.createDirectories(out);
    StringBuilder csv = new StringBuilder("scale,label,label_name,n,accuracy,confidence,fd_class,fd_all,diversity,diversity_ratio\n");
    List<Evaluator.Metrics> all = new ArrayList<>(r.rows());
    all.addAll(r.baseline());
    for (Evaluator.Metrics m : all) {
      csv.append(String.format(Locale.ROOT, "%s,%d,%s,%d,%.4f,%.4f,%.3f,%.3f,%.4f,%.4f%n",
          m.isBaseline() ? "real" : GenerateCommand.fmt(m.scale()), m.label(), m.labelName(), m.n(), m.accuracy(),
          m.confidence(), m.fdClass(), m.fdAll(), m.diversity(), m.diversityRatio()));
    }
    AtomicFiles.write(out.resolve("metrics.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
    Map<String, Object> json = new java.util.LinkedHashMap<>();
    json.put("model", sampling.openModel().dir().toString());
    json.put("checkpoint", info.checkpoint());
    json.put("classifier", cdir.toString());
    json.put("sampler", spec);
    json.put("seed", sampling.seed);
    json.put("n", count);
    json.put("seconds", r.seconds());
    json.put("imagesGenerated", r.imagesGenerated());
    json.put("reference", reference);
    json.put("rows", r.rows());
    json.put("baseline", r.baseline());
    json.put("unconditionalShares", r.unconditionalShares());
    json.put("trainingShares", trainingShares(info));
    Json.writeAtomically(out.resolve("metrics.json"), json);
    String title = String.format("%s, %d samples per class and scale, %s %d steps", info.data().dataset(), count,
        spec.kind().name().toLowerCase(), spec.steps());
    Images.writePng(TradeoffPlot.render(title, r.rows(), r.baseline()), out.resolve("tradeoff.png"));
    var a = info.architecture();
    int perScale = labels.size();
    for (int si = 0; si < scales.size(); si++) {
      List<Images.Row> rows = new ArrayList<>();
      for (int li = 0; li < perScale; li++) {
        float[] x = r.firstSamples().get(si * perScale + li);
        int n = x.length / (a.height() * a.width() * a.channels());
        List<BufferedImage> imgs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          imgs.add(Images.toImage(x, i, a.height(), a.width(), a.channels()));
        }
        rows.add(new Images.Row(info.labels().get(labels.get(li)), imgs));
      }
      Images.writePng(Images.grid("guidance s = " + GenerateCommand.fmt(scales.get(si)), rows, 8, 2),
          out.resolve("samples-s" + GenerateCommand.fmt(scales.get(si)) + ".png"));
    }
    printTable(r);
    if (r.unconditionalShares() != null) {
      double[] train = trainingShares(info);
      StringBuilder sb = new StringBuilder("s = 0 ignores the prompt, so its accuracy is the share of each class among"
          + " unconditional samples. The classifier labels them (share; training data's share):");
      for (int k = 0; k < train.length; k++) {
        sb.append(String.format(Locale.ROOT, "%s %s %.1f%% (%.1f%%)", k == 0 ? "" : ",", info.labels().get(k),
            100 * r.unconditionalShares()[k], 100 * train[k]));
      }
      System.out.println(sb);
    }
    System.out.printf("evaluated %,d generated images in %.0f s; wrote %s (metrics.csv, metrics.json, tradeoff.png, samples-s*.png)%n",
        r.imagesGenerated(), r.seconds(), out);
  }

  private static double[] trainingShares(ModelInfo info) {
    List<Integer> c = info.data().classCounts();
    double total = c.stream().mapToInt(Integer::intValue).sum();
    return c.stream().mapToDouble(v -> v / total).toArray();
  }

  private void printTable(Evaluator.Report r) {
    System.out.println();
    System.out.println("  scale  | accuracy | confidence | FD class | FD all | diversity | div/real");
    System.out.println("---------+----------+------------+----------+--------+-----------+---------");
    List<String> keys = new ArrayList<>();
    scales.forEach(s -> keys.add(GenerateCommand.fmt(s)));
    keys.add("real");
    for (String k : keys) {
      List<Evaluator.Metrics> ms = (k.equals("real") ? r.baseline() : r.rows()).stream()
          .filter(m -> k.equals("real") || GenerateCommand.fmt(m.scale()).equals(k)).toList();
      System.out.printf(Locale.ROOT, " %7s | %7.1f%% | %9.1f%% | %8.2f | %6.2f | %9.3f | %7.2f%n", k,
          100 * avg(ms, Evaluator.Metrics::accuracy), 100 * avg(ms, Evaluator.Metrics::confidence),
          avg(ms, Evaluator.Metrics::fdClass), avg(ms, Evaluator.Metrics::fdAll), avg(ms, Evaluator.Metrics::diversity),
          avg(ms, Evaluator.Metrics::diversityRatio));
    }
    System.out.println("(means over classes; 'real' = " + reference + ", the baseline for the Fréchet distance at this n)");
  }

  private static double avg(List<Evaluator.Metrics> ms, java.util.function.ToDoubleFunction<Evaluator.Metrics> f) {
    return ms.stream().mapToDouble(f).average().orElse(Double.NaN);
  }
}
