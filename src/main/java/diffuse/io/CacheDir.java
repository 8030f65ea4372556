package diffuse.io;

import java.nio.file.Path;

/** Where the project keeps what it can always make again (downloads, start-up archives): outside the repository. */
public final class CacheDir {
  private CacheDir() {}

  /** {@code $XDG_CACHE_HOME/diffuse/NAME}, else {@code ~/.cache/diffuse/NAME}. */
  public static Path of(String name) {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("diffuse").resolve(name);
  }
}
