package diffuse.train;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {

  @Test
  void aRunDirectoryIsTrainedByOneRunAtATime(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("run");
    try (RunLock first = RunLock.acquire(run)) {
      assertTrue(Files.readString(run.resolve(RunLock.FILE)).strip().equals("" + ProcessHandle.current().pid()));
      TrainingRun.TrainingException e = assertThrows(TrainingRun.TrainingException.class, () -> RunLock.acquire(run));
      assertTrue(e.getMessage().contains(run + " is being trained by another process (pid "
          + ProcessHandle.current().pid() + ")"), e.getMessage());
    }
    try (RunLock again = RunLock.acquire(run)) {
      // released when the first run ended
    }
  }
}
