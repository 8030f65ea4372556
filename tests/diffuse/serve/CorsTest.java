package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.TestCli;
import diffuse.api.DiffuseException;
import diffuse.runtime.Device;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * CORS is off unless {@code serve --cors ORIGIN} names the one origin whose pages may call the API:
 * then a preflight from that origin is answered and every answer to it carries
 * Access-Control-Allow-Origin; another origin, or a server without the flag, gets neither.
 */
class CorsTest {
  static final String ORIGIN = "http://localhost:3000";

  /** A raw exchange (the JDK's client will not send Origin): status line and headers, lower-cased names. */
  record Answer(int status, Map<String, String> headers) {}

  static Answer exchange(WebServer s, String method, String path, String origin, String body) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", s.port())) {
      socket.setSoTimeout(60_000);
      byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
      if (origin != null) {
        req.append("Origin: ").append(origin).append("\r\n");
      }
      if (method.equals("OPTIONS")) {
        req.append("Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n");
      }
      req.append("Content-Length: ").append(content.length).append("\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.UTF_8));
      out.write(content);
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      for (int c; (c = in.read()) >= 0; ) {
        head.write(c);
        if (head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
          break;
        }
      }
      String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
      Map<String, String> headers = new TreeMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
        }
      }
      return new Answer(Integer.parseInt(lines[0].split(" ")[1]), headers);
    }
  }

  static WebServer serve(String cors) {
    return new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.1", 0, 64, 5, 64, null, cors)
        .start(Device.CPU.resolve(0));
  }

  @Test
  void withTheFlagThatOriginAloneIsAllowed() throws Exception {
    try (WebServer s = serve(ORIGIN)) {
      Answer preflight = exchange(s, "OPTIONS", "/api/generate", ORIGIN, null);
      assertEquals(200, preflight.status(), preflight.toString());
      assertEquals(ORIGIN, preflight.headers().get("access-control-allow-origin"));
      String methods = preflight.headers().getOrDefault("access-control-allow-methods", "");
      assertTrue(methods.contains("POST") && methods.contains("DELETE") && methods.contains("GET"), methods);
      assertTrue(preflight.headers().getOrDefault("access-control-allow-headers", "").toLowerCase(Locale.ROOT)
          .contains("content-type"), preflight.toString());
      Answer models = exchange(s, "GET", "/api/models", ORIGIN, null);
      assertEquals(200, models.status());
      assertEquals(ORIGIN, models.headers().get("access-control-allow-origin"));
      Answer bad = exchange(s, "POST", "/api/generate", ORIGIN, "{\"prompt\": \"digit 77\"}");
      assertEquals(400, bad.status());
      assertEquals(ORIGIN, bad.headers().get("access-control-allow-origin"), "errors are readable by that page too");
      Answer drawn = exchange(s, "POST", "/v1/images/generations", ORIGIN, "{\"prompt\": \"7\", \"steps\": 1}");
      assertEquals(200, drawn.status());
      assertEquals(ORIGIN, drawn.headers().get("access-control-allow-origin"));
      // another origin: no permission, preflight or not
      for (String method : List.of("OPTIONS", "GET")) {
        Answer other = exchange(s, method, "/api/models", "http://evil.example", null);
        assertFalse(other.headers().containsKey("access-control-allow-origin"), method + " " + other);
      }
      // a request without Origin (curl, a server) is served as ever
      assertEquals(200, exchange(s, "GET", "/api/health", null, null).status());
    }
  }

  @Test
  void withoutTheFlagNoOriginIsAllowed() throws Exception {
    try (WebServer s = serve(null)) {
      Answer preflight = exchange(s, "OPTIONS", "/api/generate", ORIGIN, null);
      assertEquals(403, preflight.status(), "another site's page (OriginCheck)");
      assertFalse(preflight.headers().containsKey("access-control-allow-origin"), preflight.toString());
      assertFalse(preflight.headers().containsKey("access-control-allow-methods"), preflight.toString());
      Answer models = exchange(s, "GET", "/api/models", ORIGIN, null);
      assertEquals(200, models.status());
      assertFalse(models.headers().containsKey("access-control-allow-origin"), models.toString());
    }
  }

  @Test
  void theFlagTakesOneOriginOnly() {
    for (String bad : List.of("*", "localhost:3000", "http://localhost:3000/app", "ftp://x.example", "http://",
        "http://a.example?x=1")) {
      DiffuseException e = assertThrows(DiffuseException.class,
          () -> new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.1", 0, 64, 5, 64, null, bad), bad);
      assertEquals("cors", e.field(), bad);
    }
    new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.1", 0, 64, 5, 64, null, "https://app.example:8443");
    TestCli.Run r = TestCli.run("serve", "--model", "models/mnist", "--port", "0", "--cors", "*");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("cors must be an origin"), r.err());
  }
}
