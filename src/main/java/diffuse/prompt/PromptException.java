package diffuse.prompt;

/** A prompt that names no label, or more than one; the message lists the valid labels. */
public class PromptException extends RuntimeException {
  public PromptException(String message) {
    super(message);
  }
}
