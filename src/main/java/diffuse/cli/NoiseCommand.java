package diffuse.cli;

import diffuse.data.Dataset;
import diffuse.data.DatasetSpec;
import diffuse.data.Datasets;
import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import diffuse.schedule.NoiseSchedule;
import diffuse.schedule.ScheduleKind;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code diffuse noise}: one real image noised by q(x_t | x_0) at several t. */
@Command(name = "noise", mixinStandardHelpOptions = true,
    description = "Show one real image melting into noise: x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε at several t (one ε).")
final class NoiseCommand implements Callable<Integer> {
  @Option(names = "--dataset", defaultValue = "mnist", paramLabel = "NAME") String dataset;
  @Option(names = "--index", defaultValue = "0", paramLabel = "I", description = "Which training image (default: ${DEFAULT-VALUE}).") int index;
  @Option(names = "--t", defaultValue = "0,50,100,200,300,400,500,600,800,999", split = ",", paramLabel = "T1,T2,...") List<Integer> ts;
  @Option(names = "--schedule", defaultValue = "linear", paramLabel = "linear|cosine") ScheduleKind kind;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N") long seed;
  @Option(names = "--data-dir", paramLabel = "DIR") Path dataDir;
  @Option(names = "--out", defaultValue = "noising.png", paramLabel = "FILE.png") Path out;

  @Override
  public Integer call() throws Exception {
    NoiseSchedule s = NoiseSchedule.of(kind, 1000);
    for (int t : ts) {
      if (t < 0 || t >= s.numSteps()) {
        throw new IllegalArgumentException("--t values must be within 0..999, got " + t);
      }
    }
    AtomicFiles.checkWritable(out);
    Dataset d = Datasets.load(DatasetSpec.parse(dataset), Datasets.Split.TRAIN, dataDir, 32, diffuse.io.ConsoleListener.stderr());
    if (index < 0 || index >= d.size()) {
      throw new IllegalArgumentException("--index must be within 0.." + (d.size() - 1));
    }
    float[] x0 = new float[d.imageSize()];
    d.fill(new int[] {index}, x0);
    float[] eps = new float[x0.length];
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = 0; i < eps.length; i++) {
      eps[i] = (float) rng.nextGaussian();
    }
    List<BufferedImage> imgs = new ArrayList<>();
    List<String> captions = new ArrayList<>();
    float[] xt = new float[x0.length];
    for (int t : ts) {
      s.qSample(x0, new int[] {t}, eps, xt);
      imgs.add(Images.toImage(xt, 0, d.height(), d.width(), d.channels()));
      captions.add(String.format("t = %d%n√ᾱ = %.2f", t, s.sqrtAlphasCumprod(t)));
    }
    String title = String.format("%s image %d (label %s) under the forward process, %s schedule", d.name(), index,
        d.labelNames().get(d.labels()[index]), kind.name().toLowerCase());
    Images.writePng(diffuse.viz.Strips.strip(title, imgs, captions, 4), out);
    System.out.println("wrote " + out);
    return 0;
  }
}
