package diffuse;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package layout is the architecture (docs/design.md), and this test keeps it so: each package
 * names the packages it may use, lower layers never reach up, picocli stays in the CLI and Netty in
 * the server, internal packages use only the vocabulary of the public API, and no TensorFlow or
 * internal type appears in a public signature of {@code diffuse.api}.
 */
class ArchitectureTest {
  static final Path SOURCES = Path.of("src", "main", "java", "diffuse");

  /** The public API's vocabulary, which every layer may use; the rest of diffuse.api is the front door over the services. */
  static final Set<String> VOCABULARY = Set.of("Listener", "StepState", "DiffuseException", "ModelException",
      "Defaults", "RuntimeOptions");

  /** Package → the diffuse packages it may use (besides itself and the API's vocabulary), lowest layer first. */
  static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("schedule", Set.of()),
      Map.entry("prompt", Set.of()),
      Map.entry("sampling", Set.of("schedule")),
      Map.entry("model", Set.of("sampling", "schedule")),
      Map.entry("io", Set.of("model", "sampling", "schedule")),
      Map.entry("data", Set.of("io", "sampling", "schedule")),
      Map.entry("viz", Set.of("data", "sampling", "schedule", "io")),
      Map.entry("runtime", Set.of()),
      Map.entry("train", Set.of("data", "io", "model", "runtime", "sampling", "schedule")),
      Map.entry("eval", Set.of("data", "io", "model", "runtime", "sampling", "schedule", "train")),
      Map.entry("app", Set.of("data", "eval", "io", "model", "prompt", "runtime", "sampling", "schedule", "train",
          "viz")),
      Map.entry("api", Set.of("app", "data", "eval", "io", "model", "prompt", "runtime", "sampling", "schedule",
          "train")),
      Map.entry("serve", Set.of("api", "app", "data", "eval", "io", "model", "prompt", "runtime", "sampling",
          "schedule", "train", "viz")),
      Map.entry("cli", Set.of("api", "app", "data", "eval", "io", "model", "prompt", "runtime", "sampling", "schedule",
          "serve", "train", "viz")));

  private static final Pattern REFERENCE = Pattern.compile("\\bdiffuse\\.([a-z]+)\\.([A-Z]\\w*)");

  record Source(String pkg, String name, String text) {}

  static List<Source> sources() throws IOException {
    List<Source> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
        String rel = SOURCES.relativize(f).toString();
        out.add(new Source(rel.substring(0, rel.indexOf('/')), f.getFileName().toString().replace(".java", ""),
            Files.readString(f)));
      }
    }
    return out;
  }

  @Test
  void everyPackageUsesOnlyThePackagesBelowIt() throws IOException {
    List<String> broken = new ArrayList<>();
    Set<String> packages = new TreeSet<>();
    for (Source s : sources()) {
      packages.add(s.pkg());
      boolean vocabulary = s.pkg().equals("api") && VOCABULARY.contains(s.name());
      Set<String> allowed = vocabulary ? Set.of() : ALLOWED.getOrDefault(s.pkg(), Set.of());
      Matcher m = REFERENCE.matcher(s.text());
      while (m.find()) {
        String pkg = m.group(1), type = m.group(2);
        if (pkg.equals(s.pkg()) && !vocabulary) {
          continue;
        }
        boolean ok = allowed.contains(pkg) || (pkg.equals("api") && VOCABULARY.contains(type));
        if (!ok) {
          broken.add(s.pkg() + "/" + s.name() + " uses diffuse." + pkg + "." + type);
        }
      }
    }
    assertTrue(ALLOWED.keySet().containsAll(packages), "a package without rules: " + packages);
    assertTrue(broken.isEmpty(), String.join("\n", new TreeSet<>(broken)));
  }

  @Test
  void picocliStaysInTheCliAndNettyInTheServer() throws IOException {
    List<String> broken = new ArrayList<>();
    for (Source s : sources()) {
      if (!s.pkg().equals("cli") && s.text().contains("picocli")) {
        broken.add(s.pkg() + "/" + s.name() + " uses picocli");
      }
      if (!s.pkg().equals("serve") && !s.pkg().equals("cli") && s.text().contains("io.netty")) {
        broken.add(s.pkg() + "/" + s.name() + " uses Netty");
      }
    }
    assertTrue(broken.isEmpty(), String.join("\n", broken));
  }

  /** A program sees only diffuse.api and the JDK in the front door's signatures: no TensorFlow, no internals. */
  @Test
  void thePublicApiShowsNoEngineOrInternalTypes() throws Exception {
    List<String> broken = new ArrayList<>();
    for (Source s : sources()) {
      if (!s.pkg().equals("api")) {
        continue;
      }
      Class<?> c = Class.forName("diffuse.api." + s.name());
      if (!Modifier.isPublic(c.getModifiers())) {
        continue;
      }
      List<Class<?>> types = new ArrayList<>(List.of(c.getClasses()));
      types.add(c);
      for (Class<?> t : types) {
        for (Method m : t.getDeclaredMethods()) {
          if (!Modifier.isPublic(m.getModifiers())) {
            continue;
          }
          List<Type> sig = new ArrayList<>(List.of(m.getGenericParameterTypes()));
          sig.add(m.getGenericReturnType());
          for (Type p : sig) {
            String name = p.getTypeName();
            if (name.contains("org.tensorflow") || name.matches(".*\\bdiffuse\\.(?!api\\.).*")) {
              broken.add(t.getName() + "." + m.getName() + " shows " + name);
            }
          }
        }
      }
    }
    assertTrue(broken.isEmpty(), String.join("\n", broken));
  }
}
