package diffuse.serve;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;

/**
 * One access-log line per request, written when its response has gone out, on the
 * {@link System.Logger} {@value #LOGGER} at INFO:
 *
 * <pre>
 * 127.0.0.1 "POST /api/generate" 200 812ms images=16 queue=3ms
 * </pre>
 *
 * Remote address, method and path (no query: it may carry a token or a prompt), status, wall time
 * from the request's arrival to the last byte written, and for generation the images drawn and the
 * time they waited for a network batch (the wall time less the sampling time the reply reports in
 * {@value #IMAGES_HEADER} and {@value #COMPUTE_HEADER}; "-" for other requests). System.Logger
 * rather than SLF4J: no dependency for the library's users, and a program that uses SLF4J routes it
 * there with its own System.LoggerFinder (slf4j-jdk-platform-logging).
 */
final class AccessLog extends ChannelDuplexHandler {
  static final String LOGGER = "diffuse.serve.access";
  /** Response header: images a generation drew. */
  static final String IMAGES_HEADER = "X-Diffuse-Images";
  /** Response header: milliseconds its network batches took. */
  static final String COMPUTE_HEADER = "X-Diffuse-Compute-Ms";
  private static final System.Logger LOG = System.getLogger(LOGGER);

  /** The requests read and not yet answered, oldest first: answers go out in order (pipelining). */
  private final java.util.ArrayDeque<Object[]> pending = new java.util.ArrayDeque<>();
  private long start;
  private String request = "-";
  private int status;
  private String images;
  private String compute;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest r && pending.size() < 64) {
      pending.add(new Object[] {System.nanoTime(),
          r.method() + " " + java.util.Objects.requireNonNullElse(WebServer.pathOf(r.uri()), r.uri())});
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpResponse r && r.status().code() >= 200) { // not a 100 Continue
      Object[] p = pending.poll();
      start = p == null ? System.nanoTime() : (long) p[0];
      request = p == null ? "-" : (String) p[1];
      status = r.status().code();
      images = r.headers().get(IMAGES_HEADER);
      compute = r.headers().get(COMPUTE_HEADER);
    }
    if (msg instanceof LastHttpContent && status != 0) {
      String line = line(remote(ctx.channel().remoteAddress()), request, status, (System.nanoTime() - start) / 1_000_000,
          images, compute);
      status = 0;
      promise.addListener(f -> LOG.log(System.Logger.Level.INFO, line));
    }
    ctx.write(msg, promise);
  }

  /** The line for one request; {@code images} and {@code computeMs} null for requests that draw none. */
  static String line(String remote, String request, int status, long millis, String images, String computeMs) {
    String extra = " images=-";
    if (images != null) {
      long queue = computeMs == null ? -1 : Math.max(0, millis - Long.parseLong(computeMs));
      extra = " images=" + images + (queue < 0 ? "" : " queue=" + queue + "ms");
    }
    return String.format(Locale.ROOT, "%s \"%s\" %d %dms%s", remote, request, status, millis, extra);
  }

  private static String remote(SocketAddress a) {
    return a instanceof InetSocketAddress i ? i.getAddress().getHostAddress() : String.valueOf(a);
  }
}
