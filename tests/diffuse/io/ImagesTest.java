package diffuse.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sample grid's layout. */
class ImagesTest {
  static final List<Images.Row> ONE = List.of(new Images.Row("7", List.of(new BufferedImage(28, 28,
      BufferedImage.TYPE_BYTE_GRAY))));

  /** A title wider than the images (one sample under a long method name) widens the grid instead of being cut off. */
  @Test
  void aLongTitleWidensTheGridAndAShortOneDoesNot() {
    int plain = Images.grid(null, ONE, 8, 2).getWidth();
    assertEquals(plain, Images.grid("s = 2", ONE, 8, 2).getWidth(), "a short title keeps the grid's width");
    String title = "autoguidance w = 2 by mnist-guide + CFG 1.2 in σ (0.3, 5], dpm++2m 8 steps, seed 42";
    int wide = Images.grid(title, ONE, 8, 2).getWidth();
    assertTrue(wide > 3 * plain, plain + " → " + wide);
  }
}
