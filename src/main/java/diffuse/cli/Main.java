package diffuse.cli;

import diffuse.api.DiffuseException;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code diffuse} command line. */
@Command(
    name = "diffuse",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Class-conditional diffusion image generator with classifier-free guidance.")
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** {@code -V}: the version the build wrote into the jar's manifest, and TensorFlow Java's. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"diffuse " + diffuse.api.Defaults.version() + " (TensorFlow Java "
          + diffuse.api.Defaults.tensorflowVersion() + ")"};
    }
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a command ('diffuse --help' lists them all): generate, sweep, train, evaluate, serve, info");
  }

  /**
   * The subcommands, in the order {@code diffuse --help} lists them. Not in the {@code @Command}
   * annotation: picocli reads every annotated option of every command it is given, which took
   * 240–280 ms of a 1.6 s {@code generate} run (2 cores, client compiler), so {@link #commandLine(List)}
   * hands it only the command being run, and the whole tree for help or an unknown command.
   */
  static final List<Class<?>> COMMANDS = List.of(
      GenerateCommand.class,
      SweepCommand.class,
      TrainCommand.class,
      InfoCommand.class,
      ExportCommand.class,
      EvaluateCommand.class,
      FrontierCommand.class,
      TrainClassifierCommand.class,
      ToyCommand.class,
      ScheduleCommand.class,
      NoiseCommand.class,
      BenchCommand.class,
      ServeCommand.class,
      CommandLine.HelpCommand.class,
      picocli.AutoComplete.GenerateCompletion.class);

  /**
   * The command line for {@code args}: the root with only the subcommand that {@code args} starts
   * with, or with all of {@link #COMMANDS} when the first argument names none of them (help, the
   * version, an unknown or a missing command), so that picocli lists or suggests them as usual.
   */
  static CommandLine commandLine(List<String> args) {
    CommandLine cli = new CommandLine(new Main(args));
    String first = args.isEmpty() ? "" : args.get(0);
    Class<?> only = COMMANDS.stream()
        .filter(c -> c != CommandLine.HelpCommand.class && c.getAnnotation(Command.class).name().equals(first))
        .findFirst().orElse(null);
    // the completion script describes every command, so it needs the whole tree
    boolean whole = only == null || only == picocli.AutoComplete.GenerateCompletion.class;
    for (Class<?> c : whole ? COMMANDS : List.<Class<?>>of(only)) {
      cli.addSubcommand(c);
    }
    return cli;
  }

  /** The arguments of this execution, recorded in model.json and sidecars (see {@link #commandLine}). */
  private final List<String> args;

  private Main(List<String> args) {
    this.args = List.copyOf(args);
  }

  public static void main(String[] args) {
    if (Launcher.shouldRelaunch()) {
      System.exit(Launcher.relaunch(args));
    }
    diffuse.runtime.CudaLibraries.skipCudaProbesOnCpuBuild();
    preloadTensorFlow(args);
    System.exit(execute(args));
  }

  /** Commands whose every run loads a model, and which a user waits on: {@link #preloadTensorFlow}. */
  private static final java.util.Set<String> LOADS_A_MODEL = java.util.Set.of("generate", "sweep", "evaluate", "serve");

  /**
   * Starts loading TensorFlow's native library (≈ 0.5–0.9 s, most of a short run's start-up) on a
   * second thread while this one parses the command line and opens and checks the model, for the
   * commands in {@link #LOADS_A_MODEL} and not when only help or the version is asked for; and, on a
   * third, the Java side of what comes after the load (protobuf descriptors, fonts, the PNG writer).
   * A failure here is ignored: the command meets it again where it is reported properly.
   */
  static void preloadTensorFlow(String[] args) {
    List<String> a = List.of(args);
    if (a.isEmpty() || !LOADS_A_MODEL.contains(a.get(0))
        || a.stream().anyMatch(x -> x.equals("-h") || x.equals("--help") || x.equals("-V") || x.equals("--version"))) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        org.tensorflow.TensorFlow.version();
      } catch (Throwable ignored) {
        // reported by the command itself when it needs TensorFlow
      }
    }, "tensorflow-preload");
    t.setDaemon(true);
    t.start();
    // the Java side of what follows TensorFlow's load, on the core the load leaves free: the
    // protobuf descriptors of a SavedModel and a session's options, fonts and the PNG writer
    Thread java = new Thread(() -> {
      try {
        org.tensorflow.proto.MetaGraphDef.getDescriptor();
        org.tensorflow.proto.ConfigProto.getDescriptor();
        org.tensorflow.proto.RunOptions.getDescriptor();
        org.tensorflow.proto.RunMetadata.getDescriptor();
      } catch (Throwable ignored) {
        // met again, and reported, where it is needed
      }
      diffuse.io.Images.warmUp();
    }, "java-preload");
    java.setDaemon(true);
    java.start();
  }

  /** Runs the command line and returns the exit code (0 success, 1 failure, 2 bad usage). */
  public static int execute(String... args) {
    System.setProperty("java.awt.headless", "true");
    diffuse.runtime.CudaLibraries.skipCudaProbesOnCpuBuild();
    CommandLine cli = commandLine(List.of(args));
    try {
      cli.setDefaultValueProvider(UserDefaults.ofProcess().check());
    } catch (IllegalArgumentException e) {
      System.err.println("diffuse: error: " + e.getMessage());
      return 2;
    }
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setParameterExceptionHandler(Main::badUsage);
    cli.setExecutionExceptionHandler(Main::failure);
    return cli.execute(args);
  }

  private static int badUsage(CommandLine.ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    String from = "";
    if (e.getArgSpec() instanceof CommandLine.Model.OptionSpec o
        && cmd.getDefaultValueProvider() instanceof UserDefaults d && d.sourceOf(o.longestName()) != null) {
      from = " (set by " + d.sourceOf(o.longestName()) + ")";
    }
    err.println(cmd.getCommandName() + ": " + e.getMessage() + from + " (see '"
        + cmd.getCommandSpec().qualifiedName() + " --help')");
    err.flush();
    return 2;
  }

  private static int failure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    if (e instanceof DiffuseException d) {
      String message = d instanceof diffuse.app.TrainService.SettingsConflict c ? c.describe(Main::optionName)
          : asOptions(d);
      err.println(cmd.getCommandSpec().qualifiedName() + ": error: " + message);
      err.flush();
      return d.code().exitCode();
    } else if (e instanceof IllegalArgumentException) {
      err.println(cmd.getCommandSpec().qualifiedName() + ": error: " + e.getMessage());
      err.flush();
      return 2;
    } else {
      err.println(cmd.getCommandSpec().qualifiedName() + ": internal error: " + e);
      if (System.getenv("DIFFUSE_DEBUG") != null) {
        e.printStackTrace(err);
      } else {
        err.println("(set DIFFUSE_DEBUG=1 for the stack trace)");
      }
    }
    err.flush();
    return 1;
  }

  /**
   * A service's message in the CLI's words: a message that starts with the request field at fault
   * ("steps must be >= 1") names the option instead ("--steps must be >= 1").
   */
  static String asOptions(DiffuseException e) {
    String m = e.getMessage();
    String f = e.field();
    if (f == null || !m.startsWith(f + " ")) {
      return m;
    }
    return optionName(f) + m.substring(f.length());
  }

  /** The option that sets a request field: {@code batchSize} → {@code --batch-size}, {@code count} → {@code -n}. */
  static String optionName(String field) {
    return switch (field) {
      case "count" -> "-n";
      case "scaleShiftNorm" -> "--ada-gn";
      default -> "--" + field.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    };
  }

  /**
   * The command line being executed, as a shell would need it typed ("diffuse generate --prompt
   * 'digit 7'"), for the command behind {@code spec}; the arguments of an @-file are written out, so
   * that the record does not depend on a file that may change or be gone.
   */
  static String commandLine(CommandLine.Model.CommandSpec spec) {
    CommandLine.ParseResult parsed = spec.root().commandLine().getParseResult();
    List<String> args = parsed != null ? parsed.expandedArgs() : ((Main) spec.root().userObject()).args;
    StringBuilder sb = new StringBuilder("diffuse");
    for (String a : args) {
      sb.append(' ').append(a.matches("[A-Za-z0-9_./:=,+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
    }
    return sb.toString();
  }

  /** A failure the user can act on; its message is shown as it is. */
  public static final class UserException extends DiffuseException {
    public UserException(String message) {
      super(Code.FAILED, message);
    }

    public UserException(String message, Throwable cause) {
      super(Code.FAILED, message, cause);
    }
  }
}
