package diffuse.api;

import java.util.Objects;

/**
 * The one user-facing failure of the library and its services. Its message is meant for a person as
 * it is (one line, no stack trace); its {@link Code} tells an adapter how to answer: the CLI turns it
 * into an exit status, the server into an HTTP status. {@link #field()} names the request field at
 * fault, when one is (the API's JSON error names it; the CLI maps it to its option).
 *
 * <p>Subclasses ({@code ModelException}, {@code DataException}, {@code PromptException}, …) only
 * fix the code; adapters catch this type.
 */
public class DiffuseException extends RuntimeException {
  /** What kind of failure, independent of how it is shown. */
  public enum Code {
    /** A value that is out of range or malformed (CLI exit 2, HTTP 400). */
    BAD_VALUE(2, 400),
    /** A name that matches nothing, or more than one thing: a prompt, a label, a model (exit 1, HTTP 400). */
    UNKNOWN_NAME(1, 400),
    /** Something the request needs does not exist (exit 1, HTTP 404). */
    NOT_FOUND(1, 404),
    /** The work cannot be taken now; try again later (exit 1, HTTP 429 with Retry-After). */
    BUSY(1, 429),
    /** A device or resource that is not there (exit 1, HTTP 503). */
    UNAVAILABLE(1, 503),
    /** The caller stopped waiting; nothing was produced (exit 130, HTTP 499, never sent). */
    CANCELLED(130, 499),
    /** A model, data or file that cannot be used, or a run that failed (exit 1, HTTP 500). */
    FAILED(1, 500);

    private final int exitCode;
    private final int httpStatus;

    Code(int exitCode, int httpStatus) {
      this.exitCode = exitCode;
      this.httpStatus = httpStatus;
    }

    public int exitCode() {
      return exitCode;
    }

    public int httpStatus() {
      return httpStatus;
    }
  }

  private final Code code;
  private final String field;

  public DiffuseException(Code code, String message) {
    this(code, null, message, null);
  }

  public DiffuseException(Code code, String message, Throwable cause) {
    this(code, null, message, cause);
  }

  /**
   * @param field the request field at fault ({@code "steps"}, {@code "prompt"}), or null
   */
  public DiffuseException(Code code, String field, String message, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code);
    this.field = field;
  }

  /** A bad value of {@code field}; the message should name the field as the API spells it. */
  public static DiffuseException badValue(String field, String message) {
    return new DiffuseException(Code.BAD_VALUE, field, message, null);
  }

  public Code code() {
    return code;
  }

  /** The request field at fault, or null. */
  public String field() {
    return field;
  }

  /** The first line of a (TensorFlow's, Gson's) message, for one-line errors. */
  public static String firstLine(String s) {
    return s == null ? "unknown error" : s.lines().findFirst().orElse(s).trim();
  }
}
