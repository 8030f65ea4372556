package diffuse.serve;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;

/**
 * A check made on a request's head, before its body is read. A refused request is passed down as a
 * {@link WebServer.Refused}, to be answered in its turn after any request sent before it on the
 * connection; the connection ends with it, so nothing read after it is passed on.
 */
abstract class HeadCheck extends ChannelInboundHandlerAdapter {
  /** A request's head was refused: what follows is dropped until the connection closes. */
  private boolean refused;

  /** The answer that refuses {@code req}, or null to let it through. */
  abstract FullHttpResponse refusal(HttpRequest req);

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused && (msg instanceof HttpContent || msg instanceof HttpRequest)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest req) {
      FullHttpResponse res = refusal(req);
      if (res != null) {
        refused = true;
        ReferenceCountUtil.release(msg);
        ctx.fireChannelRead(new WebServer.Refused(res));
        return;
      }
    }
    ctx.fireChannelRead(msg);
  }
}
