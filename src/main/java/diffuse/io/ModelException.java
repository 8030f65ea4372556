package diffuse.io;

/** A model directory that cannot be read or written, with a message meant for the user. */
public class ModelException extends RuntimeException {
  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The first line of a (TensorFlow's, Gson's) message, for one-line errors. */
  public static String firstLine(String s) {
    return s == null ? "unknown error" : s.lines().findFirst().orElse(s).trim();
  }
}
