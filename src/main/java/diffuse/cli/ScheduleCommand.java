package diffuse.cli;

import diffuse.io.AtomicFiles;
import diffuse.io.Images;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code diffuse schedule}: the signal and noise shares of x_t for the linear and cosine schedules. */
@Command(name = "schedule", mixinStandardHelpOptions = true,
    description = "Plot √ᾱ_t (signal) and √(1−ᾱ_t) (noise) against t for the linear and cosine schedules.")
final class ScheduleCommand implements Callable<Integer> {
  @Option(names = "--timesteps", defaultValue = "1000", paramLabel = "T") int steps;
  @Option(names = "--out", defaultValue = "schedule.png", paramLabel = "FILE.png") Path out;

  @Override
  public Integer call() throws Exception {
    if (steps < 2) {
      throw new IllegalArgumentException("--timesteps must be >= 2");
    }
    AtomicFiles.checkWritable(out);
    Images.writePng(diffuse.viz.SchedulePlot.render(steps), out);
    System.out.println("wrote " + out);
    return 0;
  }
}
