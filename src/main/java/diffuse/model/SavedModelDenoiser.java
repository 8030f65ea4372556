package diffuse.model;

import diffuse.io.ModelException;
import diffuse.sampling.Denoiser;
import java.nio.file.Path;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * ε_θ(x, t, y) from a SavedModel written by {@link EpsilonGraph}, as a {@link Denoiser}. Feeds and
 * fetches by the names in {@link GraphNames}; each call's tensors are closed before it returns.
 */
public final class SavedModelDenoiser implements Denoiser, AutoCloseable {
  private final SavedModelBundle bundle;
  private final NoiseNet net;

  public SavedModelDenoiser(Path savedModel, NoiseNet net, ConfigProto session) {
    this.net = net;
    try {
      bundle = SavedModelBundle.loader(savedModel.toString()).withTags(GraphNames.TAG)
          .withConfigProto(session).load();
    } catch (RuntimeException e) {
      throw new ModelException("cannot load the SavedModel in " + savedModel + ": "
          + firstLine(e.getMessage()), e);
    }
  }

  private static String firstLine(String s) {
    return s == null ? "unknown error" : s.lines().findFirst().orElse(s).trim();
  }

  @Override
  public float[] predictNoise(float[] x, int batch, int t, int[] labels) {
    Shape shape = batchShape(net, batch);
    float[] ts = new float[batch];
    java.util.Arrays.fill(ts, t);
    float[] out = new float[x.length];
    try (TFloat32 xT = TFloat32.tensorOf(shape, DataBuffers.of(x, true, false));
        TFloat32 tT = TFloat32.vectorOf(ts);
        TInt32 yT = TInt32.vectorOf(labels);
        Result r = bundle.session().runner()
            .feed(GraphNames.INPUT_X, xT)
            .feed(GraphNames.INPUT_T, tT)
            .feed(GraphNames.INPUT_Y, yT)
            .fetch(GraphNames.OUTPUT_EPS)
            .run()) {
      ((TFloat32) r.get(0)).copyTo(DataBuffers.of(out, false, false));
    }
    return out;
  }

  /** The network's input shape with the batch dimension set. */
  public static Shape batchShape(NoiseNet net, int batch) {
    long[] dims = net.inputShape().asArray();
    dims[0] = batch;
    return Shape.of(dims);
  }

  @Override
  public void close() {
    bundle.close();
  }
}
