package diffuse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --model NAME: a directory as given, else $DIFFUSE_MODELS, else the shipped models. */
class ModelSearchTest {
  @Test
  void aNameIsLookedUpOnTheSearchPathThenAmongTheShippedModels(@TempDir Path tmp) throws IOException {
    Path a = Files.createDirectories(tmp.resolve("a/mine"));
    Files.createDirectories(tmp.resolve("b/mine"));
    Files.createDirectories(tmp.resolve("b/mnist"));
    String path = tmp.resolve("a") + java.io.File.pathSeparator + tmp.resolve("b");
    Map<String, String> env = Map.of(GenerateOptions.SEARCH_PATH_ENV, path);
    assertEquals(a, GenerateOptions.find(Path.of("mine"), env), "the first directory that has it");
    assertEquals(tmp.resolve("b/mnist"), GenerateOptions.find(Path.of("mnist"), env), "the search path comes first");
    assertEquals(Path.of("models", "fashion-mnist"), GenerateOptions.find(Path.of("fashion-mnist"), Map.of()));
    assertEquals(Path.of("nowhere"), GenerateOptions.find(Path.of("nowhere"), env), "not found: as given");
    assertEquals(Path.of("models/mnist"), GenerateOptions.find(Path.of("models/mnist"), env), "a directory as given");
  }
}
