package diffuse.cli;

import diffuse.data.DataException;
import diffuse.error.ModelException;
import diffuse.prompt.PromptException;
import diffuse.train.Device;
import diffuse.train.TrainingRun;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code diffuse} command line. */
@Command(
    name = "diffuse",
    mixinStandardHelpOptions = true,
    version = "diffuse 0.1.0 (TensorFlow Java 1.1.0)",
    description = "Class-conditional diffusion image generator with classifier-free guidance.",
    subcommands = {
      GenerateCommand.class,
      SweepCommand.class,
      TrainCommand.class,
      InfoCommand.class,
      ExportCommand.class,
      EvaluateCommand.class,
      TrainClassifierCommand.class,
      ToyCommand.class,
      ScheduleCommand.class,
      NoiseCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a command: generate, sweep, train, info");
  }

  public static void main(String[] args) {
    if (Launcher.shouldRelaunch()) {
      System.exit(Launcher.relaunch(args));
    }
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code (0 success, 1 failure, 2 bad usage). */
  public static int execute(String... args) {
    CURRENT_ARGS.set(args.clone());
    System.setProperty("java.awt.headless", "true");
    CommandLine cli = new CommandLine(new Main());
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setParameterExceptionHandler(Main::badUsage);
    cli.setExecutionExceptionHandler(Main::failure);
    return cli.execute(args);
  }

  private static int badUsage(CommandLine.ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println(cmd.getCommandName() + ": " + e.getMessage() + " (see '"
        + cmd.getCommandSpec().qualifiedName() + " --help')");
    err.flush();
    return 2;
  }

  private static int failure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    if (e instanceof DataException || e instanceof ModelException || e instanceof PromptException
        || e instanceof TrainingRun.TrainingException || e instanceof Device.UnavailableException
        || e instanceof UserException) {
      err.println("diffuse " + cmd.getCommandName() + ": error: " + e.getMessage());
    } else if (e instanceof IllegalArgumentException) {
      err.println("diffuse " + cmd.getCommandName() + ": error: " + e.getMessage());
      err.flush();
      return 2;
    } else {
      err.println("diffuse " + cmd.getCommandName() + ": internal error: " + e);
      if (System.getenv("DIFFUSE_DEBUG") != null) {
        e.printStackTrace(err);
      } else {
        err.println("(set DIFFUSE_DEBUG=1 for the stack trace)");
      }
    }
    err.flush();
    return 1;
  }

  private static final ThreadLocal<String[]> CURRENT_ARGS = ThreadLocal.withInitial(() -> new String[0]);

  /** The arguments of the command line being executed (recorded in model.json and sidecars). */
  static java.util.List<String> currentArgs() {
    return java.util.List.of(CURRENT_ARGS.get());
  }

  /** The command line being executed, as a shell would need it typed ("diffuse generate --prompt 'digit 7'"). */
  static String commandLine() {
    StringBuilder sb = new StringBuilder("diffuse");
    for (String a : CURRENT_ARGS.get()) {
      sb.append(' ').append(a.matches("[A-Za-z0-9_./:=,+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
    }
    return sb.toString();
  }

  /** A failure the user can act on; its message is shown as it is. */
  public static final class UserException extends RuntimeException {
    public UserException(String message) {
      super(message);
    }

    public UserException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
