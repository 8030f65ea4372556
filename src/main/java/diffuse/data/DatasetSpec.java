package diffuse.data;

import java.nio.file.Path;

/**
 * What {@code --dataset} names: {@code mnist}, {@code fashion-mnist}, or {@code folder:PATH} (one
 * subfolder of PNG/JPEG images per class).
 *
 * @param kind which loader
 * @param folder the folder for {@link Kind#FOLDER}, else null
 */
public record DatasetSpec(Kind kind, Path folder) {
  /** The data sets the tool can read. */
  public enum Kind {
    MNIST("mnist"),
    FASHION_MNIST("fashion-mnist"),
    FOLDER("folder");

    private final String id;

    Kind(String id) {
      this.id = id;
    }

    public String id() {
      return id;
    }
  }

  /** Parses {@code mnist}, {@code fashion-mnist} or {@code folder:PATH}. */
  public static DatasetSpec parse(String text) {
    String s = text.trim();
    if (s.equalsIgnoreCase("mnist")) {
      return new DatasetSpec(Kind.MNIST, null);
    }
    if (s.equalsIgnoreCase("fashion-mnist") || s.equalsIgnoreCase("fashion")) {
      return new DatasetSpec(Kind.FASHION_MNIST, null);
    }
    if (s.regionMatches(true, 0, "folder:", 0, 7) && s.length() > 7) {
      return new DatasetSpec(Kind.FOLDER, Path.of(s.substring(7)));
    }
    throw new DataException(
        "unknown dataset '" + text + "': use mnist, fashion-mnist or folder:PATH");
  }

  @Override
  public String toString() {
    return kind == Kind.FOLDER ? "folder:" + folder : kind.id();
  }
}
