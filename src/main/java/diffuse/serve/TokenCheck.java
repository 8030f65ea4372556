package diffuse.serve;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * With a token, every API request ({@code /api/…}, {@code /v1/…}) must carry
 * {@code Authorization: Bearer <token>}; one without it, or with another, gets a JSON 401 naming
 * {@code Authorization}. The page's own files stay open (they hold no data): the page asks for the
 * token once and sends it with every call. The comparison takes the same time whatever the tokens.
 * It looks at the request's head, before the body is read: a caller without the token cannot make
 * the server buffer a body (up to {@link WebServer#MAX_PNG} for {@code /api/png-info}).
 */
final class TokenCheck extends HeadCheck {
  private final byte[] expected;

  TokenCheck(String token) {
    this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
  }

  /** True if requests to {@code path} need the token. */
  static boolean guarded(String path) {
    return path.startsWith("/api/") || path.startsWith("/v1/");
  }

  @Override
  FullHttpResponse refusal(HttpRequest req) {
    String path = java.util.Objects.requireNonNullElse(WebServer.pathOf(req.uri()), "");
    String given = req.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (!guarded(path) || (given != null && MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8)))) {
      return null;
    }
    Reply r = Reply.error(401, "Authorization", given == null
        ? "this server needs a token: send Authorization: Bearer <token>"
        : "wrong token in Authorization");
    Reply shaped = WebServer.shaped(path, r); // /v1/ answers in OpenAI's error shape
    return WebServer.toResponse(new Reply(shaped.status(), shaped.contentType(), shaped.body(),
        Map.of("WWW-Authenticate", "Bearer")));
  }
}
