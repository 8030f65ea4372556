package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.langchain4j.data.image.Image;
import dev.langchain4j.model.openai.OpenAiImageModel;
import diffuse.runtime.Device;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/images/generations} with the shipped MNIST model: LangChain4j's OpenAI image
 * client, pointed at the server, draws "digit 7"; the endpoint gives the pixels that
 * {@code /api/generate} gives for the same settings; its errors are OpenAI's shape with the right
 * status, naming the parameter.
 */
class OpenAiImagesTest {
  static WebServer server;

  @BeforeAll
  static void start() {
    server = new Serving(List.of(Path.of("models/mnist")), List.of(), "127.0.0.1", 0, 64, 5, 64)
        .start(Device.CPU.resolve(0));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  static HttpResponse<byte[]> send(String method, String path, String body) throws Exception {
    return sendTo(server, method, path, body);
  }

  /** An exchange with {@code server}, checked against its OpenAPI document. */
  static HttpResponse<byte[]> sendTo(WebServer server, String method, String path, String body) throws Exception {
    return ApiTest.send(server, method, path, body, Duration.ofSeconds(120));
  }

  static JsonObject json(HttpResponse<byte[]> r) {
    return JsonParser.parseString(new String(r.body(), StandardCharsets.UTF_8)).getAsJsonObject();
  }

  static int[] gray(byte[] png) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    return img.getRaster().getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
  }

  static OpenAiImageModel.OpenAiImageModelBuilder client() {
    return OpenAiImageModel.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("not-checked")
        .timeout(Duration.ofSeconds(120)).maxRetries(0);
  }

  @Test
  void langChain4jsOpenAiClientDrawsADigitSeven() throws Exception {
    Image image = client().modelName("mnist").size("28x28").build().generate("digit 7").content();
    assertNotNull(image.base64Data(), "a b64_json answer");
    assertEquals("7", image.revisedPrompt());
    BufferedImage png = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(image.base64Data())));
    assertEquals(28, png.getWidth());
    assertEquals(28, png.getHeight());
    // no model and no size named: the first model, its own size
    List<Image> two = client().build().generate("seven", 2).content();
    assertEquals(2, two.size());
    // a size the model does not draw: the client reports the server's message
    RuntimeException e = assertThrows(RuntimeException.class, () -> client().size("1024x1024").build().generate("digit 7"));
    assertTrue(String.valueOf(e.getMessage()).contains("size must be the model's own, 28x28"), e.toString());
  }

  /** The same settings through /v1/images/generations and /api/generate give the same pixels. */
  @Test
  void theSameSettingsGiveThePixelsOfApiGenerate() throws Exception {
    String settings = "\"n\": 3, \"seed\": 41, \"steps\": 4, \"guidance\": 3.5, \"sampler\": \"ddim\"";
    HttpResponse<byte[]> openAi = send("POST", "/v1/images/generations", "{\"prompt\": \"digit 7\", \"size\": \"28x28\","
        + " \"model\": \"mnist\", \"response_format\": \"b64_json\", \"user\": \"u1\", " + settings + "}");
    assertEquals(200, openAi.statusCode(), new String(openAi.body(), StandardCharsets.UTF_8));
    JsonObject answer = json(openAi);
    assertTrue(Math.abs(answer.get("created").getAsLong() - System.currentTimeMillis() / 1000) < 600);
    JsonArray data = answer.getAsJsonArray("data");
    HttpResponse<byte[]> generate = send("POST", "/api/generate", "{\"prompt\": \"digit 7\", " + settings + "}");
    assertEquals(200, generate.statusCode());
    JsonArray images = json(generate).getAsJsonArray("rows").get(0).getAsJsonObject().getAsJsonArray("images");
    assertEquals(3, data.size());
    List<int[]> drawn = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      JsonObject d = data.get(i).getAsJsonObject();
      assertEquals("7", d.get("revised_prompt").getAsString());
      int[] ours = gray(Base64.getDecoder().decode(d.get("b64_json").getAsString()));
      assertArrayEquals(gray(Base64.getDecoder().decode(images.get(i).getAsString().substring(22))), ours, "image " + i);
      drawn.add(ours);
    }
    assertTrue(!java.util.Arrays.equals(drawn.get(0), drawn.get(1)), "each image its own noise");
  }

  @Test
  void errorsTakeOpenAisShapeWithTheRightStatus() throws Exception {
    record Bad(String method, String body, int status, String param, String type) {}
    String big = "{\"prompt\": \"" + "7".repeat(20_000) + "\"}";
    for (Bad b : List.of(
        new Bad("POST", "{\"prompt\": \"digit 7\", \"response_format\": \"url\"}", 400, "response_format", "invalid_request_error"),
        new Bad("POST", "{\"prompt\": \"digit 7\", \"size\": \"1024x1024\"}", 400, "size", "invalid_request_error"),
        new Bad("POST", "{\"prompt\": \"digit 7\", \"model\": \"dall-e-3\"}", 404, "model", "invalid_request_error"),
        new Bad("POST", "{\"prompt\": \"digit 7\", \"style\": \"vivid\"}", 400, "style", "invalid_request_error"),
        new Bad("POST", "{\"prompt\": \"digit 7\", \"n\": 0}", 400, "n", "invalid_request_error"),
        new Bad("POST", "{\"prompt\": \"digit 7\", \"output_format\": \"webp\"}", 400, "output_format", "invalid_request_error"),
        new Bad("POST", "{\"prompt\": \"a cat\"}", 400, "prompt", "invalid_request_error"),
        new Bad("POST", "{}", 400, "prompt", "invalid_request_error"),
        new Bad("POST", "{\"prompt\": ", 400, "body", "invalid_request_error"),
        new Bad("POST", big, 413, "body", "invalid_request_error"),
        new Bad("GET", null, 405, null, "invalid_request_error"))) {
      HttpResponse<byte[]> r = send(b.method(), "/v1/images/generations", b.body());
      String what = b.method() + " " + (b.body() == null ? "" : b.body().substring(0, Math.min(60, b.body().length())));
      assertEquals(b.status(), r.statusCode(), what + " → " + new String(r.body(), StandardCharsets.UTF_8));
      JsonObject e = json(r).getAsJsonObject("error");
      assertNotNull(e, what);
      assertEquals(b.type(), e.get("type").getAsString(), what);
      assertEquals(b.param(), e.get("param").isJsonNull() ? null : e.get("param").getAsString(), what);
      assertTrue(e.get("message").getAsString().length() > 5, what);
      assertTrue(e.has("code"), what);
    }
    HttpResponse<byte[]> missing = send("POST", "/v1/images/generations", "{\"prompt\": \"digit 7\", \"model\": \"dall-e-3\"}");
    assertEquals("model_not_found", json(missing).getAsJsonObject("error").get("code").getAsString());
    // another /v1 path: OpenAI's shape too
    HttpResponse<byte[]> none = send("GET", "/v1/models", null);
    assertEquals(404, none.statusCode());
    assertTrue(json(none).getAsJsonObject("error").get("message").getAsString().contains("no such endpoint"));
  }
}
