package diffuse.fault;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A JVM started from the test's class path, its output collected line by line ('\n' or '\r'). */
final class Child implements AutoCloseable {
  final Process process;
  private final List<String> lines = new ArrayList<>();
  private final List<Waiter> waiters = new ArrayList<>();
  private final Thread reader;

  private record Waiter(Predicate<String> match, CountDownLatch latch) {}

  static String classPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }

  /** Starts {@code mainClass args} in a JVM with {@code jvmArgs}; TF_CPP_MIN_LOG_LEVEL set, so no relaunch. */
  static Child start(List<String> jvmArgs, String mainClass, List<String> args, Path workDir) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-Djava.awt.headless=true");
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(mainClass);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(workDir.toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    return new Child(pb.start());
  }

  static Child diffuse(Path workDir, String... args) throws IOException {
    return start(List.of("-Xmx512m"), "diffuse.cli.Main", List.of(args), workDir);
  }

  private Child(Process p) {
    this.process = p;
    reader = new Thread(() -> {
      StringBuilder line = new StringBuilder();
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        int c;
        while ((c = in.read()) >= 0) {
          if (c == '\n' || c == '\r') {
            add(line.toString());
            line.setLength(0);
          } else {
            line.append((char) c);
          }
        }
      } catch (IOException ignored) {
        // killed
      }
      if (line.length() > 0) {
        add(line.toString());
      }
    }, "child-output");
    reader.setDaemon(true);
    reader.start();
  }

  private synchronized void add(String line) {
    lines.add(line);
    for (Waiter w : waiters) {
      if (w.match.test(line)) {
        w.latch.countDown();
      }
    }
  }

  /** Waits until a line matches (or the child ends); true if one did. */
  boolean await(Predicate<String> match, long seconds) throws InterruptedException {
    CountDownLatch latch = new CountDownLatch(1);
    synchronized (this) {
      if (lines.stream().anyMatch(match)) {
        return true;
      }
      waiters.add(new Waiter(match, latch));
    }
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      if (latch.await(20, TimeUnit.MILLISECONDS)) {
        return true;
      }
      if (!process.isAlive()) {
        reader.join(2000);
        return latch.getCount() == 0;
      }
    }
    return false;
  }

  /** Waits for the exit; returns the code. */
  int waitFor(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("child did not finish in " + seconds + " s:\n" + output());
    }
    reader.join(5000);
    return process.exitValue();
  }

  synchronized String output() {
    return String.join("\n", lines);
  }

  /** SIGKILL, then waits until the process is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
    reader.join(2000);
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
