package diffuse.eval;

import diffuse.api.Listener;
import diffuse.data.Dataset;
import diffuse.io.Json;
import diffuse.model.ClassifierConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.tensorflow.proto.ConfigProto;

/** Trains the evaluation classifier on a labelled data set and measures its test accuracy. */
public final class ClassifierTrainer {
  /** The task name of its progress reports. */
  public static final String TASK = "train-classifier";

  private ClassifierTrainer() {}

  /** Fraction of {@code data} the classifier labels correctly. */
  public static double accuracy(ClassifierModel model, Dataset data) {
    int[] all = new int[data.size()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    float[] x = new float[data.size() * data.imageSize()];
    data.fill(all, x);
    ClassifierModel.Prediction p = model.predict(x, data.size());
    int hits = 0;
    for (int i = 0; i < data.size(); i++) {
      hits += p.argmax(i) == data.labels()[i] ? 1 : 0;
    }
    return (double) hits / data.size();
  }

  /**
   * Trains for {@code epochs} with Adam (lr 1e-3, batch {@code batch}), saves to {@code out} and
   * returns the saved description including the test accuracy.
   */
  public static ClassifierInfo train(Dataset train, Dataset test, int epochs, int batch, long seed, Path out,
      String command, String accuracyOn, ConfigProto session, Listener listener) throws IOException {
    ClassifierConfig c = ClassifierConfig.defaults(train.height(), train.width(), train.channels(), train.numClasses());
    long stepsPerEpoch = train.size() / batch;
    long started = System.nanoTime();
    ClassifierInfo info;
    try (ClassifierModel.Training t = new ClassifierModel.Training(c, session)) {
      t.initialize(seed);
      long step = 0;
      double ema = Double.NaN;
      float[] x = new float[batch * train.imageSize()];
      int[] idx = new int[batch];
      int[] y = new int[batch];
      for (int e = 0; e < epochs; e++) {
        int[] perm = diffuse.train.Trainer.shuffle(train.size(), new SplittableRandom(seed * 31 + e));
        for (int k = 0; k < stepsPerEpoch; k++) {
          System.arraycopy(perm, k * batch, idx, 0, batch);
          train.fill(idx, x);
          for (int i = 0; i < batch; i++) {
            y[i] = train.labels()[idx[i]];
          }
          step++;
          float loss = t.step(x, y, 1e-3, step);
          ema = Double.isNaN(ema) ? loss : 0.98 * ema + 0.02 * loss;
          listener.progress(TASK, step, stepsPerEpoch * epochs, String.format("epoch %d  loss %.4f", e + 1, ema));
        }
      }
      listener.finished(TASK);
      info = new ClassifierInfo(c, train.labelNames(), train.name(), Double.NaN, epochs, (System.nanoTime() - started) / 1e9, command,
          accuracyOn, null);
      info = ClassifierModel.save(out, info, t.weights());
    }
    try (ClassifierModel m = ClassifierModel.load(out, session)) {
      info = info.withAccuracy(accuracy(m, test));
    }
    Json.writeAtomically(out.resolve(ClassifierModel.INFO_JSON), info);
    return info;
  }
}
