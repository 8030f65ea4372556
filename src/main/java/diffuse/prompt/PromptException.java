package diffuse.prompt;

import diffuse.api.DiffuseException;

/** A prompt that names no label, or more than one; the message lists the valid labels. */
public class PromptException extends DiffuseException {
  public PromptException(String message) {
    super(Code.UNKNOWN_NAME, "prompt", message, null);
  }
}
