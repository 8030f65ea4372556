package diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shipped model is found. */
final class GenerateOptions {
  private GenerateOptions() {}

  /**
   * The shipped MNIST model: {@code models/mnist} relative to the working directory, else next to
   * the jar ({@code target/../models/mnist}).
   */
  static Path defaultModel() {
    Path here = Path.of("models", "mnist");
    if (Files.isDirectory(here)) {
      return here;
    }
    try {
      Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path beside = jar.getParent().getParent().resolve("models").resolve("mnist");
      if (Files.isDirectory(beside)) {
        return beside;
      }
    } catch (Exception ignored) {
      // fall through
    }
    return here;
  }
}
