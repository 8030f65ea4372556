package diffuse.cli;

import diffuse.data.Dataset;
import diffuse.data.DatasetSpec;
import diffuse.data.Datasets;
import diffuse.eval.ClassifierInfo;
import diffuse.eval.ClassifierTrainer;
import diffuse.io.AtomicFiles;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code diffuse train-classifier}: the classifier that {@code evaluate} judges samples with. */
@Command(name = "train-classifier", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Train the evaluation classifier of a data set (a small CNN).",
        "", "Its accuracy judges whether samples show the requested class; its penultimate-layer",
        "features are the space of the Fréchet distance and the diversity measure."})
final class TrainClassifierCommand implements Callable<Integer> {
  @Option(names = "--dataset", defaultValue = "mnist", paramLabel = "NAME", description = "mnist, fashion-mnist or folder:PATH (default: ${DEFAULT-VALUE}).")
  String dataset;
  @Option(names = "--out", paramLabel = "DIR", description = "Where to save it (default: models/<dataset>-classifier).")
  Path out;
  @Option(names = "--epochs", defaultValue = "3", paramLabel = "N", description = "Passes over the data (default: ${DEFAULT-VALUE}).")
  int epochs;
  @Option(names = "--batch-size", defaultValue = "128", paramLabel = "N") int batch;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N") long seed;
  @Option(names = "--image-size", paramLabel = "PX", description = "Side of folder images (default: 32; folder data sets only).") Integer imageSizeOption;
  @Option(names = "--data-dir", paramLabel = "DIR") Path dataDir;
  @Mixin DeviceOptions device;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec cmd;

  @Override
  public Integer call() throws Exception {
    if (epochs < 1 || batch < 1) {
      throw new IllegalArgumentException("--epochs and --batch-size must be >= 1");
    }
    DatasetSpec spec = DatasetSpec.parse(dataset);
    Path dir = out != null ? out : EvaluateCommand.defaultClassifierDir(spec.toString());
    AtomicFiles.checkWritable(dir.resolve("classifier.json"));
    var d = device.resolve();
    var log = diffuse.io.ConsoleListener.stderr();
    int imageSize = diffuse.app.TrainService.folderImageSize(spec, imageSizeOption);
    Dataset train;
    Dataset test;
    String accuracyOn;
    if (spec.kind() == DatasetSpec.Kind.FOLDER) {
      // a folder has no test split: hold out every 10th image of each class, never trained on
      Dataset[] parts = Datasets.load(spec, Datasets.Split.TRAIN, dataDir, imageSize, log).holdOut(10);
      train = parts[0];
      test = parts[1];
      accuracyOn = "every 10th image of each class, held out of the classifier's training";
      if (test.size() == 0) {
        throw new IllegalArgumentException("each class of " + spec + " needs at least 10 images to hold some out");
      }
    } else {
      train = Datasets.load(spec, Datasets.Split.TRAIN, dataDir, imageSize, log);
      test = Datasets.load(spec, Datasets.Split.TEST, dataDir, imageSize, log);
      accuracyOn = "the test split";
    }
    ClassifierInfo info = ClassifierTrainer.train(train, test, epochs, batch, seed, dir, Main.commandLine(cmd), accuracyOn,
        d.config(), log);
    System.out.printf("saved %s: accuracy %.2f%% on %,d images (%s), %s of training%n", dir, 100 * info.testAccuracy(),
        test.size(), accuracyOn, diffuse.io.ProgressBar.format(info.trainSeconds()));
    return 0;
  }
}
