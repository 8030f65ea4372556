package diffuse.cli;

import diffuse.app.EvaluateService;
import diffuse.eval.Frontier;
import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diffuse frontier}: the quality–diversity frontier of several evaluations, one curve per method. */
@Command(name = "frontier", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Compare evaluations: accuracy against Fréchet distance and diversity, one curve per method.",
        "", "Reads the metrics.json that `evaluate --out DIR` wrote in each DIR (one sampler and guidance method per",
        "evaluation, any number of scales), prints the table and draws the frontier."})
final class FrontierCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "DIR", description = "Evaluation directories.")
  List<Path> dirs;

  @Option(names = "--out", defaultValue = "frontier.png", paramLabel = "FILE.png",
      description = "Plot to write; the table goes next to it as .csv (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--title", paramLabel = "TEXT", description = "Plot title (default: the methods' n).")
  String title;

  @Override
  public Integer call() throws Exception {
    draw(dirs, out, title);
    return 0;
  }

  /**
   * A curve's legend: the method, after the model's name when the evaluations are of several models, and
   * with its n when their n differ (FD ratios depend on n).
   */
  static String curveName(EvaluateService.Stored e, boolean sameN, boolean sameModel) {
    return (sameModel || e.modelName().isEmpty() ? "" : e.modelName() + ": ") + e.method()
        + (sameN ? "" : ", n = " + e.n());
  }

  /** Reads the evaluations in {@code dirs}, prints their table and writes the plot and its .csv. */
  static void draw(List<Path> dirs, Path out, String title) throws java.io.IOException {
    AtomicFiles.checkWritable(out);
    Map<String, List<Frontier.Point>> curves = new LinkedHashMap<>();
    StringBuilder csv = new StringBuilder("method,scale,n,accuracy,worst_accuracy,fd_ratio,worst_fd_ratio,"
        + "diversity_ratio,worst_diversity_ratio,kid_ratio,worst_kid,coverage,worst_coverage,density\n");
    List<EvaluateService.Stored> all = dirs.stream().map(EvaluateService::read).toList();
    System.out.println("  method                                         scale |  n  | accuracy (worst) | FD/real (worst) | div/real (worst)"
        + " | KID/real | coverage (worst) | density");
    boolean sameN = all.stream().mapToInt(EvaluateService.Stored::n).distinct().count() == 1;
    int n = all.get(0).n();
    boolean sameModel = all.stream().map(EvaluateService.Stored::modelName).distinct().count() == 1;
    for (EvaluateService.Stored e : all) {
      Path d = e.dir();
      String method = curveName(e, sameN, sameModel);
      String name = curves.containsKey(method) ? method + " (" + d.getFileName() + ")" : method;
      curves.put(name, e.points());
      for (Frontier.Point p : e.points()) {
        System.out.printf(Locale.ROOT, "  %-46s %5s | %3d | %6.2f%% (%5.1f%%) | %5.2f× (%5.2f×) | %5.3f (%5.3f) | %8s | %5.3f (%5.3f) | %5.3f%n",
            name, GenerateCommand.fmt(p.scale()), p.n(), 100 * p.accuracy(), 100 * p.worstAccuracy(), p.fdRatio(),
            p.worstFdRatio(), p.diversityRatio(), p.worstDiversityRatio(),
            Double.isNaN(p.kidRatio()) ? "—" : String.format(Locale.ROOT, "%7.1f×", p.kidRatio()), p.coverage(),
            p.worstCoverage(), p.density());
        csv.append(String.format(Locale.ROOT, "\"%s\",%s,%d,%.4f,%.4f,%.3f,%.3f,%.4f,%.4f,%.3f,%.6f,%.4f,%.4f,%.4f%n",
            name.replace("\"", "'"), GenerateCommand.fmt(p.scale()), p.n(), p.accuracy(), p.worstAccuracy(), p.fdRatio(),
            p.worstFdRatio(), p.diversityRatio(), p.worstDiversityRatio(), p.kidRatio(), p.worstKid(), p.coverage(),
            p.worstCoverage(), p.density()));
      }
    }
    String t = title != null ? title : "guidance frontier, " + (sameN ? n + " samples" : "n samples (see legend)")
        + " per class and scale; FD and diversity relative to as many real images";
    // the accuracy goal is the real test images' own (mean over their classes), as evaluate measured it
    List<diffuse.eval.Evaluator.Metrics> real = all.get(0).baseline();
    double realAccuracy = real == null || real.isEmpty() ? Double.NaN
        : 100 * real.stream().mapToDouble(diffuse.eval.Evaluator.Metrics::accuracy).average().orElse(Double.NaN);
    // coverage rises with n, so its reference is the real test images' coverage at the same n (none when the
    // evaluations' n differ), not a fixed figure
    double realCoverage = sameN ? Frontier.meanCoverage(real) : Double.NaN;
    Images.writePng(Frontier.render(t, curves, realAccuracy, 1.5, 0.9, realCoverage), out);
    String name = out.getFileName().toString();
    Path table = out.resolveSibling((name.endsWith(".png") ? name.substring(0, name.length() - 4) : name) + ".csv");
    AtomicFiles.write(table, csv.toString().getBytes(StandardCharsets.UTF_8));
    System.out.println("wrote " + out + " and " + table + " (dashed: the targets "
        + (Double.isNaN(realAccuracy) ? "" : String.format(Locale.ROOT, "%.2f %% accuracy (the real test images'), ",
            realAccuracy)) + "FD 1.5×, diversity 0.9×,"
        + " KID 2× real" + (Double.isNaN(realCoverage) ? ""
            : String.format(Locale.ROOT, ", coverage %.3f (the real test images' at this n)", realCoverage)) + ")");
  }
}
