package diffuse.io;

/** A model directory that cannot be read or written, with a message meant for the user. */
public class ModelException extends RuntimeException {
  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
