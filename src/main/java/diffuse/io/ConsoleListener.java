package diffuse.io;

import diffuse.api.Listener;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@link Listener} that prints to a stream: messages as lines, warnings as "warning: …" lines,
 * progress as a {@link ProgressBar} per task (redrawn on a terminal, a line every 10 % otherwise).
 */
public final class ConsoleListener implements Listener {
  private final PrintStream out;
  private final boolean interactive;
  private final Map<String, ProgressBar> bars = new HashMap<>();
  private boolean midLine;

  public ConsoleListener(PrintStream out, boolean interactive) {
    this.out = out;
    this.interactive = interactive;
  }

  /** On standard error, redrawing its bars if a terminal is attached. */
  public static ConsoleListener stderr() {
    return new ConsoleListener(System.err, ProgressBar.isTerminal());
  }

  @Override
  public synchronized void message(String line) {
    endLine();
    out.println(line);
    out.flush();
  }

  @Override
  public synchronized void warning(String line) {
    endLine();
    out.println("warning: " + line);
    out.flush();
  }

  @Override
  public synchronized void progress(String task, long done, long total, String status) {
    bars.computeIfAbsent(task, t -> new ProgressBar(t, total, out, interactive)).update(done, status);
    midLine = interactive;
  }

  @Override
  public synchronized void finished(String task) {
    ProgressBar bar = bars.remove(task);
    if (bar != null) {
      bar.finish();
    }
    midLine = false;
  }

  private void endLine() {
    if (midLine) {
      out.println();
      midLine = false;
    }
  }
}
