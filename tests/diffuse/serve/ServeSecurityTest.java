package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffuseException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** The lock (a token beyond the default loopback address) and the log (access lines, failures with their trace). */
class ServeSecurityTest {
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  static HttpResponse<String> get(String host, int port, String path, String auth) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + path))
        .timeout(Duration.ofSeconds(60));
    if (auth != null) {
      b.header("Authorization", auth);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Collects what the diffuse loggers write, at every level. */
  static final class Records extends Handler implements AutoCloseable {
    final List<LogRecord> all = new CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger("diffuse");
    private final Level before = logger.getLevel();

    Records() {
      setLevel(Level.ALL);
      logger.setLevel(Level.ALL);
      logger.addHandler(this);
    }

    List<String> lines(String loggerName) {
      return all.stream().filter(r -> r.getLoggerName().equals(loggerName)).map(LogRecord::getMessage).toList();
    }

    @Override
    public void publish(LogRecord r) {
      all.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
      logger.removeHandler(this);
      logger.setLevel(before);
    }
  }

  @Test
  void anAddressButTheDefaultLoopbackNeedsAToken() {
    DiffuseException e = assertThrows(DiffuseException.class,
        () -> new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.2", 0, 8, 0, 8));
    assertEquals("token", e.field());
    assertTrue(e.getMessage().contains("127.0.0.2"), e.getMessage());
    assertEquals("token", assertThrows(DiffuseException.class,
        () -> new Serving(List.of(Path.of("models/mnist")), List.of(), "0.0.0.0", 0, 8, 0, 8, " ", null)).field());
    new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.1", 0, 8, 0, 8); // the default: no token
    new Serving(List.of(Path.of("models/mnist")), List.of(), "localhost", 0, 8, 0, 8);
  }

  @Test
  void withATokenTheApiAnswersOnlyRequestsThatCarryItAndEveryRequestIsLogged() throws Exception {
    try (Records log = new Records();
        WebServer s = new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.2", 0, 8, 0, 8, "s3cret", null)
            .start(ApiTest.cpu())) {
      int port = s.port();
      HttpResponse<String> none = get("127.0.0.2", port, "/api/health", null);
      assertEquals(401, none.statusCode(), none.body());
      assertTrue(none.body().contains("\"field\":\"Authorization\""), none.body());
      assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(""));
      assertEquals(401, get("127.0.0.2", port, "/api/health", "Bearer nope").statusCode());
      assertEquals(401, get("127.0.0.2", port, "/api/models", "s3cret").statusCode(), "the scheme is part of it");
      assertEquals(200, get("127.0.0.2", port, "/api/health", "Bearer s3cret").statusCode());
      assertEquals(200, get("127.0.0.2", port, "/", null).statusCode(), "the page itself holds no data");
      HttpResponse<String> gen = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.2:" + port + "/api/generate"))
          .header("Authorization", "Bearer s3cret").timeout(Duration.ofSeconds(120))
          .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"7\", \"n\": 2, \"steps\": 2}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, gen.statusCode(), gen.body());
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (log.lines(AccessLog.LOGGER).size() < 7 && System.nanoTime() < deadline) {
        Thread.sleep(20); // a line is written once its response has gone out
      }
      List<String> lines = log.lines(AccessLog.LOGGER);
      assertTrue(lines.stream().anyMatch(l -> l.matches("127\\.0\\.0\\.1 \"GET /api/health\" 401 \\d+ms images=-")),
          lines.toString());
      assertTrue(lines.stream().anyMatch(l -> l.matches("127\\.0\\.0\\.1 \"POST /api/generate\" 200 \\d+ms images=2 queue=\\d+ms")),
          lines.toString());
    }
  }

  @Test
  void aFailureIsLoggedWithItsStackTrace() {
    try (Records log = new Records()) {
      Reply r = WebServer.failure(new IllegalStateException("boom"));
      assertEquals(500, r.status());
      LogRecord rec = log.all.stream().filter(x -> x.getLevel() == Level.SEVERE).findFirst().orElse(null);
      assertNotNull(rec, "logged at ERROR");
      assertEquals("boom", rec.getThrown().getMessage());
    }
    assertEquals("10.0.0.7 \"POST /api/sweep\" 200 900ms images=16 queue=100ms",
        AccessLog.line("10.0.0.7", "POST /api/sweep", 200, 900, "16", "800"));
  }
}
