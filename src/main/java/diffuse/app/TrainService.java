package diffuse.app;

import diffuse.api.Defaults;
import diffuse.data.Dataset;
import diffuse.data.DatasetSpec;
import diffuse.data.Datasets;
import diffuse.api.DiffuseException;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.model.TrainSettings;
import diffuse.model.UNetConfig;
import diffuse.api.Listener;
import diffuse.runtime.Device;
import diffuse.train.TrainingRun;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The train use case: turns a {@link TrainRequest} into a {@link TrainingRun} that is ready to go —
 * data loaded and checked against the model, the model's description made (a new run) or read and
 * reconciled with the request (a resumed run). The caller runs it, and may stop it from another
 * thread with {@link TrainingRun#requestStop()} (the CLI does on Ctrl-C).
 */
public final class TrainService {
  private TrainService() {}

  /** A setting given to a resumed run that differs from the one its model.json recorded. */
  public record Conflict(String field, Object given, Object recorded) {}

  /** A resumed run asked to change settings it keeps; names every conflicting field. */
  public static final class SettingsConflict extends DiffuseException {
    private final String modelJson;
    private final List<Conflict> conflicts;

    SettingsConflict(String modelJson, List<Conflict> conflicts) {
      super(Code.BAD_VALUE, conflicts.get(0).field(), describe(modelJson, conflicts, f -> f), null);
      this.modelJson = modelJson;
      this.conflicts = List.copyOf(conflicts);
    }

    public List<Conflict> conflicts() {
      return conflicts;
    }

    /** The message with each field spelled by {@code name} (the CLI: its option). */
    public String describe(UnaryOperator<String> name) {
      return describe(modelJson, conflicts, name);
    }

    private static String describe(String modelJson, List<Conflict> cs, UnaryOperator<String> name) {
      List<String> parts = cs.stream()
          .map(c -> name.apply(c.field()) + " " + c.given() + " differs from the run's " + c.recorded()).toList();
      return "a resumed run keeps its settings (" + modelJson + "): " + String.join(", ", parts)
          + "; leave them out, or start a new run";
    }
  }

  /**
   * Prepares the run that {@code request} asks for.
   *
   * @param command the command line recorded in model.json
   * @param listener where the run reports what it does (model size, progress, checkpoints)
   */
  public static TrainingRun prepare(TrainRequest request, Device.Choice device, String command, Listener listener) {
    return request.resuming() ? prepareResume(request, device, command, listener)
        : prepareNew(request, device, command, listener);
  }

  private static TrainingRun prepareNew(TrainRequest r, Device.Choice device, String command, Listener listener) {
    if (Files.exists(r.out().resolve(ModelStore.MODEL_JSON))) {
      throw DiffuseException.badValue("out", "out " + r.out() + " already holds a model; continue it with"
          + " train --resume " + r.out() + ", or choose another directory");
    }
    TrainSettings settings = r.settings().toBuilder().snapshotEvery(r.snapshotEvery() == null ? 0L : r.snapshotEvery())
        .build();
    DatasetSpec dspec = DatasetSpec.parse(r.dataset());
    Dataset full = Datasets.load(dspec, Datasets.Split.TRAIN, r.dataDir(), folderImageSize(dspec, r.imageSize()),
        listener);
    Dataset data = r.limit() == null ? full : firstImages(full, r.limit());
    int batch = settings.batchSize();
    if (data.size() < batch) { // an epoch of whole batches would have no step, and the run would save nothing
      throw DiffuseException.badValue("batchSize", String.format("batchSize %d is more than the %d training images%s:"
          + " a smaller batch or more images", batch, data.size(), r.limit() != null ? " (limit " + r.limit() + ")" : ""));
    }
    if (lastStep(r.epochs(), data.size() / batch) < 1) {
      throw DiffuseException.badValue("epochs", String.format("epochs %s is less than one step of %d images (an epoch"
          + " is %d steps)", r.epochs(), batch, data.size() / batch));
    }
    if (Boolean.TRUE.equals(r.cosineDecay())) {
      // the horizon is the run's last step, as TrainingRun counts it: epochs × whole batches per epoch
      settings = settings.withCosineDecay(lastStep(r.epochs(), data.size() / settings.batchSize()));
    }
    if (r.cooldown() != null) {
      long total = lastStep(r.epochs(), data.size() / settings.batchSize());
      if (r.cooldown() > total - settings.warmupSteps()) {
        throw DiffuseException.badValue("cooldown", "cooldown of " + r.cooldown() + " steps does not fit in a run of "
            + total + " steps after its " + settings.warmupSteps() + " warm-up steps");
      }
      settings = settings.withCooldown(total - r.cooldown(), total);
    }
    UNetConfig arch = new UNetConfig(data.height(), data.width(), data.channels(), data.numClasses(),
        or(r.widths(), Defaults.TRAIN_WIDTHS), or(r.resBlocks(), Defaults.TRAIN_RES_BLOCKS),
        or(r.embedDim(), Defaults.TRAIN_EMBED_DIM), or(r.groups(), Defaults.TRAIN_GROUPS), r.adaGnOrDefault());
    ModelInfo info = new ModelInfo(ModelInfo.FORMAT, arch, null,
        new ModelInfo.Schedule(or(r.schedule(), TrainRequest.DEFAULT_SCHEDULE), or(r.timesteps(), Defaults.TRAIN_TIMESTEPS)),
        data.labelNames(), arch.nullLabel(),
        new ModelInfo.Data(dspec.toString(), data.size(), data.height(), data.width(), data.channels(),
            Arrays.stream(data.classCounts()).boxed().toList()),
        new ModelInfo.Training(settings, 0, 0, 0, 0, "", List.of()), null);
    return new TrainingRun(r.out(), info, data, false, r.epochs(), device, command, listener);
  }

  private static TrainingRun prepareResume(TrainRequest r, Device.Choice device, String command, Listener listener) {
    ModelInfo info = ModelStore.open(r.resume()).info();
    if (info.isToy()) {
      throw DiffuseException.badValue("resume", r.resume() + " is a two-pixel toy model; train a new one with"
          + " `diffuse toy train` (seconds)");
    }
    if (info.data() == null) { // an exported model keeps it; a model.json edited by hand may not
      throw new diffuse.api.ModelException(r.resume().resolve(ModelStore.MODEL_JSON) + " is corrupt: it records no"
          + " training data (\"data\"), so the run cannot be resumed");
    }
    checkNoConflicts(r, info);
    long every = info.training().settings().checkpointInterval();
    if (r.checkpointEvery() != null && r.checkpointEvery() != every) {
      listener.message(String.format("checkpoints every %d steps from now on (the run had %d)", r.checkpointEvery(),
          every));
      info = info.withTraining(info.training().withSettings(
          info.training().settings().withCheckpointEvery(r.checkpointEvery())));
    }
    Long snapshots = info.training().settings().snapshotEvery();
    if (r.snapshotEvery() != null && !r.snapshotEvery().equals(snapshots)) {
      String had = snapshots == null ? "recorded none" : snapshots == 0 ? "none" : "one every " + snapshots + " steps";
      listener.message(r.snapshotEvery() == 0 ? "no snapshots from now on (the run had " + had + ")"
          : String.format("snapshots every %d steps from now on (the run had %s)", r.snapshotEvery(), had));
      info = info.withTraining(info.training().withSettings(
          info.training().settings().toBuilder().snapshotEvery(r.snapshotEvery()).build()));
    }
    DatasetSpec recorded = DatasetSpec.parse(info.data().dataset());
    DatasetSpec dspec = r.dataset() != null ? DatasetSpec.parse(r.dataset()) : recorded;
    Dataset full = Datasets.load(dspec, Datasets.Split.TRAIN, r.dataDir(), info.architecture().height(), listener);
    // the run used the first data().images() images (all of them unless it was started with a limit)
    if (full.size() < info.data().images()) {
      throw new DiffuseException(DiffuseException.Code.BAD_VALUE, "dataset", dspec + " has " + full.size()
          + " images; the run trained on " + info.data().images(), null);
    }
    Dataset data = firstImages(full, info.data().images());
    checkMatches(info, data);
    info = withCooldown(r, info, data.size() / info.training().settings().batchSize());
    if (!dspec.toString().equals(recorded.toString())) {
      listener.message(String.format("data: %s in place of the recorded %s (same labels, size and class counts)",
          dspec, recorded));
      var d = info.data();
      info = info.withData(new ModelInfo.Data(dspec.toString(), d.images(), d.height(), d.width(), d.channels(),
          d.classCounts()));
    }
    // a run with a cooldown ends where the cooldown does (its rate is 0 there), whatever --epochs says below it
    Long end = info.training().settings().cooldownEnd();
    double epochs = end != null ? (double) end / (data.size() / info.training().settings().batchSize()) : r.epochs();
    return new TrainingRun(r.resume(), info, data, true, epochs, device, command, listener);
  }

  /** The last step of a run of {@code epochs}, as TrainingRun counts it: epochs × whole batches per epoch. */
  private static long lastStep(double epochs, long stepsPerEpoch) {
    return Math.round(epochs * stepsPerEpoch);
  }

  /**
   * The cooldown of a resumed run: a new one over the last {@code r.cooldown()} steps up to the
   * asked epochs, which may not start before the step the run is at (the steps taken at the constant
   * rate stay as they were), or the one it has, which it may not train past (its rate is 0 there) and
   * which sets where the run ends.
   */
  private static ModelInfo withCooldown(TrainRequest r, ModelInfo info, long stepsPerEpoch) {
    TrainSettings s = info.training().settings();
    long total = lastStep(r.epochs(), stepsPerEpoch);
    long step = info.training().step();
    if (s.cooldownEnd() != null) {
      if (total > s.cooldownEnd()) {
        throw DiffuseException.badValue("epochs", String.format("epochs %s goes past the run's cooldown, which took its"
            + " learning rate to 0 at step %d (%.2f epochs); start a new run", r.epochs(), s.cooldownEnd(),
            (double) s.cooldownEnd() / stepsPerEpoch));
      }
      return info;
    }
    if (r.cooldown() == null) {
      return info;
    }
    if (s.lrDecaySteps() != null) {
      throw DiffuseException.badValue("cooldown", "cooldown cannot be added: the run decays its learning rate along a cosine already");
    }
    long start = total - r.cooldown();
    if (start < step) {
      throw DiffuseException.badValue("cooldown", String.format("cooldown of %d steps ending at %s epochs (step %d)"
          + " would start at step %d, but the run is at step %d already: ask for at most %d steps, or more epochs",
          r.cooldown(), r.epochs(), total, start, step, total - step));
    }
    return info.withTraining(info.training().withSettings(s.withCooldown(start, total)));
  }

  /**
   * A resumed run keeps the settings it was started with (model.json): a given setting that would
   * change one is an error rather than silently ignored. The same value again is accepted.
   */
  private static void checkNoConflicts(TrainRequest r, ModelInfo info) {
    TrainSettings s = info.training().settings();
    UNetConfig a = info.architecture();
    List<Conflict> conflicts = new ArrayList<>();
    conflict(conflicts, "batchSize", r.batchSize(), s.batchSize());
    conflict(conflicts, "lr", r.lr(), s.learningRate());
    conflict(conflicts, "warmup", r.warmup(), s.warmupSteps());
    conflict(conflicts, "pUncond", r.pUncond(), s.pUncond());
    conflict(conflicts, "emaDecay", r.emaDecay(), s.emaDecay());
    conflict(conflicts, "gradClip", r.gradClip(), s.gradClip());
    conflict(conflicts, "seed", r.seed(), s.seed());
    conflict(conflicts, "schedule", r.schedule(), info.schedule().kind());
    conflict(conflicts, "timesteps", r.timesteps(), info.schedule().steps());
    conflict(conflicts, "widths", r.widths(), a.widths());
    conflict(conflicts, "resBlocks", r.resBlocks(), a.resBlocks());
    conflict(conflicts, "embedDim", r.embedDim(), a.embedDim());
    conflict(conflicts, "groups", r.groups(), a.groups());
    conflict(conflicts, "scaleShiftNorm", r.scaleShiftNorm(), a.scaleShiftNorm());
    conflict(conflicts, "imageSize", r.imageSize(), a.height());
    conflict(conflicts, "limit", r.limit(), info.data().images());
    conflict(conflicts, "prediction", r.prediction(), s.target());
    conflict(conflicts, "minSnrGamma", r.minSnrGamma(), s.minSnrGamma());
    conflict(conflicts, "cosineDecay", r.cosineDecay(), s.lrDecaySteps() != null);
    Object uniform = "none (t uniform)";
    conflict(conflicts, "pMean", r.pMean(), s.pMean() == null ? uniform : s.pMean());
    conflict(conflicts, "pStd", r.pStd(), s.pStd() == null ? uniform : s.pStd());
    conflict(conflicts, "uniformT", r.uniformT(), s.pMean() == null);
    conflict(conflicts, "extraEma", r.extraEma(), s.extraEmas());
    if (r.cooldown() != null && s.cooldownStart() != null) {
      conflict(conflicts, "cooldown", r.cooldown(), s.cooldownEnd() - s.cooldownStart());
    }
    if (!conflicts.isEmpty()) {
      throw new SettingsConflict(r.resume().resolve(ModelStore.MODEL_JSON).toString(), conflicts);
    }
  }

  private static void conflict(List<Conflict> out, String field, Object given, Object recorded) {
    if (given != null && !Objects.equals(normalise(given), normalise(recorded))) {
      out.add(new Conflict(field, given, recorded));
    }
  }

  private static Object normalise(Object v) {
    return v instanceof Number n && !(v instanceof Double) && !(v instanceof Float) ? (Object) n.longValue()
        : v instanceof Float f ? (Object) f.doubleValue() : v;
  }

  private static <T> T or(T v, T fallback) {
    return v != null ? v : fallback;
  }

  /** The first {@code n} images of a data set (the limit of quick runs, kept by a resumed one). */
  static Dataset firstImages(Dataset d, int n) {
    if (n >= d.size()) {
      return d;
    }
    int per = d.imageSize();
    return new Dataset(d.name(), Arrays.copyOf(d.pixels(), n * per), Arrays.copyOf(d.labels(), n),
        d.height(), d.width(), d.channels(), d.labelNames());
  }

  /** The side folder images are resized to; an image size with MNIST-style data is an error, not ignored. */
  public static int folderImageSize(DatasetSpec spec, Integer given) {
    if (given == null) {
      return Defaults.TRAIN_FOLDER_IMAGE_SIZE;
    }
    if (spec.kind() != DatasetSpec.Kind.FOLDER) {
      throw DiffuseException.badValue("imageSize", "imageSize applies to folder:PATH data sets only; " + spec
          + " images are 28x28 and are used as they are");
    }
    return given;
  }

  private static void checkMatches(ModelInfo info, Dataset data) {
    var a = info.architecture();
    if (a.height() != data.height() || a.width() != data.width() || a.channels() != data.channels()
        || !info.labels().equals(data.labelNames())
        || !Arrays.stream(data.classCounts()).boxed().toList().equals(info.data().classCounts())) {
      throw new DiffuseException(DiffuseException.Code.BAD_VALUE, "dataset", "the data (" + data.height() + "x"
          + data.width() + "x" + data.channels() + ", labels " + data.labelNames() + ") does not match the model ("
          + a.height() + "x" + a.width() + "x" + a.channels() + ", labels " + info.labels() + ")", null);
    }
  }
}
