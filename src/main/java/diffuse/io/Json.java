package diffuse.io;

import diffuse.api.DiffuseException;
import diffuse.api.ModelException;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** JSON reading and atomic writing of the tool's records. */
public final class Json {
  private static final Gson GSON =
      new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

  private Json() {}

  public static String toJson(Object value) {
    return GSON.toJson(value);
  }

  public static <T> T fromJson(String text, Class<T> type) {
    return GSON.fromJson(text, type);
  }

  /** Reads {@code file} as {@code type}; a missing or malformed file is a {@link ModelException}. */
  public static <T> T read(Path file, Class<T> type) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new ModelException(file + " is missing", e);
    } catch (java.nio.charset.MalformedInputException e) {
      throw new ModelException(file + " is corrupt: it is not UTF-8 text", e);
    } catch (IOException e) {
      throw new ModelException("cannot read " + file + ": " + AtomicFiles.describe(e), e);
    }
    try {
      T value = GSON.fromJson(text, type);
      if (value == null) {
        throw new ModelException(file + " is empty");
      }
      return value;
    } catch (JsonParseException | IllegalArgumentException | NullPointerException e) {
      throw new ModelException(file + " is corrupt: " + DiffuseException.firstLine(e.getMessage()), e);
    } catch (RuntimeException e) {
      // a record's constructor refused a value: Gson wraps what it threw
      if (e.getCause() instanceof IllegalArgumentException || e.getCause() instanceof DiffuseException) {
        throw new ModelException(file + " is corrupt: " + DiffuseException.firstLine(e.getCause().getMessage()), e);
      }
      throw e;
    }
  }

  /** Writes {@code value} to {@code file} through a temporary file and an atomic rename. */
  public static void writeAtomically(Path file, Object value) throws IOException {
    AtomicFiles.write(file, GSON.toJson(value).getBytes(StandardCharsets.UTF_8));
  }
}
