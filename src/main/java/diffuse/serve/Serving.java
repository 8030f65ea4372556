package diffuse.serve;

import diffuse.app.LoadedModel;
import diffuse.app.ToyWorld;
import diffuse.api.DiffuseException;
import diffuse.io.ModelStore;
import diffuse.runtime.Device;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The serve use case: load every model once, put a batcher in front of each image model, and
 * listen. The CLI's {@code diffuse serve}, {@code bench serve} and the tests start it the same way.
 *
 * @param models image model directories (each served under its directory name)
 * @param toyModels two-pixel models from {@code toy train}, for the field view
 * @param host address to listen on
 * @param port port (0: any free one)
 * @param maxBatch most images in one merged network run
 * @param maxWaitMillis how long a request waits for others to share its run
 * @param queue most requests waiting per model before 429
 * @param token the bearer token every API request must carry, or null for none; required when
 *     {@code host} is not the default loopback address ({@link #needsToken})
 * @param cors the one origin (scheme://host[:port]) whose pages may call the API from a browser; null:
 *     CORS off, as by default
 */
public record Serving(List<Path> models, List<Path> toyModels, String host, int port, int maxBatch, long maxWaitMillis,
    int queue, String token, String cors) {
  public static final int DEFAULT_MAX_BATCH = Api.MAX_N;
  public static final long DEFAULT_MAX_WAIT_MS = 5;
  public static final int DEFAULT_QUEUE = 256;

  /** Without a token (the default loopback address only) and without CORS. */
  public Serving(List<Path> models, List<Path> toyModels, String host, int port, int maxBatch, long maxWaitMillis,
      int queue) {
    this(models, toyModels, host, port, maxBatch, maxWaitMillis, queue, null, null);
  }

  /**
   * True unless {@code host} is the default loopback address (127.0.0.1, ::1, localhost): any other
   * address, even another loopback one, may be reachable by others, so it needs a token.
   */
  public static boolean needsToken(String host) {
    return !(host.equals("127.0.0.1") || host.equals("::1") || host.equals("[::1]") || host.equals("localhost"));
  }

  public Serving {
    if (models.isEmpty() && toyModels.isEmpty()) {
      throw DiffuseException.badValue("model", "model: give at least one model to serve");
    }
    if (port < 0 || port > 65535) {
      throw DiffuseException.badValue("port", "port must be within 0..65535, got " + port);
    }
    if (maxBatch < 1 || maxBatch > 1024) {
      throw DiffuseException.badValue("maxBatch", "maxBatch must be within 1..1024, got " + maxBatch);
    }
    if (maxWaitMillis < 0 || maxWaitMillis > 10_000) {
      throw DiffuseException.badValue("maxWaitMs", "maxWaitMs must be within 0..10000, got " + maxWaitMillis);
    }
    if (queue < 1) {
      throw DiffuseException.badValue("queue", "queue must be >= 1, got " + queue);
    }
    if (token != null && token.isBlank()) {
      throw DiffuseException.badValue("token", "token is empty");
    }
    if (token == null && needsToken(host)) {
      throw DiffuseException.badValue("token", "token is needed to serve on " + host + ", which is not the default"
          + " loopback address: anyone who can reach it could generate; give --token T (or set DIFFUSE_TOKEN), and"
          + " send Authorization: Bearer T");
    }
    if (cors != null) {
      checkOrigin(cors);
    }
    models = List.copyOf(models);
    toyModels = List.copyOf(toyModels);
  }

  /** An origin as a browser sends it: scheme://host[:port], no path; "*" is refused (name the one page). */
  static void checkOrigin(String origin) {
    java.net.URI u;
    try {
      u = new java.net.URI(origin);
    } catch (java.net.URISyntaxException e) {
      u = null;
    }
    if (u == null || !("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null
        || u.getRawUserInfo() != null || !(u.getRawPath() == null || u.getRawPath().isEmpty()) || u.getRawQuery() != null
        || u.getRawFragment() != null) {
      throw DiffuseException.badValue("cors", "cors must be an origin, scheme://host[:port] (e.g."
          + " http://localhost:3000), got '" + origin + "'");
    }
  }

  /** Loads the models onto {@code device} and starts listening. */
  public WebServer start(Device.Choice device) {
    Api api = new Api();
    try {
      Set<String> ids = new HashSet<>();
      for (Path dir : models) {
        ModelStore.StoredModel m = LoadedModel.openImageModel(dir);
        String id = unique(ids, dir);
        LoadedModel loaded = LoadedModel.load(m, device);
        api.add(id, loaded, new Batcher(id, loaded.generator(), maxBatch, maxWaitMillis, queue));
      }
      for (Path dir : toyModels) {
        api.addToy(unique(ids, dir), ToyWorld.open(dir, device));
      }
      return WebServer.start(api, host, port, token, cors);
    } catch (RuntimeException e) {
      api.close();
      throw e;
    }
  }

  private static String unique(Set<String> ids, Path dir) {
    Path name = dir.toAbsolutePath().normalize().getFileName();
    String base = name == null ? "model" : Api.slug(name.toString());
    String id = base.isEmpty() ? "model" : base;
    for (int k = 2; !ids.add(id); k++) {
      id = base + "-" + k;
    }
    return id;
  }
}
