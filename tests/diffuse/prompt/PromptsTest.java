package diffuse.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.data.Datasets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PromptsTest {
  static final Prompts DIGITS = new Prompts(Datasets.DIGIT_LABELS);
  static final Prompts FASHION = new Prompts(Datasets.FASHION_LABELS);

  @ParameterizedTest
  @ValueSource(strings = {"digit 7", "7", "seven", "a handwritten 7", "Seven", "  DIGIT SEVEN ", "sevens", "7s",
      "a picture of the digit 7", "the number seven"})
  void acceptedFormsOfSeven(String prompt) {
    assertEquals(7, DIGITS.resolve(prompt));
  }

  @Test
  void everyDigitByWordAndNumeral() {
    String[] words = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
    for (int d = 0; d < 10; d++) {
      assertEquals(d, DIGITS.resolve("digit " + d));
      assertEquals(d, DIGITS.resolve(words[d]));
    }
  }

  @Test
  void fashionLabelsWithArticlesAndPlurals() {
    assertEquals(7, FASHION.resolve("sneaker"));
    assertEquals(7, FASHION.resolve("Sneakers"));
    assertEquals(9, FASHION.resolve("an ankle boot"));
    assertEquals(9, FASHION.resolve("ankle boots"));
    assertEquals(0, FASHION.resolve("t-shirt"));
    assertEquals(0, FASHION.resolve("T-shirt/top"));
    assertEquals(6, FASHION.resolve("shirt"));
    assertEquals(3, FASHION.resolve("dresses"));
    assertEquals(8, FASHION.resolve("a photo of a bag"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"digit 17", "seventy", "cat", "7 8", "", "digit", "boot"})
  void rejectedFormsListTheLabels(String prompt) {
    Prompts p = prompt.equals("boot") ? FASHION : DIGITS;
    PromptException e = assertThrows(PromptException.class, () -> p.resolve(prompt));
    assertTrue(e.getMessage().contains("valid labels: "), e.getMessage());
    assertTrue(e.getMessage().contains(p == DIGITS ? "0, 1, 2" : "Sneaker, Bag, Ankle boot"), e.getMessage());
  }

  @Test
  void duplicateLabelsAreAmbiguous() {
    Prompts p = new Prompts(List.of("Cat", "cats", "dog"));
    assertTrue(assertThrows(PromptException.class, () -> p.resolve("cat")).getMessage().contains("ambiguous"));
  }

  @Test
  void aLabelThatContainsAFillerWordIsNeverTakenForTheShorterOne() {
    Prompts p = new Prompts(List.of("picture frame", "frame", "photo"));
    assertEquals(0, p.resolve("picture frame"));
    assertEquals(0, p.resolve("a picture frame"));
    assertEquals(0, p.resolve("Picture frames"));
    assertEquals(1, p.resolve("frame"));
    assertEquals(1, p.resolve("the frames"));
    assertEquals(2, p.resolve("photo"));
    // once fillers are dropped both labels read "frame": ambiguous, not a guess
    assertTrue(assertThrows(PromptException.class, () -> p.resolve("a picture of a frame")).getMessage()
        .contains("ambiguous"));
  }

  @Test
  void promptFilesSkipCommentsAndBlankLines(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("p.txt");
    Files.writeString(f, "# digits\ndigit 1\n\n  seven  # the usual\n#x\n");
    assertEquals(List.of("digit 1", "seven"), Prompts.readFile(f));
    Files.writeString(f, "# nothing\n");
    assertThrows(PromptException.class, () -> Prompts.readFile(f));
    assertThrows(PromptException.class, () -> Prompts.readFile(dir.resolve("missing.txt")));
  }
}
