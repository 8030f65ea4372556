package diffuse.eval;

import diffuse.api.DiffuseException;
import diffuse.io.Json;
import diffuse.api.ModelException;
import diffuse.io.VersionedDir;
import diffuse.model.Classifier;
import diffuse.model.ClassifierConfig;
import diffuse.model.Parameters;
import diffuse.train.Adam;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The evaluation classifier on disk ({@code classifier.json} + {@code saved_model/}) and in memory:
 * class probabilities and penultimate-layer features of images.
 */
public final class ClassifierModel implements AutoCloseable {
  public static final String INFO_JSON = "classifier.json";
  public static final String INPUT = "x";
  static final String SAVED_MODEL = "saved_model";
  private static final int BATCH = 500;

  private final SavedModelBundle bundle;
  private final ClassifierInfo info;

  private ClassifierModel(SavedModelBundle bundle, ClassifierInfo info) {
    this.bundle = bundle;
    this.info = info;
  }

  public ClassifierInfo info() {
    return info;
  }

  /** Loads a classifier directory. */
  public static ClassifierModel load(Path dir, ConfigProto config) {
    Path json = dir.resolve(INFO_JSON);
    if (!Files.isRegularFile(json)) {
      throw new ModelException(dir + " is not a classifier directory (no " + INFO_JSON
          + "); train one with `diffuse train-classifier --dataset ... --out " + dir + "`");
    }
    ClassifierInfo info = Json.read(json, ClassifierInfo.class);
    if (info.architecture() == null || info.labels() == null) {
      throw new ModelException(json + " is corrupt: no architecture or labels");
    }
    try {
      return new ClassifierModel(SavedModelBundle.loader(dir.resolve(info.savedModelDir()).toString())
          .withTags("serve").withConfigProto(config).load(), info);
    } catch (RuntimeException e) {
      throw new ModelException("cannot load the classifier in " + dir.resolve(info.savedModelDir()) + ": "
          + DiffuseException.firstLine(e.getMessage()), e);
    }
  }

  /** Class probabilities [n · K] and features [n · F] of n images. */
  public record Prediction(int n, int numClasses, int featureDim, float[] probs, float[] features) {
    public int argmax(int i) {
      int best = 0;
      for (int k = 1; k < numClasses; k++) {
        if (probs[i * numClasses + k] > probs[i * numClasses + best]) {
          best = k;
        }
      }
      return best;
    }

    public float prob(int i, int k) {
      return probs[i * numClasses + k];
    }

    public double[] feature(int i) {
      double[] f = new double[featureDim];
      for (int j = 0; j < featureDim; j++) {
        f[j] = features[i * featureDim + j];
      }
      return f;
    }
  }

  /** Classifies n images [n · H·W·C] in [−1, 1]. */
  public Prediction predict(float[] images, int n) {
    ClassifierConfig c = info.architecture();
    int per = c.height() * c.width() * c.channels();
    float[] logits = new float[n * c.numClasses()];
    float[] feats = new float[n * c.featureDim()];
    for (int first = 0; first < n; first += BATCH) {
      int b = Math.min(BATCH, n - first);
      float[] chunk = java.util.Arrays.copyOfRange(images, first * per, (first + b) * per);
      try (TFloat32 x = TFloat32.tensorOf(Shape.of(b, c.height(), c.width(), c.channels()), DataBuffers.of(chunk, true, false));
          Result r = bundle.session().runner().feed(INPUT, x)
              .fetch(Classifier.OUTPUT_LOGITS).fetch(Classifier.OUTPUT_FEATURES).run()) {
        float[] l = new float[b * c.numClasses()];
        float[] f = new float[b * c.featureDim()];
        ((TFloat32) r.get(0)).copyTo(DataBuffers.of(l, false, false));
        ((TFloat32) r.get(1)).copyTo(DataBuffers.of(f, false, false));
        System.arraycopy(l, 0, logits, first * c.numClasses(), l.length);
        System.arraycopy(f, 0, feats, first * c.featureDim(), f.length);
      }
    }
    return new Prediction(n, c.numClasses(), c.featureDim(), softmax(logits, c.numClasses()), feats);
  }

