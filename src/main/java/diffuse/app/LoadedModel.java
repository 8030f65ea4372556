package diffuse.app;

import diffuse.api.DiffuseException;
import diffuse.io.ModelInfo;
import diffuse.io.ModelStore;
import diffuse.model.SavedModelNetwork;
import diffuse.sampling.Generator;
import diffuse.train.Device;
import java.nio.file.Path;

/**
 * An image model opened and loaded once: its description, its network in a TensorFlow session, and
 * the generator around it. Close it to free the session.
 */
public final class LoadedModel implements AutoCloseable {
  private final ModelStore.StoredModel stored;
  private final SavedModelNetwork net;
  private final Generator generator;

  private LoadedModel(ModelStore.StoredModel stored, SavedModelNetwork net) {
    this.stored = stored;
    this.net = net;
    ModelInfo info = stored.info();
    var schedule = info.schedule().build();
    // model.json says what the network predicts (ε, x_0 or v); the denoiser tags its output with it
    this.generator = new Generator(info.prediction().denoiser(net, schedule), schedule, info.nullLabel(),
        info.network().sampleSize());
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
    return new LoadedModel(m, new SavedModelNetwork(m.savedModel(), m.info().network(), device.samplingConfig(),
        device.concurrentHalves()));
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
    net.close();
  }
}
