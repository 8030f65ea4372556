import diffuse.api.DiffusionModel;
import diffuse.api.Generation;
import diffuse.api.GenerationRequest;
import diffuse.api.Listener;
import diffuse.api.RuntimeOptions;
import diffuse.api.Training;
import diffuse.api.TrainingRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Trains a tiny model for a minute, then draws with it. The run directory is a model directory and
 * a checkpoint: a second call with the same OUT resumes it (after Ctrl-C, from the checkpoint saved
 * then; a finished run has nothing left to do and only draws). Usage: TrainTiny [DATASET] [OUT] [IMAGE_SIZE]
 * (DATASET: mnist, fashion-mnist or folder:PATH with one subfolder per class).
 */
public class TrainTiny {
  public static void main(String[] args) throws Exception {
    String dataset = args.length > 0 ? args[0] : "mnist";
    Path out = Path.of(args.length > 1 ? args[1] : "runs/tiny");
    TrainingRequest.Builder request;
    if (Files.exists(out.resolve("model.json"))) {
      // the run's settings come from its model.json: a stopped run continues, a finished one has nothing to do
      request = TrainingRequest.resume(out).epochs(1);
    } else {
      request = TrainingRequest.newRun(dataset, out)
          .epochs(1).limit(2048).batchSize(32).widths(8, 16).embedDim(32).groups(4).seed(1);
      if (args.length > 2) {
        request.imageSize(Integer.parseInt(args[2]));
      }
    }
    Listener log = new Listener() {
      @Override
      public void message(String line) {
        System.out.println(line);
      }
    };
    Training job = Training.prepare(request.build(), RuntimeOptions.cpu(0), log);
    // Ctrl-C: stop after the current step, and hold the JVM until the checkpoint is saved
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        job.stopAndWait(Duration.ofMinutes(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    job.run();
    try (DiffusionModel model = DiffusionModel.open(out)) {
      GenerationRequest.Builder draw = GenerationRequest.builder().count(4).steps(10);
      model.labels().forEach(draw::prompt);
      Generation g = model.generate(draw.build());
      g.save(out.resolve("samples.png"));
      System.out.println("drew " + g.images().size() + " images of " + model.labels().size() + " classes");
    }
  }
}
