package diffuse.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestData;
import diffuse.TestCli;
import diffuse.TestCli.Run;
import diffuse.io.ModelStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults a user's machine throws at the tool: {@code kill -9} at any moment, Ctrl-C, a full disk,
 * damaged model files, and many generations in one process. Training runs in child JVMs started
 * from the test's class path, exactly as {@code java -jar target/diffuse.jar} would run it.
 * Tagged "fault" (a few minutes): {@code mvn test -DexcludedGroups=slow,fault} leaves it out.
 * Each test appends its figures to {@code target/fault-report.txt}.
 */
@Tag("fault")
class FaultInjectionTest {
  static final int KILLS = 24;
  static final int INTERVAL = 2;

  @TempDir static Path shared;
  static Path bars;

  @BeforeAll
  static void data() throws IOException {
    bars = TestData.writeBarsFolder(shared.resolve("bars"), 64, 8);
  }

  static String[] newRun(Path out, String epochs, long checkpointEvery) {
    return new String[] {"train", "--dataset", "folder:" + bars, "--image-size", "8", "--widths", "8,16", "--embed-dim",
        "16", "--groups", "4", "--batch-size", "16", "--epochs", epochs, "--timesteps", "50", "--warmup", "2",
        "--checkpoint-every", "" + checkpointEvery, "--device", "cpu", "--out", out.toString()};
  }

  static Run cli(String... args) {
    return TestCli.run(args);
  }

  static void report(String line) throws IOException {
    System.out.println(line);
    Path f = Path.of("target", "fault-report.txt");
    Files.createDirectories(f.getParent());
    Files.writeString(f, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /** The steps of loss.csv, in file order. */
  static List<Long> loggedSteps(Path run) throws IOException {
    Path csv = run.resolve("loss.csv");
    if (!Files.exists(csv)) {
      return List.of();
    }
    List<Long> steps = new ArrayList<>();
    for (String l : Files.readAllLines(csv, StandardCharsets.ISO_8859_1)) {
      String first = l.split(",", 2)[0];
      if (first.matches("\\d+")) {
        steps.add(Long.parseLong(first));
      }
    }
    return steps;
  }

  /** What a crash can leave besides the current checkpoint: temporary names and uncommitted checkpoints. */
  static Set<String> leftovers(Path run) throws IOException {
    Set<String> out = new TreeSet<>();
    if (!Files.isDirectory(run)) {
      return out;
    }
    String current = Files.exists(run.resolve("model.json")) ? ModelStore.open(run).info().checkpoint() : null;
    try (Stream<Path> s = Files.list(run)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith(".") || (n.startsWith("ckpt-") && !n.equals(current))) {
          out.add(n);
        }
      }
    }
    return out;
  }

