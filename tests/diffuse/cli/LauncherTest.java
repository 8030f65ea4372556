package diffuse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The filter that keeps TensorFlow's native log lines off the user's terminal. */
class LauncherTest {
  static String filter(String in) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Launcher.filter(new ByteArrayInputStream(in.getBytes(StandardCharsets.UTF_8)), out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void nativeLogLinesOfEveryKindAreDroppedAndEverythingElseKeptInOrder() {
    String in = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        + "I0000 00:00:1733150000.123456   12345 cpu_feature_guard.cc:210] This TensorFlow binary is optimized\n"
        + "To enable the following instructions: AVX512F AVX512_VNNI, in other operations, rebuild TensorFlow with the appropriate compiler flags.\n"
        + "2026-12-02 16:40:39.123456: I tensorflow/core/platform/cpu_feature_guard.cc:182] oneDNN custom operations are on\n"
        + "W0000 00:00:1733150000.5   777 loader.cc:99] something\n"
        + "diffuse generate: error: unknown prompt 'cat'; valid labels: 0, 1\n"
        + "E1202 16:40:39.1 4 a.cc:1] an error line from the native side\n"
        + "train 10/100 (10%)\r" + "train 20/100 (20%)\r"
        + "saved runs/x (step 100)\n"
        + "no newline at the end";
    assertEquals("diffuse generate: error: unknown prompt 'cat'; valid labels: 0, 1\n"
        + "train 10/100 (10%)\rtrain 20/100 (20%)\r"
        + "saved runs/x (step 100)\n"
        + "no newline at the end", filter(in));
  }

  @Test
  void theChildGetsQuietLogsAndOneDnnUnlessTheUserChoseOtherwise() {
    assertEquals(Map.of("TF_CPP_MIN_LOG_LEVEL", "2", "TF_ENABLE_ONEDNN_OPTS", "1"),
        Launcher.childEnvironment(Map.of("PATH", "/bin")));
    assertEquals(Map.of("TF_CPP_MIN_LOG_LEVEL", "2"),
        Launcher.childEnvironment(Map.of("TF_ENABLE_ONEDNN_OPTS", "0")));
  }

  @Test
  void shortCommandsGetTheClientCompilerAndLongRunsTheDefaultTiers() {
    assertEquals(List.of("-XX:TieredStopAtLevel=1"), Launcher.childJvmOptions(new String[] {"generate", "--prompt", "7"}));
    assertEquals(List.of(), Launcher.childJvmOptions(new String[] {"train", "--dataset", "mnist"}));
    assertEquals(List.of(), Launcher.childJvmOptions(new String[] {"serve"}));
    assertEquals(List.of(), Launcher.childJvmOptions(new String[0]));
  }

  @Test
  void theCommandLineHoldsOnlyTheCommandBeingRunAndAllForHelpOrAnUnknownOne() {
    assertEquals(java.util.Set.of("generate"), Main.commandLine(List.of("generate", "--prompt", "7")).getSubcommands().keySet());
    assertEquals(java.util.Set.of("bench"), Main.commandLine(List.of("bench", "twin")).getSubcommands().keySet());
    java.util.Set<String> all = Main.commandLine(List.of("--help")).getSubcommands().keySet();
    assertEquals(Main.COMMANDS.size(), all.size());
    assertTrue(all.containsAll(List.of("generate", "sweep", "train", "info", "serve", "bench", "help")));
    assertEquals(all, Main.commandLine(List.of()).getSubcommands().keySet());
    assertEquals(all, Main.commandLine(List.of("generat")).getSubcommands().keySet(), "so picocli can suggest");
    assertEquals(all, Main.commandLine(List.of("help", "generate")).getSubcommands().keySet());
  }

  @Test
  void linesThatOnlyLookSimilarPassThrough() {
    String in = "I think the model is fine\nW: a warning of ours\n2026-12-02 is today\n";
    assertEquals(in, filter(in));
  }
}
