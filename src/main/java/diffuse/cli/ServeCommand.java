package diffuse.cli;

import diffuse.serve.Serving;
import diffuse.serve.WebServer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code diffuse serve}: the web page and the HTTP API over loaded models. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Serve a web page and a JSON API for generating, sweeping and exploring the field.",
        "", "Loads every model once. Concurrent requests for a model are merged into shared network runs",
        "(dynamic batching); the API is described in docs/http-api.md."})
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--model", paramLabel = "DIR|NAME", description = "Image model to serve, a directory or a name as"
      + " generate --model takes it (repeatable; default: every shipped model, models/mnist first).")
  List<Path> models;

  @Option(names = "--toy-model", paramLabel = "DIR", description = "A two-pixel model from `toy train` for the field view (repeatable).")
  List<Path> toyModels;

  @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "8080", paramLabel = "N", description = "Port (default: ${DEFAULT-VALUE}; 0 = any free port).")
  int port;

  @Option(names = "--max-batch", defaultValue = "" + Serving.DEFAULT_MAX_BATCH, paramLabel = "N",
      description = "Most images in one merged network run (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(names = "--max-wait-ms", defaultValue = "" + Serving.DEFAULT_MAX_WAIT_MS, paramLabel = "MS",
      description = "How long a request waits for others to share its run (default: ${DEFAULT-VALUE}).")
  long maxWait;

  @Option(names = "--queue", defaultValue = "" + Serving.DEFAULT_QUEUE, paramLabel = "N",
      description = "Most requests waiting per model; more get 429 (default: ${DEFAULT-VALUE}).")
  int queue;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "Answer API requests only with Authorization: Bearer TOKEN (the page asks for it once). Needed"
          + " for any --host but the default loopback address; DIFFUSE_TOKEN sets it too (default: none).")
  String token;

  @Option(names = "--log-level", defaultValue = "info", paramLabel = "off|error|warning|info|debug",
      converter = LogLevel.class,
      description = "Server log on standard error: info (the default) has one access-log line per request; error"
          + " only failures, with their stack traces; debug also dropped connections.")
  java.util.logging.Level logLevel;

  /** --log-level by System.Logger's names, as java.util.logging (System.Logger's default back end) calls them. */
  static final class LogLevel implements picocli.CommandLine.ITypeConverter<java.util.logging.Level> {
    @Override
    public java.util.logging.Level convert(String value) {
      return switch (value.toLowerCase(java.util.Locale.ROOT)) {
        case "off" -> java.util.logging.Level.OFF;
        case "error" -> java.util.logging.Level.SEVERE;
        case "warning" -> java.util.logging.Level.WARNING;
        case "info" -> java.util.logging.Level.INFO;
        case "debug" -> java.util.logging.Level.FINE;
        default -> throw new picocli.CommandLine.TypeConversionException(
            "off, error, warning, info or debug, not '" + value + "'");
      };
    }
  }

  @Option(names = "--cors", paramLabel = "ORIGIN", description = "Let pages of this one origin (scheme://host[:port])"
      + " call the API from a browser (CORS; off by default).")
  String cors;

  @Mixin DeviceOptions device;

  @Override
  public Integer call() throws InterruptedException {
    List<Path> image = models != null ? models.stream().map(GenerateOptions::find).toList()
        : toyModels == null ? GenerateOptions.shippedModels() : List.of();
    Serving serving = new Serving(image, toyModels == null ? List.of() : toyModels, host, port, maxBatch, maxWait, queue,
        token, cors);
    logTo(System.err, logLevel);
    WebServer server = serving.start(device.resolve());
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "serve-shutdown"));
    System.out.println("serving http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.port()
        + "/  (Ctrl-C stops)");
    server.join();
    return 0;
  }

  /**
   * The server's log ({@code diffuse.*} System.Loggers, through java.util.logging) at {@code level},
   * one line per record: time, level, message, and a failure's stack trace after it.
   */
  static void logTo(java.io.PrintStream out, java.util.logging.Level level) {
    java.util.logging.Logger log = java.util.logging.Logger.getLogger("diffuse");
    log.setUseParentHandlers(false);
    java.util.logging.Handler h = new java.util.logging.StreamHandler(out, new java.util.logging.Formatter() {
      @Override
      public String format(java.util.logging.LogRecord r) {
        StringBuilder sb = new StringBuilder().append(r.getInstant()).append(' ').append(r.getLevel().getName())
            .append(' ').append(formatMessage(r)).append(System.lineSeparator());
        if (r.getThrown() != null) {
          java.io.StringWriter w = new java.io.StringWriter();
          r.getThrown().printStackTrace(new java.io.PrintWriter(w));
          sb.append(w);
        }
        return sb.toString();
      }
    }) {
      @Override
      public synchronized void publish(java.util.logging.LogRecord r) {
        super.publish(r);
        flush();
      }
    };
    h.setLevel(java.util.logging.Level.ALL);
    for (java.util.logging.Handler old : log.getHandlers()) {
      log.removeHandler(old);
    }
    log.addHandler(h);
    log.setLevel(level);
  }
}
