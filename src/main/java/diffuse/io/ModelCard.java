package diffuse.io;

import diffuse.model.GraphNames;
import java.util.List;
import java.util.Locale;

/**
 * The model card ({@code MODEL_CARD.md}, after Mitchell et al. 2019, "Model Cards for Model
 * Reporting") that {@code export} writes next to what it exports: what the model is, its data and
 * the data's licence, how it was trained, how to sample it with diffuse and through the raw
 * signature, and what it is not for. Generated from model.json alone, so every export of the same
 * model writes the same card.
 */
public final class ModelCard {
  public static final String FILE = "MODEL_CARD.md";

  private ModelCard() {}

  /**
   * The card of {@code info}.
   *
   * @param name what the card calls the model (the export's directory or TF Serving model name)
   * @param diffuseDir the directory {@code diffuse generate --model} reads this model from, or null
   *     when the export is a TF Serving layout, which diffuse does not read
   * @param servingName the TF Serving model name when the export is a TF Serving layout, else null
   */
  public static String markdown(ModelInfo info, String name, String diffuseDir, String servingName) {
    StringBuilder md = new StringBuilder();
    var t = info.training();
    var s = t.settings();
    String dataset = info.data() == null ? "unknown" : info.data().dataset();
    String output = GraphNames.outputName(info.prediction());
    String firstLabel = info.labels().isEmpty() ? "0" : info.labels().get(0);
    long params = info.network().paramSpecs().stream().mapToLong(p -> p.size()).sum();

    md.append("# ").append(name).append(": class-conditional diffusion model\n\n");
    md.append(info.isToy()
        ? String.format(Locale.ROOT, "A toy denoising diffusion model of %d-dimensional points", info.mlp().dim())
        : String.format(Locale.ROOT, "A small denoising diffusion model (DDPM, Ho et al. 2020) of %d×%d %s images",
            info.architecture().height(), info.architecture().width(),
            info.architecture().channels() == 1 ? "grayscale" : "colour"));
    md.append(String.format(Locale.ROOT, ", conditioned on %d classes with classifier-free guidance (Ho & Salimans"
        + " 2022), trained on `%s` with diffuse (Java, TensorFlow). Written by `diffuse export`"
        + " from the model's model.json; the same facts, machine-readable, are in the SavedModel's `%s`.\n\n",
        info.labels().size(), dataset, SavedModelInfo.PATH));

    md.append("## Model\n\n");
    if (info.isToy()) {
      var m = info.mlp();
      md.append(String.format(Locale.ROOT, "- Network: MLP, %d hidden layers of %d, embedding %d; %,d parameters\n",
          m.layers(), m.hidden(), m.embedDim(), params));
    } else {
      var a = info.architecture();
      md.append(String.format(Locale.ROOT, "- Network: U-Net for %d×%d×%d images, widths %s, %d residual block(s)"
          + " per level, embedding %d, GroupNorm %d groups%s; %,d parameters\n", a.height(), a.width(), a.channels(),
          a.widths(), a.resBlocks(), a.embedDim(), a.groups(), a.scaleShiftNorm() ? ", AdaGN" : "", params));
    }
    md.append("- Predicts: ").append(switch (info.prediction()) {
      case EPS -> "ε, the noise (output `eps`)";
      case X0 -> "x_0, the clean image (output `x0`)";
      case V -> "v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0 (Salimans & Ho 2022; output `v`)";
    }).append('\n');
    md.append(String.format(Locale.ROOT, "- Noise schedule: %s, T = %d training timesteps\n",
        info.schedule().kind().name().toLowerCase(Locale.ROOT), info.schedule().steps()));
    md.append("- Labels (y): ");
    for (int i = 0; i < info.labels().size(); i++) {
      md.append(i == 0 ? "" : ", ").append(i).append(" = `").append(info.labels().get(i)).append('`');
    }
    md.append("; null label ").append(info.nullLabel()).append(" = unconditional\n\n");

    md.append("## Training\n\n");
    if (info.data() != null) {
      var d = info.data();
      md.append(String.format(Locale.ROOT, "- Data: `%s`, %,d images of %d×%d×%d", d.dataset(), d.images(),
          d.height(), d.width(), d.channels()));
      md.append(d.classCounts() == null ? "" : ", per class " + d.classCounts()).append('\n');
    }
    md.append(String.format(Locale.ROOT, "- %,d steps = %.2f epochs, batch %d, learning rate %.2g (warm-up %d%s),"
        + " p_uncond %.2f, EMA %.4f, gradient clip %.2g, seed %d, noise levels %s, loss %s\n", t.step(), t.epochs(),
        s.batchSize(),
        s.learningRate(), s.warmupSteps(), s.lrDecaySteps() != null ? ", cosine decay to step " + s.lrDecaySteps()
        : s.cooldownStart() != null ? ", linear cooldown to 0 from step " + s.cooldownStart() + " to " + s.cooldownEnd()
        : "",
        s.pUncond(), s.emaDecay(), s.gradClip(), s.seed(),
        s.pMean() == null ? "t uniform" : String.format(Locale.ROOT,
            "log-normal, ln σ ~ N(%s, %s²) (Karras et al. 2022)", s.pMean(), s.pStd()),
        s.minSnrGamma() == null ? "mean squared error" : "Min-SNR-γ weighted, γ = " + s.minSnrGamma()));
    md.append(String.format(Locale.ROOT, "- Wall time %s; the last run went at %.0f images/s on %s\n",
        ProgressBar.format(t.wallSeconds()), t.imagesPerSecond(), t.device()));
    md.append("- Command(s), in order:\n\n```\n");
    for (String c : t.commands() == null ? java.util.List.<String>of() : t.commands()) {
      md.append(c).append('\n');
    }
    md.append("```\n\n");

    md.append("## Sampling\n\n");
    if (diffuseDir != null) {
      md.append("With diffuse:\n\n```bash\njava -jar target/diffuse.jar generate --model ").append(diffuseDir)
          .append(" --prompt '").append(firstLabel).append("' -n 8 --out samples.png\n```\n\n");
    } else {
      md.append("diffuse samples the model directory this was exported from (`diffuse generate --model DIR`),"
          + " not this layout. With TensorFlow Serving, from the export's `--out` directory (which holds `")
          .append(servingName).append("/`):\n\n```bash\ndocker run -p 8501:8501 -v \"$PWD:/models\" -e MODEL_NAME=")
          .append(servingName).append(" tensorflow/serving\n")
          .append("curl -d '{\"inputs\": {\"x\": [[...]], \"t\": [999.0], \"y\": [0]}}' localhost:8501/v1/models/")
          .append(servingName).append(":predict\n```\n\n");
    }
    md.append(String.format(Locale.ROOT, "Any TensorFlow runtime: load the SavedModel with tag `%s` and call"
        + " signature `%s`:\n\n", GraphNames.TAG, GraphNames.SIGNATURE_KEY));
    String xShape = info.isToy() ? "[B, " + info.mlp().dim() + "]"
        : String.format(Locale.ROOT, "[B, %d, %d, %d] (NHWC)", info.architecture().height(),
            info.architecture().width(), info.architecture().channels());
    md.append("- input `x`: float32 ").append(xShape).append(", the noisy sample x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε; clean")
        .append(" data x_0 is in [−1, 1] (pixel/127.5 − 1)\n");
    md.append(String.format(Locale.ROOT, "- input `t`: float32 [B], the training timestep of each sample, continuous"
        + " in [0, %d] (%d = almost pure noise)\n", info.schedule().steps() - 1, info.schedule().steps() - 1));
    md.append(String.format(Locale.ROOT, "- input `y`: int32 [B], the label of each sample, %d for unconditional\n",
        info.nullLabel()));
    md.append("- output `").append(output).append("`: float32, the shape of `x`\n\n");
    md.append("Classifier-free guidance with scale s combines two calls: out(y = null) + s·(out(y) − out(y = null))."
        + " A DDPM or DDIM sampler needs ᾱ_t, which `").append(SavedModelInfo.PATH)
        .append("` lists for every t, so the schedule need not be rebuilt.");
    if (info.sampling() != null && info.sampling().guidance() != null) {
      List<Double> in = info.sampling().guidanceInterval();
      md.append(String.format(Locale.ROOT, " diffuse samples this model at s = %s%s unless told otherwise (`sampling` in"
          + " model.json).", java.math.BigDecimal.valueOf(info.sampling().guidance()).stripTrailingZeros().toPlainString(),
          in == null ? "" : ", applied only where σ = √((1−ᾱ_t)/ᾱ_t) is in (" + plain(in.get(0)) + ", " + plain(in.get(1))
              + "] (the conditional call alone elsewhere; Kynkäänniemi et al. 2024)"));
      if (info.sampling().guideModel() != null) {
        List<Double> gi = info.sampling().guideInterval();
        md.append(String.format(Locale.ROOT, " By default it is guided by the model `%s` (autoguidance, Karras et al."
            + " 2024: D = D_guide + w·(D' − D_guide), w = that scale, D' this model%s)%s.", info.sampling().guideModel(),
            info.sampling().guideCfg() == null ? "" : " after classifier-free guidance at s = "
                + plain(info.sampling().guideCfg()) + " in the interval above",
            gi == null ? "" : ", the guide called only where σ is in (" + plain(gi.get(0)) + ", " + plain(gi.get(1)) + "]"));
      }
    }
    md.append("\n\n");

    md.append("## Intended use and limits\n\n");
    md.append("- For learning and experimenting with diffusion models: small, fast, reproducible from the commands"
        + " above. It draws images like its training data, of those classes only, at that resolution.\n");
    md.append("- Not for faces, people, photographs or anything of consequence: it was never trained on such data,"
        + " its samples are visibly imperfect, and nothing filters what it draws.\n");
    md.append("- It carries the biases and gaps of its training data; samples of rare classes are worse.\n\n");

    md.append("## Licence of the data\n\n");
    md.append(dataLicence(dataset, info.isToy())).append("\n");
    return md.toString();
  }

  /** The licence of a data set diffuse knows, or a sentence saying it is the folder's own. */
  static String dataLicence(String dataset, boolean toy) {
    String d = dataset.toLowerCase(Locale.ROOT);
    if (d.equals("mnist")) {
      return "MNIST (LeCun, Cortes & Burges): Creative Commons Attribution-Share Alike 3.0.";
    }
    if (d.equals("fashion-mnist")) {
      return "Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, Zalando Research): MIT licence.";
    }
    if (d.startsWith("folder:")) {
      return "An image folder that diffuse knows nothing about: the licence of those images applies.";
    }
    return toy ? "Points generated by diffuse (`toy train`): no third-party data."
        : "Unknown to diffuse: the licence of the data it was trained on applies.";
  }

  private static String plain(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }
}
