package diffuse.data;

/** A data file or data set that cannot be used, with a message meant for the user. */
public class DataException extends RuntimeException {
  public DataException(String message) {
    super(message);
  }

  public DataException(String message, Throwable cause) {
    super(message, cause);
  }
}
