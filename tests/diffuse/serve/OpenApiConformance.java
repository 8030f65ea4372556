package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks an exchange with a running server against the server's own OpenAPI document
 * ({@code GET /api/openapi.json}): the route is documented; a request body that the server took (2xx)
 * validates against the operation's request schema; the answer's media type is documented for its
 * status, and a JSON answer validates against that schema (JSON Schema 2020-12, networknt's validator).
 */
final class OpenApiConformance {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private static final Map<Integer, JsonNode> DOCUMENTS = new ConcurrentHashMap<>();

  private OpenApiConformance() {}

  /** The document that the server on {@code port} answers (fetched once per port). */
  static JsonNode document(int port) {
    return DOCUMENTS.computeIfAbsent(port, p -> {
      try {
        HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p
            + "/api/openapi.json")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        return JSON.readTree(r.body());
      } catch (Exception e) {
        throw new AssertionError("cannot read the OpenAPI document: " + e, e);
      }
    });
  }

  /** The documented template that {@code path} is an instance of, or null. */
  static String template(JsonNode doc, String path) {
    for (Iterator<String> it = doc.get("paths").fieldNames(); it.hasNext(); ) {
      String t = it.next();
      if (new WebServer.Route("GET", t).matches(path)) {
        return t;
      }
    }
    return null;
  }

  /** Checks one exchange; {@code requestBody} null for none, or a JSON text. */
  static void check(int port, String method, String path, String requestBody, HttpResponse<byte[]> r) {
    JsonNode doc = document(port);
    String what = method + " " + path + " → " + r.statusCode();
    String bare = URI.create(path).getPath();
    String template = template(doc, bare);
    JsonNode op = template == null ? null : doc.get("paths").get(template).get(method.toLowerCase(Locale.ROOT));
    if (op == null) {
      // only a wrong path or method may be undocumented, and its answer is the error body
      assertTrue(r.statusCode() == 404 || r.statusCode() == 405, "undocumented route answered: " + what);
      validate(doc, ref(bare.startsWith("/v1/") ? "OpenAIError" : "Error"), json(r, what), what);
      return;
    }
    if (requestBody != null && r.statusCode() / 100 == 2 && op.has("requestBody")) {
      JsonNode schema = op.at("/requestBody/content/application~1json/schema");
      assertTrue(!schema.isMissingNode(), "no JSON request schema: " + what);
      validate(doc, schema, parse(requestBody, what), what + " (request " + requestBody + ")");
    }
    JsonNode answers = op.get("responses");
    JsonNode answer = answers.has(String.valueOf(r.statusCode())) ? answers.get(String.valueOf(r.statusCode()))
        : answers.get("default");
    assertNotNull(answer, "status not documented: " + what);
    String type = r.headers().firstValue("content-type").orElse("").split(";")[0].strip();
    JsonNode media = answer.get("content").get(type);
    if (media == null) {
      media = answer.get("content").get("*/*");
    }
    assertNotNull(media, "media type " + type + " not documented for " + what + ": " + answer.get("content"));
    if (type.equals("application/json")) {
      validate(doc, media.get("schema"), json(r, what), what);
    } else if (type.equals("image/png")) {
      assertTrue(r.body().length > 8 && r.body()[1] == 'P' && r.body()[2] == 'N' && r.body()[3] == 'G', what);
    }
  }

  /** Errors of {@code value} against {@code schema} (its $refs resolved in the document's components). */
  static Set<ValidationMessage> errors(JsonNode doc, JsonNode schema, JsonNode value) {
    ObjectNode root = JSON.createObjectNode();
    root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
    root.set("components", doc.get("components"));
    root.putArray("allOf").add(schema);
    JsonSchema s = FACTORY.getSchema(root);
    return s.validate(value);
  }

  static void validate(JsonNode doc, JsonNode schema, JsonNode value, String what) {
    Set<ValidationMessage> errors = errors(doc, schema, value);
    if (!errors.isEmpty()) {
      String text = value.toString();
      fail(what + " does not match " + schema + ": " + errors + "\n" + text.substring(0, Math.min(400, text.length())));
    }
  }

  static JsonNode ref(String name) {
    return JSON.createObjectNode().put("$ref", "#/components/schemas/" + name);
  }

  static JsonNode json(HttpResponse<byte[]> r, String what) {
    try {
      return JSON.readTree(r.body());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + what, e);
    }
  }

  static JsonNode parse(String text, String what) {
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new AssertionError("request not JSON: " + what, e);
    }
  }
}
