package diffuse.app;

import diffuse.data.Dataset;
import diffuse.data.DatasetSpec;
import diffuse.data.Datasets;
import diffuse.api.DiffuseException;
import diffuse.eval.ClassifierModel;
import diffuse.eval.Evaluator;
import diffuse.eval.TradeoffPlot;
import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import diffuse.io.Json;
import diffuse.io.ModelInfo;
import diffuse.prompt.Prompts;
import diffuse.api.Listener;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.sampling.SamplerSpec;
import diffuse.runtime.Device;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The evaluate use case: what guidance does to a model's samples — accuracy and confidence of an
 * independent classifier, Fréchet distance in its feature space and diversity, per class and scale —
 * with real held-out images measured the same way as the baseline ({@link Evaluator}).
 */
public final class EvaluateService {
  private EvaluateService() {}

  /**
   * The result of an evaluation, with what is needed to write and read it.
   *
   * @param labels the classes evaluated, in row order
   * @param reference what the real images are, in words
   */
  public record Evaluation(Path model, ModelInfo info, Path classifier, SamplerSpec spec, long seed, int count,
      List<Double> scales, List<Integer> labels, String reference, Evaluator.Report report,
      diffuse.sampling.Guidance guidance) {

    /** Each class's share of the model's training data, index = label. */
    public double[] trainingShares() {
      List<Integer> c = info.data().classCounts();
      double total = c.stream().mapToInt(Integer::intValue).sum();
      return c.stream().mapToDouble(v -> v / total).toArray();
    }

    /**
     * Writes metrics.csv, metrics.json, tradeoff.png and samples-s{scale}.png (the first 8 samples of
     * each class) into {@code out}, each atomically.
     */
    public void writeTo(Path out) throws IOException {
      Files.createDirectories(out);
      StringBuilder csv = new StringBuilder(
          "scale,label,label_name,n,accuracy,confidence,fd_class,fd_all,diversity,diversity_ratio,"
              + "accuracy_low95,kid,kid_se,kid_n,density,coverage,dc_n\n");
      List<Evaluator.Metrics> all = new ArrayList<>(report.rows());
      all.addAll(report.baseline());
      for (Evaluator.Metrics m : all) {
        csv.append(String.format(Locale.ROOT, "%s,%d,%s,%d,%.4f,%.4f,%.3f,%.3f,%.4f,%.4f,%.4f,%.6f,%.6f,%d,%.4f,%.4f,%d%n",
            m.isBaseline() ? "real" : ClassifierFreeGuidance.formatScale(m.scale()), m.label(), m.labelName(), m.n(),
            m.accuracy(), m.confidence(), m.fdClass(), m.fdAll(), m.diversity(), m.diversityRatio(), m.accuracyLow(),
            m.kid(), m.kidSe(), m.kidN(), m.density(), m.coverage(), m.dcN()));
      }
      AtomicFiles.write(out.resolve("metrics.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("model", model.toString());
      json.put("checkpoint", info.checkpoint());
      json.put("classifier", classifier.toString());
      json.put("sampler", spec);
      if (guidance != null) {
        json.put("guidance", guidance);
      }
      json.put("seed", seed);
      json.put("n", count);
      json.put("seconds", report.seconds());
      json.put("imagesGenerated", report.imagesGenerated());
      json.put("reference", reference);
      json.put("rows", report.rows());
      json.put("baseline", report.baseline());
      json.put("unconditionalShares", report.unconditionalShares());
      json.put("trainingShares", trainingShares());
      Json.writeAtomically(out.resolve("metrics.json"), json);
      String title = String.format("%s, %d samples per class and scale, %s %d steps%s%s", info.data().dataset(), count,
          spec.kind().id(), spec.steps(), spec.spacing() == diffuse.schedule.Spacing.LINSPACE ? "" : " " + spec.spacing(),
          guidance == null ? "" : ", " + guidance.describe());
      Images.writePng(TradeoffPlot.render(title, report.rows(), report.baseline()), out.resolve("tradeoff.png"));
      var a = info.architecture();
      int perScale = labels.size();
      for (int si = 0; si < scales.size(); si++) {
        List<Images.Row> rows = new ArrayList<>();
        for (int li = 0; li < perScale; li++) {
          float[] x = report.firstSamples().get(si * perScale + li);
          int n = x.length / (a.height() * a.width() * a.channels());
          List<BufferedImage> imgs = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            imgs.add(Images.toImage(x, i, a.height(), a.width(), a.channels()));
          }
          rows.add(new Images.Row(info.labels().get(labels.get(li)), imgs));
        }
        String s = ClassifierFreeGuidance.formatScale(scales.get(si));
        Images.writePng(Images.grid((guidance == null ? diffuse.sampling.Guidance.PLAIN : guidance)
            .describeScale(scales.get(si)), rows, 8, 2),
            out.resolve("samples-s" + s + ".png"));
      }
    }
  }

  /** An evaluation read back from its directory (metrics.json). */
  public record Stored(Path dir, String model, String method, int n, List<Evaluator.Metrics> rows,
      List<Evaluator.Metrics> baseline) {
    /** The model's directory name ("" if the file does not say), which tells apart evaluations of several models. */
    public String modelName() {
      Path p = model == null || model.isEmpty() ? null : Path.of(model).getFileName();
      return p == null ? "" : p.toString();
    }

    /** Its frontier points, by scale. */
    public List<diffuse.eval.Frontier.Point> points() {
      return diffuse.eval.Frontier.of(rows, baseline);
    }
  }

  /** What metrics.json holds that {@link #read} needs. */
  private record MetricsFile(String model, SamplerSpec sampler, int n, List<Evaluator.Metrics> rows, List<Evaluator.Metrics> baseline,
      diffuse.sampling.Guidance guidance) {}

  /**
   * Reads the evaluation that {@code evaluate --out dir} wrote; its method is named after the sampler,
   * steps, spacing (when not the sampler's default) and guidance method.
   */
  public static Stored read(Path dir) {
    Path file = dir.resolve("metrics.json");
    if (!Files.isRegularFile(file)) {
      throw new DiffuseException(DiffuseException.Code.NOT_FOUND, "evaluation", dir + " holds no evaluation ("
          + file.getFileName() + " missing); write one with `diffuse evaluate --out " + dir + "`", null);
    }
    MetricsFile m;
    try {
      m = Json.read(file, MetricsFile.class);
    } catch (DiffuseException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new DiffuseException(DiffuseException.Code.FAILED, "evaluation", "cannot read " + file + ": "
          + DiffuseException.firstLine(e.getMessage()), e);
    }
    if (m == null || m.sampler() == null || m.rows() == null || m.baseline() == null || m.rows().isEmpty()) {
      throw new DiffuseException(DiffuseException.Code.FAILED, "evaluation", file + " is not an evaluation's metrics",
          null);
    }
    SamplerSpec s = m.sampler();
    String method = s.kind().id() + " " + s.steps()
        + (s.spacing() == null || s.spacing() == SamplerSpec.defaultSpacing(s.kind()) ? "" : " " + s.spacing())
        + (m.guidance() == null ? "" : ", " + m.guidance().describe());
    return new Stored(dir, m.model(), method, m.n(), m.rows(), m.baseline());
  }

  /** The directory of the classifier that evaluates models of {@code dataset}: next to {@code modelsDir}'s models. */
  public static Path defaultClassifier(Path modelsDir, String dataset) {
    String name = dataset.startsWith("folder:") ? "folder" : dataset;
    return modelsDir.resolve(name + "-classifier");
  }

  /**
   * The classifier that evaluates the model in {@code modelDir} when none is named, the same for the
   * CLI, the server and the API: {@code <dataset>-classifier} beside the model, else in each of
   * {@code elsewhere} (the CLI's: the shipped models' directory) in turn; none there: the one beside
   * the model, for the error that names it.
   */
  public static Path findClassifier(Path modelDir, String dataset, Path... elsewhere) {
    Path beside = defaultClassifier(modelDir.toAbsolutePath().normalize().getParent(), dataset);
    if (java.nio.file.Files.isDirectory(beside)) {
      return beside;
    }
    for (Path dir : elsewhere) {
      Path c = defaultClassifier(dir, dataset);
      if (java.nio.file.Files.isDirectory(c)) {
        return c;
      }
    }
    return beside;
  }

  /** True if the model's data set has no held-out split, so the baseline is its own training images. */
  public static boolean referenceIsTrainingData(ModelInfo info) {
    return DatasetSpec.parse(info.data().dataset()).kind() == DatasetSpec.Kind.FOLDER;
  }

  /**
   * Evaluates {@code model}.
   *
   * @param classifierDir the classifier to measure with (see {@link #defaultClassifier})
   * @param device where the classifier runs
   * @param listener data fetching and progress (task {@value Evaluator#TASK})
   */
  public static Evaluation evaluate(LoadedModel model, EvaluateRequest request, Path classifierDir,
      Device.Choice device, Listener listener) {
    ModelInfo info = model.info();
    GenerationPlan.requireHoldable(request.count(), info.network().sampleSize());
    List<Integer> labels = request.prompt() == null ? IntStream.range(0, info.labels().size()).boxed().toList()
        : List.of(new Prompts(info.labels()).resolve(request.prompt()));
    SamplerSpec spec = request.sampling().spec(info);
    boolean folder = referenceIsTrainingData(info);
    String reference = folder ? "the model's own training images (a folder data set has no held-out split)"
        : "the test split, held out of training";
    // the measuring instrument stays fp32 whatever the generator runs in, so that tables compare; it is
    // opened and checked before any data is fetched
    try (ClassifierModel classifier = ClassifierModel.load(classifierDir, device.fp32().config())) {
      if (!classifier.info().labels().equals(info.labels())) {
        throw new DiffuseException(DiffuseException.Code.BAD_VALUE, "classifier", "classifier " + classifierDir
            + " knows labels " + classifier.info().labels() + ", the model " + info.labels(), null);
      }
      var c = classifier.info().architecture();
      var a = info.architecture();
      if (c.height() != a.height() || c.width() != a.width() || c.channels() != a.channels()) {
        throw new DiffuseException(DiffuseException.Code.BAD_VALUE, "classifier", String.format(
            "classifier %s reads %dx%dx%d images, the model draws %dx%dx%d", classifierDir, c.height(), c.width(),
            c.channels(), a.height(), a.width(), a.channels()), null);
      }
      DatasetSpec ds = DatasetSpec.parse(info.data().dataset());
      Dataset real = Datasets.load(ds, folder ? Datasets.Split.TRAIN : Datasets.Split.TEST, request.dataDir(),
          info.architecture().height(), listener);
      // the reference of KID, density and coverage: the training images the model learnt from; a folder
      // data set has no held-out images to measure them against, so it gets none of the three
      Dataset train = folder ? null : Datasets.load(ds, Datasets.Split.TRAIN, request.dataDir(),
          info.architecture().height(), listener);
      Evaluator ev = new Evaluator(classifier, real, train, request.count());
      SamplingRequest s = request.sampling();
      diffuse.sampling.Guidance g = model.resolve(s.guidance());
      diffuse.sampling.Guider method = model.guider(g);
      Evaluator.Report r = ev.run(model.generator(), labels, request.scales(), spec, method,
          request.count(), s.batchSize(), s.seed(), 8, listener);
      return new Evaluation(model.dir(), info, classifierDir, spec, s.seed(), request.count(), request.scales(), labels,
          reference, r, GenerateService.recorded(g, method));
    }
  }
}
