import diffuse.api.CustomGuidance;
import diffuse.api.DiffusionModel;
import diffuse.api.Generation;
import diffuse.api.GenerationRequest;
import java.nio.file.Path;

/**
 * A guidance rule of your own: classifier-free guidance whose strength fades out at low noise, so the
 * last steps refine the conditional prediction unguided. Usage: CustomGuider [MODEL_DIR] [OUT.png]
 */
public class CustomGuider {
  /** ε̃ = ε(∅) + s'·(ε(y) − ε(∅)), with s' = s above σ = 1 and 1 + (s − 1)·σ below it. */
  static final class FadingCfg implements CustomGuidance {
    @Override
    public float[] combine(float[] cond, float[] uncond, double scale, double sigma) {
      double s = sigma >= 1 ? scale : 1 + (scale - 1) * sigma;
      float[] out = new float[cond.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) (uncond[i] + s * ((double) cond[i] - uncond[i]));
      }
      return out;
    }
  }

  public static void main(String[] args) throws Exception {
    Path modelDir = Path.of(args.length > 0 ? args[0] : "models/mnist");
    Path out = Path.of(args.length > 1 ? args[1] : "fading.png");
    try (DiffusionModel model = DiffusionModel.open(modelDir)) {
      Generation g = model.generate(GenerationRequest.builder()
          .prompt("digit 3").count(8).guidance(3).seed(7).customGuidance(new FadingCfg()).build());
      g.save(out);
      System.out.println(g.images().size() + " images of " + g.rows().get(0).labelName() + " with "
          + FadingCfg.class.getSimpleName());
    }
  }
}
