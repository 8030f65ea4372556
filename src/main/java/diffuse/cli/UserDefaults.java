package diffuse.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;

/**
 * Option defaults of the user's own, for options not given on the command line, first found wins:
 *
 * <ol>
 *   <li>the environment: {@code DIFFUSE_<COMMAND>_<OPTION>}, then {@code DIFFUSE_<OPTION>} (upper
 *       case, '-' and '.' as '_'; a subcommand's COMMAND is {@code BENCH_TRAIN}): {@code DIFFUSE_GENERATE_STEPS=8}, {@code DIFFUSE_DEVICE=cpu},
 *       {@code DIFFUSE_MODEL=/data/models/mnist};
 *   <li>the defaults file, {@code $DIFFUSE_DEFAULTS}, else {@code ~/.diffuse.properties} if present,
 *       else {@code $XDG_CONFIG_HOME/diffuse/defaults.properties}
 *       (XDG_CONFIG_HOME defaults to {@code ~/.config}): keys {@code generate.steps} or
 *       {@code steps} ({@code bench.train.steps} for a subcommand), option names without the dashes;
 *   <li>the command's own default.
 * </ol>
 *
 * A value is read as if typed after its option, so a bad one fails as a typed one does. Help and
 * version flags take no defaults.
 *
 * <p>{@code train} takes only the options that describe the machine, not the run ({@link #MACHINE_OPTIONS}):
 * a run's settings are recorded in its model.json and checked on {@code --resume}, so they come from
 * what was typed, never from a variable set for {@code generate} ({@code DIFFUSE_SEED=42} would otherwise
 * change a new run's seed unseen, and make a resume fail on a seed nobody typed). The diagnostic
 * subcommands ({@code bench …}, {@code toy …}) take the same machine options and otherwise only keys
 * scoped to them, since an unscoped {@code steps=8} meant for sampling would change what they measure.
 */
final class UserDefaults implements CommandLine.IDefaultValueProvider {
  static final String FILE_ENV = "DIFFUSE_DEFAULTS";
  /** The options every command takes from here: where and how it computes, not what. */
  static final java.util.Set<String> MACHINE_OPTIONS = java.util.Set.of("device", "threads", "xla", "bf16", "data-dir");
  private final Map<String, String> env;
  private final Path file;
  private Properties properties;
  /** Where each value this provider gave came from, by option name: for error messages. */
  private final Map<String, String> sources = new java.util.concurrent.ConcurrentHashMap<>();

  UserDefaults(Map<String, String> env, Path file) {
    this.env = env;
    this.file = file;
  }

  /** The provider for this process: its environment and its defaults file. */
  static UserDefaults ofProcess() {
    return new UserDefaults(System.getenv(), defaultsFile(System.getenv(), System.getProperty("user.home")));
  }

  /**
   * {@code $DIFFUSE_DEFAULTS}; else {@code ~/.diffuse.properties} if there is one (picocli's own
   * convention); else {@code $XDG_CONFIG_HOME/diffuse/defaults.properties} (XDG default {@code ~/.config}).
   */
  static Path defaultsFile(Map<String, String> env, String home) {
    String given = env.get(FILE_ENV);
    if (given != null && !given.isBlank()) {
      return Path.of(given);
    }
    Path picocli = Path.of(home, ".diffuse.properties");
    if (Files.isRegularFile(picocli)) {
      return picocli;
    }
    String xdg = env.get("XDG_CONFIG_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(home, ".config");
    return base.resolve("diffuse").resolve("defaults.properties");
  }

  @Override
  public String defaultValue(CommandLine.Model.ArgSpec arg) {
    if (!(arg instanceof CommandLine.Model.OptionSpec o) || o.usageHelp() || o.versionHelp()) {
      return null;
    }
    String option = o.longestName().replaceFirst("^-+", "");
    CommandLine.Model.CommandSpec spec = o.command();
    boolean machine = MACHINE_OPTIONS.contains(option);
    boolean diagnostic = spec != null && spec.parent() != null && spec.parent().parent() != null;
    String command = spec == null ? "" : diagnostic ? spec.parent().name() + "." + spec.name() : spec.name();
    if ("train".equals(command) && !diagnostic && !machine) {
      return null;
    }
    boolean unscoped = machine || !diagnostic;
    String source = envName(command, option);
    String v = env.get(source);
    if (v == null && unscoped) {
      source = envName("", option);
      v = env.get(source);
    }
    if (v == null) {
      Properties p = properties();
      source = file + " (" + command + "." + option + ")";
      v = p.getProperty(command + "." + option);
      if (v == null && unscoped) {
        source = file + " (" + option + ")";
        v = p.getProperty(option);
      }
    }
    if (v == null) {
      return null;
    }
    sources.put(o.longestName(), source);
    return v.strip();
  }

  /** Where the value of {@code option} (its longest name) came from, if this provider gave it; else null. */
  String sourceOf(String option) {
    return sources.get(option);
  }

  /** {@code DIFFUSE_GENERATE_BATCH_SIZE} for (generate, batch-size); {@code DIFFUSE_BATCH_SIZE} without a command. */
  static String envName(String command, String option) {
    String name = (command.isEmpty() ? "" : command + "_") + option;
    return "DIFFUSE_" + name.toUpperCase(Locale.ROOT).replace('-', '_').replace('.', '_').replace('+', 'P');
  }

  /** Reads the defaults file now, so that a damaged one fails before any command starts. */
  UserDefaults check() {
    properties();
    return this;
  }

  private Properties properties() {
    if (properties == null) {
      Properties p = new Properties();
      if (file != null && Files.isRegularFile(file)) {
        try (Reader r = Files.newBufferedReader(file)) {
          p.load(r);
        } catch (IOException | IllegalArgumentException e) {
          throw new IllegalArgumentException("cannot read the defaults file " + file + ": " + e.getMessage(), e);
        }
      }
      properties = p;
    }
    return properties;
  }
}
