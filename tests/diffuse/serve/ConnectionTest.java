package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.app.LoadedModel;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One connection's life: pipelined requests are answered in the order they came, and a connection
 * that sends nothing while none of its requests is being answered is closed after the idle time,
 * while one whose request takes longer than that is not.
 */
class ConnectionTest {
  static WebServer server;

  @BeforeAll
  static void start() {
    Api api = new Api();
    LoadedModel loaded = LoadedModel.load(LoadedModel.openImageModel(Path.of("models/mnist")), ApiTest.cpu());
    api.add("mnist", loaded, new Batcher("mnist", loaded.generator(), 64, 0, 8));
    server = WebServer.start(api, "127.0.0.1", 0, null, null, Duration.ofMillis(300));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String post(String path, String body) {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
  }

  /** The responses on a connection, each status line with the first 40 bytes of its body, until it closes. */
  static List<String> responses(InputStream in, int count) throws Exception {
    List<String> out = new ArrayList<>();
    while (out.size() < count) {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      for (int c; !head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n"); ) {
        if ((c = in.read()) < 0) {
          return out;
        }
        head.write(c);
      }
      String h = head.toString(StandardCharsets.ISO_8859_1);
      int at = h.toLowerCase(java.util.Locale.ROOT).indexOf("content-length:");
      int length = Integer.parseInt(h.substring(at + 15, h.indexOf("\r\n", at)).strip());
      String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
      out.add(h.substring(0, h.indexOf("\r\n")) + " " + body.substring(0, Math.min(40, body.length())));
    }
    return out;
  }

  /** A slow request, then a quick one and a bad one, sent in one write: answered slow, quick, bad. */
  @Test
  void pipelinedRequestsAreAnsweredInTheOrderTheyCame() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      out.write((post("/api/generate", "{\"prompt\": \"7\", \"n\": 8, \"steps\": 20}")
          + "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
          + post("/api/generate", "{\"prompt\": \"digit 77\"}")
          // refused from its head (another site's page), yet answered in its turn; the connection ends with it
          + post("/api/generate", "{\"prompt\": \"7\"}").replace("Host: 127.0.0.1\r\n",
              "Host: 127.0.0.1\r\nOrigin: http://evil.example\r\n")
          + "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      List<String> got = responses(s.getInputStream(), 5);
      assertEquals(4, got.size(), got.toString());
      assertTrue(got.get(0).startsWith("HTTP/1.1 200 OK {\"model\":\"mnist\",\"label\":\"7\""), got.toString());
      assertTrue(got.get(1).startsWith("HTTP/1.1 200 OK {\"status\""), got.toString());
      assertTrue(got.get(2).startsWith("HTTP/1.1 400 Bad Request"), got.toString());
      assertTrue(got.get(3).startsWith("HTTP/1.1 403 Forbidden"), got.toString());
    }
  }

  /**
   * "Expect: 100-continue" with a body over the path's limit: no 100, but the JSON 413 naming the
   * body, in its turn after the slow request before it.
   */
  @Test
  void aTooLargeBodyThatWaitsForContinueIsRefusedInTurn() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      out.write((post("/api/generate", "{\"prompt\": \"7\", \"n\": 8, \"steps\": 20}")
          + "POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Expect: 100-continue\r\nContent-Length: 1048576\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      List<String> got = responses(s.getInputStream(), 2);
      assertEquals(2, got.size(), got.toString());
      assertTrue(got.get(0).startsWith("HTTP/1.1 200 OK {\"model\""), got.toString());
      assertTrue(got.get(1).startsWith("HTTP/1.1 413 Request Entity Too Large {\"error\""), got.toString());
    }
  }

  /**
   * A body sent in chunks is refused as soon as it passes its path's limit (16 KB here), not read on
   * to the largest limit (8 MB) or to its end.
   */
  @Test
  void aChunkedBodyIsRefusedOnceItPassesItsPathsLimit() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      byte[] chunk = new byte[20_000];
      java.util.Arrays.fill(chunk, (byte) ' ');
      out.write(("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(chunk.length) + "\r\n")
          .getBytes(StandardCharsets.UTF_8));
      out.write(chunk);
      out.write("\r\n".getBytes(StandardCharsets.UTF_8)); // and no last chunk: the body never ends
      out.flush();
      List<String> got = responses(s.getInputStream(), 1);
      assertEquals(1, got.size(), got.toString());
      assertTrue(got.get(0).startsWith("HTTP/1.1 413 Request Entity Too Large {\"error\""), got.toString());
    }
  }

  /** What goes wrong while an answer is made, an Error included, is answered 500, not left unanswered. */
  @Test
  void anErrorWhileAnsweringIsA500() {
    Reply r = WebServer.safely(() -> {
      throw new OutOfMemoryError("while encoding");
    });
    assertEquals(500, r.status());
    assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("OutOfMemoryError"));
  }

  /** Half a request, then silence: the server closes the connection after the idle time. */
  @Test
  void aRequestThatNeverFinishesArrivingIsClosedWhenIdle() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write("GET /api/health HTTP/1.1\r\nHost: 127".getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      long t0 = System.nanoTime();
      assertEquals(-1, s.getInputStream().read(), "closed, not answered");
      assertTrue(System.nanoTime() - t0 < 15_000_000_000L);
    }
  }

  /** A request that takes longer than the idle time to answer is answered, and its connection kept. */
  @Test
  void aConnectionWaitingForItsAnswerIsNotIdle() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(120_000);
      OutputStream out = s.getOutputStream();
      long t0 = System.nanoTime();
      out.write(post("/api/generate", "{\"prompt\": \"3\", \"n\": 8, \"steps\": 25, \"sampler\": \"ddpm\"}")
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
      List<String> first = responses(s.getInputStream(), 1);
      long millis = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(1, first.size(), "answered after " + millis + " ms");
      assertTrue(first.get(0).startsWith("HTTP/1.1 200 OK"), first.toString());
      assertTrue(millis > 300, "the request outlasted the idle time: " + millis + " ms");
      out.write("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      assertTrue(responses(s.getInputStream(), 1).get(0).startsWith("HTTP/1.1 200 OK"), "the connection was kept");
    }
  }

  /**
   * A body over the limit that goes on arriving after the server has answered 413: the client still
   * reads the answer. A server that closed at once would answer the arriving bytes with a reset, and
   * a reset wipes the unread answer from the client's buffer ({@link WebServer#refuse}).
   */
  @Test
  void aClientStillSendingATooLargeBodyReadsTheAnswer() throws Exception {
    try (WebServer plain = WebServer.start(new Api(), "127.0.0.1", 0, null, null, WebServer.IDLE);
        Socket s = new Socket("127.0.0.1", plain.port())) {
      s.setSoTimeout(20_000);
      int size = 1 << 20;
      OutputStream out = s.getOutputStream();
      out.write(("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      Thread.sleep(500); // the server answers from the head
      byte[] body = new byte[size];
      java.util.Arrays.fill(body, (byte) ' ');
      out.write(body);
      out.flush();
      Thread.sleep(300);
      List<String> got = responses(s.getInputStream(), 1);
      assertEquals(1, got.size());
      assertTrue(got.get(0).startsWith("HTTP/1.1 413"), got.toString());
    }
  }
}
