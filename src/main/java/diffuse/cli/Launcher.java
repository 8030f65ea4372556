package diffuse.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Gives TensorFlow the environment it reads at start-up, which a running JVM cannot set: when
 * TF_CPP_MIN_LOG_LEVEL is unset the CLI runs itself once more as a child JVM with the same arguments
 * and {@link #childEnvironment}: TF_CPP_MIN_LOG_LEVEL=2 (its native log lines out of the user's way;
 * the few that absl writes regardless are dropped from the child's standard error) and
 * TF_ENABLE_ONEDNN_OPTS=1 unless the user chose otherwise. TensorFlow Java's CPU build leaves oneDNN
 * off by default; with it the convolutions run through oneDNN and x·σ(x) becomes one fused op, and
 * training runs ≈ 1.5× faster on the machines this project is measured on (README, "Speed").
 * Set TF_CPP_MIN_LOG_LEVEL yourself (0 shows everything) to run in one process with no filter; set
 * TF_ENABLE_ONEDNN_OPTS=1 too to keep oneDNN there.
 */
final class Launcher {
  static final String CHILD = "diffuse.child";
  private static final String ONEDNN = diffuse.runtime.Device.ONEDNN_ENV;
  private static final Pattern NATIVE_LOG =
      Pattern.compile("^(WARNING: All log messages before absl::InitializeLog\\(\\).*"
          + "|[IWE]\\d{4} \\d\\d:\\d\\d:\\d+\\.\\d+\\s+\\d+ \\S+:\\d+\\] .*"
          + "|\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d+: [IWEF] \\S+:\\d+\\] .*"
          + "|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\\.)$");

  private Launcher() {}

  static boolean shouldRelaunch() {
    return System.getenv("TF_CPP_MIN_LOG_LEVEL") == null && System.getProperty(CHILD) == null;
  }

  static int relaunch(String[] args) {
    List<String> jvm = new ArrayList<>();
    jvm.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    jvm.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    jvm.addAll(childJvmOptions(args));
    jvm.add("-D" + CHILD + "=true");
    List<String> classPath = List.of("-cp", System.getProperty("java.class.path"));
    // the short commands map (or, first after a build, write) a class-data sharing archive
    ClassDataArchive cds = isShort(args) ? ClassDataArchive.forThisJvm() : null;
    Path dump = null;
    List<String> cmd = new ArrayList<>(jvm);
    if (cds != null && cds.usable()) {
      cmd.addAll(cds.useOptions());
    } else if (cds != null && (dump = cds.newDumpPath()) != null) {
      cmd.addAll(ClassDataArchive.dumpOptions(dump));
    }
    cmd.add("-Ddiffuse.terminal=" + (System.console() != null));
    cmd.addAll(classPath);
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .redirectInput(ProcessBuilder.Redirect.INHERIT)
        .redirectOutput(ProcessBuilder.Redirect.INHERIT);
    pb.environment().putAll(childEnvironment(System.getenv()));
    Process child;
    try {
      child = pb.start();
    } catch (IOException e) {
      return Main.execute(args); // cannot start a JVM: run here, with the log lines
    }
    // On Ctrl-C the terminal signals the child too; a signal sent to this process alone is passed
    // on (SIGTERM). Either way the child saves what it must, and this process waits for it.
    Thread pump = new Thread(() -> filter(child.getErrorStream(), System.err), "stderr-filter");
    pump.start();
    Thread waiter = new Thread(() -> {
      try {
        child.toHandle().destroy(); // SIGTERM; unlike Process.destroy() it leaves the pipes open
        child.waitFor();
        pump.join(5000);
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    });
    Runtime.getRuntime().addShutdownHook(waiter);
    try {
      int code = child.waitFor();
      pump.join();
      if (dump != null) {
        // install what a successful run dumped (never failing the command); otherwise drop it
        if (code == 0) {
          List<String> check = new ArrayList<>(classPath);
          check.addAll(List.of(Main.class.getName(), "--version"));
          cds.install(dump, jvm, check);
        } else {
          ClassDataArchive.discard(dump);
        }
      }
      return code;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 130;
    }
  }

  /**
   * Commands that run for a few seconds, where the JIT's optimising tier costs more than it gives
   * and where a class-data sharing archive ({@link ClassDataArchive}) pays.
   */
  private static final java.util.Set<String> SHORT = java.util.Set.of("generate", "sweep", "info");

  /**
   * JVM options for the child: for the short commands in {@link #SHORT}, the client compiler only
   * ({@code -XX:TieredStopAtLevel=1}). On 2 cores C2's compiler threads compete with TensorFlow for
   * the whole of a {@code generate} run, whose Java side is a few array loops per step; measured on
   * the README's first command, 3.3–3.7 s wall without and 2.5–2.9 s with it (2026-12-03, 2 cores, no
   * AVX-512). Long runs (train, evaluate, serve) keep the JVM's default tiers.
   */
  static List<String> childJvmOptions(String[] args) {
    return isShort(args) ? List.of("-XX:TieredStopAtLevel=1") : List.of();
  }

  /** Whether {@code args} run one of the {@link #SHORT} commands. */
  static boolean isShort(String[] args) {
    return args.length > 0 && SHORT.contains(args[0]);
  }

  /** The variables the child JVM gets on top of {@code parent}, the user's environment. */
  static Map<String, String> childEnvironment(Map<String, String> parent) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("TF_CPP_MIN_LOG_LEVEL", "2");
    if (!parent.containsKey(ONEDNN)) {
      env.put(ONEDNN, "1");
    }
    return env;
  }

  /** Copies {@code in} to {@code out} segment by segment ('\n' or '\r' ends one), minus native log lines. */
  static void filter(InputStream in, OutputStream out) {
    ByteArrayOutputStream seg = new ByteArrayOutputStream();
    try {
      int c;
      while ((c = in.read()) >= 0) {
        seg.write(c);
        if (c == '\n' || c == '\r') {
          flushSegment(seg, out);
        }
      }
      flushSegment(seg, out);
    } catch (IOException ignored) {
      // child gone
    }
  }

  private static void flushSegment(ByteArrayOutputStream seg, OutputStream out) throws IOException {
    if (seg.size() == 0) {
      return;
    }
    String s = seg.toString(StandardCharsets.UTF_8);
    seg.reset();
    if (!NATIVE_LOG.matcher(s.strip()).matches()) {
      out.write(s.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
  }
}
