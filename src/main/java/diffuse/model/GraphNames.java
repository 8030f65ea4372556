package diffuse.model;

/**
 * Names of the graph inputs and outputs shared by the trainer, the exported SavedModel, the sampler
 * and the tests. The SavedModel's serving signature uses the same names for its keys.
 */
public final class GraphNames {
  /** Noisy images x_t, float32 [batch, height, width, channels] in data units ([−1, 1] at t = 0). */
  public static final String INPUT_X = "x";
  /** Timesteps t, float32 [batch], 0 … T−1 of the training schedule. */
  public static final String INPUT_T = "t";
  /** Class labels y, int32 [batch]; the value {@code numClasses} is the null label. */
  public static final String INPUT_Y = "y";
  /**
   * The network's prediction, float32 [batch, height, width, channels]: the noise ε(x_t, t, y) for an
   * ε model, v = α_t·ε − σ_t·x_0 for a v model (model.json's training settings say which; samplers
   * convert with {@code sampling.Prediction.asEpsilon}). The name is kept from before v models existed.
   */
  public static final String OUTPUT_EPS = "eps";
  /** Key of the SavedModel signature computing {@link #OUTPUT_EPS}. */
  public static final String SIGNATURE_KEY = "serving_default";
  /** SavedModel tag. */
  public static final String TAG = "serve";

  private GraphNames() {}
}
