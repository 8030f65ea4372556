package diffuse.app;

import diffuse.api.DiffuseException;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.model.SavedModelNetwork;
import diffuse.sampling.Denoiser;
import diffuse.sampling.Generator;
import diffuse.sampling.Guidance;
import diffuse.sampling.Guider;
import diffuse.runtime.Device;
import java.nio.file.Path;

/**
 * An image model opened and loaded once: its description, its network in a TensorFlow session, and
 * the generator around it. Close it to free the session.
 */
public final class LoadedModel implements AutoCloseable {
  private final ModelStore.StoredModel stored;
  private final SavedModelNetwork net;
  private final Generator generator;
  private final Denoiser denoiser;
  private final Device.Choice device;
  /** Autoguidance's guide models, by the directory requests name them with; loaded once, closed with this one. */
  private final java.util.Map<String, LoadedModel> guides = new java.util.concurrent.ConcurrentHashMap<>();
  /** Guides loaded and closed by someone else (a server's other models), by directory as named. */
  private final java.util.Map<String, LoadedModel> shared = new java.util.concurrent.ConcurrentHashMap<>();

  private LoadedModel(ModelStore.StoredModel stored, SavedModelNetwork net, Device.Choice device) {
    this.stored = stored;
    this.net = net;
    this.device = device;
    ModelInfo info = stored.info();
    var schedule = info.schedule().build();
    // model.json says what the network predicts (ε, x_0 or v); the denoiser tags its output with it
    this.denoiser = info.prediction().denoiser(net, schedule);
    this.generator = new Generator(denoiser, schedule, info.nullLabel(), info.network().sampleSize());
  }

  /**
   * {@code g} with what only the model knows filled in: its guidance interval ({@link #withOwnInterval}),
   * the label of its negative prompt, the checkpoint of its guide model (loaded on this model's device
   * the first time it is named).
   *
   * @throws DiffuseException naming {@code negative} for a prompt that is not a class, or
   *     {@code guideModel} when that model cannot guide this one (other labels, schedule or size)
   */
  public Guidance resolve(Guidance g) {
    Guidance r = withOwnInterval(withOwnGuide(g, info().sampling(), dir()), info().defaultGuidanceInterval());
    if (r.negative() != null && r.negativeLabel() == null) {
      r = r.withNegativeLabel(negativeLabel(info().labels(), r.negative()));
    }
    if (r.isAutoguidance()) {
      r = r.withGuideCheckpoint(guide(r.guideModel()).info().checkpoint());
    }
    return r;
  }

  /**
   * {@code g} with its interval made concrete: one the request names, or "every step" (an empty
   * interval), stays; none named becomes the model's own ({@code sampling.guidanceInterval} in its
   * model.json), for every method that runs the model's classifier-free guidance — plain CFG and CFG
   * blended into autoguidance ({@code guideCfg}), not autoguidance alone or a program's own rule.
   * Idempotent, so a resolved guidance resolves to itself.
   */
  static Guidance withOwnInterval(Guidance g, java.util.List<Double> own) {
    if (g.interval() != null) {
      return g;
    }
    boolean cfg = !g.isCustom() && (!g.isAutoguidance() || g.guideCfg() != null);
    return own != null && cfg ? g.withInterval(own) : g;
  }

  /**
   * {@code g} with the model's own autoguidance filled in ({@code sampling.guideModel}, {@code guideCfg},
   * {@code guideInterval} in its model.json; a relative guide directory lies beside {@code dir}) when it
   * names no guide model, not {@link Guidance#NO_GUIDE} either, and no rule of its own. Idempotent.
   */
  static Guidance withOwnGuide(Guidance g, diffuse.io.ModelInfo.Sampling own, Path dir) {
    if (own == null || own.guideModel() == null || g.guideModel() != null || g.isCustom()) {
      return g;
    }
    return g.withGuide(ownGuideDir(own, dir).toString(), own.guideCfg(), own.guideInterval());
  }

  /** The directory of this model's own guide ({@code sampling.guideModel}), or null for none. */
  public Path ownGuideDir() {
    ModelInfo.Sampling own = info().sampling();
    return own == null || own.guideModel() == null ? null : ownGuideDir(own, dir());
  }

  /** {@code own.guideModel()} beside {@code dir}, the model's directory (an absolute one as it is). */
  private static Path ownGuideDir(ModelInfo.Sampling own, Path dir) {
    return dir.resolveSibling(own.guideModel());
  }

  /** The device and session options it runs on. */
  public Device.Choice device() {
    return device;
  }

