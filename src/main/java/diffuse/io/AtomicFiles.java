package diffuse.io;

import diffuse.api.ModelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** Writing files so that a reader sees the old content or the new one, never a part. */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Writes bytes to a sibling temporary file, forces them to disk, then renames over {@code file}. */
  public static void write(Path file, byte[] bytes) throws IOException {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      } catch (UnsupportedOperationException ignored) {
        // not a POSIX file system
      }
      move(tmp, abs);
      VersionedDir.forceDirectory(dir);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** True for the name of a temporary file that {@link #write} or {@link #checkWritable} makes. */
  public static boolean isTemporary(String name) {
    return name.startsWith(".") && (name.endsWith(".tmp") || name.endsWith(".probe"));
  }

  /** Renames atomically where the file system can, else replaces. */
  public static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Fails early, before any work, if {@code file} could not be created. */
  public static void checkWritable(Path file) {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    try {
      Files.createDirectories(dir);
      Path probe = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".probe");
      Files.delete(probe);
    } catch (IOException | SecurityException e) {
      throw new ModelException("cannot write " + file + ": " + describe(e));
    }
    if (Files.isDirectory(abs)) {
      throw new ModelException("cannot write " + file + ": it is a directory");
    }
  }

  /** Deletes a directory tree; quietly does nothing if it is absent. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static String describe(Exception e) {
    String m = e.getMessage();
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
      return fse.getReason();
    }
    return m == null ? e.getClass().getSimpleName() : m;
  }
}
