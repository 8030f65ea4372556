package diffuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The examples/ folder as a consumer of the library: this build's classes are installed into the
 * local Maven repository as dev.diffuse:diffuse (what {@code mvn install} would install), the
 * consumer project examples/pom.xml resolves its class path from that artifact alone, and every
 * example is compiled and run against it in a fresh JVM. Also: the consumer gets neither picocli
 * nor Netty nor JUnit, and the README's Java snippet is the first example, verbatim.
 */
class ExamplesTest {
  @TempDir static Path work;
  static String classPath;
  static Path classes;

  @BeforeAll
  static void installTheLibraryAndResolveTheConsumer() throws Exception {
    Path jar = work.resolve("diffuse.jar");
    jarOf(Path.of("target", "classes"), jar);
    run(Path.of("."), "mvn", "-B", "-q", "org.apache.maven.plugins:maven-install-plugin:3.1.2:install-file",
        "-Dfile=" + jar.toAbsolutePath(), "-DpomFile=pom.xml");
    Path cp = work.resolve("cp.txt");
    run(Path.of("."), "mvn", "-B", "-q", "-f", "examples/pom.xml",
        "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath", "-Dmdep.outputFile=" + cp.toAbsolutePath());
    classPath = Files.readString(cp).strip();
    classes = work.resolve("classes");
    Files.createDirectories(classes);
    List<String> javac = new ArrayList<>(List.of(javaTool("javac"), "-d", classes.toString(), "-cp", classPath));
    try (Stream<Path> s = Files.list(Path.of("examples", "src"))) {
      s.filter(p -> p.toString().endsWith(".java")).sorted().forEach(p -> javac.add(p.toString()));
    }
    run(Path.of("."), javac.toArray(String[]::new));
  }

  @Test
  void theConsumerGetsTheLibraryAndTensorFlowButNotTheCliOrServerLibraries() {
    List<String> jars = List.of(classPath.split(java.io.File.pathSeparator)).stream()
        .map(p -> Path.of(p).getFileName().toString()).toList();
    assertTrue(jars.stream().anyMatch(j -> j.startsWith("diffuse-")), jars.toString());
    assertTrue(jars.stream().anyMatch(j -> j.startsWith("tensorflow-core-api-")), jars.toString());
    for (String banned : new String[] {"picocli", "netty", "junit", "selenium"}) {
      assertFalse(jars.stream().anyMatch(j -> j.contains(banned)), banned + " on the consumer's class path: " + jars);
    }
  }

  @Test
  void generateSevensDrawsSixteenSevensWithTheShippedModel() throws Exception {
    Path png = work.resolve("sevens.png");
    String out = runExample("GenerateSevens", "models/mnist", png.toString());
    assertTrue(out.contains("16 images of 7"), out);
    assertTrue(Files.size(png) > 1000);
    String settings = Files.readString(work.resolve("sevens.json"));
    assertTrue(settings.contains("\"seed\": 42") && settings.contains("\"sampler\": \"dpm++2m\""), settings);
  }

  @Test
  void sweepGuidanceDrawsOneRowPerScale() throws Exception {
    Path png = work.resolve("sweep.png");
    String out = runExample("SweepGuidance", "models/mnist", png.toString());
    for (String s : new String[] {"s = 0.0: 6 images of 7", "s = 1.0: 6", "s = 2.0: 6", "s = 4.0: 6"}) {
      assertTrue(out.contains(s), out);
    }
    assertTrue(out.contains("sample: 40 of 40 steps"), out); // 4 rows × 1 batch × 10 steps
    assertTrue(Files.size(png) > 1000);
  }

  @Test
  void trainTinyTrainsOnAFolderThenDrawsEveryClass() throws Exception {
    Path data = TestData.writeBarsFolder(work.resolve("bars"), 64, 8);
    Path run = work.resolve("tiny");
    String out = runExample("TrainTiny", "folder:" + data, run.toString(), "8");
    assertTrue(out.contains("drew 8 images of 2 classes"), out);
    assertTrue(Files.isRegularFile(run.resolve("model.json")) && Files.size(run.resolve("samples.png")) > 100, out);
    String again = runExample("TrainTiny", "folder:" + data, run.toString(), "8");
    assertTrue(again.contains("nothing to do") && again.contains("drew 8 images of 2 classes"), again);
  }

  @Test
  void customGuiderPlugsARuleOfItsOwnIntoTheSolvers() throws Exception {
    Path png = work.resolve("fading.png");
    String out = runExample("CustomGuider", "models/mnist", png.toString());
    assertTrue(out.contains("8 images of 3 with FadingCfg"), out);
    String settings = Files.readString(work.resolve("fading.json"));
    assertTrue(settings.contains("\"custom\": \"CustomGuider$FadingCfg\""), settings);
  }

  /** README.md's "Use from Java" block is examples/src/GenerateSevens.java as it is. */
  @Test
  void theReadmeJavaSnippetIsTheFirstExampleVerbatim() throws IOException {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    int from = readme.indexOf("<!-- java-snippet -->"), to = readme.indexOf("<!-- /java-snippet -->");
    assertTrue(from >= 0 && to > from, "README.md has no java-snippet block");
    String block = readme.substring(from + "<!-- java-snippet -->".length(), to).strip();
    assertTrue(block.startsWith("```java\n") && block.endsWith("```"), block);
    String code = block.substring("```java\n".length(), block.length() - 3);
    assertEquals(Files.readString(Path.of("examples", "src", "GenerateSevens.java"), StandardCharsets.UTF_8), code);
  }

  /** Runs example {@code main} (its class name and arguments) in a fresh JVM on the consumer's class path. */
  static String runExample(String... mainAndArgs) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(javaTool("java"), "-cp",
        classes + java.io.File.pathSeparator + classPath));
    command.addAll(List.of(mainAndArgs));
    return run(Path.of("."), command.toArray(String[]::new));
  }

  static String javaTool(String name) {
    return Path.of(System.getProperty("java.home"), "bin", name).toString();
  }

  /** Runs a command in {@code dir}; its output, or a failure with the output when it exits non-zero. */
  static String run(Path dir, String... command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), "timed out: " + String.join(" ", command));
    String text = new String(out, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), String.join(" ", command) + "\n" + text);
    return text;
  }

  /** A jar of the directory {@code dir} with an Implementation-Version, as the build's jar has. */
  static void jarOf(Path dir, Path jar) throws IOException {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_VERSION, "0.1.0-SNAPSHOT");
    try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os, m);
        Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new JarEntry(dir.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
  }
}
