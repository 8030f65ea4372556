package diffuse.io;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A progress bar on a terminal ({@code \r}-redrawn, at most 10 times a second), or plain log lines
 * (one every 10 % or 30 s) when the output is not a terminal.
 */
public final class ProgressBar {
  private final String label;
  private final long total;
  private final PrintStream out;
  private final boolean interactive;
  private final java.util.function.LongSupplier clock;
  private final long start;
  private long lastDraw;
  private long lastLoggedTenth = -1;
  private long lastLogTime;
  private int lastWidth;
  /** The first count reported and when: a resumed task starts part-way, so the rate is measured from there. */
  private long firstDone = -1;
  private long firstTime;

  public ProgressBar(String label, long total, PrintStream out, boolean interactive) {
    this(label, total, out, interactive, System::nanoTime);
  }

  /** With the clock given in nanoseconds (tests). */
  ProgressBar(String label, long total, PrintStream out, boolean interactive, java.util.function.LongSupplier clock) {
    this.clock = clock;
    this.start = clock.getAsLong();
    this.label = label;
    this.total = Math.max(1, total);
    this.out = out;
    this.interactive = interactive;
  }

  /** For the process's standard error, interactive if a console is attached. */
  public static ProgressBar stderr(String label, long total) {
    return new ProgressBar(label, total, System.err, isTerminal());
  }

  /** True if the process runs on a terminal (the launcher's answer wins where it relaunched us). */
  public static boolean isTerminal() {
    String forced = System.getProperty("diffuse.terminal");
    if (forced != null) {
      return Boolean.parseBoolean(forced);
    }
    return System.console() != null;
  }

  /** Seconds since the bar was made. */
  public double elapsedSeconds() {
    return (clock.getAsLong() - start) / 1e9;
  }

  /** Reports {@code done} of total, with extra text such as the loss. */
  public void update(long done, String extra) {
    long now = clock.getAsLong();
    if (firstDone < 0) {
      firstDone = done;
      firstTime = now;
    }
    if (interactive) {
      if (now - lastDraw < 100_000_000L && done < total) {
        return;
      }
      lastDraw = now;
      String line = render(done, extra, 24);
      out.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
      lastWidth = line.length();
      out.flush();
    } else {
      long tenth = done * 10 / total;
      if (tenth != lastLoggedTenth || now - lastLogTime > 30_000_000_000L || done == total) {
        if (done == total && tenth == lastLoggedTenth && now - lastLogTime < 1_000_000_000L) {
          return;
        }
        lastLoggedTenth = tenth;
        lastLogTime = now;
        out.println(render(done, extra, 0));
        out.flush();
      }
    }
  }

  /** Ends the bar's line. */
  public void finish() {
    if (interactive && lastWidth > 0) {
      out.println();
      out.flush();
      lastWidth = 0;
    }
  }

  private String render(long done, String extra, int barWidth) {
    double frac = Math.min(1.0, (double) done / total);
    double elapsed = elapsedSeconds();
    // the rate since the first report: a task resumed at step 4,000 of 6,000 has 2,000 steps to go at today's speed
    String eta = "";
    if (done < total && done > firstDone && firstDone >= 0) {
      double since = (clock.getAsLong() - firstTime) / 1e9;
      eta = " ETA " + format(since * (total - done) / (done - firstDone));
    }
    StringBuilder sb = new StringBuilder(label).append(' ');
    if (barWidth > 0) {
      int filled = (int) Math.round(frac * barWidth);
      sb.append('[').append("#".repeat(filled)).append(".".repeat(barWidth - filled)).append("] ");
    }
    sb.append(String.format("%d/%d (%3.0f%%)", done, total, frac * 100));
    if (extra != null && !extra.isEmpty()) {
      sb.append("  ").append(extra);
    }
    sb.append("  ").append(format(elapsed)).append(eta);
    return sb.toString();
  }

  /** 75 s → "1m15s". */
  public static String format(double seconds) {
    Duration d = Duration.ofMillis((long) (seconds * 1000));
    if (d.toHours() > 0) {
      return String.format("%dh%02dm", d.toHours(), d.toMinutesPart());
    }
    if (d.toMinutes() > 0) {
      return String.format("%dm%02ds", d.toMinutes(), d.toSecondsPart());
    }
    return String.format("%.1fs", seconds);
  }
}
