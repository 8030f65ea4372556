package diffuse.model;

import diffuse.sampling.Prediction;
import java.util.Locale;

/**
 * Names of the graph inputs and outputs shared by the trainer, the exported SavedModel, the sampler
 * and the tests. The SavedModel's serving signature uses the same names for its input keys; its
 * output key is {@link #outputName} of what the network predicts.
 */
public final class GraphNames {
  /** Noisy images x_t, float32 [batch, height, width, channels] in data units ([−1, 1] at t = 0). */
  public static final String INPUT_X = "x";
  /** Timesteps t, float32 [batch]: continuous training time in [0, T−1] of the training schedule. */
  public static final String INPUT_T = "t";
  /** Class labels y, int32 [batch]; the value {@code numClasses} is the null label. */
  public static final String INPUT_Y = "y";
  /**
   * Name of the network's output op in every graph ({@code NoiseNet.build} names it so), whatever
   * it predicts: float32 [batch, height, width, channels], the noise ε(x_t, t, y) for an ε model,
   * x_0 for an x_0 model, v = α_t·ε − σ_t·x_0 for a v model (model.json's training settings say
   * which). Also the signature's output key in SavedModels written before the key named the
   * prediction ({@link #outputName}), which loaders therefore accept for any prediction.
   */
  public static final String OUTPUT_EPS = "eps";
  /** Key of the SavedModel signature computing the network's output. */
  public static final String SIGNATURE_KEY = "serving_default";
  /**
   * The second signature: no inputs, and as constant outputs what sampling needs besides the
   * network ({@code labels}, {@code null_label}, {@code prediction}, {@code alpha_bar}).
   */
  public static final String METADATA_KEY = "metadata";
  /** SavedModel tag. */
  public static final String TAG = "serve";

  private GraphNames() {}

  /**
   * The serving signature's output key, and the op name of that output in a SavedModel, for a
   * network predicting {@code p}: {@code eps}, {@code x0} or {@code v}, so that the SavedModel says
   * what it computes to a runtime that never reads model.json.
   */
  public static String outputName(Prediction p) {
    return p.name().toLowerCase(Locale.ROOT);
  }

  /**
   * True if a SavedModel whose signature outputs {@code key} can be the network of a model that
   * predicts {@code p}: the key is {@link #outputName}(p), or {@link #OUTPUT_EPS}, which every
   * SavedModel had before the key named the prediction (v models exported then, such as the Fashion-MNIST model shipped until 2026-12-07).
   */
  public static boolean outputMatches(String key, Prediction p) {
    return key.equals(outputName(p)) || key.equals(OUTPUT_EPS);
  }
}
