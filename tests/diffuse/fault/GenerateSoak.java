package diffuse.fault;

import diffuse.cli.Main;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs {@code generate} many times in one JVM and prints, every {@code every} runs, the resident
 * memory, open file descriptors and live threads: {@code soak RUN RSS_KB FDS THREADS}.
 * Arguments: MODEL_DIR OUT_DIR RUNS EVERY.
 */
public final class GenerateSoak {
  private GenerateSoak() {}

  public static void main(String[] args) throws Exception {
    String model = args[0];
    Path out = Path.of(args[1]);
    int runs = Integer.parseInt(args[2]);
    int every = Integer.parseInt(args[3]);
    PrintStream report = System.out;
    PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
    for (int i = 1; i <= runs; i++) {
      System.setOut(sink);
      System.setErr(sink);
      int code = Main.execute("generate", "--model", model, "--prompt", i % 2 == 0 ? "h" : "v", "-n", "4", "--steps",
          "4", "--seed", "" + i, "--device", "cpu", "--out", out.resolve("s.png").toString());
      System.setOut(report);
      if (code != 0) {
        report.println("soak-failed " + i + " exit " + code);
        System.exit(1);
      }
      if (i % every == 0) {
        long fds;
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
          fds = s.count();
        }
        report.printf("soak %d %d %d %d %d%n", i, statusKb("VmRSS:"), fds, Thread.activeCount(), statusKb("RssAnon:"));
      }
    }
  }

  /** A size in kB from /proc/self/status: VmRSS (all resident pages) or RssAnon (those no file backs). */
  static long statusKb(String key) throws java.io.IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(key)) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
