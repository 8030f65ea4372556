package diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shipped models are found. */
final class GenerateOptions {
  private GenerateOptions() {}

  /** The shipped image models, the default first. */
  static final java.util.List<String> SHIPPED = java.util.List.of("mnist", "fashion-mnist");

  /**
   * The shipped MNIST model: {@code models/mnist} relative to the working directory, else beside
   * the jar (an installation's {@code models/mnist}, a build's {@code target/../models/mnist}).
   */
  static Path defaultModel() {
    return shipped(SHIPPED.get(0));
  }

  /** Every shipped model that is there, the default first (at least the default, so a missing one is reported). */
  static java.util.List<Path> shippedModels() {
    java.util.List<Path> found = SHIPPED.stream().map(GenerateOptions::shipped).filter(Files::isDirectory).toList();
    return found.isEmpty() ? java.util.List.of(defaultModel()) : found;
  }

  /** The shipped model {@code name}: under {@code models/} here, else next to the jar. */
  static Path shipped(String name) {
    Path here = Path.of("models", name);
    if (Files.isDirectory(here)) {
      return here;
    }
    try {
      Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      // an installation keeps models/ beside diffuse.jar; a build, beside target/
      for (Path base : new Path[] {jar.getParent(), jar.getParent().getParent()}) {
        Path beside = base.resolve("models").resolve(name);
        if (Files.isDirectory(beside)) {
          return beside;
        }
      }
    } catch (Exception ignored) {
      // fall through
    }
    return here;
  }
}
