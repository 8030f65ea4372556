package diffuse.serve;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
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
final class TokenCheck extends ChannelInboundHandlerAdapter {
  private final byte[] expected;
  /** The request's head was refused: its body parts are dropped until the connection closes. */
  private boolean refused;

  TokenCheck(String token) {
    this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
  }

  /** True if requests to {@code path} need the token. */
  static boolean guarded(String path) {
    return path.startsWith("/api/") || path.startsWith("/v1/");
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused && (msg instanceof HttpContent || msg instanceof HttpRequest)) {
      ReferenceCountUtil.release(msg); // the connection ends with the refusal: nothing after it is read
      return;
    }
    if (msg instanceof HttpRequest req) {
      String path = java.util.Objects.requireNonNullElse(WebServer.pathOf(req.uri()), "");
      String given = req.headers().get(HttpHeaderNames.AUTHORIZATION);
      if (guarded(path) && (given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8)))) {
        refused = true;
        ReferenceCountUtil.release(msg);
        Reply r = Reply.error(401, "Authorization", given == null
            ? "this server needs a token: send Authorization: Bearer <token>"
            : "wrong token in Authorization");
        Reply shaped = WebServer.shaped(path, r); // /v1/ answers in OpenAI's error shape
        FullHttpResponse res = WebServer.toResponse(new Reply(shaped.status(), shaped.contentType(), shaped.body(),
            Map.of("WWW-Authenticate", "Bearer")));
        ctx.fireChannelRead(new WebServer.Refused(res)); // answered in its turn, after any request before it
        return;
      }
    }
    ctx.fireChannelRead(msg);
  }
}
