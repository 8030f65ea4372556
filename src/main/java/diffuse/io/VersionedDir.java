package diffuse.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A directory whose current content is one immutable version (a subdirectory) named by a small
 * pointer file. Used for every model the tool writes: training checkpoints and {@code model.json},
 * {@code export}, and the evaluation classifier with {@code classifier.json}.
 *
 * <p>Publishing a version:
 * <ol>
 *   <li>{@link #stage}: the version is written completely under a temporary name
 *       ({@code .writing-NAME-NONCE}), every file and directory in it is forced to disk, and it is
 *       renamed to a name no existing entry has ({@code NAME}, else {@code NAME-2}, {@code NAME-3},
 *       …), then the parent directory is forced. Nothing that exists is moved or replaced.
 *   <li>{@link #commit}: the pointer file is replaced atomically (written to a temporary file,
 *       forced, renamed over the old one, directory forced: {@link AtomicFiles#write}). That rename
 *       is the commit; only after it are the other versions deleted.
 * </ol>
 * A crash at any moment leaves the pointer naming a complete version; what is left over is a
 * temporary directory or an uncommitted version, which {@link #deleteAllBut} removes (the next
 * save or training start calls it).
 */
public final class VersionedDir {
  /** Prefix of a version being written. */
  public static final String TEMP_PREFIX = ".writing-";

  private VersionedDir() {}

  /** Writes a version's files into an empty directory; {@code name} is the name it will have. */
  @FunctionalInterface
  public interface Content {
    void writeInto(Path dir, String name) throws IOException;
  }

  /** Writes the pointer file (atomically) so that it names {@code name}. */
  @FunctionalInterface
  public interface Pointer {
    void pointAt(String name) throws IOException;
  }

  /**
   * Writes a complete version into {@code dir} and returns the name it got ({@code base} or
   * {@code base-K}); the pointer is not touched, so until {@link #commit} the old version stays current.
   * On failure nothing is left behind and the exception propagates.
   */
  public static String stage(Path dir, String base, Content content) throws IOException {
    Files.createDirectories(dir);
    String name = freeName(dir, base);
    Path tmp = dir.resolve(TEMP_PREFIX + name + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1));
    boolean ok = false;
    try {
      Files.createDirectories(tmp);
      content.writeInto(tmp, name);
      forceTree(tmp);
      Files.move(tmp, dir.resolve(name), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      forceDirectory(dir);
      ok = true;
      return name;
    } finally {
      if (!ok) {
        try {
          AtomicFiles.deleteTree(tmp);
        } catch (IOException ignored) {
          // a temporary name is never loaded; the next save removes it
        }
      }
    }
  }

  /**
   * Makes {@code name} current through {@code pointer}, then deletes every other entry of the
   * family ({@code familyPrefix}) and leftovers of interrupted writes.
   */
  public static void commit(Path dir, String familyPrefix, String name, Pointer pointer) throws IOException {
    pointer.pointAt(name);
    deleteAllBut(dir, familyPrefix, name);
  }

  /** {@link #stage} then {@link #commit}; returns the version's name. */
  public static String publish(Path dir, String base, String familyPrefix, Content content, Pointer pointer)
      throws IOException {
    String name = stage(dir, base, content);
    commit(dir, familyPrefix, name, pointer);
    return name;
  }

  /**
   * Removes what interrupted writes leave: temporary version directories, temporary pointer files,
   * and versions of the family other than {@code current} (staged but never committed).
   *
   * @return the names removed
   */
  public static List<String> deleteAllBut(Path dir, String familyPrefix, String current) throws IOException {
    List<String> removed = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return removed;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        boolean otherVersion = n.startsWith(familyPrefix) && !n.equals(current);
        boolean temp = n.startsWith(TEMP_PREFIX) || AtomicFiles.isTemporary(n);
        if (otherVersion || temp) {
          AtomicFiles.deleteTree(p);
          removed.add(n);
        }
      }
    }
    return removed;
  }

  private static String freeName(Path dir, String base) {
    if (!Files.exists(dir.resolve(base))) {
      return base;
    }
    for (int k = 2; ; k++) {
      String n = base + "-" + k;
      if (!Files.exists(dir.resolve(n))) {
        return n;
      }
    }
  }

  /** Forces every regular file and directory under {@code root} (root included) to disk. */
  static void forceTree(Path root) throws IOException {
    List<Path> all;
    try (Stream<Path> s = Files.walk(root)) {
      all = s.toList();
    }
    for (Path p : all) {
      if (Files.isRegularFile(p)) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) { // fsync needs no write access
          ch.force(true);
        }
      }
    }
    for (int i = all.size() - 1; i >= 0; i--) {
      if (Files.isDirectory(all.get(i))) {
        forceDirectory(all.get(i));
      }
    }
  }

  /** Forces a directory's entries (renames, creations) to disk where the platform allows it. */
  static void forceDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // some platforms cannot open a directory; the rename itself is still atomic
    }
  }
}
