package diffuse.io;

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
 * DIR/ckpt-00001234/saved_model/ TensorFlow SavedModel, serving signature ε(x, t, y) on the EMA weights
 * DIR/ckpt-00001234/state/       TensorFlow checkpoint of weights, Adam moments and EMA (for --resume)
 * DIR/ckpt-00001234/model.json   copy of model.json, so a checkpoint directory stands alone
 * DIR/loss.csv                   the loss log
 * </pre>
 *
 * <p>Saving is atomic: the new checkpoint is written completely under a temporary name, renamed,
 * and only then does {@code model.json} (itself replaced by an atomic rename) point at it; older
 * checkpoints are deleted last. A crash at any point leaves {@code model.json} naming a complete
 * checkpoint.
 */
public final class ModelStore {
  public static final String MODEL_JSON = "model.json";
  public static final String SAVED_MODEL = "saved_model";
  public static final String STATE = "state";
  static final String STATE_PREFIX = "state";

  private ModelStore() {}

  /** What a save writes: EMA weights for the SavedModel and, if present, the training state. */
  public interface CheckpointContent {
    Map<String, float[]> emaWeights();

    /** Writes the full training state at this TensorFlow checkpoint prefix. */
    void saveState(String prefix);
  }

  /** A loaded model directory. */
  public record StoredModel(Path dir, ModelInfo info, Path checkpointDir) {
    public Path savedModel() {
      return checkpointDir.resolve(SAVED_MODEL);
    }

    /** Prefix of the training-state checkpoint, or null if this model has none (shipped models). */
    public String statePrefix() {
      Path state = checkpointDir.resolve(STATE);
      return Files.isDirectory(state) ? state.resolve(STATE_PREFIX).toString() : null;
    }
  }

  /** Name of the checkpoint directory for a step. */
  public static String checkpointName(long step) {
    return String.format("ckpt-%08d", step);
  }

  /**
   * Writes a complete checkpoint into {@code dir/<name>} and returns its name; {@code model.json}
   * is not touched, so until {@link #commit} the previous checkpoint stays current.
   */
  public static String writeCheckpoint(Path dir, ModelInfo info, CheckpointContent content, boolean withState)
      throws IOException {
    String name = checkpointName(info.training().step());
    Path tmp = dir.resolve(".writing-" + name);
    Path done = dir.resolve(name);
    Files.createDirectories(dir);
    AtomicFiles.deleteTree(tmp);
    boolean ok = false;
    try {
      Files.createDirectories(tmp);
      try (EpsilonGraph eg = new EpsilonGraph(info.network())) {
        eg.exportSavedModel(tmp.resolve(SAVED_MODEL), content.emaWeights());
      }
      if (withState) {
        Files.createDirectories(tmp.resolve(STATE));
        content.saveState(tmp.resolve(STATE).resolve(STATE_PREFIX).toString());
      }
      Json.writeAtomically(tmp.resolve(MODEL_JSON), info.withCheckpoint(name));
      if (Files.exists(done)) {
        // same step saved twice (e.g. Ctrl-C right after a periodic save): current one is complete
        Path old = dir.resolve(".old-" + name);
        AtomicFiles.deleteTree(old);
        Files.move(done, old);
        Files.move(tmp, done);
        AtomicFiles.deleteTree(old);
      } else {
        Files.move(tmp, done);
      }
      ok = true;
      return name;
    } catch (RuntimeException e) {
      // TensorFlow reports I/O failures (disk full, permissions) as unchecked exceptions
      throw new IOException(e.getMessage(), e);
    } finally {
      if (!ok) {
        try {
          AtomicFiles.deleteTree(tmp);
        } catch (IOException ignored) {
          // the partial directory has a temporary name and is never loaded
        }
      }
    }
  }

