package diffuse.io;

import diffuse.api.DiffuseException;
import diffuse.api.ModelException;
import diffuse.model.EpsilonGraph;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The model directory. Layout:
 *
 * <pre>
 * DIR/model.json                 architecture, schedule, labels, data, training; names the checkpoint
 * DIR/ckpt-00001234/saved_model/ TensorFlow SavedModel, serving signature f(x, t, y) on the EMA weights, its
 *                                output named eps, x0 or v; assets.extra/diffuse.json describes it
 * DIR/ckpt-00001234/state/       TensorFlow checkpoint of weights, Adam moments and EMA (for --resume)
 * DIR/ckpt-00001234/model.json   copy of model.json, so a checkpoint directory stands alone
 * DIR/loss.csv                   the loss log
 * </pre>
 *
 * <p>Saving is atomic ({@link VersionedDir}): the new checkpoint is written completely under a
 * temporary name, forced to disk and renamed to a name no directory has (a second save of the same
 * step gets {@code ckpt-00001234-2}); only then does {@code model.json}, itself replaced by an atomic
 * rename, point at it, and older checkpoints are deleted last. A crash at any point leaves
 * {@code model.json} naming a complete checkpoint. {@code model.json} records the size and CRC-32C
 * of each checkpoint file, and {@link #open} checks them, so a damaged file is reported by name.
 */
public final class ModelStore {
  public static final String MODEL_JSON = "model.json";
  public static final String SAVED_MODEL = "saved_model";
  public static final String STATE = "state";
  static final String STATE_PREFIX = "state";
  static final String CKPT_PREFIX = "ckpt-";

  private ModelStore() {}

  /** What a save writes: EMA weights for the SavedModel and, if present, the training state. */
  public interface CheckpointContent {
    Map<String, float[]> emaWeights();

    /** The run's extra averages by decay, each exported beside the main one ({@link #extraSavedModel}). */
    default Map<Double, Map<String, float[]>> extraEmaWeights() {
      return Map.of();
    }

    /** Writes the full training state at this TensorFlow checkpoint prefix. */
    void saveState(String prefix);
  }

  /** A loaded model directory. */
  public record StoredModel(Path dir, ModelInfo info, Path checkpointDir) {
    public Path savedModel() {
      return checkpointDir.resolve(SAVED_MODEL);
    }

    /** Checks the training-state files against the sizes and checksums recorded when they were saved. */
    public void verifyState() {
      if (info.files() != null) {
        Manifest.verify(checkpointDir, Manifest.select(info.files(), name -> name.startsWith(STATE + "/")),
            checkpointDir.toString());
      }
    }

    /**
     * The short hash of the weights ({@link Manifest#weightsHash}): from the sums model.json records,
     * or, for a model.json that records none, from the files.
     */
    public String modelHash() {
      if (info.files() != null) {
        return Manifest.weightsHash(info.files());
      }
      try {
        return Manifest.weightsHash(checkpointDir);
      } catch (IOException e) {
        throw new ModelException("cannot read the weights of " + checkpointDir + ": " + AtomicFiles.describe(e), e);
      }
    }

    /** Prefix of the training-state checkpoint, or null if this model has none (shipped models). */
    public String statePrefix() {
      Path state = checkpointDir.resolve(STATE);
      return Files.isDirectory(state) ? state.resolve(STATE_PREFIX).toString() : null;
    }
  }

  /** The directory, inside a checkpoint, of the SavedModel of the extra average with {@code decay}. */
  public static String extraSavedModel(double decay) {
    return SAVED_MODEL + "-ema" + decay;
  }

  /** Name of the checkpoint directory for a step. */
  public static String checkpointName(long step) {
    return String.format("ckpt-%08d", step);
  }

  /**
   * Writes a complete checkpoint of {@code info}'s step into {@code dir} ({@link VersionedDir#stage}:
   * a new directory, never replacing one) and returns the description naming it, with the size and
   * checksum of each of its files; {@code model.json} is not touched, so until {@link #commit} the
   * previous checkpoint stays current.
   */
  public static ModelInfo writeCheckpoint(Path dir, ModelInfo info, CheckpointContent content, boolean withState)
      throws IOException {
    ModelInfo[] staged = new ModelInfo[1];
    try {
      VersionedDir.stage(dir, checkpointName(info.training().step()), (tmp, name) -> {
        writeSavedModel(tmp.resolve(SAVED_MODEL), info, content.emaWeights());
        for (Map.Entry<Double, Map<String, float[]>> e : content.extraEmaWeights().entrySet()) {
          writeSavedModel(tmp.resolve(extraSavedModel(e.getKey())), info, e.getValue());
        }
        if (withState) {
          Files.createDirectories(tmp.resolve(STATE));
          content.saveState(tmp.resolve(STATE).resolve(STATE_PREFIX).toString());
        }
        staged[0] = info.withCheckpoint(name).withFiles(Manifest.of(tmp, MODEL_JSON));
        Json.writeAtomically(tmp.resolve(MODEL_JSON), staged[0]);
      });
    } catch (RuntimeException e) {
      // TensorFlow reports I/O failures (disk full, permissions) as unchecked exceptions
      throw new IOException(DiffuseException.firstLine(e.getMessage()), e);
    }
    return staged[0];
  }

  /**
   * Points {@code model.json} at the staged checkpoint (the commit: one atomic rename), then deletes
   * the other checkpoints and any leftovers of interrupted saves.
   */
  public static void commit(Path dir, ModelInfo staged) throws IOException {
    VersionedDir.commit(dir, CKPT_PREFIX, staged.checkpoint(),
        name -> Json.writeAtomically(dir.resolve(MODEL_JSON), staged));
  }

  /** Saves atomically: {@link #writeCheckpoint} then {@link #commit}; returns what model.json now says. */
  public static ModelInfo save(Path dir, ModelInfo info, CheckpointContent content, boolean withState)
      throws IOException {
    ModelInfo staged = writeCheckpoint(dir, info, content, withState);
    commit(dir, staged);
    return staged;
  }

  /**
   * Deletes what a crash can leave in a model directory besides its current checkpoint: temporary
   * directories and files of an interrupted save, and checkpoints written but never committed.
   *
   * @return the names removed
   */
  public static List<String> removeLeftovers(StoredModel m) throws IOException {
    if (!m.checkpointDir().getParent().equals(m.dir())) {
      return List.of(); // opened as a checkpoint directory: nothing of the run to tidy
    }
    return VersionedDir.deleteAllBut(m.dir(), CKPT_PREFIX, m.info().checkpoint());
  }

  /** Opens a model directory (a run directory, or a checkpoint directory inside one). */
  public static StoredModel open(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ModelException("model directory not found: " + dir);
    }
    Path json = dir.resolve(MODEL_JSON);
    if (!Files.isRegularFile(json)) {
      String orphan = lastCompleteCheckpoint(dir);
      if (orphan != null) {
        throw new ModelException(json + " is missing; " + dir.resolve(orphan) + " holds a complete checkpoint: copy its "
            + MODEL_JSON + " to " + json + " to use it");
      }
      if (hasTrainingLeftovers(dir)) {
        throw new ModelException(dir + " holds no saved model yet (its training stopped before the first checkpoint);"
            + " start the training again with --out " + dir);
      }
      throw new ModelException(dir + " is not a model directory (no " + MODEL_JSON + ")");
    }
    ModelInfo info = Json.read(json, ModelInfo.class);
    if (info.format() != ModelInfo.FORMAT) {
      throw new ModelException(json + " has format " + info.format() + "; this version reads format "
          + ModelInfo.FORMAT);
    }
    if ((info.architecture() == null) == (info.mlp() == null) || info.schedule() == null || info.labels() == null
        || info.checkpoint() == null || info.training() == null || info.training().settings() == null) {
      throw new ModelException(json + " is corrupt: missing architecture, schedule, labels, training (and its"
          + " settings) or checkpoint");
    }
    int classes;
    try {
      // re-run the records' checks on what was read
      if (info.architecture() != null) {
        var a = info.architecture();
        classes = new diffuse.model.UNetConfig(a.height(), a.width(), a.channels(), a.numClasses(), a.widths(),
            a.resBlocks(), a.embedDim(), a.groups()).numClasses();
      } else {
        var m = info.mlp();
        classes = new diffuse.model.MlpConfig(m.dim(), m.numClasses(), m.hidden(), m.layers(), m.embedDim()).numClasses();
      }
    } catch (RuntimeException e) {
      throw new ModelException(json + " has an invalid architecture: " + e.getMessage(), e);
    }
    if (info.schedule().kind() == null) { // an unknown kind reads as null
      throw new ModelException(json + " has an invalid schedule: its kind is not one of "
          + java.util.Arrays.toString(diffuse.schedule.ScheduleKind.values()));
    }
    try {
      info.schedule().build(); // T ≥ 1, and a schedule whose ᾱ_t are all in (0, 1)
    } catch (RuntimeException e) {
      throw new ModelException(json + " has an invalid schedule: " + e.getMessage(), e);
    }
    if (info.labels().size() != classes || info.nullLabel() != classes) {
      throw new ModelException(json + " is corrupt: labels and classes disagree");
    }
    Path ckpt = dir.getFileName() != null && dir.getFileName().toString().equals(info.checkpoint())
        ? dir : dir.resolve(info.checkpoint());
    if (!Files.isDirectory(ckpt)) {
      throw new ModelException("model " + dir + " is incomplete: " + json + " names checkpoint " + info.checkpoint()
          + ", which is missing");
    }
    if (info.files() != null) {
      // what sampling reads; the training state is checked by verifyState when a run resumes
      Manifest.verify(ckpt, Manifest.select(info.files(), name -> !name.startsWith(STATE + "/")), ckpt.toString());
    }
    if (!ckpt.equals(dir)) {
      ModelInfo copy = Json.read(ckpt.resolve(MODEL_JSON), ModelInfo.class);
      if (!info.checkpoint().equals(copy.checkpoint()) || !java.util.Objects.equals(info.architecture(), copy.architecture())
          || !java.util.Objects.equals(info.mlp(), copy.mlp())) {
        throw new ModelException(ckpt.resolve(MODEL_JSON) + " does not describe the checkpoint " + json + " names");
      }
    }
    if (!Files.isRegularFile(ckpt.resolve(SAVED_MODEL).resolve("saved_model.pb"))) {
      throw new ModelException("model " + dir + " is incomplete: " + ckpt.resolve(SAVED_MODEL)
          + " has no saved_model.pb");
    }
    return new StoredModel(dir, info, ckpt);
  }

  /**
   * The SavedModel of a network predicting {@code info.prediction()} with {@code weights}, and its
   * {@link SavedModelInfo#PATH} description, in {@code dir}: what every checkpoint and export holds.
   */
  static void writeSavedModel(Path dir, ModelInfo info, Map<String, float[]> weights) throws IOException {
    try (EpsilonGraph eg = new EpsilonGraph(info.network(), info.prediction())) {
      eg.exportSavedModel(dir, weights, new EpsilonGraph.Metadata(info.labels(), info.nullLabel(), info.prediction(),
          info.schedule().build().alphasCumprod()));
    }
    SavedModelInfo.write(dir, info);
    // model.json itself beside the description, for tools that read diffuse's own format
    Json.writeAtomically(dir.resolve("assets.extra").resolve(MODEL_JSON), info);
  }

  /**
   * Writes the current model of {@code source} to {@code target} without its training state:
   * model.json, a SavedModel rebuilt by this version's graph code from the source's weights (a
   * few MB, what the repository ships) and {@value ModelCard#FILE}. Published like a checkpoint
   * ({@link VersionedDir}): a model already in {@code target} stays current until the new one is
   * complete; the card, derived from model.json, is replaced after that. A {@code target} that
   * exists and is not a model directory is refused rather than replaced.
   */
  public static StoredModel export(Path source, Path target) throws IOException {
    return export(source, target, null);
  }

  /**
   * One weight average of a run's current checkpoint: the model's own ({@code ema} null or its
   * decay) or one of the extra averages it keeps ({@code train --extra-ema}), with the description
   * of a model made of it (that decay as its EMA, no extra averages).
   */
  record Average(Path savedModel, ModelInfo info) {
    /** Its weights; a SavedModel that cannot be read is a {@link ModelException} naming it. */
    Map<String, float[]> weights() {
      try {
        return readWeights(savedModel, info);
      } catch (RuntimeException e) {
        throw new ModelException("cannot read the weights of " + savedModel + ": " + DiffuseException.firstLine(e.getMessage()), e);
      }
    }
  }

  static Average average(StoredModel m, Double ema) {
    diffuse.model.TrainSettings s = m.info().training().settings();
    if (ema == null || ema == s.emaDecay()) { // alone: the copy holds none of the run's other averages
      return new Average(m.savedModel(), s.extraEmas().isEmpty() ? m.info()
          : m.info().withTraining(m.info().training().withSettings(s.toBuilder().extraEmaDecays(null).build())));
    }
    if (!s.extraEmas().contains(ema)) {
      throw DiffuseException.badValue("ema", "ema " + ema + " is not an average of " + m.dir() + ": it keeps "
          + s.emaDecay() + (s.extraEmas().isEmpty() ? " only" : " and " + s.extraEmas()));
    }
    Path dir = m.checkpointDir().resolve(extraSavedModel(ema));
    if (!Files.isDirectory(dir)) {
      throw new ModelException(dir + " is missing: the checkpoint holds no SavedModel of the average " + ema);
    }
    return new Average(dir, m.info().withTraining(m.info().training().withSettings(
        s.toBuilder().emaDecay(ema).extraEmaDecays(null).build())));
  }

  /** {@link #export(Path, Path)} of the run's weight average {@code ema} (null: the model's own). */
  public static StoredModel export(Path source, Path target, Double ema) throws IOException {
    return export(source, target, ema, null);
  }

  /**
   * {@link #export(Path, Path, Double)}, recording {@code command} (the export's own command line,
   * or null) after the run's training commands in the copy's model.json.
   */
  public static StoredModel export(Path source, Path target, Double ema, String command) throws IOException {
    return export(source, target, ema, command, null);
  }

  /**
   * {@link #export(Path, Path, Double, String)}, the copy sampling at guidance scale {@code guidance}
   * unless a request says otherwise ({@link ModelInfo#defaultGuidance}); null keeps what the source
   * records.
   */
  public static StoredModel export(Path source, Path target, Double ema, String command, Double guidance)
      throws IOException {
    return export(source, target, ema, command, guidance, null);
  }

  /**
   * {@link #export(Path, Path, Double, String, Double)}, the copy also limiting classifier-free
   * guidance to the noise levels {@code interval} = [σ_lo, σ_hi] unless a request says otherwise
   * ({@link ModelInfo#defaultGuidanceInterval}); an empty list: every step; null keeps what the source records.
   */
  public static StoredModel export(Path source, Path target, Double ema, String command, Double guidance,
      List<Double> interval) throws IOException {
    return export(source, target, ema, command, guidance, interval, null);
  }

  /**
   * The model's own autoguidance as {@code export} records it ({@link ModelInfo.Sampling#guideModel}):
   * the guide's directory (beside the model's, or absolute; {@link diffuse.sampling.Guidance#NO_GUIDE}
   * removes a guide the source records), the CFG blended in, and the noise levels the guide is called at.
   */
  public record Guide(String model, Double cfg, List<Double> interval) {}

  /**
   * {@link #export(Path, Path, Double, String, Double, List)}, the copy also guided by autoguidance as
   * {@code guide} says unless a request names another guide or none; null keeps what the source records.
   */
  public static StoredModel export(Path source, Path target, Double ema, String command, Double guidance,
      List<Double> interval, Guide guide) throws IOException {
    if (guidance != null && !Double.isFinite(guidance)) {
      throw DiffuseException.badValue("guidance", "guidance must be a finite number, got " + guidance);
    }
    StoredModel m = open(source);
    if (Files.isDirectory(target) && !Files.exists(target.resolve(MODEL_JSON))) {
      try (Stream<Path> s = Files.list(target)) {
        if (s.findAny().isPresent()) {
          throw new ModelException(target + " exists and is not a model directory; export into a new or empty one");
        }
      }
    }
    Average avg = average(m, ema);
    ModelInfo.Sampling was = avg.info().sampling() == null ? new ModelInfo.Sampling(null) : avg.info().sampling();
    Guide g = guide == null ? new Guide(was.guideModel(), was.guideCfg(), was.guideInterval())
        : diffuse.sampling.Guidance.NO_GUIDE.equals(guide.model()) ? new Guide(null, null, null) : guide;
    ModelInfo described = guidance == null && interval == null && guide == null ? avg.info() : avg.info().withSampling(
        new ModelInfo.Sampling(guidance != null ? guidance : was.guidance(),
            interval != null ? interval : was.guidanceInterval(), // an empty interval: every step (Sampling)
            g.model(), g.cfg(), g.interval()));
    ModelInfo info = command == null ? described : described.withTraining(described.training().withCommand(command));
    ModelInfo[] staged = new ModelInfo[1];
    Map<String, float[]> weights = avg.weights();
    try {
      String name = VersionedDir.stage(target, checkpointName(info.training().step()), (tmp, n) -> {
        writeSavedModel(tmp.resolve(SAVED_MODEL), info, weights);
        staged[0] = info.withCheckpoint(n).withFiles(Manifest.of(tmp, MODEL_JSON));
        Json.writeAtomically(tmp.resolve(MODEL_JSON), staged[0]);
      });
      VersionedDir.commit(target, CKPT_PREFIX, name, n -> Json.writeAtomically(target.resolve(MODEL_JSON), staged[0]));
      AtomicFiles.write(target.resolve(ModelCard.FILE), ModelCard.markdown(staged[0], cardName(target),
          target.toString(), null).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new IOException("cannot export " + source + ": " + DiffuseException.firstLine(e.getMessage()), e);
    }
    return open(target);
  }

  /** A TF Serving model name: what {@link #exportServing} accepts (it becomes a directory and a URL path segment). */
  public static final java.util.regex.Pattern SERVING_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  /**
   * Writes the current model of {@code source} in TensorFlow Serving's layout,
   * {@code base/name/VERSION/} with VERSION the model's training step: the SavedModel
   * ({@code saved_model.pb}, {@code variables/}) and in its {@code assets.extra/} the description
   * {@code diffuse.json} and the {@value ModelCard#FILE}. Serving loads the highest version, so a
   * later export of the same run at a later step is served next while this one stays on disk. The
   * version directory is written under a temporary name and renamed ({@link VersionedDir#stage}), so
   * a watching server never sees a part of it; a version that exists already is refused rather than
   * replaced (a server may be serving it).
   *
   * @return the version directory
   */
  public static Path exportServing(Path source, Path base, String name) throws IOException {
    return exportServing(source, base, name, null);
  }

  /** {@link #exportServing(Path, Path, String)} of the run's weight average {@code ema} (null: the model's own). */
  public static Path exportServing(Path source, Path base, String name, Double ema) throws IOException {
    if (name == null || !SERVING_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("--name must be letters, digits, '.', '_' or '-' (not first), got '"
          + name + "'");
    }
    Path modelDir = base.resolve(name);
    if (modelDir.toAbsolutePath().normalize().equals(source.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--out and --name name the run directory " + source
          + " itself; export to another directory");
    }
    StoredModel m = open(source);
    Average avg = average(m, ema);
    ModelInfo info = avg.info();
    String version = Long.toString(servingVersion(info));
    if (Files.exists(modelDir.resolve(version))) {
      throw new ModelException(modelDir.resolve(version) + " exists already (version " + version + " = the training"
          + " step); remove it, or export under another --name");
    }
    if (Files.exists(modelDir) && !Files.isDirectory(modelDir)) {
      throw new ModelException(modelDir + " exists and is not a directory");
    }
    Map<String, float[]> weights = avg.weights();
    try {
      String staged = VersionedDir.stage(modelDir, version, (tmp, n) -> {
        writeSavedModel(tmp, info, weights);
        AtomicFiles.write(tmp.resolve("assets.extra").resolve(ModelCard.FILE),
            ModelCard.markdown(info, name, null, name).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      });
      if (!staged.equals(version)) { // another export of this step got there first
        AtomicFiles.deleteTree(modelDir.resolve(staged));
        throw new ModelException(modelDir.resolve(version) + " exists already (written while this export ran)");
      }
    } catch (RuntimeException e) {
      if (e instanceof ModelException) {
        throw e;
      }
      throw new IOException("cannot export " + source + ": " + DiffuseException.firstLine(e.getMessage()), e);
    }
    return modelDir.resolve(version);
  }

  /**
   * The TF Serving version of a model: its training step, so versions of one run grow as it trains
   * (1 for a model saved before its first step, which keeps versions positive).
   */
  public static long servingVersion(ModelInfo info) {
    return Math.max(1, info.training().step());
  }

  /** What a card calls the model exported to {@code target}: the directory's name. */
  private static String cardName(Path target) {
    Path n = target.toAbsolutePath().normalize().getFileName();
    return n == null ? "model" : n.toString();
  }

  /** The weights stored in a model's SavedModel, keyed by parameter name. */
  public static java.util.Map<String, float[]> readWeights(StoredModel m) {
    return readWeights(m.savedModel(), m.info());
  }

  /** The weights stored in the SavedModel {@code savedModel} of a network {@code info} describes. */
  static java.util.Map<String, float[]> readWeights(Path savedModel, ModelInfo info) {
    java.util.Map<String, float[]> out = new java.util.LinkedHashMap<>();
    try (org.tensorflow.SavedModelBundle b = org.tensorflow.SavedModelBundle.load(savedModel.toString(),
        diffuse.model.GraphNames.TAG)) {
      for (diffuse.model.ParamSpec spec : info.network().paramSpecs()) {
        float[] a = new float[spec.size()];
        try (org.tensorflow.Result r = b.session().runner().fetch(spec.name()).run()) {
          ((org.tensorflow.types.TFloat32) r.get(0)).copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(a, false, false));
        }
        out.put(spec.name(), a);
      }
    }
    return out;
  }

  /** True if {@code dir} holds what a training run writes before its first commit (a save under way, a log). */
  private static boolean hasTrainingLeftovers(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).anyMatch(n -> n.startsWith(VersionedDir.TEMP_PREFIX)
          || n.startsWith(CKPT_PREFIX) || n.equals("loss.csv"));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Deletes what a crash can leave in a directory that has no committed model yet: temporary
   * directories and checkpoints of a first save that never finished.
   */
  public static List<String> removeLeftovers(Path dir) throws IOException {
    return VersionedDir.deleteAllBut(dir, CKPT_PREFIX, null);
  }

  /** The newest checkpoint directory that has its own model.json, or null. */
  public static String lastCompleteCheckpoint(Path dir) {
    try {
      List<String> names = checkpoints(dir);
      for (int i = names.size() - 1; i >= 0; i--) {
        if (Files.isRegularFile(dir.resolve(names.get(i)).resolve(MODEL_JSON))) {
          return names.get(i);
        }
      }
    } catch (IOException e) {
      // unreadable directory: nothing to suggest
    }
    return null;
  }

  /** Names of the checkpoint directories present, oldest first. */
  public static List<String> checkpoints(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(CKPT_PREFIX)).sorted().toList();
    }
  }
}