  static boolean writing(Path run) {
    try (Stream<Path> s = Files.list(run)) {
      return s.anyMatch(p -> p.getFileName().toString().startsWith(".writing-"));
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void sigkillAtRandomMomentsLosesAtMostOneCheckpointInterval(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("run");
    Random rng = new Random(20261202);
    int loadable = 0;
    int duringWrite = 0;
    int beforeFirstSave = 0;
    int cleanedUp = 0;
    long maxLost = 0;
    long totalLost = 0;
    Set<String> left = Set.of();
    for (int i = 0; i < KILLS; i++) {
      boolean resume = Files.exists(run.resolve("model.json"));
      String[] args = resume ? new String[] {"train", "--resume", run.toString(), "--epochs", "1000", "--device", "cpu"}
          : newRun(run, "1000", INTERVAL);
      try (Child c = Child.diffuse(tmp, args)) {
        assertTrue(c.await(l -> l.startsWith("model:"), 120), "no start:\n" + c.output());
        for (String n : left) {
          assertFalse(Files.exists(run.resolve(n)), n + " was left behind after the next start\n" + c.output());
        }
        cleanedUp += left.size();
        if (i == 0) {
          Thread.sleep(100); // before the first checkpoint: nothing saved yet
        } else {
          if (!resume) { // a fresh start: let it commit one checkpoint, so the run makes progress
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(run.resolve("model.json")) && System.nanoTime() < until) {
              Thread.sleep(2);
            }
          }
          if (i % 2 == 0) { // any moment
            Thread.sleep(rng.nextInt(2500));
          } else { // aimed at a checkpoint being written (a write of this tiny model takes a few hundred ms)
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!writing(run) && System.nanoTime() < until) {
              Thread.sleep(1);
            }
            Thread.sleep(rng.nextInt(300));
          }
        }
        if (writing(run)) {
          duringWrite++;
        }
        assertTrue(c.process.isAlive(), "the run ended before it was killed:\n" + c.output());
        c.kill();
      }
      List<Long> steps = loggedSteps(run);
      long reached = steps.isEmpty() ? 0 : steps.stream().mapToLong(Long::longValue).max().getAsLong();
      long lost;
      if (Files.exists(run.resolve("model.json"))) {
        ModelStore.StoredModel m = ModelStore.open(run); // a kill never leaves an unloadable model
        lost = reached - m.info().training().step();
        Run gen = cli("generate", "--model", run.toString(), "--prompt", "h", "-n", "2", "--steps", "3", "--device", "cpu",
            "--out", tmp.resolve("gen/" + i + ".png").toString());
        assertEquals(0, gen.code(), "kill " + i + ": " + gen.err());
        loadable++;
      } else {
        lost = reached;
        beforeFirstSave++;
      }
      assertTrue(lost <= INTERVAL, "kill " + i + " lost " + lost + " steps (reached " + reached + ")");
      maxLost = Math.max(maxLost, lost);
      totalLost += lost;
      left = leftovers(run);
    }
    // and the run still finishes, with every step logged exactly once
    long now = ModelStore.open(run).info().training().step();
    long target = (now / 4 + 2) * 4;
    try (Child c = Child.diffuse(tmp, "train", "--resume", run.toString(), "--epochs", "" + target / 4, "--device", "cpu")) {
      assertEquals(0, c.waitFor(120), c.output());
    }
    assertEquals(target, ModelStore.open(run).info().training().step());
    assertEquals(java.util.stream.LongStream.rangeClosed(1, target).boxed().toList(), loggedSteps(run));
    assertEquals(Set.of(), leftovers(run));
    report(String.format("kill -9: %d kills (%d while a checkpoint was being written, %d before the first save);"
        + " %d of %d models left loadable and generating; steps lost max %d, mean %.2f (checkpoint every %d);"
        + " %d leftovers removed by the next start; the run then finished at step %d with every step logged once",
        KILLS, duringWrite, beforeFirstSave, loadable, KILLS - beforeFirstSave, maxLost, (double) totalLost / KILLS,
        INTERVAL, cleanedUp, target));
    assertEquals(KILLS - beforeFirstSave, loadable);
    assertTrue(duringWrite >= KILLS / 4, "only " + duringWrite + " kills hit a checkpoint write");
  }

