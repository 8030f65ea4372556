package diffuse.fault;

import diffuse.cli.Main;
import java.io.OutputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs {@code generate} many times in one JVM and prints, every {@code every} runs, the resident
 * memory, open file descriptors, live threads and anonymous memory:
 * {@code soak RUN RSS_KB FDS THREADS ANON_KB ANON_UNTRIMMED_KB}.
 *
 * <p>ANON_KB is read after glibc's {@code malloc_trim(0)} has handed the free pages of every malloc
 * arena back to the kernel; ANON_UNTRIMMED_KB just before. Without the trim the figure counts freed
 * memory the allocator keeps: how much depends on which of its arenas (up to 8 per core) the
 * TensorFlow threads happened to use, so it moves with the machine and its load, not with a leak
 * (a CI run saw +30 % where the same code here gave +2 %). The trim goes through the JDK's
 * incubating foreign-function API, reached by reflection so the tests compile without it; the child
 * JVM is started with {@code --add-modules jdk.incubator.foreign --enable-native-access=ALL-UNNAMED}.
 * Arguments: MODEL_DIR OUT_DIR RUNS EVERY.
 */
public final class GenerateSoak {
  private GenerateSoak() {}

  public static void main(String[] args) throws Throwable {
    String model = args[0];
    Path out = Path.of(args[1]);
    int runs = Integer.parseInt(args[2]);
    int every = Integer.parseInt(args[3]);
    PrintStream report = System.out;
    MethodHandle trim = mallocTrim();
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
        long untrimmed = statusKb("RssAnon:");
        int unusedReleased = (int) trim.invokeExact(0L);
        report.printf("soak %d %d %d %d %d %d%n", i, statusKb("VmRSS:"), fds, Thread.activeCount(), statusKb("RssAnon:"),
            untrimmed);
      }
    }
  }

  /**
   * glibc's {@code int malloc_trim(size_t pad)} as a handle of type {@code (long)int}, through
   * {@code jdk.incubator.foreign} (JDK 17): {@code CLinker.getInstance().downcallHandle(
   * CLinker.systemLookup().lookup("malloc_trim").get(), type, FunctionDescriptor.of(C_INT, C_LONG))}.
   */
  static MethodHandle mallocTrim() throws ReflectiveOperationException {
    Class<?> linker = Class.forName("jdk.incubator.foreign.CLinker");
    Class<?> lookup = Class.forName("jdk.incubator.foreign.SymbolLookup");
    Class<?> layout = Class.forName("jdk.incubator.foreign.MemoryLayout");
    Class<?> descriptor = Class.forName("jdk.incubator.foreign.FunctionDescriptor");
    Class<?> addressable = Class.forName("jdk.incubator.foreign.Addressable");
    Object system = linker.getMethod("systemLookup").invoke(null);
    Object symbol = ((java.util.Optional<?>) lookup.getMethod("lookup", String.class).invoke(system, "malloc_trim"))
        .orElseThrow(() -> new IllegalStateException("no malloc_trim in this C library"));
    Object layouts = java.lang.reflect.Array.newInstance(layout, 1);
    java.lang.reflect.Array.set(layouts, 0, linker.getField("C_LONG").get(null));
    Object signature = descriptor.getMethod("of", layout, layouts.getClass())
        .invoke(null, linker.getField("C_INT").get(null), layouts);
    Object instance = linker.getMethod("getInstance").invoke(null);
    return (MethodHandle) linker.getMethod("downcallHandle", addressable, MethodType.class, descriptor)
        .invoke(instance, symbol, MethodType.methodType(int.class, long.class), signature);
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
