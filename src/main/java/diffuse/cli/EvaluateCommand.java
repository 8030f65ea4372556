package diffuse.cli;

import diffuse.app.EvaluateRequest;
import diffuse.app.EvaluateService;
import diffuse.app.LoadedModel;
import diffuse.eval.Evaluator;
import diffuse.io.AtomicFiles;
import diffuse.io.ConsoleListener;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.prompt.Prompts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code diffuse evaluate}: accuracy, Fréchet distance and diversity against the guidance scale. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measure what guidance does: accuracy, Fréchet distance and diversity per class and scale.",
        "", "Writes a table, metrics.csv, metrics.json, tradeoff.png and a sample grid per scale into --out.",
        "Real held-out test images measured the same way are the baseline."})
final class EvaluateCommand implements Callable<Integer> {
  @Option(names = "--guidance", split = ",", paramLabel = "S1,S2,...",
      description = "Guidance scales (default: " + diffuse.api.Defaults.EVALUATE_GUIDANCE + " and the model's own"
          + " default scale).")
  List<Double> scales;
  @Option(names = "--prompt", paramLabel = "TEXT", description = "Evaluate one class only (default: every class).")
  String prompt;
  @Option(names = {"-n", "--count"}, defaultValue = "" + diffuse.api.Defaults.EVALUATE_COUNT, paramLabel = "N", description = "Samples per class and scale (default: ${DEFAULT-VALUE}).")
  int count;
  @Option(names = "--out", defaultValue = "eval", paramLabel = "DIR", description = "Output directory (default: ${DEFAULT-VALUE}).")
  Path out;
  @Option(names = "--classifier", paramLabel = "DIR", description = "Evaluation classifier (default: <dataset>-classifier"
      + " beside the model, else the shipped models/<dataset>-classifier).")
  Path classifierDir;
  @Option(names = "--data-dir", paramLabel = "DIR") Path dataDir;
  @Mixin SamplingOptions sampling;
  @Option(names = "--method", paramLabel = "SPEC",
      description = "Evaluate several sampling methods (repeatable), each into its own folder of --out, then draw"
          + " their frontier (--out/frontier.png). SPEC = SAMPLER[/STEPS][/spacing=S][/interval=LO-HI|none][/rescale=φ]"
          + "[/negative=PROMPT][/apg=η][/apgnorm=r][/guide=DIR[/guidecfg=S]] (guide= last: it takes the rest of"
          + " SPEC as its directory), e.g. ddim/25 or dpm++2m/10/interval=0.3-5. What SPEC does not name takes its default;"
          + " seed, clipping and batch size stay as given, and the options that SPEC sets are refused beside it.")
  List<String> methods;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec cmd;

  /** The sampling options a --method SPEC sets itself (or resets to their defaults): refused beside --method. */
  static final java.util.Set<String> SET_BY_METHOD = java.util.Set.of("--sampler", "--steps", "--eta", "--spacing",
      "--guidance-interval", "--rescale", "--apg", "--apg-norm", "--negative", "--guide-model", "--guide-cfg");

  /** Where {@code train-classifier} writes by default: beside the shipped models. */
  static Path defaultClassifierDir(String dataset) {
    return EvaluateService.defaultClassifier(GenerateOptions.defaultModel().getParent(), dataset);
  }

