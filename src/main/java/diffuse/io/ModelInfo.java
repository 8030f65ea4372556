package diffuse.io;

import diffuse.model.MlpConfig;
import diffuse.model.NoiseNet;
import diffuse.model.ToyMlp;
import diffuse.model.UNet;
import diffuse.model.UNetConfig;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import diffuse.model.TrainSettings;
import java.util.List;
import java.util.Map;

/**
 * Everything {@code model.json} says about a model: enough to rebuild and use it without flags
 * (nanoGPT's "model_args in the checkpoint").
 *
 * @param format version of this file's layout
 * @param architecture the U-Net config (image models), or null
 * @param mlp the toy MLP config (two-pixel models), or null
 * @param schedule the noise schedule trained with
 * @param labels class names, index = label
 * @param nullLabel the label value meaning "no class" (= labels.size())
 * @param data what it was trained on
 * @param training how and how long it was trained
 * @param checkpoint subdirectory holding the current checkpoint
 * @param files size and CRC-32C of every file of that checkpoint (relative to it), checked when the
 *     model is opened; null in models written before this was recorded
 * @param sampling how this model samples when a request does not say ({@code export --guidance}); null:
 *     the library's defaults
 */
public record ModelInfo(
    int format,
    UNetConfig architecture,
    MlpConfig mlp,
    Schedule schedule,
    List<String> labels,
    int nullLabel,
    Data data,
    Training training,
    String checkpoint,
    Map<String, Manifest.FileSum> files,
    Sampling sampling) {

  public static final int FORMAT = 1;

  /** A description with no checkpoint files recorded yet (a new model, before its first save). */
  public ModelInfo(int format, UNetConfig architecture, MlpConfig mlp, Schedule schedule, List<String> labels,
      int nullLabel, Data data, Training training, String checkpoint) {
    this(format, architecture, mlp, schedule, labels, nullLabel, data, training, checkpoint, null, null);
  }

  /**
   * The defaults a model carries for sampling, chosen by measuring it: each model's best guidance
   * differs (the shipped MNIST model samples at s = 1.45 in σ (0.3, 5], Fashion-MNIST's at s = 1.5 at
   * every step), so no one library-wide default serves every model. A request's own value, and a
   * user's own defaults on the command line, come first.
   *
   * @param guidance the guidance scale s to sample at, or null for {@link diffuse.api.Defaults#GUIDANCE}
   * @param guidanceInterval [σ_lo, σ_hi]: classifier-free guidance only at noise levels in (σ_lo, σ_hi]
   *     unless a request names its own interval or every step (Kynkäänniemi et al. 2024); null: every step
   * @param guideModel the model that guides this one by autoguidance (Karras et al. 2024) unless a request
   *     names another or none: a directory beside this model's own (for example {@code mnist-guide}), or an
   *     absolute one; {@code guidance} is then autoguidance's w. Null: classifier-free guidance alone
   * @param guideCfg with {@code guideModel}: the CFG scale applied to this model first (shaped by
   *     {@code guidanceInterval}), or null for none
   * @param guideInterval with {@code guideModel}: the noise levels [σ_lo, σ_hi] at which the guide is called;
   *     null: every step
   */
  public record Sampling(Double guidance, List<Double> guidanceInterval, String guideModel, Double guideCfg,
      List<Double> guideInterval) {
    public Sampling {
      if (guideModel != null && (guideModel.isBlank() || guideModel.equals(diffuse.sampling.Guidance.NO_GUIDE))) {
        throw new diffuse.api.ModelException("sampling.guideModel must name a model directory, got '" + guideModel + "'");
      }
      if (guideModel == null && (guideCfg != null || guideInterval != null)) {
        throw new diffuse.api.ModelException("sampling.guideCfg and sampling.guideInterval need sampling.guideModel");
      }
      if (guideModel != null) {
        try { // the same checks as a request's
          diffuse.sampling.Guidance.PLAIN.withGuide(guideModel, guideCfg, guideInterval);
        } catch (diffuse.api.DiffuseException e) {
          throw new diffuse.api.ModelException("sampling." + e.getMessage());
        }
      }
      if (guidance != null && !Double.isFinite(guidance)) {
        throw new diffuse.api.ModelException("sampling.guidance must be a finite number, got " + guidance);
      }
      if (guidanceInterval != null && guidanceInterval.isEmpty()) {
        guidanceInterval = null; // every step
      } else if (guidanceInterval != null) {
        try { // the same check as a request's interval
          guidanceInterval = diffuse.sampling.Guidance.PLAIN.withInterval(guidanceInterval).interval();
        } catch (diffuse.api.DiffuseException e) {
          throw new diffuse.api.ModelException("sampling." + e.getMessage());
        }
      }
    }

    public Sampling(Double guidance) {
      this(guidance, null);
    }

    /** Classifier-free guidance alone. */
    public Sampling(Double guidance, List<Double> guidanceInterval) {
      this(guidance, guidanceInterval, null, null, null);
    }
  }

  /** The guidance scale this model samples at unless told otherwise: its own, else the library's. */
  public double defaultGuidance() {
    return sampling != null && sampling.guidance() != null ? sampling.guidance() : diffuse.api.Defaults.GUIDANCE;
  }

  /**
   * The noise levels [σ_lo, σ_hi] in which this model applies classifier-free guidance unless told
   * otherwise, or null: every step.
   */
  public List<Double> defaultGuidanceInterval() {
    return sampling == null ? null : sampling.guidanceInterval();
  }

  /** The schedule: kind and number of training steps T. */
  public record Schedule(ScheduleKind kind, int steps) {
    public NoiseSchedule build() {
      return NoiseSchedule.of(kind, steps);
    }
  }

  /** The training data. */
  public record Data(String dataset, int images, int height, int width, int channels, List<Integer> classCounts) {}

  /**
   * The training so far.
   *
   * @param settings optimiser settings
   * @param step optimisation steps done
   * @param epochs passes over the data done (fractional)
   * @param wallSeconds training wall time summed over every run
   * @param imagesPerSecond throughput of the last run
   * @param device device of the last run
   * @param commands every command line that trained it, in order
   */
  public record Training(
      TrainSettings settings, long step, double epochs, double wallSeconds, double imagesPerSecond,
      String device, List<String> commands) {
    public Training {
      commands = commands == null ? List.of() : commands; // a hand-edited model.json without them reads as none
    }

    public Training withSettings(TrainSettings s) {
      return new Training(s, step, epochs, wallSeconds, imagesPerSecond, device, commands);
    }

    /** With {@code command} recorded after the others (the export that made a shipped model, say). */
    public Training withCommand(String command) {
      List<String> c = new java.util.ArrayList<>(commands == null ? List.of() : commands);
      c.add(command);
      return new Training(settings, step, epochs, wallSeconds, imagesPerSecond, device, List.copyOf(c));
    }
  }

  /** What the network predicts (model.json's training settings; ε for models that do not say). */
  public diffuse.sampling.Prediction prediction() {
    return training == null || training.settings() == null ? diffuse.sampling.Prediction.EPS
        : training.settings().target();
  }

  public ModelInfo withCheckpoint(String name) {
    return new ModelInfo(format, architecture, mlp, schedule, labels, nullLabel, data, training, name, files, sampling);
  }

  public ModelInfo withFiles(Map<String, Manifest.FileSum> sums) {
    return new ModelInfo(format, architecture, mlp, schedule, labels, nullLabel, data, training, checkpoint, sums, sampling);
  }

  public ModelInfo withData(Data d) {
    return new ModelInfo(format, architecture, mlp, schedule, labels, nullLabel, d, training, checkpoint, files, sampling);
  }

  public ModelInfo withTraining(Training t) {
    return new ModelInfo(format, architecture, mlp, schedule, labels, nullLabel, data, t, checkpoint, files, sampling);
  }

  /** With {@code s} as its sampling defaults (null: the library's). */
  public ModelInfo withSampling(Sampling s) {
    return new ModelInfo(format, architecture, mlp, schedule, labels, nullLabel, data, training, checkpoint, files, s);
  }

  /** True for a two-pixel toy model, false for an image model. */
  public boolean isToy() {
    return mlp != null;
  }

  /** The network this file describes. */
  public NoiseNet network() {
    return mlp != null ? new ToyMlp(mlp) : new UNet(architecture);
  }
}