  static float[] softmax(float[] logits, int k) {
    float[] p = new float[logits.length];
    for (int i = 0; i < logits.length; i += k) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < k; j++) {
        max = Math.max(max, logits[i + j]);
      }
      double sum = 0;
      for (int j = 0; j < k; j++) {
        sum += Math.exp(logits[i + j] - max);
      }
      for (int j = 0; j < k; j++) {
        p[i + j] = (float) (Math.exp(logits[i + j] - max) / sum);
      }
    }
    return p;
  }

  @Override
  public void close() {
    bundle.close();
  }

  /**
   * Writes a classifier directory: the SavedModel as a new version ({@link VersionedDir}), then
   * {@code classifier.json} naming it; a classifier already there stays usable until then.
   *
   * @return the description as written (with the SavedModel's directory name)
   */
  public static ClassifierInfo save(Path dir, ClassifierInfo info, Map<String, float[]> weights) throws IOException {
    ClassifierInfo[] written = new ClassifierInfo[1];
    try {
      VersionedDir.publish(dir, SAVED_MODEL, SAVED_MODEL, (tmp, name) -> exportSavedModel(tmp, info, weights),
          name -> {
            written[0] = info.withSavedModel(name);
            Json.writeAtomically(dir.resolve(INFO_JSON), written[0]);
          });
    } catch (RuntimeException e) {
      throw new IOException(DiffuseException.firstLine(e.getMessage()), e);
    }
    return written[0];
  }

  private static void exportSavedModel(Path target, ClassifierInfo info, Map<String, float[]> weights) throws IOException {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Classifier net = new Classifier(info.architecture());
      ClassifierConfig c = info.architecture();
      Placeholder<TFloat32> x = tf.withName(INPUT).placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, c.height(), c.width(), c.channels())));
      Parameters params = new Parameters(tf, "");
      Classifier.Outputs out = net.build(tf, params::create, x);
      try (Session s = new Session(g)) {
        params.load(s, weights);
        // the version directory is the SavedModel
        SavedModelBundle.exporter(target.toString()).withTags("serve").withSession(s)
            .withSignature(Signature.builder().key("serving_default").input(INPUT, x)
                .output(Classifier.OUTPUT_LOGITS, out.logits()).output(Classifier.OUTPUT_FEATURES, out.features()).build())
            .export();
      }
    }
  }

  /** The classifier's training graph: softmax cross-entropy, Adam. */
  public static final class Training implements AutoCloseable {
    private final Graph graph = new Graph();
    private final Session session;
    private final Parameters params;
    private final Adam adam;
    private final Placeholder<TFloat32> x;
    private final Placeholder<TInt32> y;
    private final Operand<TFloat32> loss;
    private final Op step;
    private final ClassifierConfig config;

    public Training(ClassifierConfig config, ConfigProto session) {
      this.config = config;
      boolean built = false;
      try {
        Ops tf = Ops.create(graph);
        x = tf.withName(INPUT).placeholder(TFloat32.class,
            Placeholder.shape(Shape.of(-1, config.height(), config.width(), config.channels())));
        y = tf.withName("y").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
        params = new Parameters(tf, "");
        Classifier.Outputs out = new Classifier(config).build(tf, params::create, x);
        Operand<TFloat32> onehot = tf.oneHot(y, tf.constant(config.numClasses()), tf.constant(1f), tf.constant(0f));
        Operand<TFloat32> nll = tf.math.neg(tf.sum(tf.math.mul(onehot, tf.nn.logSoftmax(out.logits())), tf.constant(1)));
        loss = tf.math.mean(nll, tf.constant(0));
        adam = new Adam(tf, params, loss, 5.0);
        step = tf.withControlDependencies(adam.updates()).noOp();
        this.session = new Session(graph, session);
        built = true;
      } finally {
        if (!built) {
          graph.close(); // a failed construction leaves no native graph behind
        }
      }
    }

    public void initialize(long seed) {
      params.load(session, Parameters.initialValues(params.specs(), new Random(seed)));
      adam.initialize(session);
    }

    /** One Adam step on a batch; returns the loss. */
    public float step(float[] images, int[] labels, double lr, long stepNumber) {
      int b = labels.length;
      List<TFloat32> scalars = List.of();
      try (TFloat32 xt = TFloat32.tensorOf(Shape.of(b, config.height(), config.width(), config.channels()),
              DataBuffers.of(images, true, false));
          TInt32 yt = TInt32.vectorOf(labels)) {
        Session.Runner r = session.runner().feed(x, xt).feed(y, yt);
        scalars = adam.feeds(r, lr, stepNumber);
        try (Result res = r.addTarget(step).fetch(loss).run()) {
          return ((TFloat32) res.get(0)).getFloat();
        }
      } finally {
        scalars.forEach(TFloat32::close);
      }
    }

    public Map<String, float[]> weights() {
      return params.read(session);
    }

    @Override
    public void close() {
      session.close();
      graph.close();
    }
  }
}