  /** Points {@code model.json} at checkpoint {@code name} and deletes the other checkpoints. */
  public static void commit(Path dir, ModelInfo info, String name) throws IOException {
    Json.writeAtomically(dir.resolve(MODEL_JSON), info.withCheckpoint(name));
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if ((n.startsWith("ckpt-") && !n.equals(name)) || n.startsWith(".writing-") || n.startsWith(".old-")) {
          AtomicFiles.deleteTree(p);
        }
      }
    }
  }

  /** Saves atomically: {@link #writeCheckpoint} then {@link #commit}. */
  public static void save(Path dir, ModelInfo info, CheckpointContent content, boolean withState)
      throws IOException {
    String name = writeCheckpoint(dir, info, content, withState);
    commit(dir, info, name);
  }

  /** Opens a model directory (a run directory, or a checkpoint directory inside one). */
  public static StoredModel open(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ModelException("model directory not found: " + dir);
    }
    Path json = dir.resolve(MODEL_JSON);
    if (!Files.isRegularFile(json)) {
      throw new ModelException(dir + " is not a model directory (no " + MODEL_JSON + ")");
    }
    ModelInfo info = Json.read(json, ModelInfo.class);
    if (info.format() != ModelInfo.FORMAT) {
      throw new ModelException(json + " has format " + info.format() + "; this version reads format "
          + ModelInfo.FORMAT);
    }
    if ((info.architecture() == null) == (info.mlp() == null) || info.schedule() == null || info.labels() == null
        || info.checkpoint() == null || info.training() == null) {
      throw new ModelException(json + " is corrupt: missing architecture, schedule, labels, training or checkpoint");
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
    if (info.labels().size() != classes || info.nullLabel() != classes) {
      throw new ModelException(json + " is corrupt: labels and classes disagree");
    }
    Path ckpt = dir.getFileName() != null && dir.getFileName().toString().equals(info.checkpoint())
        ? dir : dir.resolve(info.checkpoint());
    if (!Files.isRegularFile(ckpt.resolve(SAVED_MODEL).resolve("saved_model.pb"))) {
      throw new ModelException("model " + dir + " is incomplete: " + ckpt.resolve(SAVED_MODEL)
          + " has no saved_model.pb");
    }
    return new StoredModel(dir, info, ckpt);
  }

  /**
   * Writes the current model of {@code source} to {@code target} without its training state:
   * model.json and a SavedModel rebuilt by this version's graph code from the source's weights (a
   * few MB, what the repository ships). The copy is assembled under a temporary name and renamed
   * into place, replacing an existing {@code target} only at the end.
   */
  public static StoredModel export(Path source, Path target) throws IOException {
    StoredModel m = open(source);
    Path abs = target.toAbsolutePath();
    Path tmp = abs.resolveSibling("." + abs.getFileName() + ".writing");
    Path old = abs.resolveSibling("." + abs.getFileName() + ".old");
    AtomicFiles.deleteTree(tmp);
    try {
      Path ckpt = tmp.resolve(m.info().checkpoint());
      try (EpsilonGraph eg = new EpsilonGraph(m.info().network())) {
        eg.exportSavedModel(ckpt.resolve(SAVED_MODEL), readWeights(m));
      } catch (RuntimeException e) {
        throw new IOException("cannot export " + source + ": " + e.getMessage(), e);
      }
      Json.writeAtomically(ckpt.resolve(MODEL_JSON), m.info());
      Json.writeAtomically(tmp.resolve(MODEL_JSON), m.info());
      AtomicFiles.deleteTree(old);
      if (Files.exists(abs)) {
        Files.move(abs, old);
      }
      Files.move(tmp, abs);
      AtomicFiles.deleteTree(old);
    } finally {
      AtomicFiles.deleteTree(tmp);
    }
    return open(target);
  }

  /** The weights stored in a model's SavedModel, keyed by parameter name. */
  static java.util.Map<String, float[]> readWeights(StoredModel m) {
    java.util.Map<String, float[]> out = new java.util.LinkedHashMap<>();
    try (org.tensorflow.SavedModelBundle b = org.tensorflow.SavedModelBundle.load(m.savedModel().toString(),
        diffuse.model.GraphNames.TAG)) {
      for (diffuse.model.ParamSpec spec : m.info().network().paramSpecs()) {
        float[] a = new float[spec.size()];
        try (org.tensorflow.Result r = b.session().runner().fetch(spec.name()).run()) {
          ((org.tensorflow.types.TFloat32) r.get(0)).copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(a, false, false));
        }
        out.put(spec.name(), a);
      }
    }
    return out;
  }

  /** Names of the checkpoint directories present, oldest first. */
  public static List<String> checkpoints(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("ckpt-")).sorted().toList();
    }
  }
}
