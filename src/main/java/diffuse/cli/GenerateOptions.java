package diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shipped models are found. */
final class GenerateOptions {
  private GenerateOptions() {}

  /** The shipped image models, the default first. */
  static final java.util.List<String> SHIPPED = java.util.List.of("mnist", "fashion-mnist");

  /**
   * The shipped MNIST model: {@code models/mnist} relative to the working directory, else next to
   * the jar ({@code target/../models/mnist}).
   */
  static Path defaultModel() {
    return shipped(SHIPPED.get(0));
  }

  /** The shipped model {@code name}: under {@code models/} here, else next to the jar. */
  static Path shipped(String name) {
    Path here = Path.of("models", name);
    if (Files.isDirectory(here)) {
      return here;
    }
    try {
      Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path beside = jar.getParent().getParent().resolve("models").resolve(name);
      if (Files.isDirectory(beside)) {
        return beside;
      }
    } catch (Exception ignored) {
      // fall through
    }
    return here;
  }
}
