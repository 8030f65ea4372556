package diffuse.model;

/**
 * Architecture of the toy MLP denoiser for points in the plane (two-pixel images).
 *
 * @param dim values per sample (2)
 * @param numClasses number of classes (the null label is {@code numClasses})
 * @param hidden width of the hidden layers
 * @param layers number of hidden layers
 * @param embedDim width of the timestep and class embeddings
 */
public record MlpConfig(int dim, int numClasses, int hidden, int layers, int embedDim) {
  public MlpConfig {
    if (dim < 1 || numClasses < 1 || hidden < 1 || layers < 1 || embedDim < 2 || embedDim % 2 != 0) {
      throw new IllegalArgumentException("invalid MLP config: dim " + dim + ", classes " + numClasses + ", hidden "
          + hidden + ", layers " + layers + ", embedDim " + embedDim);
    }
  }

  public static MlpConfig defaults(int numClasses) {
    return new MlpConfig(2, numClasses, 128, 3, 64);
  }
}
