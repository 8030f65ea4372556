package diffuse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Option defaults from the environment and the defaults file, and which wins. */
class UserDefaultsTest {
  private static GenerateCommand parse(UserDefaults d, String... args) {
    CommandLine cli = Main.commandLine(List.of(args));
    cli.setDefaultValueProvider(d);
    cli.setCaseInsensitiveEnumValuesAllowed(true); // as Main.execute
    cli.parseArgs(args);
    return cli.getSubcommands().get("generate").getCommand();
  }

  @Test
  void theCommandLineThenTheEnvironmentThenTheFileThenTheCommandsOwn(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("defaults.properties");
    Files.writeString(file, "steps=4\ngenerate.seed=9\nbatch-size=7\ngenerate.batch-size=5\n");
    Map<String, String> env = Map.of("DIFFUSE_GENERATE_STEPS", "3", "DIFFUSE_STEPS", "6", "DIFFUSE_SPACING", "karras");
    GenerateCommand g = parse(new UserDefaults(env, file), "generate", "--prompt", "7");
    assertEquals(3, g.sampling.steps, "the command's variable beats the general one");
    assertEquals(9L, g.sampling.seed, "the file's generate.seed");
    assertEquals(5, g.sampling.batchSize, "generate.batch-size beats batch-size");
    assertEquals(diffuse.schedule.Spacing.KARRAS, g.sampling.spacing);
    assertEquals(1, parse(new UserDefaults(env, file), "generate", "--prompt", "7", "--steps", "1").sampling.steps,
        "typed beats everything");
    GenerateCommand none = parse(new UserDefaults(Map.of(), dir.resolve("absent.properties")), "generate", "--prompt", "7");
    assertNull(none.sampling.steps);
    assertEquals(0L, none.sampling.seed);
    assertEquals(diffuse.api.Defaults.BATCH_SIZE, none.sampling.batchSize);
  }

  @Test
  void trainTakesOnlyTheMachineOptionsAndDiagnosticsOnlyTheirOwnKeys(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("defaults.properties");
    Files.writeString(file, "steps=8\nbatch-size=16\nlr=0.5\nthreads=1\n");
    UserDefaults d = new UserDefaults(Map.of("DIFFUSE_SEED", "42", "DIFFUSE_TRAIN_EPOCHS", "3"), file);
    String[] args = {"train", "--dataset", "mnist", "--out", "r"};
    CommandLine cli = Main.commandLine(List.of(args));
    cli.setDefaultValueProvider(d);
    cli.setCaseInsensitiveEnumValuesAllowed(true); // as Main.execute
    cli.parseArgs(args);
    TrainCommand t = cli.getSubcommands().get("train").getCommand();
    assertNull(t.seed, "a run's seed comes from what was typed, not from DIFFUSE_SEED");
    assertNull(t.epochs, "nor from DIFFUSE_TRAIN_EPOCHS");
    assertNull(t.batchSize);
    assertNull(t.lr);
    assertEquals(1, t.deviceOptions.threads, "where it runs does come from the defaults");

    String[] bench = {"bench", "train"};
    CommandLine b = Main.commandLine(List.of(bench));
    b.setDefaultValueProvider(d);
    b.setCaseInsensitiveEnumValuesAllowed(true);
    b.parseArgs(bench);
    BenchCommand.Train bt = b.getSubcommands().get("bench").getSubcommands().get("train").getCommand();
    assertEquals(60, bt.steps, "an unscoped steps=8 meant for sampling leaves the benchmark alone");
    assertEquals(1, bt.device.threads);
    CommandLine scoped = Main.commandLine(List.of(bench));
    scoped.setDefaultValueProvider(new UserDefaults(Map.of("DIFFUSE_BENCH_TRAIN_STEPS", "7"), null));
    scoped.setCaseInsensitiveEnumValuesAllowed(true);
    scoped.parseArgs(bench);
    assertEquals(7, ((BenchCommand.Train) scoped.getSubcommands().get("bench").getSubcommands().get("train")
        .getCommand()).steps, "its own key does");
  }

  @Test
  void aDotFileInTheHomeDirectoryIsReadToo(@TempDir Path home) throws IOException {
    Files.writeString(home.resolve(".diffuse.properties"), "steps=2\n");
    assertEquals(home.resolve(".diffuse.properties"), UserDefaults.defaultsFile(Map.of(), home.toString()));
  }

  @Test
  void namesAndPlaces() {
    assertEquals("DIFFUSE_GENERATE_BATCH_SIZE", UserDefaults.envName("generate", "batch-size"));
    assertEquals("DIFFUSE_DEVICE", UserDefaults.envName("", "device"));
    assertEquals(Path.of("/x/d.properties"), UserDefaults.defaultsFile(Map.of("DIFFUSE_DEFAULTS", "/x/d.properties"), "/h"));
    assertEquals(Path.of("/c/diffuse/defaults.properties"), UserDefaults.defaultsFile(Map.of("XDG_CONFIG_HOME", "/c"), "/h"));
    assertEquals(Path.of("/h/.config/diffuse/defaults.properties"), UserDefaults.defaultsFile(Map.of(), "/h"));
  }

  @Test
  void aBadValueSaysWhereItCameFromAndADamagedFileNamesItself(@TempDir Path dir) throws IOException {
    UserDefaults d = new UserDefaults(Map.of("DIFFUSE_STEPS", "abc"), null);
    CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
        () -> parse(d, "generate", "--prompt", "7"));
    assertEquals("DIFFUSE_STEPS", d.sourceOf(((CommandLine.Model.OptionSpec) e.getArgSpec()).longestName()));
    Path bad = dir.resolve("bad.properties");
    Files.writeString(bad, "a=\\u12");
    IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
        () -> new UserDefaults(Map.of(), bad).check());
    assertTrue(f.getMessage().contains(bad.toString()), f.getMessage());
  }
}
