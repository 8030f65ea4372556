package diffuse.train;

import diffuse.api.Listener;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code loss.csv} of a run: a row per step (step, epoch, loss, gradient norm, learning rate,
 * images/s, elapsed seconds), flushed to the OS each step, so a crash of the process loses no row of
 * a step that a checkpoint kept, and forced to disk before each checkpoint ({@link #sync}), so a
 * power loss does not either. A resumed run first cuts the file back to the checkpoint's step,
 * since rows after it belong to steps a crash lost and the run does again.
 */
final class LossLog implements StepHook, AutoCloseable {
  static final String HEADER = "step,epoch,loss,grad_norm,learning_rate,images_per_second,elapsed_seconds";

  private final java.nio.channels.FileChannel channel;
  private final java.io.Writer out;
  private final Listener log;

  private LossLog(java.nio.channels.FileChannel channel, Listener log) {
    this.channel = channel;
    // an OutputStream over the channel writes every byte (it loops over short writes)
    this.out = new BufferedWriter(new java.io.OutputStreamWriter(java.nio.channels.Channels.newOutputStream(channel),
        StandardCharsets.UTF_8));
    this.log = log;
  }

  /**
   * Opens {@code runDir/loss.csv} for appending: afresh for a new run, kept up to step {@code keepTo}
   * for a resumed one (unreadable rows dropped, with a warning).
   */
  static LossLog open(Path runDir, boolean resume, long keepTo, Listener log) throws IOException {
    Files.createDirectories(runDir);
    Path file = runDir.resolve("loss.csv");
    StringBuilder kept = new StringBuilder(HEADER).append('\n');
    if (resume && Files.exists(file)) {
      int dropped = 0;
      int unreadable = 0;
      for (String line : Files.readAllLines(file, StandardCharsets.ISO_8859_1)) {
        if (line.equals(HEADER) || line.isBlank()) {
          continue;
        }
        long step = rowStep(line);
        if (step < 0) {
          unreadable++;
        } else if (step > keepTo) {
          dropped++;
        } else {
          kept.append(line).append('\n');
        }
      }
      if (unreadable > 0) {
        log.warning(file + " had " + unreadable + " unreadable row(s); they were dropped");
      }
      if (dropped > 0 || unreadable > 0) {
        diffuse.io.AtomicFiles.write(file, kept.toString().getBytes(StandardCharsets.UTF_8));
      }
    } else {
      diffuse.io.AtomicFiles.write(file, kept.toString().getBytes(StandardCharsets.UTF_8));
    }
    return new LossLog(java.nio.channels.FileChannel.open(file, StandardOpenOption.APPEND, StandardOpenOption.WRITE), log);
  }

  @Override
  public void afterStep(Step s) throws IOException {
    out.write(String.format(java.util.Locale.ROOT, "%d,%.4f,%.6f,%.5f,%.6g,%.1f,%.1f%n", s.step(),
        (double) s.step() / s.stepsPerEpoch(), s.result().loss(), s.result().gradNorm(), s.learningRate(),
        s.imagesPerSecond(), s.elapsedSeconds()));
    out.flush();
  }

  /**
   * Forces every row written so far to disk: called before a checkpoint, whose step the rows reach. A
   * file system that cannot is a warning: the log is not part of the model, and the checkpoint goes on.
   */
  void sync() throws IOException {
    out.flush();
    try {
      channel.force(false);
    } catch (IOException | UnsupportedOperationException e) {
      log.warning("could not force loss.csv to disk: " + e.getMessage() + "; training goes on");
    }
  }

  @Override
  public void close() throws IOException {
    try {
      sync();
    } finally {
      out.close();
    }
  }

  /** The step of a loss.csv row, or −1 if the row is not one this class wrote. */
  static long rowStep(String line) {
    String[] f = line.split(",", -1);
    if (f.length != 7) {
      return -1;
    }
    try {
      long step = Long.parseLong(f[0]);
      for (int i = 1; i < f.length; i++) {
        Double.parseDouble(f[i]);
      }
      return step >= 1 ? step : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
