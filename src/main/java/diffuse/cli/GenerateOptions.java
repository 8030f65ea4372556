package diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shipped models are found. */
final class GenerateOptions {
  private GenerateOptions() {}

  /** The shipped image models, the default first. */
  static final java.util.List<String> SHIPPED = java.util.List.of("mnist", "fashion-mnist", "mnist-guide");

  /**
   * The shipped MNIST model: {@code models/mnist} relative to the working directory, else beside
   * the jar (an installation's {@code models/mnist}, a build's {@code target/../models/mnist}).
   */
  static Path defaultModel() {
    return shipped(SHIPPED.get(0));
  }

  /** The model search path: directories separated by ':', searched for a model given by name. */
  static final String SEARCH_PATH_ENV = "DIFFUSE_MODELS";

  /** {@link #find(Path, java.util.Map)} in this process's environment. */
  static Path find(Path given) {
    return find(given, System.getenv());
  }

  /**
   * A model named on the command line: a directory as given; else a bare name ({@code mnist},
   * {@code my-run}) looked up in each directory of {@code $DIFFUSE_MODELS} and then among the shipped
   * models, so that {@code --model NAME} works from any directory. Not found: {@code given} itself,
   * for the error that names it.
   */
  static Path find(Path given, java.util.Map<String, String> env) {
    if (given == null || Files.isDirectory(given) || given.getNameCount() != 1 || given.isAbsolute()) {
      return given;
    }
    String name = given.toString();
    String path = env.get(SEARCH_PATH_ENV);
    if (path != null) {
      for (String d : path.split(java.io.File.pathSeparator)) {
        if (!d.isBlank() && Files.isDirectory(Path.of(d, name))) {
          return Path.of(d, name);
        }
      }
    }
    Path shipped = shipped(name);
    return Files.isDirectory(shipped) ? shipped : given;
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
