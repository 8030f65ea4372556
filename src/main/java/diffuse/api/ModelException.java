package diffuse.api;

/** A model directory that cannot be read or written, with a message meant for the user. */
public class ModelException extends DiffuseException {
  public ModelException(String message) {
    super(Code.FAILED, message);
  }

  public ModelException(String message, Throwable cause) {
    super(Code.FAILED, message, cause);
  }
}
