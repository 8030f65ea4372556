package diffuse.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A class-data sharing archive (JDK dynamic AppCDS) for the child JVM of the short commands: the
 * classes a {@code generate} run loads (picocli's options, Gson, TensorFlow Java, protobuf, this
 * project's), parsed and verified once and mapped by every later run. Measured on the README's first
 * command (2 cores, client compiler; child JVM alone, 3 runs each, alternating): 1.37–1.50 s without,
 * 1.19–1.25 s with it.
 *
 * <p>An archive is only valid for one JVM and one class path, so its name is a digest of both (each
 * entry's path, size and modification time): a rebuilt jar or another JDK gets a new one, and the
 * JVM itself also refuses a mismatched archive and runs without. The first short command after a
 * build writes the archive at its exit ({@code -XX:ArchiveClassesAtExit}, ≈ 0.4 s more), then a
 * second JVM maps it once with {@code -Xshare:on} before it is installed under its final name by an
 * atomic rename, next to a {@code .size} file: a JVM maps an archive without checking its length, and
 * a truncated one kills it with SIGBUS, so an archive is used only while its size is the one that was
 * checked; damaged contents are caught by the JVM's own checksums ({@code -XX:+VerifySharedSpaces},
 * written at the dump) and it then runs without. Nothing here ever fails a command: an archive that
 * cannot be written, checked or read is simply not used. Lives in {@code $XDG_CACHE_HOME/diffuse/cds}
 * (else {@code ~/.cache/diffuse/cds}); deleting it is always safe.
 */
final class ClassDataArchive {
  /** Archives kept in the cache directory (one per build and JDK); older ones are deleted. */
  static final int KEEP = 4;

  private final Path dir;
  private final String name;

  /**
   * @param dir the cache directory
   * @param name the archive's base name, {@link #key} of the JVM and class path
   */
  ClassDataArchive(Path dir, String name) {
    this.dir = dir;
    this.name = name;
  }

  /** The archive of this JVM and class path in the user's cache directory. */
  static ClassDataArchive forThisJvm() {
    List<Path> cp = new ArrayList<>();
    for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      if (!e.isEmpty()) {
        cp.add(Path.of(e));
      }
    }
    return new ClassDataArchive(diffuse.io.CacheDir.of("cds"),
        key(System.getProperty("java.home"), System.getProperty("java.vm.version"), withManifestClassPath(cp)));
  }

  /**
   * The class path as the JVM sees it: each jar, then the jars its manifest's {@code Class-Path}
   * names (where {@code java -jar target/diffuse.jar} finds TensorFlow and the rest).
   */
  static List<Path> withManifestClassPath(List<Path> cp) {
    List<Path> all = new ArrayList<>();
    for (Path p : cp) {
      all.add(p);
      if (p.toString().endsWith(".jar") && Files.isRegularFile(p)) {
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(p.toFile())) {
          java.util.jar.Manifest m = jar.getManifest();
          String more = m == null ? null : m.getMainAttributes().getValue("Class-Path");
          if (more != null) {
            Path base = p.toAbsolutePath().getParent();
            for (String e : more.trim().split("\\s+")) {
              all.add(base.resolve(e));
            }
          }
        } catch (IOException | RuntimeException e) {
          // an unreadable jar keys as its size and time alone
        }
      }
    }
    return all;
  }

  /**
   * A name that changes whenever the archive could no longer match: a checksum of the JVM (home and
   * version) and of every class path entry's absolute path, size and modification time.
   */
  static String key(String javaHome, String vmVersion, List<Path> classPath) {
    StringBuilder sb = new StringBuilder(javaHome).append('\n').append(vmVersion).append('\n');
    for (Path p : classPath) {
      sb.append(p.toAbsolutePath()).append('\t');
      try {
        sb.append(Files.size(p)).append('\t').append(Files.getLastModifiedTime(p).toMillis());
      } catch (IOException e) {
        sb.append("missing");
      }
      sb.append('\n');
    }
    // two 32-bit checksums, not a cryptographic digest (whose provider set-up costs the parent JVM
    // 20 ms): a collision only means an archive the JVM itself refuses as mismatched
    byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
    java.util.zip.CRC32C c = new java.util.zip.CRC32C();
    c.update(b);
    java.util.zip.CRC32 d = new java.util.zip.CRC32();
    d.update(b);
    return String.format("diffuse-%08x%08x", c.getValue(), d.getValue());
  }

  Path archive() {
    return dir.resolve(name + ".jsa");
  }

  Path sizeFile() {
    return dir.resolve(name + ".size");
  }

  /** True when the archive is installed and still has the size it was checked at. */
  boolean usable() {
    try {
      return Files.isRegularFile(archive())
          && Long.parseLong(Files.readString(sizeFile()).trim()) == Files.size(archive());
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  /** JVM options that map the installed archive, checking its contents, with the JVM's CDS messages off. */
  List<String> useOptions() {
    return List.of("-XX:SharedArchiveFile=" + archive(), "-XX:+VerifySharedSpaces", "-Xlog:cds*=off");
  }

  /** A fresh path to dump a new archive to, in the cache directory; null when it cannot be made. */
  Path newDumpPath() {
    try {
      Files.createDirectories(dir);
      return dir.resolve(name + ".jsa.writing-" + ProcessHandle.current().pid());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** JVM options that write the classes a run loaded to {@code dump} at its exit, with checksums. */
  static List<String> dumpOptions(Path dump) {
    return List.of("-XX:ArchiveClassesAtExit=" + dump, "-XX:+VerifySharedSpaces", "-Xlog:cds*=off");
  }

  /**
   * Checks a dumped archive by mapping it in a JVM that must use it ({@code -Xshare:on}: a bad or
   * mismatched archive is an error there, not a silent fallback) and, if it works, installs it under
   * its final name with its size; otherwise deletes it. Returns whether it was installed.
   *
   * @param java the checking JVM's command up to its archive options: the java binary and the same
   *     JVM options as the run that dumped it
   * @param mainAndArgs what follows the archive options: the class path, a main class and arguments
   */
  boolean install(Path dump, List<String> java, List<String> mainAndArgs) {
    try {
      if (dump == null || !Files.isRegularFile(dump) || Files.size(dump) == 0) {
        return false;
      }
      long size = Files.size(dump);
      List<String> cmd = new ArrayList<>(java);
      cmd.addAll(List.of("-Xshare:on", "-XX:SharedArchiveFile=" + dump, "-XX:+VerifySharedSpaces", "-Xlog:cds*=off",
          "-Xlog:os=off"));
      cmd.addAll(mainAndArgs);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      if (p.exitValue() != 0 || Files.size(dump) != size) {
        return false;
      }
      Files.move(dump, archive(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Path tmp = dir.resolve(name + ".size.writing-" + ProcessHandle.current().pid());
      Files.writeString(tmp, Long.toString(size));
      Files.move(tmp, sizeFile(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      prune();
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      discard(dump);
    }
  }

  /** Deletes what a run dumped (one that failed, or one already checked and moved away); never fails. */
  static void discard(Path dump) {
    try {
      if (dump != null) {
        Files.deleteIfExists(dump);
      }
    } catch (IOException ignored) {
      // a leftover in a cache directory, removed by a later prune
    }
  }

  /** Deletes all but the {@link #KEEP} newest archives (with their size files) and leftovers older than an hour. */
  void prune() throws IOException {
    List<Path> archives;
    try (Stream<Path> s = Files.list(dir)) {
      archives = s.filter(p -> p.getFileName().toString().endsWith(".jsa"))
          .sorted(Comparator.comparing(ClassDataArchive::modified).reversed()).toList();
    }
    for (Path a : archives.subList(Math.min(KEEP, archives.size()), archives.size())) {
      String base = a.getFileName().toString().replaceFirst("\\.jsa$", "");
      Files.deleteIfExists(a);
      Files.deleteIfExists(dir.resolve(base + ".size"));
    }
    long hourAgo = System.currentTimeMillis() - 3_600_000L;
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(p -> p.getFileName().toString().contains(".writing-")).toList()) {
        if (modified(p) < hourAgo) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
