import diffuse.api.DiffusionModel;
import diffuse.api.Generation;
import diffuse.api.GenerationRequest;
import java.nio.file.Path;

/** Draws 16 sevens with the shipped MNIST model. Usage: GenerateSevens [MODEL_DIR] [OUT.png] */
public class GenerateSevens {
  public static void main(String[] args) throws Exception {
    Path modelDir = Path.of(args.length > 0 ? args[0] : "models/mnist");
    Path out = Path.of(args.length > 1 ? args[1] : "sevens.png");
    try (DiffusionModel model = DiffusionModel.open(modelDir)) {
      Generation sevens = model.generate(GenerationRequest.builder()
          .prompt("digit 7").count(16).seed(42).build());
      sevens.save(out); // the grid, and beside it sevens.json: the settings that draw it again
      System.out.println(sevens.images().size() + " images of " + sevens.rows().get(0).labelName());
    }
  }
}
