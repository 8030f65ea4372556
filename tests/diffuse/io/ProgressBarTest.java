package diffuse.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

  /**
   * A task resumed part-way (a training run at step 4,000 of 6,000) states the time left at the rate
   * since it resumed, not as if the first 4,000 steps had taken no time.
   */
  @Test
  void theTimeLeftOfAResumedTaskIsMeasuredFromWhereItResumed() {
    AtomicLong now = new AtomicLong();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressBar bar = new ProgressBar("train", 6000, new PrintStream(bytes, true, StandardCharsets.UTF_8), false,
        now::get);
    bar.update(4000, "");
    now.addAndGet(100_000_000_000L); // 100 s for 200 steps: 1,800 left take 900 s
    bar.update(4200, "");
    String log = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(log.contains("train 4200/6000 ( 70%)  1m40s ETA 15m00s"), log);
  }
}
