package diffuse.serve;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import diffuse.api.DiffuseException;
import diffuse.app.Samples;
import diffuse.io.ModelInfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /v1/images/generations}, the request and answer of OpenAI's image API, so that an
 * OpenAI client (pointed at {@code http://HOST:PORT/v1}) can draw with a served model. The request
 * becomes the same {@link Api.Call} as a generate body (the prompt resolved to a label, the plan of
 * {@code GenerateService}, the model's batcher), so the same settings give the same pixels; errors
 * take OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}}.
 */
final class OpenAiImages {
  static final String PATH = "/v1/images/generations";

  /**
   * OpenAI's fields that mean something here ({@code user} is taken and ignored, as an end-user id
   * is), and the generate fields that go beyond them.
   */
  static final Set<String> FIELDS = Set.of("prompt", "n", "response_format", "size", "model", "user",
      "output_format", "guidance", "seed", "steps", "sampler");

  private OpenAiImages() {}

  /** Parses and checks a request: only {@code b64_json} answers, only PNG, only the model's own size. */
  static Api.Call parse(Api api, String text) {
    Fields f = Fields.parse(text, FIELDS);
    String format = f.string("response_format", "b64_json");
    if (!format.equals("b64_json")) {
      throw DiffuseException.badValue("response_format", "response_format must be b64_json (this server keeps no"
          + " images to point a url at), got '" + format + "'");
    }
    String output = f.string("output_format", "png");
    if (!output.equals("png")) {
      throw DiffuseException.badValue("output_format", "output_format must be png, got '" + output + "'");
    }
    String model = f.string("model", null);
    if (model != null && !api.models().containsKey(model)) {
      throw new DiffuseException(DiffuseException.Code.NOT_FOUND, "model", "the model '" + model
          + "' does not exist; served: " + String.join(", ", api.models().keySet()), null);
    }
    f.string("user", null); // typed like the rest, then ignored
    Api.Call c = api.call(f, false, 1, text);
    String size = size(c.slot().model().info());
    if (f.has("size") && !f.string("size", "").equals(size)) {
      throw DiffuseException.badValue("size", "size must be the model's own, " + size + ", got '"
          + f.string("size", "") + "'");
    }
    return c;
  }

  /** A model's image size as OpenAI writes it: "WIDTHxHEIGHT". */
  static String size(ModelInfo info) {
    return info.architecture().width() + "x" + info.architecture().height();
  }

  /** {@code {"created", "data": [{"b64_json", "revised_prompt"}], "output_format": "png"}}; revised_prompt names the label drawn. */
  static Reply reply(Api.Call c, Samples s) {
    List<Object> data = new ArrayList<>();
    String label = s.rows().get(0).labelName();
    for (byte[] png : Api.imagePngs(c, s)) {
      Map<String, Object> image = new LinkedHashMap<>();
      image.put("b64_json", Base64.getEncoder().encodeToString(png));
      image.put("revised_prompt", label);
      data.add(image);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("created", System.currentTimeMillis() / 1000);
    out.put("data", data);
    out.put("output_format", "png");
    return Reply.json(200, out);
  }

  /** A diffuse error answer ({@code {error, field, status}}) in OpenAI's shape, with the same status and headers. */
  static Reply error(Reply r) {
    if (r.status() < 400 || !r.contentType().startsWith("application/json")) {
      return r;
    }
    JsonObject e = JsonParser.parseString(new String(r.body(), StandardCharsets.UTF_8)).getAsJsonObject();
    if (!e.has("field")) {
      return r;
    }
    String field = e.get("field").isJsonNull() ? null : e.get("field").getAsString();
    int status = r.status();
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("message", e.get("error").getAsString());
    inner.put("type", status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error");
    inner.put("param", field);
    inner.put("code", code(status, field));
    Reply out = Reply.json(status, Map.of("error", inner));
    return new Reply(status, out.contentType(), out.body(), r.headers());
  }

  private static String code(int status, String field) {
    return switch (status) {
      case 400 -> "invalid_value";
      case 404 -> "model".equals(field) ? "model_not_found" : "not_found";
      case 405 -> "method_not_allowed";
      case 413 -> "request_too_large";
      case 429 -> "rate_limit_exceeded";
      case 503 -> "unavailable";
      default -> "server_error";
    };
  }
}
