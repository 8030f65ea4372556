import diffuse.api.DiffusionModel;
import diffuse.api.Generation;
import diffuse.api.GenerationRequest;
import diffuse.api.Listener;
import diffuse.api.RuntimeOptions;
import java.nio.file.Path;

/**
 * One prompt at several guidance scales, every row from the same noise, on the CPU with a progress
 * listener. Usage: SweepGuidance [MODEL_DIR] [OUT.png]
 */
public class SweepGuidance {
  public static void main(String[] args) throws Exception {
    Path modelDir = Path.of(args.length > 0 ? args[0] : "models/mnist");
    Path out = Path.of(args.length > 1 ? args[1] : "sweep.png");
    Listener progress = new Listener() {
      @Override
      public void progress(String task, long done, long total, String status) {
        if (done == total) {
          System.out.println(task + ": " + done + " of " + total + " steps");
        }
      }
    };
    try (DiffusionModel model = DiffusionModel.open(modelDir, RuntimeOptions.cpu(0))) {
      GenerationRequest request = GenerationRequest.builder()
          .prompt("seven").guidance(0, 1, 2, 4).count(6).seed(1).build();
      Generation sweep = model.generate(request, progress);
      for (Generation.Row row : sweep.rows()) {
        System.out.printf("s = %s: %d images of %s%n", row.guidance(), row.images().size(), row.labelName());
      }
      sweep.save(out);
    }
  }
}