  @Override
  public Integer call() throws IOException {
    if (scales == null) {
      scales = diffuse.api.Defaults.evaluateScales(sampling.openModel().info().defaultGuidance());
    }
    if (methods == null) {
      return evaluate(sampling.request(), out);
    }
    for (picocli.CommandLine.Model.OptionSpec o : cmd.commandLine().getParseResult().matchedOptions()) {
      if (SET_BY_METHOD.contains(o.longestName())) {
        throw new picocli.CommandLine.ParameterException(cmd.commandLine(), o.longestName() + " cannot be given with"
            + " --method, whose SPEC names the sampler, steps and guidance of each method (e.g. --method ddim/25/rescale=0.7)");
      }
    }
    List<diffuse.app.SamplingRequest> requests = methods.stream()
        .map(m -> SamplingOptions.withGuideFound(sampling.request().withMethod(m))).toList();
    ModelInfo info = sampling.openModel().info();
    for (diffuse.app.SamplingRequest r : requests) { // every method is checked before the first one runs
      r.spec(info);
      if (r.guidance().negative() != null) {
        diffuse.app.LoadedModel.negativeLabel(info.labels(), r.guidance().negative());
      }
    }
    List<Path> dirs = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      Path dir = out.resolve(GenerateCommand.slug(methods.get(i).replace("++", "pp")));
      System.out.println("== " + methods.get(i) + " → " + dir);
      evaluate(requests.get(i), dir);
      dirs.add(dir);
    }
    FrontierCommand.draw(dirs, out.resolve("frontier.png"), null);
    return 0;
  }

  private int evaluate(diffuse.app.SamplingRequest samplingRequest, Path out) throws IOException {
    EvaluateRequest request = new EvaluateRequest(scales, prompt, count, classifierDir, dataDir, samplingRequest);
    ModelStore.StoredModel model = sampling.openModel();
    ModelInfo info = model.info();
    if (prompt != null) {
      new Prompts(info.labels()).resolve(prompt); // an unknown prompt fails before anything is loaded
    }
    samplingRequest.spec(info);
    AtomicFiles.checkWritable(out.resolve("metrics.csv"));
    Path cdir = classifierDir != null ? classifierDir : EvaluateService.findClassifier(model.dir(),
        info.data().dataset(), GenerateOptions.defaultModel().getParent());
    if (EvaluateService.referenceIsTrainingData(info)) {
      System.out.println("note: the reference and baseline images are the model's own training images (a folder"
          + " data set has no held-out split); the Fréchet distance then rewards memorising them");
    }
    EvaluateService.Evaluation e;
    try (LoadedModel loaded = sampling.load(model)) {
      e = EvaluateService.evaluate(loaded, request, cdir, sampling.device.resolve(), ConsoleListener.stderr());
    }
    e.writeTo(out);
    printTable(e);
    Evaluator.Report r = e.report();
    if (r.unconditionalShares() != null) {
      double[] train = e.trainingShares();
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
    return 0;
  }

  private void printTable(EvaluateService.Evaluation e) {
    Evaluator.Report r = e.report();
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
    System.out.println("(means over classes; 'real' = " + e.reference() + ", the baseline for the Fréchet distance at this n)");
    if (r.rows().stream().anyMatch(Evaluator.Metrics::hasDistribution)) {
      printDistributionTable(keys, r);
    }
  }

  /**
   * The figures that do not move with n, per class mean (worst), beside the real test images':
   * accuracy and its one-sided 95 % bound, KID against the class's training images (and its ratio to
   * the real images'), coverage, density and diversity relative to real. KID's scale is that of the
   * classifier's features, so only its ratio compares with figures measured with another classifier.
   */
  private static void printDistributionTable(List<String> keys, Evaluator.Report r) {
    System.out.println();
    System.out.println("  scale  | accuracy (worst) | ≥ 95% bound | KID (worst) ± se        | KID/real | coverage (worst) | density | div/real (worst)");
    System.out.println("---------+------------------+-------------+-------------------------+----------+------------------+---------+-----------------");
    List<Evaluator.Metrics> real = r.baseline().stream().filter(Evaluator.Metrics::hasDistribution).toList();
    double realKid = real.isEmpty() ? Double.NaN : avg(real, Evaluator.Metrics::kid);
    double realKidSe = real.isEmpty() ? Double.NaN
        : Math.sqrt(real.stream().mapToDouble(m -> m.kidSe() * m.kidSe()).sum()) / real.size();
    int dcN = 0, kidN = 0;
    for (String k : keys) {
      List<Evaluator.Metrics> ms = (k.equals("real") ? r.baseline() : r.rows()).stream()
          .filter(m -> k.equals("real") || GenerateCommand.fmt(m.scale()).equals(k))
          .filter(Evaluator.Metrics::hasDistribution).toList();
      if (ms.isEmpty()) {
        continue;
      }
      dcN = ms.get(0).dcN();
      kidN = Math.max(kidN, ms.get(0).kidN());
      double kidSe = Math.sqrt(ms.stream().mapToDouble(m -> m.kidSe() * m.kidSe()).sum()) / ms.size();
      double kid = avg(ms, Evaluator.Metrics::kid);
      double ratio = Evaluator.kidRatio(kid, realKid, realKidSe);
      System.out.printf(Locale.ROOT, " %7s | %6.2f%% (%5.1f%%) | %10.2f%% | %7.3g (%7.3g) ± %5.2g | %8s | %7.3f (%6.3f) | %7.3f | %6.3f (%6.3f)%n", k,
          100 * avg(ms, Evaluator.Metrics::accuracy), 100 * min(ms, Evaluator.Metrics::accuracy),
          100 * min(ms, Evaluator.Metrics::accuracyLow),
          kid, max(ms, Evaluator.Metrics::kid), kidSe, Double.isNaN(ratio) ? "—" : String.format(Locale.ROOT, "%7.2f×", ratio),
          avg(ms, Evaluator.Metrics::coverage), min(ms, Evaluator.Metrics::coverage),
          avg(ms, Evaluator.Metrics::density),
          avg(ms, Evaluator.Metrics::diversityRatio), min(ms, Evaluator.Metrics::diversityRatio));
    }
    System.out.printf(Locale.ROOT, "(means over classes, worst class in brackets; the bound is the worst class's one-sided"
        + " 95%% lower bound; KID: unbiased, cubic kernel, in the classifier's feature units, against each class's"
        + " training images, n = %d (real: its test images), KID/real = mean KID over the real images' mean KID,"
        + " — where that is 0 within two standard errors;"
        + " coverage and density: k = 5, %d training images of the class as reference, on %d images per row)%n",
        kidN, Evaluator.DC_REFERENCE, dcN);
  }

  private static double min(List<Evaluator.Metrics> ms, java.util.function.ToDoubleFunction<Evaluator.Metrics> f) {
    return ms.stream().mapToDouble(f).min().orElse(Double.NaN);
  }

  private static double max(List<Evaluator.Metrics> ms, java.util.function.ToDoubleFunction<Evaluator.Metrics> f) {
    return ms.stream().mapToDouble(f).max().orElse(Double.NaN);
  }

  private static double avg(List<Evaluator.Metrics> ms, java.util.function.ToDoubleFunction<Evaluator.Metrics> f) {
    return ms.stream().mapToDouble(f).average().orElse(Double.NaN);
  }
}