  @Test
  void sigtermSavesTheStepReachedAndExits(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("run");
    try (Child c = Child.diffuse(tmp, newRun(run, "1000", 0))) {
      assertTrue(c.await(l -> l.startsWith("model:"), 120), c.output());
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (loggedSteps(run).size() < 10 && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      c.process.toHandle().destroy(); // SIGTERM, as Ctrl-C; Process.destroy() would also close our end of the pipes
      int code = c.waitFor(120);
      Matcher m = Pattern.compile("stopped at step (\\d+); saving a checkpoint").matcher(c.output());
      assertTrue(m.find(), "exit " + code + ":\n" + c.output());
      long stopped = Long.parseLong(m.group(1));
      assertEquals(stopped, ModelStore.open(run).info().training().step(), "the step reached is the step saved");
      List<Long> steps = loggedSteps(run);
      assertEquals(stopped, steps.get(steps.size() - 1));
      assertTrue(c.output().contains("saved " + run), c.output());
      report("SIGTERM: stopped at step " + stopped + ", saved that step, exit code " + code + " (nothing lost)");
    }
  }

  @Test
  void aFullDiskDuringCheckpointsKeepsThePreviousOneAndSaysWhich(@TempDir Path tmp) throws Exception {
    Path disk = tmp.resolve("disk");
    Files.createDirectories(disk);
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", disk.toString())
        .redirectErrorStream(true).start();
    boolean mounted = mount.waitFor(20, TimeUnit.SECONDS) && mount.exitValue() == 0;
    Assumptions.assumeTrue(mounted, "cannot mount a small tmpfs here (needs root); the injected-failure tests in"
        + " TrainingRunTest cover the same paths");
    try {
      Path run = disk.resolve("run");
      try (Child c = Child.diffuse(tmp, newRun(run, "0.5", INTERVAL))) { // steps 1-2, ckpt-00000002
        assertEquals(0, c.waitFor(120), c.output());
      }
      long ckptBytes;
      try (Stream<Path> s = Files.walk(run.resolve("ckpt-00000002"))) {
        ckptBytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
      }
      long usable = Files.getFileStore(disk).getUsableSpace();
      Path filler = disk.resolve("filler");
      Files.write(filler, new byte[(int) Math.max(0, usable - ckptBytes / 2)]);
      String err;
      try (Child c = Child.diffuse(tmp, "train", "--resume", run.toString(), "--epochs", "2", "--device", "cpu")) {
        int code = c.waitFor(120);
        err = c.output();
        assertEquals(1, code, err);
      }
      assertTrue(err.contains("warning: could not save the checkpoint of step 4 in " + run), err);
      assertTrue(err.contains("the previous checkpoint (ckpt-00000002) is intact; training goes on"), err);
      String last = err.strip().lines().reduce((a, b) -> b).orElse("");
      assertTrue(last.startsWith("diffuse train: error: could not save the checkpoint of step 8 in " + run), err);
      assertTrue(last.endsWith("the previous checkpoint (ckpt-00000002) is intact"), last);
      assertFalse(err.contains("\tat ") || err.contains("internal error"), err);
      assertEquals(2, ModelStore.open(run).info().training().step());
      assertEquals(Set.of(), leftovers(run), "a failed save leaves nothing behind");
      Run gen = cli("generate", "--model", run.toString(), "--prompt", "v", "-n", "2", "--steps", "3", "--device", "cpu",
          "--out", tmp.resolve("after-full.png").toString());
      assertEquals(0, gen.code(), gen.err());
      Files.delete(filler);
      try (Child c = Child.diffuse(tmp, "train", "--resume", run.toString(), "--epochs", "2", "--device", "cpu")) {
        assertEquals(0, c.waitFor(120), c.output());
      }
      assertEquals(8, ModelStore.open(run).info().training().step());
      report("full disk: checkpoint " + ckptBytes + " bytes, " + ckptBytes / 2 + " bytes free: saves of steps 4, 6 and 8"
          + " failed with the message naming ckpt-00000002 as intact, exit 1; that checkpoint loaded and generated;"
          + " after freeing space the run resumed to step 8. Last line: " + last);
    } finally {
      new ProcessBuilder("umount", "-l", disk.toString()).start().waitFor(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void everyDamagedFileOfAModelIsAOneLineErrorNamingIt(@TempDir Path tmp) throws Exception {
    Path pristine = tmp.resolve("pristine");
    Run train = cli(newRun(pristine, "1", INTERVAL));
    assertEquals(0, train.code(), train.err());
    List<Path> files;
    try (Stream<Path> s = Files.walk(pristine)) {
      files = s.filter(Files::isRegularFile).map(pristine::relativize).sorted().toList();
    }
    assertTrue(files.size() >= 8, files.toString());
    Random rng = new Random(7);
    int cases = 0;
    int errors = 0;
    for (Path rel : files) {
      for (String mode : List.of("truncate", "random", "delete")) {
        Path dir = tmp.resolve("case-" + cases);
        diffuse.TestData.copyTree(pristine, dir);
        Path f = dir.resolve(rel);
        byte[] bytes = Files.readAllBytes(f);
        switch (mode) {
          case "truncate" -> Files.write(f, Arrays.copyOf(bytes, bytes.length / 2));
          case "random" -> {
            byte[] r = new byte[bytes.length];
            rng.nextBytes(r);
            Files.write(f, r);
          }
          default -> Files.delete(f);
        }
        String name = rel.getFileName().toString();
        // the log and the run's lock file are not part of the model: damaged, they change nothing
        boolean log = name.equals("loss.csv") || name.equals("train.lock");
        boolean state = rel.toString().contains("/state/");
        Run gen = cli("generate", "--model", dir.toString(), "--prompt", "h", "-n", "2", "--steps", "3", "--device",
            "cpu", "--out", tmp.resolve("g" + cases + ".png").toString());
        Run resume = cli("train", "--resume", dir.toString(), "--epochs", "1.5", "--device", "cpu");
        String what = rel + " (" + mode + ")";
        for (Run r : List.of(gen, resume)) {
          assertFalse(r.err().contains("\tat ") || r.err().contains("internal error"), what + ": " + r.err());
        }
        if (log) { // unreadable log rows are dropped with a warning; the lock is rewritten by the next run
          assertEquals(0, gen.code(), what + ": " + gen.err());
          assertEquals(0, resume.code(), what + ": " + resume.err());
        } else {
          // generate needs everything but the training state; resume needs everything
          if (state) {
            assertEquals(0, gen.code(), what + ": " + gen.err());
          } else {
            expectOneLineNaming(gen, name, what);
            errors++;
          }
          expectOneLineNaming(resume, name, what);
          errors++;
        }
        cases++;
      }
    }
    report("damaged files: " + files + ": " + files.size() + " files x (truncate, random bytes, delete) = " + cases + " cases, "
        + errors + " refused runs, each a one-line error naming the file; loss.csv damage is dropped with a warning");
  }

  static void expectOneLineNaming(Run r, String name, String what) {
    assertNotEquals(0, r.code(), what + " was accepted");
    List<String> errorLines = r.err().lines().filter(l -> l.contains("error:")).toList();
    assertEquals(1, errorLines.size(), what + ": " + r.err());
    assertTrue(errorLines.get(0).contains(name), what + ": the message does not name " + name + ": " + r.err());
  }


  @Test
  void aThousandGenerationsInOneProcessKeepMemoryFlat(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("model");
    Run train = cli(newRun(model, "1", 0));
    assertEquals(0, train.code(), train.err());
    int runs = 1000;
    List<long[]> samples = new ArrayList<>();
    String trajectory;
    try (Child c = Child.start(List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "--add-modules",
        "jdk.incubator.foreign", "--enable-native-access=ALL-UNNAMED"), GenerateSoak.class.getName(),
        List.of(model.toString(), tmp.toString(), "" + runs, "50"), tmp)) {
      assertEquals(0, c.waitFor(540), c.output());
      Matcher m = Pattern.compile("soak (\\d+) (\\d+) (\\d+) (\\d+) (\\d+) (\\d+)").matcher(c.output());
      StringBuilder t = new StringBuilder();
      while (m.find()) {
        long[] s = new long[6];
        for (int i = 0; i < 6; i++) {
          s[i] = Long.parseLong(m.group(i + 1));
        }
        samples.add(s);
        t.append(String.format(" %d:%.0f/%.0f", s[0], s[4] / 1024.0, s[5] / 1024.0));
      }
      trajectory = "anonymous MB after run (trimmed/untrimmed):" + t;
    }
    assertEquals(runs / 50, samples.size());
    long[] start = samples.get(1); // after 100 runs: TensorFlow's pools and the JIT are warm
    long[] end = samples.get(samples.size() - 1);
    // A leak is anonymous memory (heap, native buffers) still in use. The resident size also counts the
    // pages of the ~0.5 GB TensorFlow library mapped from its file, which depend on what other processes
    // have brought into the page cache; and the untrimmed anonymous size counts freed memory kept in
    // glibc's malloc arenas, which depends on which threads ran where (GenerateSoak). The judged figure
    // is read after malloc_trim(0).
    double growth = (double) (end[4] - start[4]) / start[4];
    report(String.format("memory: %d generate runs in one JVM: anonymous memory after malloc_trim %.1f MB after %d,"
        + " %.1f MB after %d (%+.1f %%), untrimmed %.1f MB -> %.1f MB; resident %.1f MB -> %.1f MB; file descriptors"
        + " %d -> %d; threads %d -> %d", runs, start[4] / 1024.0, start[0], end[4] / 1024.0, end[0], 100 * growth,
        start[5] / 1024.0, end[5] / 1024.0, start[1] / 1024.0, end[1] / 1024.0, start[2], end[2], start[3], end[3]));
    report(trajectory);
    assertTrue(Math.abs(growth) <= 0.05, "anonymous memory changed by " + 100 * growth + " %; " + trajectory);
    assertTrue(end[2] <= start[2] + 2, "file descriptors grew: " + start[2] + " -> " + end[2]);
    assertTrue(end[3] <= start[3] + 2, "threads grew: " + start[3] + " -> " + end[3]);
  }
}
