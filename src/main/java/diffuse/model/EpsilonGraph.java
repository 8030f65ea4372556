package diffuse.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A graph holding only ε_θ(x, t, y) on plain variables, used to write the SavedModel that sampling
 * and any other TensorFlow runtime load. Its inputs and output are named by {@link GraphNames}.
 */
public final class EpsilonGraph implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Parameters params;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TFloat32> t;
  private final Placeholder<TInt32> y;
  private final Operand<TFloat32> eps;
  private final NoiseNet net;

  public EpsilonGraph(NoiseNet net) {
    this.net = net;
    boolean built = false;
    try {
      Ops tf = Ops.create(graph);
      params = new Parameters(tf, "");
      x = tf.withName(GraphNames.INPUT_X).placeholder(TFloat32.class, Placeholder.shape(net.inputShape()));
      t = tf.withName(GraphNames.INPUT_T).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      y = tf.withName(GraphNames.INPUT_Y).placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      eps = net.build(tf, params::create, x, t, y);
      built = true;
    } finally {
      if (!built) {
        graph.close(); // a failed construction leaves no native graph behind
      }
    }
  }

  /**
   * Writes a SavedModel (tag {@value GraphNames#TAG}, signature {@value GraphNames#SIGNATURE_KEY})
   * whose variables hold {@code weights}.
   */
  public void exportSavedModel(Path dir, Map<String, float[]> weights) throws IOException {
    try (Session session = new Session(graph)) {
      params.load(session, weights);
      Signature signature =
          Signature.builder()
              .key(GraphNames.SIGNATURE_KEY)
              .input(GraphNames.INPUT_X, x)
              .input(GraphNames.INPUT_T, t)
              .input(GraphNames.INPUT_Y, y)
              .output(GraphNames.OUTPUT_EPS, eps)
              .build();
      SavedModelBundle.exporter(dir.toString())
          .withTags(GraphNames.TAG)
          .withSession(session)
          .withSignature(signature)
          .export();
    }
  }

  /** ε for one batch with the given weights, computed in memory (no files); [B·H·W·C] like {@code xs}. */
  public float[] predict(Map<String, float[]> weights, float[] xs, int batch, float timestep, int[] labels) {
    return predictShaped(weights, xs, batch, timestep, labels).values();
  }

  /** ε and the shape of the tensor the graph returned (expected: [B, H, W, C]). */
  public SavedModelNetwork.Output predictShaped(Map<String, float[]> weights, float[] xs, int batch, float timestep,
      int[] labels) {
    float[] ts = new float[batch];
    java.util.Arrays.fill(ts, timestep);
    try (Session session = new Session(graph)) {
      params.load(session, weights);
      try (TFloat32 xT = TFloat32.tensorOf(SavedModelNetwork.batchShape(net, batch),
              org.tensorflow.ndarray.buffer.DataBuffers.of(xs, true, false));
          TFloat32 tT = TFloat32.vectorOf(ts);
          TInt32 yT = TInt32.vectorOf(labels);
          org.tensorflow.Result r = session.runner().feed(x, xT).feed(t, tT).feed(y, yT).fetch(eps).run()) {
        return SavedModelNetwork.Output.of((TFloat32) r.get(0), SavedModelNetwork.batchShape(net, batch));
      }
    }
  }

  @Override
  public void close() {
    graph.close();
  }
}
