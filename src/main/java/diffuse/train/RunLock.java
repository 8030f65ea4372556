package diffuse.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One training process per run directory: an exclusive lock on {@code RUN/train.lock}, held while a
 * run trains. A second {@code train --resume} of the same run (a forgotten background job, a script
 * started twice) would write the same checkpoints and loss log; it is refused with the holder's
 * process id instead. The operating system drops the lock when its process ends, even by
 * {@code kill -9}, so a crash never leaves the run locked; the file itself stays, empty of meaning.
 */
final class RunLock implements AutoCloseable {
  static final String FILE = "train.lock";

  private final FileChannel channel;
  private final FileLock lock;

  private RunLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Locks {@code runDir} (creating it), or fails naming the process that trains it. */
  static RunLock acquire(Path runDir) {
    Path file = runDir.resolve(FILE);
    FileChannel ch = null;
    try {
      Files.createDirectories(runDir);
      ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock l;
      try {
        l = ch.tryLock();
      } catch (OverlappingFileLockException sameProcess) {
        l = null;
      }
      if (l == null) {
        String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
        ch.close();
        throw new TrainingRun.TrainingException(runDir + " is being trained by another process"
            + (holder.isEmpty() ? "" : " (pid " + holder + ")") + "; wait for it to end or stop it first", null);
      }
      ch.truncate(0);
      ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
      return new RunLock(ch, l);
    } catch (IOException e) {
      closeQuietly(ch);
      throw new TrainingRun.TrainingException("cannot lock " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
    } catch (IOException ignored) {
      // the channel's close below releases it too
    }
    closeQuietly(channel);
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // nothing more to release
      }
    }
  }
}
