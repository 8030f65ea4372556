package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import diffuse.TestCli;
import diffuse.TestData;
import diffuse.app.GenerateRequest;
import diffuse.app.GenerateService;
import diffuse.app.LoadedModel;
import diffuse.api.Listener;
import diffuse.app.SamplingRequest;
import diffuse.app.Samples;
import diffuse.io.Images;
import diffuse.sampling.SamplerKind;
import diffuse.runtime.Device;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API over real loopback HTTP, against a tiny two-label model ("h", "v") trained in the
 * test: good requests, every kind of bad one, merged batches, a full queue and cancellation. Every
 * exchange is also checked against the server's OpenAPI document ({@link OpenApiConformance}): the
 * request bodies it took and every answer validate against the document's schemas.
 */
class ApiTest {
  @TempDir static Path shared;
  static Path model;
  static WebServer server;
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @BeforeAll
  static void trainAndServe() throws IOException {
    Path data = TestData.writeBarsFolder(shared.resolve("bars"), 64, 8);
    model = shared.resolve("bars-model");
    TestCli.Run r = TestCli.run("train", "--dataset", "folder:" + data, "--image-size", "8", "--widths", "8,16",
        "--embed-dim", "16", "--groups", "4", "--batch-size", "16", "--epochs", "2", "--timesteps", "50",
        "--device", "cpu", "--out", model.toString());
    assertEquals(0, r.code(), r.err());
    // a generous wait, so that requests sent together are merged into one run
    server = new Serving(List.of(model), List.of(), "127.0.0.1", 0, 64, 150, 64).start(cpu());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  static Device.Choice cpu() {
    return Device.CPU.resolve(2);
  }

  static HttpResponse<byte[]> send(String method, String path, String body) throws Exception {
    return send(server, method, path, body);
  }

  static HttpResponse<byte[]> send(WebServer s, String method, String path, String body) throws Exception {
    return send(s, method, path, body, Duration.ofSeconds(60));
  }

  /** An exchange with {@code s} that may take up to {@code timeout}, checked against its OpenAPI document. */
  static HttpResponse<byte[]> send(WebServer s, String method, String path, String body, Duration timeout)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
        .timeout(timeout);
    b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
        : b.method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
    HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    OpenApiConformance.check(s.port(), method, path, body, r);
    return r;
  }

