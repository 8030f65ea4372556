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
        "(dynamic batching); the API is described in the README (\"diffuse serve\")."})
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--model", paramLabel = "DIR", description = "Image model to serve (repeatable; default: every shipped"
      + " model, models/mnist first).")
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

  @Option(names = "--cors", paramLabel = "ORIGIN", description = "Let pages of this one origin (scheme://host[:port])"
      + " call the API from a browser (CORS; off by default).")
  String cors;

  @Mixin DeviceOptions device;

  @Override
  public Integer call() throws InterruptedException {
    List<Path> image = models != null ? models : toyModels == null ? GenerateOptions.shippedModels() : List.of();
    Serving serving = new Serving(image, toyModels == null ? List.of() : toyModels, host, port, maxBatch, maxWait, queue,
        cors);
    WebServer server = serving.start(device.resolve());
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "serve-shutdown"));
    System.out.println("serving http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.port()
        + "/  (Ctrl-C stops)");
    server.join();
    return 0;
  }
}
