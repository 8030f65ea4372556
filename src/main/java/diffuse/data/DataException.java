package diffuse.data;

import diffuse.api.DiffuseException;

/** A data file or data set that cannot be used, with a message meant for the user. */
public class DataException extends DiffuseException {
  public DataException(String message) {
    super(Code.FAILED, message);
  }

  public DataException(String message, Throwable cause) {
    super(Code.FAILED, message, cause);
  }
}
