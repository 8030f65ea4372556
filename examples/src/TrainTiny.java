import diffuse.api.DiffusionModel;
import diffuse.api.Generation;
import diffuse.api.GenerationRequest;
import diffuse.api.Listener;
import diffuse.api.RuntimeOptions;
import diffuse.api.Training;
import diffuse.api.TrainingRequest;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Trains a tiny model for a minute, then draws with it. The run directory is a model directory and
 * a checkpoint: a second call with the same OUT resumes. Usage: TrainTiny [DATASET] [OUT] [IMAGE_SIZE]
 * (DATASET: mnist, fashion-mnist or folder:PATH with one subfolder per class).
 */
public class TrainTiny {
  public static void main(String[] args) throws Exception {
    String dataset = args.length > 0 ? args[0] : "mnist";
    Path out = Path.of(args.length > 1 ? args[1] : "runs/tiny");
    TrainingRequest.Builder request = TrainingRequest.newRun(dataset, out)
        .epochs(1).limit(2048).batchSize(32).widths(8, 16).embedDim(32).groups(4).seed(1);
    if (args.length > 2) {
      request.imageSize(Integer.parseInt(args[2]));
    }
    Listener log = new Listener() {
      @Override
      public void message(String line) {
        System.out.println(line);
      }
    };
    Training job = Training.prepare(request.build(), RuntimeOptions.cpu(0), log);
    // Ctrl-C: ask the loop to stop, and hold the JVM until it has saved its checkpoint
    CountDownLatch saved = new CountDownLatch(1);
    Thread onInterrupt = new Thread(() -> {
      job.requestStop();
      try {
        saved.await(5, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Runtime.getRuntime().addShutdownHook(onInterrupt);
    try {
      job.run();
    } finally {
      saved.countDown();
    }
    try (DiffusionModel model = DiffusionModel.open(out)) {
      GenerationRequest.Builder draw = GenerationRequest.builder().count(4).steps(10);
      model.labels().forEach(draw::prompt);
      Generation g = model.generate(draw.build());
      g.save(out.resolve("samples.png"));
      System.out.println("drew " + g.images().size() + " images of " + model.labels().size() + " classes");
    }
  }
}