  static CompletableFuture<HttpResponse<byte[]>> post(WebServer s, String path, String body) {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    OpenApiConformance.document(s.port()); // read before the answers come, off their threads
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).thenApply(r -> {
      OpenApiConformance.check(s.port(), "POST", path, body, r);
      return r;
    });
  }

  static JsonObject json(HttpResponse<byte[]> r) {
    return JsonParser.parseString(new String(r.body(), StandardCharsets.UTF_8)).getAsJsonObject();
  }

  /** The gray levels of every image of a JSON reply's rows, row by row. */
  static List<int[]> pixels(JsonObject reply) throws IOException {
    List<int[]> out = new ArrayList<>();
    for (JsonElement row : reply.getAsJsonArray("rows")) {
      for (JsonElement url : row.getAsJsonObject().getAsJsonArray("images")) {
        String s = url.getAsString();
        assertTrue(s.startsWith("data:image/png;base64,"), s);
        out.add(gray(ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(s.substring(22))))));
      }
    }
    return out;
  }

  static int[] gray(BufferedImage img) {
    return img.getRaster().getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
  }

  static Stats stats() throws Exception {
    JsonObject m = json(send("GET", "/api/health", null)).getAsJsonObject("models").getAsJsonObject("bars-model");
    return new Stats(m.get("batches").getAsLong(), m.get("tickets").getAsLong(), m.get("cancelled").getAsLong(),
        m.get("stopped").getAsLong(), m.get("queued").getAsInt());
  }

  record Stats(long batches, long tickets, long cancelled, long stopped, int queued) {}

  @Test
  void modelsAndHealthDescribeWhatIsServed() throws Exception {
    HttpResponse<byte[]> r = send("GET", "/api/models", null);
    assertEquals(200, r.statusCode());
    JsonObject m = json(r).getAsJsonArray("models").get(0).getAsJsonObject();
    assertEquals("bars-model", m.get("id").getAsString());
    assertEquals("[\"h\",\"v\"]", m.get("labels").toString());
    assertEquals(8, m.get("height").getAsInt());
    assertEquals(50, m.get("timesteps").getAsInt());
    JsonObject steps = m.getAsJsonObject("samplerSteps"); // what the page puts in its steps field
    assertEquals(50, steps.get("ddpm").getAsInt(), "DDPM: every step of the model's T");
    assertEquals(25, steps.get("ddim").getAsInt());
    assertEquals(10, steps.get("dpm++2m").getAsInt());
    assertEquals(m.getAsJsonObject("defaults").get("steps").getAsInt(), steps.get(m.getAsJsonObject("defaults")
        .get("sampler").getAsString()).getAsInt());
    JsonObject h = json(send("GET", "/api/health", null));
    assertEquals("ok", h.get("status").getAsString());
    assertTrue(h.getAsJsonObject("models").has("bars-model"));
    HttpResponse<byte[]> page = send("GET", "/", null);
    assertEquals(200, page.statusCode());
    assertTrue(new String(page.body(), StandardCharsets.UTF_8).contains("<script src=\"/app.js\""));
    assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"));
  }

  @Test
  void generateAnswersTheImagesThatTheGenerateServiceDraws() throws Exception {
    HttpResponse<byte[]> r = send("POST", "/api/generate",
        "{\"prompt\": \"an h\", \"n\": 3, \"steps\": 5, \"guidance\": 2.5, \"seed\": 4}");
    assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    JsonObject reply = json(r);
    assertEquals("h", reply.get("label").getAsString());
    JsonObject sidecar = reply.getAsJsonObject("sidecar");
    assertEquals(4, sidecar.get("seed").getAsLong());
    assertEquals(5, sidecar.get("steps").getAsInt());
    assertEquals("dpm++2m", sidecar.get("sampler").getAsString(), "the default sampler");
    List<int[]> served = pixels(reply);
    assertEquals(3, served.size());

    try (LoadedModel alone = LoadedModel.load(LoadedModel.openImageModel(model), cpu())) {
      Samples s = GenerateService.generate(alone, new GenerateRequest(List.of("h"), List.of(2.5), 3,
          new SamplingRequest(new diffuse.sampling.SamplerSpec(SamplerKind.DPMPP_2M, 5, 0, true), 4, 64)), Listener.NONE);
      List<BufferedImage> offline = s.images(s.rows().get(0));
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(gray(offline.get(i)), served.get(i), "image " + i);
      }
    }
  }

  @Test
  void solverAndGuidanceMethodFieldsGiveTheServicesImagesAndAreRecorded() throws Exception {
    HttpResponse<byte[]> r = send("POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 2, \"steps\": 4,"
        + " \"sampler\": \"dpm++2m\", \"guidanceInterval\": [0.5, 20], \"rescale\": 0.5, \"negative\": \"v\","
        + " \"guidance\": 3, \"seed\": 2}");
    assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    JsonObject reply = json(r);
    JsonObject sidecar = reply.getAsJsonObject("sidecar");
    assertEquals("dpm++2m", sidecar.get("sampler").getAsString());
    assertEquals("trailing", sidecar.get("spacing").getAsString());
    assertEquals("v", sidecar.getAsJsonObject("guidance").get("negative").getAsString());
    try (LoadedModel alone = LoadedModel.load(LoadedModel.openImageModel(model), cpu())) {
      var g = diffuse.sampling.Guidance.interval(0.5, 20).withRescale(0.5).withNegative("v");
      Samples s = GenerateService.generate(alone, new GenerateRequest(List.of("h"), List.of(3.0), 2,
          new SamplingRequest(new diffuse.sampling.SamplerSpec(SamplerKind.DPMPP_2M, 4, 0, true), 2, 64, g)), Listener.NONE);
      List<BufferedImage> offline = s.images(s.rows().get(0));
      List<int[]> served = pixels(reply);
      for (int i = 0; i < 2; i++) {
        assertArrayEquals(gray(offline.get(i)), served.get(i), "image " + i);
      }
    }
  }

  @Test
  void apgFieldsGiveTheServicesImagesAndAreRecorded() throws Exception {
    HttpResponse<byte[]> r = send("POST", "/api/generate", "{\"prompt\": \"v\", \"n\": 2, \"steps\": 4,"
        + " \"apg\": 0, \"apgNorm\": 1.5, \"guidanceInterval\": [0.5, 20], \"guidance\": 4, \"seed\": 5}");
    assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    JsonObject reply = json(r);
    JsonObject guidance = reply.getAsJsonObject("sidecar").getAsJsonObject("guidance");
    assertEquals(0.0, guidance.get("apg").getAsDouble());
    assertEquals(1.5, guidance.get("apgNorm").getAsDouble());
    try (LoadedModel alone = LoadedModel.load(LoadedModel.openImageModel(model), cpu())) {
      var g = diffuse.sampling.Guidance.interval(0.5, 20).withApg(0.0, 1.5);
      Samples s = GenerateService.generate(alone, new GenerateRequest(List.of("v"), List.of(4.0), 2,
          new SamplingRequest(new diffuse.sampling.SamplerSpec(SamplerKind.DPMPP_2M, 4, 0, true), 5, 64, g)), Listener.NONE);
      List<BufferedImage> offline = s.images(s.rows().get(0));
      List<int[]> served = pixels(reply);
      for (int i = 0; i < 2; i++) {
        assertArrayEquals(gray(offline.get(i)), served.get(i), "image " + i);
      }
    }
  }

  /**
   * A model that records its own guidance scale ({@code export --guidance}) samples at it wherever no
   * scale is given: the CLI, the server (and the scale /api/models offers the page), while a given
   * scale still wins.
   */
  @Test
  void aModelSamplesAtItsOwnRecordedScaleUnlessTold() throws Exception {
    Path own = shared.resolve("bars-own-scale");
    TestCli.Run e = TestCli.run("export", model.toString(), "--out", own.toString(), "--guidance", "3.25");
    assertEquals(0, e.code(), e.err());
    assertEquals(3.25, diffuse.io.ModelStore.open(own).info().defaultGuidance());
    TestCli.Run info = TestCli.run("info", own.toString());
    assertTrue(info.out().contains("sampling     guidance s = 3.25 unless told (the model's own"), info.out());
    assertTrue(java.nio.file.Files.readString(own.resolve(diffuse.io.ModelCard.FILE)).contains("at s = 3.25 unless told"));
    assertEquals(diffuse.api.Defaults.GUIDANCE, diffuse.io.ModelStore.open(model).info().defaultGuidance(),
        "a model that records none");
    // exporting the export again keeps the scale; --guidance replaces it
    Path again = shared.resolve("bars-own-scale-again");
    assertEquals(0, TestCli.run("export", own.toString(), "--out", again.toString()).code());
    assertEquals(3.25, diffuse.io.ModelStore.open(again).info().defaultGuidance());
    TestCli.Run bad = TestCli.run("export", model.toString(), "--out", shared.resolve("x").toString(), "--guidance", "NaN");
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("guidance"), bad.err());

    for (String[] args : List.of(new String[0], new String[] {"--guidance", "0.5"})) {
      Path png = shared.resolve("own-" + args.length + ".png");
      List<String> cmd = new ArrayList<>(List.of("generate", "--model", own.toString(), "--prompt", "v", "-n", "1",
          "--steps", "2", "--device", "cpu", "--out", png.toString()));
      cmd.addAll(List.of(args));
      TestCli.Run g = TestCli.run(cmd.toArray(String[]::new));
      assertEquals(0, g.code(), g.err());
      assertEquals(args.length == 0 ? 3.25 : 0.5,
          diffuse.io.PngSettings.readSidecar(png, "from").rows().get(0).guidance(), String.join(" ", args));
    }
    try (WebServer s = new Serving(List.of(own), List.of(), "127.0.0.1", 0, 8, 0, 8).start(cpu())) {
      JsonObject m = json(send(s, "GET", "/api/models", null)).getAsJsonArray("models").get(0).getAsJsonObject();
      assertEquals(3.25, m.getAsJsonObject("defaults").get("guidance").getAsDouble());
      JsonObject reply = json(send(s, "POST", "/api/generate", "{\"prompt\": \"v\", \"n\": 1, \"steps\": 2}"));
      assertEquals(3.25, reply.getAsJsonObject("sidecar").getAsJsonArray("rows").get(0).getAsJsonObject()
          .get("guidance").getAsDouble());
      reply = json(send(s, "POST", "/api/generate", "{\"prompt\": \"v\", \"n\": 1, \"steps\": 2, \"guidance\": 1}"));
      assertEquals(1.0, reply.getAsJsonObject("sidecar").getAsJsonArray("rows").get(0).getAsJsonObject()
          .get("guidance").getAsDouble());
      assertEquals(0, m.getAsJsonObject("defaults").getAsJsonArray("guidanceInterval").size(), "every step");
    }
    // its own guidance interval likewise (export keeps the scale and adds it): offered, applied unless [] says
    // every step, recorded
    Path inInterval = shared.resolve("bars-own-interval");
    assertEquals(0, TestCli.run("export", own.toString(), "--out", inInterval.toString(), "--guidance-interval",
        "0.5,20").code());
    assertEquals(3.25, diffuse.io.ModelStore.open(inInterval).info().defaultGuidance());
    try (WebServer s = new Serving(List.of(inInterval), List.of(), "127.0.0.1", 0, 8, 0, 8).start(cpu())) {
      JsonObject m = json(send(s, "GET", "/api/models", null)).getAsJsonArray("models").get(0).getAsJsonObject();
      assertEquals("[0.5,20.0]", m.getAsJsonObject("defaults").getAsJsonArray("guidanceInterval").toString());
      JsonObject reply = json(send(s, "POST", "/api/generate", "{\"prompt\": \"v\", \"n\": 1, \"steps\": 2}"));
      assertEquals("[0.5,20.0]", reply.getAsJsonObject("sidecar").getAsJsonObject("guidance").getAsJsonArray("interval")
          .toString());
      reply = json(send(s, "POST", "/api/generate", "{\"prompt\": \"v\", \"n\": 1, \"steps\": 2,"
          + " \"guidanceInterval\": []}"));
      assertTrue(reply.getAsJsonObject("sidecar").get("guidance") == null
          || reply.getAsJsonObject("sidecar").get("guidance").isJsonNull(), reply.toString());
    }
  }

  @Test
  void pngRepliesCarryTheirSettingsInTextChunks() throws Exception {
    HttpResponse<byte[]> r = send("POST", "/api/generate",
        "{\"prompt\": \"v\", \"n\": 2, \"steps\": 4, \"seed\": 9, \"format\": \"png\"}");
    assertEquals(200, r.statusCode());
    assertEquals("image/png", r.headers().firstValue("content-type").orElse(""));
    Map<String, String> text = Images.pngText(r.body());
    String hash = diffuse.io.ModelStore.open(model).modelHash();
    assertEquals("v\nSteps: 4, Sampler: dpm++2m, CFG scale: " + diffuse.api.Defaults.GUIDANCE + ", Seed: 9, Size: 8x8, Model hash: " + hash
        + ", Model: bars-model, Schedule type: trailing", text.get("parameters"));
    JsonObject sidecar = JsonParser.parseString(text.get("diffuse")).getAsJsonObject();
    assertEquals(9, sidecar.get("seed").getAsLong());
    assertEquals(1, sidecar.getAsJsonArray("rows").get(0).getAsJsonObject().get("label").getAsInt());
    assertEquals(hash, sidecar.get("modelHash").getAsString());
    assertNotNull(ImageIO.read(new ByteArrayInputStream(r.body())));
    // /api/models names the same weights
    assertEquals(hash, json(send("GET", "/api/models", null)).getAsJsonArray("models").get(0).getAsJsonObject()
        .get("modelHash").getAsString());
  }

  static HttpResponse<byte[]> postBytes(String path, byte[] body) throws Exception {
    HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .timeout(Duration.ofSeconds(60)).header("Content-Type", "image/png")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    OpenApiConformance.check(server.port(), "POST", path, null, r);
    return r;
  }

  /**
   * /api/png-info answers the settings inside the server's PNGs: the grid of a png answer and every
   * image of a JSON one (each with its own sample number); "metadata": false leaves them out, and
   * such a PNG, or a body that is no PNG, is a 400 naming the body.
   */
  @Test
  void pngInfoReadsTheSettingsInsideEveryPngAndMetadataFalseLeavesThemOut() throws Exception {
    String body = "{\"prompt\": \"h\", \"n\": 2, \"steps\": 3, \"seed\": 5, \"negative\": \"v\", \"format\": \"png\"}";
    byte[] grid = send("POST", "/api/generate", body).body();
    HttpResponse<byte[]> info = postBytes("/api/png-info", grid);
    assertEquals(200, info.statusCode(), new String(info.body(), StandardCharsets.UTF_8));
    JsonObject answer = json(info);
    assertEquals(Images.pngText(grid).get("parameters"), answer.get("parameters").getAsString());
    assertTrue(answer.get("parameters").getAsString().startsWith("h\nNegative prompt: v\nSteps: 3,"), answer.toString());
    JsonObject sidecar = answer.getAsJsonObject("sidecar");
    assertEquals(5, sidecar.get("seed").getAsLong());
    assertEquals("v", sidecar.getAsJsonObject("guidance").get("negative").getAsString());
    assertEquals(2, sidecar.getAsJsonObject("grid").get("columns").getAsInt());
    // each image of a JSON answer carries its own sidecar: sample i of the seed
    JsonObject reply = json(send("POST", "/api/generate", body.replace("\"png\"", "\"json\"")));
    String second = reply.getAsJsonArray("rows").get(0).getAsJsonObject().getAsJsonArray("images").get(1).getAsString();
    JsonObject one = json(postBytes("/api/png-info", Base64.getDecoder().decode(second.substring(22))))
        .getAsJsonObject("sidecar");
    JsonObject row = one.getAsJsonArray("rows").get(0).getAsJsonObject();
    assertEquals(1, row.get("firstIndex").getAsInt());
    assertEquals(1, row.get("count").getAsInt());
    // "metadata": false: no chunk in the grid, nor in the images
    byte[] bare = send("POST", "/api/generate", body.replace("}", ", \"metadata\": false}")).body();
    assertEquals(Map.of(), Images.pngText(bare));
    assertArrayEquals(gray(ImageIO.read(new ByteArrayInputStream(grid))), gray(ImageIO.read(new ByteArrayInputStream(bare))));
    JsonObject bareJson = json(send("POST", "/api/generate", body.replace("\"png\"", "\"json\"").replace("}",
        ", \"metadata\": false}")));
    String bareImage = bareJson.getAsJsonArray("rows").get(0).getAsJsonObject().getAsJsonArray("images").get(0)
        .getAsString();
    assertEquals(Map.of(), Images.pngText(Base64.getDecoder().decode(bareImage.substring(22))));
    assertEquals(Map.of(), Images.pngText(Base64.getDecoder().decode(bareJson.get("grid").getAsString().substring(22))));
    for (byte[] bad : List.of(bare, "{\"prompt\": \"h\"}".getBytes(StandardCharsets.UTF_8), new byte[0])) {
      HttpResponse<byte[]> e = postBytes("/api/png-info", bad);
      assertEquals(400, e.statusCode());
      assertEquals("body", json(e).get("field").getAsString());
    }
    assertTrue(json(postBytes("/api/png-info", bare)).get("error").getAsString().contains("without settings"));
    // a PNG may be larger than a JSON body may (bytes after a PNG's end are not read)
    assertEquals(200, postBytes("/api/png-info", java.util.Arrays.copyOf(grid, 2 * WebServer.MAX_BODY)).statusCode());
  }

  @Test
  void sweepGivesOneRowPerScaleFromTheSameNoise() throws Exception {
    HttpResponse<byte[]> r = send("POST", "/api/sweep",
        "{\"prompt\": \"h\", \"n\": 2, \"steps\": 4, \"seed\": 1, \"guidance\": [0, 1, 3]}");
    assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    JsonObject reply = json(r);
    assertEquals(3, reply.getAsJsonArray("rows").size());
    assertEquals(3.0, reply.getAsJsonArray("rows").get(2).getAsJsonObject().get("guidance").getAsDouble());
    // the s = 1 row is exactly what /api/generate gives at s = 1 for that seed
    List<int[]> rows = pixels(reply);
    List<int[]> one = pixels(json(send("POST", "/api/generate",
        "{\"prompt\": \"h\", \"n\": 2, \"steps\": 4, \"seed\": 1, \"guidance\": 1}")));
    assertArrayEquals(one.get(0), rows.get(2));
    assertArrayEquals(one.get(1), rows.get(3));
  }

  @Test
  void everyBadRequestNamesItsFieldAndTheServerKeepsServing() throws Exception {
    record Bad(String method, String path, String body, int status, String field) {}
    List<Bad> bad = List.of(
        new Bad("POST", "/api/generate", "{\"prompt\": \"digit 7\"}", 400, "prompt"),
        new Bad("POST", "/api/generate", "{}", 400, "prompt"),
        new Bad("POST", "/api/generate", "{\"prompt\": 7}", 400, "prompt"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"guidance\": \"NaN\"}", 400, "guidance"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"guidance\": NaN}", 400, "guidance"),
        // strict JSON: a repeated name has no one meaning; Gson's own parser kept the last
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 1, \"n\": 64}", 400, "n"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"steps\": 2, \"prompt\": \"v\"}", 400, "prompt"),
        new Bad("POST", "/api/generate", "{'prompt': 'h'}", 400, "body"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\"} {\"prompt\": \"v\"}", 400, "body"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\" /* a comment */}", 400, "body"),
        new Bad("POST", "/api/generate", "{\"prompt\": h}", 400, "prompt"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"x\": " + "[".repeat(8000) + "]".repeat(8000) + "}",
            400, "body"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"guidance\": \"Infinity\"}", 400, "guidance"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"guidance\": [1, 2]}", 400, "guidance"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 0}", 400, "n"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 65}", 400, "n"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 2.5}", 400, "n"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 1e2147483647}", 400, "n"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 100e2147483647}", 400, "n"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"seed\": 10e-2147483647}", 400, "seed"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"seed\": -1e999999999}", 400, "seed"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"steps\": 0}", 400, "steps"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"steps\": 51}", 400, "steps"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"sampler\": \"rk4\"}", 400, "sampler"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"rescale\": 2}", 400, "rescale"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"apg\": -1}", 400, "apg"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"apgNorm\": 1}", 400, "apgNorm"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"apg\": 0, \"apgNorm\": 0}", 400, "apgNorm"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"apg\": 0, \"rescale\": 0.5}", 400, "apg"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"guidanceInterval\": [3]}", 400, "guidanceInterval"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"guidanceInterval\": [0.5, 1e999]}", 400,
            "guidanceInterval"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"apg\": 0.5, \"apgNorm\": \"Infinity\"}", 400, "apgNorm"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"negative\": \"x\"}", 400, "negative"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"spacing\": \"cubic\"}", 400, "spacing"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"format\": \"gif\"}", 400, "format"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"metadata\": \"no\"}", 400, "metadata"),
        new Bad("POST", "/api/png-info", "{\"png\": \"data:image/png;base64,\"}", 400, "body"),
        new Bad("GET", "/api/png-info", null, 405, null),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"gudance\": 2}", 400, "gudance"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"h\", \"model\": \"nope\"}", 400, "model"),
        new Bad("POST", "/api/generate", "{\"prompt\": ", 400, "body"),
        new Bad("POST", "/api/generate", "[1, 2]", 400, "body"),
        new Bad("POST", "/api/generate", "{\"prompt\": \"" + "h".repeat(20_000) + "\"}", 413, "body"),
        new Bad("POST", "/api/generate/stream", "{\"prompt\": \"x\"}", 400, "prompt"),
        new Bad("POST", "/api/sweep", "{\"prompt\": \"h\", \"guidance\": [" + "1,".repeat(12) + "1]}", 400,
            "guidance"),
        new Bad("GET", "/api/toy/field?guidance=NaN", null, 400, "guidance"),
        new Bad("GET", "/api/toy/field?t=5000", null, 400, "t"),
        new Bad("GET", "/api/toy/field?world=mars", null, 400, "world"),
        new Bad("GET", "/api/models/nope/tradeoff.png", null, 400, "model"),
        new Bad("GET", "/api/models/bars-model/tradeoff.png", null, 404, "model"),
        new Bad("GET", "/api/generate", null, 405, null),
        new Bad("DELETE", "/", null, 405, null),
        new Bad("GET", "/api/nope", null, 404, null),
        new Bad("GET", "/nope.html", null, 404, null));
    for (Bad b : bad) {
      HttpResponse<byte[]> r = send(b.method(), b.path(), b.body());
      String what = b.method() + " " + b.path() + " " + (b.body() == null ? "" : b.body().substring(0,
          Math.min(60, b.body().length())));
      assertEquals(b.status(), r.statusCode(), what + " → " + new String(r.body(), StandardCharsets.UTF_8));
      assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), what);
      JsonObject e = json(r);
      assertEquals(b.status(), e.get("status").getAsInt(), what);
      assertFalse(e.get("error").getAsString().isBlank(), what);
      assertFalse(e.get("error").getAsString().contains("\n"), what);
      if (b.field() == null) {
        assertTrue(e.get("field").isJsonNull(), what + " " + e);
      } else {
        assertEquals(b.field(), e.get("field").getAsString(), what + " " + e);
      }
      if (b.status() == 405) {
        assertTrue(r.headers().firstValue("allow").isPresent(), what);
      }
    }
    // a huge number is named as the request wrote it, not written out in full
    assertTrue(json(send("POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 1e2147483647}")).get("error")
        .getAsString().endsWith("got 1e2147483647"));
    // the message names the labels a user can ask for
    assertTrue(json(send("POST", "/api/generate", "{\"prompt\": \"digit 7\"}")).get("error").getAsString()
        .contains("h, v"));
    HttpResponse<byte[]> ok = send("POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 1, \"steps\": 2}");
    assertEquals(200, ok.statusCode());
  }

  @Test
  void concurrentRequestsShareARunAndGetTheImagesTheyGetAlone() throws Exception {
    String[] bodies = {
        "{\"prompt\": \"h\", \"n\": 3, \"steps\": 6, \"guidance\": 2, \"seed\": 11}",
        "{\"prompt\": \"v\", \"n\": 2, \"steps\": 6, \"guidance\": 2, \"seed\": 12}",
        "{\"prompt\": \"h\", \"n\": 4, \"steps\": 6, \"guidance\": 3.5, \"seed\": 11}",
        "{\"prompt\": \"v\", \"n\": 1, \"steps\": 6, \"guidance\": -1, \"seed\": 13}"};
    List<int[]> alone = new ArrayList<>();
    for (String b : bodies) {
      HttpResponse<byte[]> r = send("POST", "/api/generate", b);
      assertEquals(200, r.statusCode());
      alone.addAll(pixels(json(r)));
    }
    Stats before = stats();
    List<CompletableFuture<HttpResponse<byte[]>>> together = new ArrayList<>();
    for (String b : bodies) {
      together.add(post(server, "/api/generate", b));
    }
    List<int[]> merged = new ArrayList<>();
    for (var f : together) {
      HttpResponse<byte[]> r = f.join();
      assertEquals(200, r.statusCode());
      merged.addAll(pixels(json(r)));
    }
    Stats after = stats();
    assertEquals(4, after.tickets() - before.tickets());
    assertTrue(after.batches() - before.batches() < 4,
        "the four requests were not merged: " + (after.batches() - before.batches()) + " runs");
    assertEquals(alone.size(), merged.size());
    for (int i = 0; i < alone.size(); i++) {
      assertArrayEquals(alone.get(i), merged.get(i), "image " + i);
    }
  }

  @Test
  void aFullQueueAnswers429WithRetryAfterAndRecovers() throws Exception {
    // one waiting request at most; different step counts cannot share a run, so they queue
    try (WebServer small = new Serving(List.of(model), List.of(), "127.0.0.1", 0, 4, 0, 1).start(cpu())) {
      List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        all.add(post(small, "/api/generate", "{\"prompt\": \"h\", \"n\": 4, \"steps\": " + (50 - i) + "}"));
      }
      int ok = 0, busy = 0;
      for (var f : all) {
        HttpResponse<byte[]> r = f.join();
        if (r.statusCode() == 200) {
          ok++;
        } else {
          assertEquals(429, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
          assertEquals("1", r.headers().firstValue("retry-after").orElse(""));
          assertTrue(json(r).get("error").getAsString().contains("queue is full"));
          busy++;
        }
      }
      assertTrue(ok >= 1 && busy >= 1, ok + " answered, " + busy + " refused");
      assertEquals(200, send(small, "POST", "/api/generate", "{\"prompt\": \"h\", \"n\": 1, \"steps\": 3}")
          .statusCode());
    }
  }

  /** A path that cannot be decoded is a 400, answered, and the server goes on serving. */
  @Test
  void aRequestLineWithoutAValidPathIsA400() throws Exception {
    for (String target : new String[] {"/%zz", "/api/%g1/x", "?x"}) {
      try (Socket s = new Socket("127.0.0.1", server.port())) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("HTTP/1.1 400 Bad Request", in.readLine(), target);
      }
    }
    assertEquals(200, send("GET", "/api/health", null).statusCode());
  }

  /** HEAD is answered as GET, without the body; a path with no GET answers it 405 like any other method. */
  @Test
  void headIsGetWithoutTheBody() throws Exception {
    HttpResponse<byte[]> get = send("GET", "/api/models", null);
    HttpResponse<byte[]> head = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
        + "/api/models")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, head.statusCode());
    assertEquals(0, head.body().length);
    assertEquals(get.headers().firstValue("content-type"), head.headers().firstValue("content-type"));
    assertEquals(String.valueOf(get.body().length), head.headers().firstValue("content-length").orElse(""));
    HttpResponse<byte[]> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
        + "/api/generate")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(405, post.statusCode());
    assertEquals("POST", post.headers().firstValue("allow").orElse(""));
    assertEquals(405, send("DELETE", "/api/models", null).statusCode());
    assertEquals("GET, HEAD", send("DELETE", "/api/models", null).headers().firstValue("allow").orElse(""));
  }

  /** A request naming no n asks for as many images as the server's --max-batch allows, at most the default. */
  @Test
  void theDefaultCountFitsASmallMaxBatch() throws Exception {
    try (WebServer s = new Serving(List.of(model), List.of(), "127.0.0.1", 0, 4, 0, 8).start(cpu())) {
      JsonObject m = json(send(s, "GET", "/api/models", null)).getAsJsonArray("models").get(0).getAsJsonObject();
      assertEquals(4, m.getAsJsonObject("defaults").get("n").getAsInt());
      HttpResponse<byte[]> r = send(s, "POST", "/api/generate", "{\"prompt\": \"h\", \"steps\": 1}");
      assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
      assertEquals(4, json(r).getAsJsonArray("rows").get(0).getAsJsonObject().getAsJsonArray("images").size());
      // the OpenAPI document states the same defaults
      JsonObject schemas = json(send(s, "GET", "/api/openapi.json", null)).getAsJsonObject("components")
          .getAsJsonObject("schemas");
      for (String schema : List.of("GenerateRequest", "SweepRequest")) {
        assertEquals(4, schemas.getAsJsonObject(schema).getAsJsonObject("properties").getAsJsonObject("n")
            .get("default").getAsInt(), schema);
      }
    }
  }

  @Test
  void aClientThatDisconnectsCancelsItsWork() throws Exception {
    Stats before = stats();
    // a streamed request: read the first step's preview, then hang up mid-run
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(30_000);
      String body = "{\"prompt\": \"h\", \"n\": 8, \"steps\": 50, \"sampler\": \"ddpm\"}";
      OutputStream out = s.getOutputStream();
      out.write(("POST /api/generate/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("HTTP/1.1 200 OK", in.readLine());
      boolean queued = false;
      for (String line; (line = in.readLine()) != null; ) {
        queued |= line.equals("event: queued");
        if (line.equals("event: step")) {
          String data = in.readLine();
          assertTrue(data.contains("\"preview\":\"data:image/png;base64,"), data);
          assertTrue(data.contains("\"steps\":50"), data);
          break;
        }
      }
      assertTrue(queued);
    }
    // a plain request that hangs up at once: dropped from the queue or stopped in its run
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      String body = "{\"prompt\": \"v\", \"n\": 8, \"steps\": 50, \"sampler\": \"ddpm\", \"seed\": 3}";
      s.getOutputStream().write(("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
          + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      Thread.sleep(20);
    }
    Stats after = before;
    for (int i = 0; i < 200 && after.cancelled() - before.cancelled() < 2; i++) {
      Thread.sleep(50);
      after = stats();
    }
    assertEquals(2, after.tickets() - before.tickets());
    assertEquals(2, after.cancelled() - before.cancelled(), "both requests given up: " + after);
    assertTrue(after.stopped() > before.stopped(), "the streamed run was stopped between steps: " + after);
    assertEquals(0, after.queued());
    // and the server still answers
    assertEquals(200, send("POST", "/api/generate", "{\"prompt\": \"v\", \"n\": 1, \"steps\": 2}").statusCode());
  }

  /**
   * Autoguidance through the API: guideModel names another served model of the same labels; a guide
   * equal to the model changes nothing, so at any scale it draws the conditional model's (s = 1)
   * pixels; the sidecar records the guide; a model that cannot guide, or a guide with CFG's own
   * methods, is a 400 naming guideModel.
   */
  @Test
  void aServedModelGuidesAnotherByAutoguidance() throws Exception {
    try (WebServer two = new Serving(List.of(model, model), List.of(), "127.0.0.1", 0, 64, 0, 64).start(cpu())) {
      JsonObject models = json(send(two, "GET", "/api/models", null));
      String main = models.getAsJsonArray("models").get(0).getAsJsonObject().get("id").getAsString();
      String other = models.getAsJsonArray("models").get(1).getAsJsonObject().get("id").getAsString();
      assertEquals(2, models.getAsJsonArray("models").get(0).getAsJsonObject().getAsJsonArray("guides").size());
      HttpResponse<byte[]> auto = send(two, "POST", "/api/generate", "{\"model\": \"" + main + "\", \"prompt\": \"v\","
          + " \"n\": 2, \"steps\": 4, \"seed\": 7, \"guidance\": 3, \"guideModel\": \"" + other + "\"}");
      assertEquals(200, auto.statusCode(), new String(auto.body(), StandardCharsets.UTF_8));
      HttpResponse<byte[]> cond = send(two, "POST", "/api/generate", "{\"model\": \"" + main + "\", \"prompt\": \"v\","
          + " \"n\": 2, \"steps\": 4, \"seed\": 7, \"guidance\": 1}");
      List<int[]> a = pixels(json(auto)), c = pixels(json(cond));
      for (int i = 0; i < 2; i++) {
        assertArrayEquals(c.get(i), a.get(i), "image " + i + ": a guide equal to the model is the conditional model");
      }
      // the guide is a served model itself, not a second copy loaded for the request (both serve one directory)
      Api.Slot mainSlot = two.api().models().get(main), otherSlot = two.api().models().get(other);
      var guide = mainSlot.model().guide(otherSlot.model().dir().toString());
      assertTrue(guide == otherSlot.model() || guide == mainSlot.model(), "a served model");
      JsonObject g = json(auto).getAsJsonObject("sidecar").getAsJsonObject("guidance");
      assertTrue(g.get("guideModel").getAsString().endsWith(model.getFileName().toString()), g.toString());
      assertTrue(g.has("guideCheckpoint"), g.toString());
      // at w = 1 the guide drops out: a blend with CFG limited to an interval is that CFG, pixel for pixel
      HttpResponse<byte[]> blend = send(two, "POST", "/api/generate", "{\"model\": \"" + main + "\", \"prompt\": \"v\","
          + " \"n\": 2, \"steps\": 4, \"seed\": 7, \"guidance\": 1, \"guideModel\": \"" + other + "\", \"guideCfg\": 3,"
          + " \"guidanceInterval\": [0.5, 20]}");
      assertEquals(200, blend.statusCode(), new String(blend.body(), StandardCharsets.UTF_8));
      HttpResponse<byte[]> limited = send(two, "POST", "/api/generate", "{\"model\": \"" + main + "\", \"prompt\": \"v\","
          + " \"n\": 2, \"steps\": 4, \"seed\": 7, \"guidance\": 3, \"guidanceInterval\": [0.5, 20]}");
      HttpResponse<byte[]> everywhere = send(two, "POST", "/api/generate", "{\"model\": \"" + main + "\", \"prompt\": \"v\","
          + " \"n\": 2, \"steps\": 4, \"seed\": 7, \"guidance\": 3}");
      List<int[]> b = pixels(json(blend)), l = pixels(json(limited)), e = pixels(json(everywhere));
      assertArrayEquals(l.get(0), b.get(0), "the blended CFG applies only inside its interval");
      assertArrayEquals(l.get(1), b.get(1));
      assertFalse(java.util.Arrays.equals(e.get(0), l.get(0)), "the interval changes the pixels");
      // a guide called only in an interval: guideInterval, recorded; "none" is classifier-free guidance alone
      HttpResponse<byte[]> inInterval = send(two, "POST", "/api/generate", "{\"model\": \"" + main + "\", \"prompt\":"
          + " \"v\", \"n\": 2, \"steps\": 4, \"seed\": 7, \"guidance\": 3, \"guideModel\": \"" + other + "\","
          + " \"guideInterval\": [0.5, 1000]}");
      assertEquals(200, inInterval.statusCode(), new String(inInterval.body(), StandardCharsets.UTF_8));
      assertTrue(json(inInterval).getAsJsonObject("sidecar").getAsJsonObject("guidance").has("guideInterval"));
      HttpResponse<byte[]> none = send(two, "POST", "/api/generate", "{\"model\": \"" + main + "\", \"prompt\": \"v\","
          + " \"n\": 2, \"steps\": 4, \"seed\": 7, \"guidance\": 3, \"guideModel\": \"none\"}");
      assertArrayEquals(e.get(0), pixels(json(none)).get(0), "no guide: CFG alone");
      HttpResponse<byte[]> badInterval = send(two, "POST", "/api/generate", "{\"prompt\": \"v\", \"guideModel\": \""
          + other + "\", \"guideInterval\": [5, 1]}");
      assertEquals(400, badInterval.statusCode());
      assertEquals("guideInterval", json(badInterval).get("field").getAsString());
      HttpResponse<byte[]> unknown = send(two, "POST", "/api/generate", "{\"prompt\": \"v\", \"guideModel\": \"nope\"}");
      assertEquals(400, unknown.statusCode());
      assertEquals("guideModel", json(unknown).get("field").getAsString());
      HttpResponse<byte[]> both = send(two, "POST", "/api/generate", "{\"prompt\": \"v\", \"guideModel\": \"" + other
          + "\", \"rescale\": 0.5}");
      assertEquals(400, both.statusCode());
      assertEquals("guideModel", json(both).get("field").getAsString());
    }
  }

  /**
   * A model whose model.json names a guide of its own (export's Guide): /api/models lists it in its defaults by
   * the guide's served id, and a request naming no guide draws what one naming that guide and interval draws.
   */
  @Test
  void aModelsOwnGuideIsItsDefault(@TempDir Path tmp) throws Exception {
    Path guided = tmp.resolve("guided");
    diffuse.io.ModelStore.export(model, guided, null, "test copy", 3.0, null,
        new diffuse.io.ModelStore.Guide(model.toAbsolutePath().toString(), null, List.of(0.5, 1000.0)));
    try (WebServer two = new Serving(List.of(guided, model), List.of(), "127.0.0.1", 0, 64, 0, 64).start(cpu())) {
      JsonObject first = json(send(two, "GET", "/api/models", null)).getAsJsonArray("models").get(0).getAsJsonObject();
      JsonObject defaults = first.getAsJsonObject("defaults");
      String other = json(send(two, "GET", "/api/models", null)).getAsJsonArray("models").get(1).getAsJsonObject()
          .get("id").getAsString();
      assertEquals(other, defaults.get("guideModel").getAsString(), defaults.toString());
      assertEquals(2, defaults.getAsJsonArray("guideInterval").size());
      String main = first.get("id").getAsString();
      HttpResponse<byte[]> own = send(two, "POST", "/api/generate", "{\"model\": \"" + main + "\", \"prompt\": \"v\","
          + " \"n\": 2, \"steps\": 4, \"seed\": 7}");
      assertEquals(200, own.statusCode(), new String(own.body(), StandardCharsets.UTF_8));
      HttpResponse<byte[]> named = send(two, "POST", "/api/generate", "{\"model\": \"" + main + "\", \"prompt\":"
          + " \"v\", \"n\": 2, \"steps\": 4, \"seed\": 7, \"guidance\": 3, \"guideModel\": \"" + other + "\","
          + " \"guideInterval\": [0.5, 1000]}");
      assertArrayEquals(pixels(json(named)).get(0), pixels(json(own)).get(0));
      assertTrue(json(own).getAsJsonObject("sidecar").getAsJsonObject("guidance").has("guideModel"));
    }
  }
}
