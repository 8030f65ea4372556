package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import diffuse.runtime.Device;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /api/openapi.json} against the server it describes (the shipped MNIST model): the
 * document lists exactly the routes of {@link WebServer#ROUTES}, the table the handler dispatches on;
 * every route answers (no "no such endpoint", no 405) and a wrong method on its path is a 405 whose
 * Allow names the documented methods; its schemas hold the server's own limits and fields, and take
 * the bad bodies that the server refuses no better than it does; {@code /api/docs} and Swagger UI's
 * files come from the jar.
 */
class OpenApiTest {
  static WebServer server;
  static JsonNode doc;
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @BeforeAll
  static void start() {
    server = new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.1", 0, 64, 5, 64)
        .start(Device.CPU.resolve(0));
    doc = OpenApiConformance.document(server.port());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  static HttpResponse<byte[]> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .timeout(Duration.ofSeconds(60));
    b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
        : b.method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The documented (method, path) pairs. */
  static Set<String> documented() {
    Set<String> out = new TreeSet<>();
    for (Iterator<String> p = doc.get("paths").fieldNames(); p.hasNext(); ) {
      String path = p.next();
      for (Iterator<String> m = doc.get("paths").get(path).fieldNames(); m.hasNext(); ) {
        out.add(m.next().toUpperCase(Locale.ROOT) + " " + path);
      }
    }
    return out;
  }

  @Test
  void theDocumentListsExactlyTheRoutesTheServerDispatchesOn() {
    assertEquals("3.1.0", doc.get("openapi").asText());
    Set<String> routes = new TreeSet<>();
    WebServer.ROUTES.forEach(r -> routes.add(r.method() + " " + r.path()));
    assertEquals(routes, documented());
    for (String route : routes) {
      JsonNode op = doc.get("paths").get(route.substring(route.indexOf(' ') + 1))
          .get(route.substring(0, route.indexOf(' ')).toLowerCase(Locale.ROOT));
      assertTrue(op.has("summary") && op.get("responses").has("default"), route);
      assertTrue(op.get("responses").fieldNames().next().startsWith("2"), route + ": its own answer first");
      if (route.startsWith("POST") && !route.endsWith("/api/png-info")) {
        assertTrue(op.at("/requestBody/content/application~1json/schema").has("$ref"), route + " documents its body");
      }
    }
  }

  /** A path of the template, {@code {name}} filled in with something the server takes. */
  static String instance(String template) {
    return template.replace("/api/docs/{file}", "/api/docs/swagger-ui.css").replace("{file}", "app.js")
        .replace("{id}", template.startsWith("/api/models") ? "mnist" : "0123");
  }

  /** Every route of the table answers as itself, and a wrong method on its path names the right ones. */
  @Test
  void everyRouteAnswersAndAWrongMethodIsA405NamingTheDocumentedOnes() throws Exception {
    Set<String> paths = new LinkedHashSet<>();
    WebServer.ROUTES.forEach(r -> paths.add(r.path()));
    for (String template : paths) {
      String path = instance(template);
      Set<String> allowed = new TreeSet<>();
      doc.get("paths").get(template).fieldNames().forEachRemaining(m -> allowed.add(m.toUpperCase(Locale.ROOT)));
      Set<String> allowHeader = new TreeSet<>(allowed);
      if (allowed.contains("GET")) {
        allowHeader.add("HEAD"); // GET without the body, not documented as an operation of its own
      }
      for (String method : List.of("GET", "POST", "DELETE")) {
        String body = method.equals("POST") ? "{}" : null;
        HttpResponse<byte[]> r = send(method, path, body);
        String text = new String(r.body(), StandardCharsets.UTF_8);
        String what = method + " " + path + " → " + r.statusCode() + " " + text.substring(0, Math.min(200, text.length()));
        OpenApiConformance.check(server.port(), method, path, body, r);
        if (allowed.contains(method)) {
          assertNotEquals(405, r.statusCode(), what);
          assertFalse(text.contains("no such endpoint") || text.contains("no handler"), what);
          assertTrue(r.statusCode() < 500, what);
        } else {
          assertEquals(405, r.statusCode(), what);
          Set<String> allow = new TreeSet<>(List.of(r.headers().firstValue("allow").orElse("").split(",\\s*")));
          assertEquals(allowHeader, allow, what);
        }
      }
    }
    // a path of no route is a 404 naming no field
    HttpResponse<byte[]> none = send("GET", "/api/jobs/1/x", null);
    assertEquals(404, none.statusCode());
    OpenApiConformance.check(server.port(), "GET", "/api/jobs/1/x", null, none);
    assertTrue(OpenApiConformance.json(none, "").get("field").isNull());
  }

  /** The limits of the request schemas are the server's constants, and its fields every field it takes. */
  @Test
  void theRequestSchemasHoldTheServersFieldsAndLimits() {
    JsonNode g = doc.at("/components/schemas/GenerateRequest");
    Set<String> fields = new TreeSet<>();
    g.get("properties").fieldNames().forEachRemaining(fields::add);
    assertEquals(new TreeSet<>(Api.GENERATE_FIELDS), fields);
    assertFalse(g.get("additionalProperties").asBoolean());
    assertEquals("[\"prompt\"]", g.get("required").toString());
    JsonNode p = g.get("properties");
    assertEquals(Api.MAX_PROMPT, p.at("/prompt/maxLength").asInt());
    assertEquals(Api.MAX_SCALE, p.at("/guidance/maximum").asDouble());
    assertTrue(p.at("/guidance/default").isMissingNode(), "each model has its own default scale");
    assertTrue(p.at("/guidance/description").asText().contains("defaults.guidance"));
    assertEquals(64, p.at("/n/maximum").asInt(), "the served batcher's largest batch");
    assertEquals(16, p.at("/n/default").asInt());
    assertEquals(1000, p.at("/steps/maximum").asInt(), "the model's timesteps");
    assertEquals("[\"mnist\"]", p.at("/model/enum").toString());
    assertEquals("dpm++2m", p.at("/sampler/default").asText());
    JsonNode sweep = doc.at("/components/schemas/SweepRequest/properties");
    assertEquals(Api.MAX_SCALES, sweep.at("/guidance/oneOf/0/maxItems").asInt());
    assertEquals(8, sweep.at("/n/default").asInt());
    Set<String> openAi = new TreeSet<>();
    doc.at("/components/schemas/ImageGenerationRequest/properties").fieldNames().forEachRemaining(openAi::add);
    assertEquals(new TreeSet<>(OpenAiImages.FIELDS), openAi);
    assertEquals("[\"28x28\"]", doc.at("/components/schemas/ImageGenerationRequest/properties/size/enum").toString());
  }

  /** Bodies the server refuses for their shape, the schema refuses too; good ones it takes. */
  @Test
  void theSchemaRefusesWhatTheServerRefusesForItsShape() throws Exception {
    JsonNode schema = OpenApiConformance.ref("GenerateRequest");
    List<String> bad = List.of("{}", "{\"prompt\": 7}", "{\"prompt\": \"7\", \"n\": 0}", "{\"prompt\": \"7\", \"n\": 65}",
        "{\"prompt\": \"7\", \"n\": 2.5}", "{\"prompt\": \"7\", \"guidance\": \"NaN\"}", "{\"prompt\": \"7\", \"gudance\": 2}",
        "{\"prompt\": \"7\", \"sampler\": \"rk4\"}", "{\"prompt\": \"7\", \"steps\": 0}", "{\"prompt\": \"7\", \"steps\": 1001}",
        "{\"prompt\": \"7\", \"format\": \"gif\"}", "{\"prompt\": \"7\", \"guidanceInterval\": [3]}",
        "{\"prompt\": \"7\", \"rescale\": 2}", "{\"prompt\": \"7\", \"guidance\": [1, 2]}", "{\"prompt\": \"7\", \"model\": \"nope\"}",
        "{\"prompt\": \"" + "7".repeat(201) + "\"}", "{\"prompt\": \"7\", \"spacing\": \"cubic\"}");
    List<String> wronglyTaken = new ArrayList<>();
    for (String body : bad) {
      HttpResponse<byte[]> r = send("POST", "/api/generate", body);
      assertEquals(400, r.statusCode(), body);
      if (OpenApiConformance.errors(doc, schema, OpenApiConformance.parse(body, body)).isEmpty()) {
        wronglyTaken.add(body);
      }
    }
    assertEquals(List.of(), wronglyTaken, "the schema takes bodies the server refuses");
    for (String good : List.of("{\"prompt\": \"digit 7\"}", "{\"prompt\": \"7\", \"n\": 64, \"steps\": 1000, \"guidance\": -100,"
        + " \"sampler\": \"ddim\", \"eta\": 1, \"spacing\": \"karras-exact\", \"guidanceInterval\": [0, 20], \"seed\": -4611686018427387904,"
        + " \"clip\": false, \"format\": \"png\", \"metadata\": false, \"negative\": \"3\", \"model\": \"mnist\"}")) {
      assertEquals(Set.of(), OpenApiConformance.errors(doc, schema, OpenApiConformance.parse(good, good)), good);
    }
  }

  /** /api/docs: Swagger UI from the jar, pointed at the document and at no validator elsewhere. */
  @Test
  void theDocsPageAndSwaggerUiComeFromTheJar() throws Exception {
    HttpResponse<byte[]> page = send("GET", "/api/docs", null);
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"));
    String html = new String(page.body(), StandardCharsets.UTF_8);
    assertTrue(html.contains("url: \"/api/openapi.json\"") && html.contains("validatorUrl: null"), html);
    assertFalse(html.contains("https://"), "the docs page loads nothing from elsewhere");
    for (String file : SwaggerUi.FILES) {
      HttpResponse<byte[]> r = send("GET", "/api/docs/" + file, null);
      assertEquals(200, r.statusCode(), file);
      assertTrue(html.contains("/api/docs/" + file), file + " is served but not used");
    }
    assertTrue(send("GET", "/api/docs/swagger-ui-bundle.js", null).body().length > 500_000);
    assertEquals("text/css; charset=utf-8", send("GET", "/api/docs/swagger-ui.css", null).headers()
        .firstValue("content-type").orElse(""));
    for (String notServed : List.of("swagger-initializer.js", "..%2F..%2Fpom.properties", "index.html")) {
      assertEquals(404, send("GET", "/api/docs/" + notServed, null).statusCode(), notServed);
    }
  }
}