  /** The label of a negative prompt among {@code labels}; fails naming {@code negative}. */
  public static int negativeLabel(java.util.List<String> labels, String prompt) {
    try {
      return new diffuse.prompt.Prompts(labels).resolve(prompt);
    } catch (DiffuseException e) {
      throw new DiffuseException(e.code(), "negative", "negative prompt is not a class of the model: "
          + e.getMessage(), e);
    }
  }

  /**
   * The guider that {@code g} asks for: the model's own classifier-free guidance
   * ({@link Guidance#guider}), or autoguidance by the model in {@code g.guideModel()}.
   *
   * @throws DiffuseException as {@link #resolve}
   */
  public Guider guider(Guidance g) {
    Guidance r = resolve(g);
    if (!r.isAutoguidance()) {
      return r.guider();
    }
    return r.autoguider(guide(r.guideModel()).denoiser);
  }

  /**
   * Lets {@code other}, already loaded, guide this model when its directory is named (as
   * {@code other.dir().toString()}) instead of loading a second copy; {@code other} stays its owner's
   * to close. A server does this for each pair of its models that can guide each other.
   *
   * @throws DiffuseException naming {@code guideModel} if {@code other} cannot guide this model
   */
  public void shareGuide(LoadedModel other) {
    String why = cannotGuide(other.info());
    if (why != null) {
      throw DiffuseException.badValue("guideModel", "guideModel " + other.dir() + " cannot guide " + dir() + ": " + why);
    }
    shared.put(other.dir().toString(), other);
  }

  /** Why a model with {@code b}'s settings cannot guide this one (labels, schedule, image size), or null. */
  private String cannotGuide(ModelInfo b) {
    ModelInfo a = info();
    return !a.labels().equals(b.labels()) ? "its labels " + b.labels() + " differ from " + a.labels()
        : !a.schedule().equals(b.schedule()) ? "its schedule " + b.schedule() + " differs from " + a.schedule()
        : a.architecture().height() != b.architecture().height() || a.architecture().width() != b.architecture().width()
            || a.architecture().channels() != b.architecture().channels() ? "its images are another size" : null;
  }

  /** The guide model in {@code dir}: a shared one ({@link #shareGuide}), or checked against this one and loaded once. */
  public LoadedModel guide(String dir) {
    LoadedModel own = shared.get(dir);
    if (own != null) {
      return own;
    }
    return guides.computeIfAbsent(dir, d -> {
      ModelStore.StoredModel m;
      try {
        m = openImageModel(Path.of(d));
      } catch (DiffuseException e) {
        throw new DiffuseException(e.code(), "guideModel", "guideModel " + d + " cannot be opened: " + e.getMessage(), e);
      }
      String why = cannotGuide(m.info());
      if (why != null) {
        throw DiffuseException.badValue("guideModel", "guideModel " + d + " cannot guide " + dir() + ": " + why);
      }
      return load(m, device);
    });
  }

  /** Opens (and checks) the image model in {@code dir}; fails on a toy model. */
  public static ModelStore.StoredModel openImageModel(Path dir) {
    ModelStore.StoredModel m = ModelStore.open(dir);
    if (m.info().isToy()) {
      throw new DiffuseException(DiffuseException.Code.BAD_VALUE, "model",
          m.dir() + " is a two-pixel toy model; use `diffuse toy sample` or `diffuse toy field`", null);
    }
    return m;
  }

  /** Loads the network of an opened model onto {@code device}. */
  public static LoadedModel load(ModelStore.StoredModel m, Device.Choice device) {
    SavedModelNetwork net = new SavedModelNetwork(m.savedModel(), m.info().network(), m.info().prediction(),
        device.samplingConfig(), device.concurrentHalves());
    try {
      return new LoadedModel(m, net, device);
    } catch (RuntimeException e) { // the session is not left open by a model that fails to load
      net.close();
      throw e;
    }
  }

  /** The weights' hash, computed once ({@link ModelStore.StoredModel#modelHash}). */
  private volatile String modelHash;

  /** The short hash of this model's weights ({@link diffuse.io.Manifest#weightsHash}). */
  public String modelHash() {
    String h = modelHash;
    if (h == null) {
      h = stored.modelHash();
      modelHash = h;
    }
    return h;
  }

  public ModelStore.StoredModel stored() {
    return stored;
  }

  public ModelInfo info() {
    return stored.info();
  }

  public Path dir() {
    return stored.dir();
  }

  public Generator generator() {
    return generator;
  }

  public SavedModelNetwork network() {
    return net;
  }

  @Override
  public void close() {
    try {
      guides.values().forEach(LoadedModel::close);
    } finally { // this model's own session is closed even if a guide's close fails
      net.close();
    }
  }
}
