package diffuse.serve;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import diffuse.api.DiffuseException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One HTTP answer, independent of the server library.
 *
 * @param status HTTP status
 * @param contentType media type of the body
 * @param body the bytes
 * @param headers extra headers (Retry-After, Content-Disposition)
 */
public record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {
  static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().serializeSpecialFloatingPointValues()
      .registerTypeAdapter(diffuse.sampling.Guidance.class, new GuidanceJson()).create();

  /**
   * The sidecar's guidance as the API has always answered it: every field of the interval, rescale,
   * negative class and APG, null included; autoguidance's and a custom rule's fields only when set.
   */
  static final class GuidanceJson implements com.google.gson.JsonSerializer<diffuse.sampling.Guidance> {
    private static final Gson PLAIN = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues()
        .create();

    @Override
    public com.google.gson.JsonElement serialize(diffuse.sampling.Guidance g, java.lang.reflect.Type type,
        com.google.gson.JsonSerializationContext ctx) {
      com.google.gson.JsonObject o = PLAIN.toJsonTree(g).getAsJsonObject();
      for (String always : new String[] {"interval", "rescale", "negative", "negativeLabel", "apg", "apgNorm"}) {
        if (!o.has(always)) {
          o.add(always, com.google.gson.JsonNull.INSTANCE);
        }
      }
      com.google.gson.JsonObject ordered = new com.google.gson.JsonObject();
      for (String k : new String[] {"interval", "rescale", "negative", "negativeLabel", "apg", "apgNorm", "guideModel",
          "guideCheckpoint", "guideCfg", "guideInterval", "custom"}) {
        if (o.has(k)) {
          ordered.add(k, o.get(k));
        }
      }
      return ordered;
    }
  }

  static Reply json(int status, Object value) {
    return new Reply(status, "application/json; charset=utf-8", GSON.toJson(value).getBytes(StandardCharsets.UTF_8),
        Map.of());
  }

  static Reply png(byte[] png, String filename) {
    return new Reply(200, "image/png", png, Map.of("Content-Disposition", "inline; filename=\"" + filename + "\""));
  }

  /** The JSON error body {"error": message, "field": field, "status": status}; BUSY adds Retry-After. */
  static Reply error(DiffuseException e) {
    int status = e.code().httpStatus();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", e.getMessage());
    body.put("field", e.field());
    body.put("status", status);
    Reply r = json(status, body);
    if (e.code() == DiffuseException.Code.BUSY || e.code() == DiffuseException.Code.UNAVAILABLE) {
      return new Reply(r.status, r.contentType, r.body, Map.of("Retry-After", "1"));
    }
    return r;
  }

  static Reply error(int status, String field, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", message);
    body.put("field", field);
    body.put("status", status);
    return json(status, body);
  }
}
