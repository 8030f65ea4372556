package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffuseException;
import io.netty.handler.codec.http.HttpMethod;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
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

  /** A raw request (the JDK's client will not send Host or Origin of our choosing): status line and body. */
  static String raw(int port, String method, String path, String host, String origin, String contentType, String body)
      throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(60_000);
      byte[] content = body.getBytes(StandardCharsets.UTF_8);
      StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n");
      if (origin != null) {
        req.append("Origin: ").append(origin).append("\r\n");
      }
      req.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(content.length)
          .append("\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.UTF_8));
      out.write(content);
      out.flush();
      String all = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return all.substring(0, all.indexOf("\r\n")) + " " + all.substring(all.indexOf("\r\n\r\n") + 4);
    }
  }

  /** Which Host and Origin headers are refused, and naming which header. */
  @Test
  void anotherSitesPageMayNotStartWorkNorReachALoopbackServerUnderItsOwnName() {
    HttpMethod post = HttpMethod.POST;
    // programs send no Origin; the server's own page sends its own
    assertEquals(null, OriginCheck.refusal(post, "127.0.0.1:8080", null, null, true));
    assertEquals(null, OriginCheck.refusal(post, "127.0.0.1:8080", "http://127.0.0.1:8080", null, true));
    assertEquals(null, OriginCheck.refusal(post, "localhost", "http://localhost:80", null, true));
    assertEquals(null, OriginCheck.refusal(post, "[::1]:8080", "http://[::1]:8080", null, true));
    assertEquals(null, OriginCheck.refusal(HttpMethod.DELETE, "app.example", "https://app.example", null, false));
    // another site's page: refused for anything that may start work, not for reads (the browser keeps those)
    assertTrue(OriginCheck.refusal(post, "127.0.0.1:8080", "http://evil.example", null, true).startsWith("Origin"));
    assertTrue(OriginCheck.refusal(post, "127.0.0.1:8080", "http://127.0.0.1:9090", null, true).startsWith("Origin"),
        "another port is another origin");
    assertEquals(null, OriginCheck.refusal(post, "app.example", "https://app.example", null, false),
        "the page as served through a TLS proxy");
    assertTrue(OriginCheck.refusal(post, "127.0.0.1:8080", "null", null, true).startsWith("Origin"));
    assertTrue(OriginCheck.refusal(HttpMethod.DELETE, "127.0.0.1", "http://evil.example", null, true)
        .startsWith("Origin"));
    assertEquals(null, OriginCheck.refusal(HttpMethod.GET, "127.0.0.1:8080", "http://evil.example", null, true));
    // ... unless it is the one --cors origin
    assertEquals(null, OriginCheck.refusal(post, "127.0.0.1:8080", "http://localhost:3000", "http://localhost:3000",
        true));
    // without a token only loopback names are answered (DNS rebinding), whatever the method; with one, any name
    String rebound = OriginCheck.refusal(HttpMethod.GET, "evil.example:8080", null, null, true);
    assertTrue(rebound.startsWith("Host 'evil.example:8080'"), rebound);
    assertTrue(OriginCheck.refusal(post, "evil.example:8080", "http://evil.example:8080", null, true)
        .startsWith("Host"), "same-origin with itself, but not addressed to this machine's loopback name");
    assertTrue(OriginCheck.refusal(HttpMethod.GET, "127.0.0.1.evil.example", null, null, true).startsWith("Host"));
    for (String loopback : List.of("127.0.0.1", "127.0.0.1:8080", "LOCALHOST:8080", "[::1]", "[::1]:80", "127.3.0.9")) {
      assertEquals(null, OriginCheck.refusal(HttpMethod.GET, loopback, null, null, true), loopback);
    }
    assertEquals(null, OriginCheck.refusal(HttpMethod.GET, "evil.example:8080", null, null, false));
  }

  /** The checks on a running server, before any work: 403 naming the header, JSON or OpenAI-shaped. */
  @Test
  void aCrossSitePostAndARenamedHostAreRefusedWithA403() throws Exception {
    try (WebServer s = new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.1", 0, 8, 0, 8)
        .start(ApiTest.cpu())) {
      int port = s.port();
      String host = "127.0.0.1:" + port;
      String body = "{\"prompt\": \"7\", \"n\": 1, \"steps\": 1}";
      // a "simple" cross-site form post: no preflight, so only the server can stop it
      String csrf = raw(port, "POST", "/api/generate", host, "http://evil.example", "text/plain", body);
      assertTrue(csrf.startsWith("HTTP/1.1 403"), csrf);
      assertTrue(csrf.contains("\"field\":\"Origin\""), csrf);
      String openAi = raw(port, "POST", "/v1/images/generations", host, "http://evil.example", "text/plain", body);
      assertTrue(openAi.startsWith("HTTP/1.1 403") && openAi.contains("\"param\":\"Origin\""), openAi);
      String rebound = raw(port, "GET", "/api/models", "evil.example:" + port, null, "text/plain", "");
      assertTrue(rebound.startsWith("HTTP/1.1 403") && rebound.contains("\"field\":\"Host\""), rebound);
      // the server's own page, and a program, are served
      String own = raw(port, "POST", "/api/generate", host, "http://" + host, "application/json", body);
      assertTrue(own.startsWith("HTTP/1.1 200"), own);
      String program = raw(port, "POST", "/api/generate", "localhost:" + port, null, "application/json", body);
      assertTrue(program.startsWith("HTTP/1.1 200"), program);
    }
  }

  /**
   * Without the token a request is answered 401 from its head: the server does not wait for (nor
   * buffer) a body it will not use, here one of 8 MB that is never sent.
   */
  @Test
  void aRequestWithoutTheTokenIsRefusedBeforeItsBodyIsRead() throws Exception {
    try (WebServer s = new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.2", 0, 8, 0, 8, "s3cret", null)
        .start(ApiTest.cpu());
        Socket socket = new Socket("127.0.0.2", s.port())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /api/png-info HTTP/1.1\r\nHost: 127.0.0.2\r\nContent-Type: image/png\r\nContent-Length: "
          + (WebServer.MAX_PNG - 1) + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      for (int c; (c = in.read()) >= 0 && !head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n"); ) {
        head.write(c);
      }
      assertTrue(head.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 401"), head.toString());
    }
  }

  /** The toy field's pool takes two running and {@link WebServer#TOY_QUEUE} waiting requests, and refuses the next. */
  @Test
  void theToyFieldQueueIsBounded() throws Exception {
    ThreadPoolExecutor pool = WebServer.toyPool();
    CountDownLatch release = new CountDownLatch(1);
    try {
      for (int i = 0; i < 2 + WebServer.TOY_QUEUE; i++) {
        pool.execute(() -> {
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
      }
      assertThrows(RejectedExecutionException.class, () -> pool.execute(() -> {}));
    } finally {
      release.countDown();
      pool.shutdown();
    }
  }
}
