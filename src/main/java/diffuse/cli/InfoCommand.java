package diffuse.cli;

import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.io.ProgressBar;
import diffuse.model.TrainSettings;
import diffuse.schedule.NoiseSchedule;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code diffuse info}: describes a model directory. */
@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Describe a model: architecture, schedule, labels, training steps, data, timings.")
final class InfoCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL_DIR", arity = "0..1", description = "Model directory (default: the shipped model).")
  Path dir;

  @Override
  public Integer call() {
    ModelStore.StoredModel m = ModelStore.open(dir != null ? GenerateOptions.find(dir) : GenerateOptions.defaultModel());
    ModelInfo i = m.info();
    var t = i.training();
    NoiseSchedule s = i.schedule().build();
    PrintStream out = System.out;
    out.printf("model        %s%n", m.dir());
    out.printf("checkpoint   %s (%s)%n", i.checkpoint(), m.statePrefix() != null ? "with training state, resumable" : "exported weights only");
    out.printf("model hash   %s (of the weights; in every sidecar and PNG it draws)%n", m.modelHash());
    if (i.isToy()) {
      var mlp = i.mlp();
      out.printf("architecture toy MLP for %d-D points, %d hidden layers of %d, embed %d%n", mlp.dim(), mlp.layers(),
          mlp.hidden(), mlp.embedDim());
    } else {
      var a = i.architecture();
      out.printf("architecture U-Net %dx%dx%d, widths %s, %d res block(s)/level, embed %d, GroupNorm %d groups%s%n",
          a.height(), a.width(), a.channels(), a.widths(), a.resBlocks(), a.embedDim(), a.groups(),
          a.scaleShiftNorm() ? ", AdaGN (embedding scales and shifts each block's GroupNorm)" : "");
    }
    out.printf("parameters   %,d%n", i.network().paramSpecs().stream().mapToLong(p -> p.size()).sum());
    out.printf("schedule     %s, T = %d, ᾱ_T = %.3g%n", i.schedule().kind().name().toLowerCase(), s.numSteps(), s.alphaCumprod(s.numSteps() - 1));
    out.printf("labels       %s (null label = %d)%n", String.join(", ", i.labels()), i.nullLabel());
    out.printf("data         %s, %,d images %dx%dx%d%n", i.data().dataset(), i.data().images(), i.data().height(), i.data().width(), i.data().channels());
    out.printf("training     %,d steps = %.2f epochs, batch %d, lr %.2g (warm-up %d), p_uncond %.2f, EMA %.4f, clip %.2g, seed %d%n",
        t.step(), t.epochs(), t.settings().batchSize(), t.settings().learningRate(), t.settings().warmupSteps(),
        t.settings().pUncond(), t.settings().emaDecay(), t.settings().gradClip(), t.settings().seed());
    if (t.settings().lrDecaySteps() != null) {
      out.printf("lr decay     cosine to %.2g at step %,d%n", TrainSettings.LR_FLOOR * t.settings().learningRate(),
          t.settings().lrDecaySteps());
    }
    if (t.settings().cooldownStart() != null) {
      out.printf("lr cooldown  linear to 0 from step %,d to %,d%n", t.settings().cooldownStart(),
          t.settings().cooldownEnd());
    }
    out.printf("objective    predicts %s, loss %s%n", t.settings().target(),
        t.settings().minSnrGamma() == null ? "mean squared error" : "Min-SNR-γ weighted, γ = " + t.settings().minSnrGamma());
    if (!t.settings().extraEmas().isEmpty()) {
      out.printf("averages     EMA %s (the model), and %s exported beside it%n", t.settings().emaDecay(),
          t.settings().extraEmas());
    }
    out.printf("noise levels %s%n", t.settings().pMean() == null ? "t uniform over 0 … T−1"
        : String.format("log-normal, ln σ ~ N(%s, %s²), nearest timestep", t.settings().pMean(), t.settings().pStd()));
    List<Double> in = i.defaultGuidanceInterval();
    var own = i.sampling();
    if (own != null && own.guideModel() != null) {
      var g = diffuse.sampling.Guidance.PLAIN;
      if (own.guideCfg() != null && in != null) {
        g = g.withInterval(in);
      }
      out.printf("sampling     %s unless told (the model's own, model.json)%n",
          g.withGuide(own.guideModel(), own.guideCfg(), own.guideInterval()).describeScale(i.defaultGuidance()));
    } else {
      out.printf("sampling     guidance s = %s%s unless told (%s)%n", GenerateCommand.fmt(i.defaultGuidance()),
          in == null ? "" : " in σ (" + GenerateCommand.fmt(in.get(0)) + ", " + GenerateCommand.fmt(in.get(1)) + "]",
          own != null && own.guidance() != null ? "the model's own, model.json"
              : "the library's default; export --guidance S records the model's own");
    }
    out.printf("timing       %s of training wall time, last run %.0f images/s on %s%n",
        ProgressBar.format(t.wallSeconds()), t.imagesPerSecond(), t.device());
    for (String c : t.commands()) {
      out.printf("command      %s%n", c);
    }
    out.printf("size on disk %.1f MB%n", size(m.dir()) / 1e6);
    return 0;
  }

  private static long size(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      return 0;
    }
  }
}
