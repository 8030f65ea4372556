package diffuse.serve;

import diffuse.api.DiffuseException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.1 over Netty for an {@link Api}: the page (from the jar's {@code /web}), the JSON API and
 * server-sent events. Netty tells the moment a client's connection closes, which is what lets a
 * disconnect cancel queued or running work; the request body is bounded before it is read.
 */
public final class WebServer implements AutoCloseable {
  /** Largest request body accepted; larger ones get 413. */
  public static final int MAX_BODY = 16 * 1024;
  /** Largest PNG that {@code /api/png-info} reads (a grid of 64 images of 64×64 RGB, magnified 3×, is ≈ 2 MB). */
  public static final int MAX_PNG = 8 * 1024 * 1024;
  /** The one endpoint whose body is a PNG, not JSON. */
  static final String PNG_INFO = "/api/png-info";

  private final Api api;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ExecutorService toyPool;
  private final Channel channel;

  private static final System.Logger LOG = System.getLogger("diffuse.serve");

  private WebServer(Api api, String host, int port, String token) throws InterruptedException {
    this.api = api;
    this.boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    this.workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    this.toyPool = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "toy-field");
      t.setDaemon(true);
      return t;
    });
    ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new AccessLog(), new BoundedAggregator());
            if (token != null) {
              ch.pipeline().addLast(new TokenCheck(token));
            }
            ch.pipeline().addLast(new Handler());
          }
        });
    try {
      this.channel = b.bind(host, port).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      shutdownGroups();
      throw e;
    }
  }

  /** Starts serving {@code api} on host:port (port 0: any free port) without a token. */
  public static WebServer start(Api api, String host, int port) {
    return start(api, host, port, null);
  }

  /**
   * Starts serving {@code api} on host:port (port 0: any free port); with a {@code token}, the API
   * answers only requests that carry it ({@link TokenCheck}).
   */
  public static WebServer start(Api api, String host, int port, String token) {
    try {
      return new WebServer(api, host, port, token);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DiffuseException(DiffuseException.Code.FAILED, "interrupted while starting the server");
    } catch (Exception e) {
      throw new DiffuseException(DiffuseException.Code.UNAVAILABLE, "cannot listen on " + host + ":" + port + ": "
          + DiffuseException.firstLine(e.getMessage()), e);
    }
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** Blocks until the server is closed. */
  public void join() throws InterruptedException {
    channel.closeFuture().sync();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    shutdownGroups();
    api.close();
  }

  private void shutdownGroups() {
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    toyPool.shutdownNow();
  }

  /** The most body bytes a request to {@code uri} may send. */
  static int limit(String uri) {
    return new QueryStringDecoder(uri).path().equals(PNG_INFO) ? MAX_PNG : MAX_BODY;
  }

  /**
   * Answers a body over the limit with a JSON 413 and closes the connection: the limit of its path
   * ({@link #limit}), checked against the Content-Length before the body is read; a body sent
   * without one is read up to {@link #MAX_PNG} and checked by the handler.
   */
  private static final class BoundedAggregator extends HttpObjectAggregator {
    BoundedAggregator() {
      super(MAX_PNG);
    }

    @Override
    protected boolean isContentLengthInvalid(HttpMessage start, int maxContentLength) {
      int max = start instanceof io.netty.handler.codec.http.HttpRequest r ? limit(r.uri()) : maxContentLength;
      return super.isContentLengthInvalid(start, Math.min(max, maxContentLength));
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      tooLarge(ctx, oversized instanceof io.netty.handler.codec.http.HttpRequest q ? limit(q.uri()) : MAX_BODY);
    }
  }

  /** The 413 answer, after which the connection is closed (the rest of the body is not read). */
  static void tooLarge(ChannelHandlerContext ctx, int limit) {
    FullHttpResponse res = toResponse(Reply.error(413, "body", "body is larger than " + limit + " bytes"));
    res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
  }

  static FullHttpResponse toResponse(Reply r) {
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()),
        Unpooled.wrappedBuffer(r.body()));
    res.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
    res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
    res.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    r.headers().forEach((k, v) -> res.headers().set(k, v));
    return res;
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      QueryStringDecoder uri = new QueryStringDecoder(req.uri());
      String path = uri.path();
      HttpMethod method = req.method();
      if (req.content().readableBytes() > limit(req.uri())) { // a body sent without its length
        tooLarge(ctx, limit(req.uri()));
        return;
      }
      String body = path.equals(PNG_INFO) ? "" : req.content().toString(StandardCharsets.UTF_8);
      try {
        if (path.equals(PNG_INFO)) {
          requireMethod(method.equals(HttpMethod.POST), method, path, "POST");
          send(ctx, api.pngInfo(io.netty.buffer.ByteBufUtil.getBytes(req.content())), keepAlive);
        } else if (path.startsWith("/api/")) {
          api(ctx, method, path, uri, body, keepAlive);
        } else if (method.equals(HttpMethod.GET)) {
          send(ctx, page(path), keepAlive);
        } else {
          throw new WrongMethod(method + " is not allowed on " + path + "; use GET", "GET");
        }
      } catch (WrongMethod e) {
        Reply r = Reply.error(405, null, e.getMessage());
        send(ctx, new Reply(405, r.contentType(), r.body(), Map.of("Allow", e.allowed)), keepAlive);
      } catch (DiffuseException e) {
        send(ctx, Reply.error(e), keepAlive);
      } catch (IllegalArgumentException e) {
        send(ctx, Reply.error(400, null, DiffuseException.firstLine(e.getMessage())), keepAlive);
      } catch (Exception e) {
        LOG.log(System.Logger.Level.ERROR, method + " " + path + " failed", e);
        send(ctx, Reply.error(500, null, "internal error: " + e), keepAlive);
      }
    }

    private void api(ChannelHandlerContext ctx, HttpMethod method, String path, QueryStringDecoder uri, String body,
        boolean keepAlive) throws IOException {
      boolean get = method.equals(HttpMethod.GET);
      boolean post = method.equals(HttpMethod.POST);
      switch (path) {
        case "/api/health" -> requireMethod(get, method, path, "GET");
        case "/api/models", "/api/toy/field" -> requireMethod(get, method, path, "GET");
        case "/api/generate", "/api/sweep", "/api/generate/stream" -> requireMethod(post, method, path, "POST");
        default -> {
          if (path.startsWith("/api/models/") && path.endsWith("/tradeoff.png")) {
            requireMethod(get, method, path, "GET");
            String id = path.substring("/api/models/".length(), path.length() - "/tradeoff.png".length());
            send(ctx, api.tradeoff(id), keepAlive);
            return;
          }
          throw new DiffuseException(DiffuseException.Code.NOT_FOUND, null, "no such endpoint: " + path
              + " (see /api/models, /api/generate, /api/generate/stream, /api/sweep, /api/png-info, /api/toy/field,"
              + " /api/health)", null);
        }
      }
      switch (path) {
        case "/api/health" -> send(ctx, api.health(), keepAlive);
        case "/api/models" -> send(ctx, api.listModels(), keepAlive);
        case "/api/toy/field" -> {
          Map<String, String> q = new HashMap<>();
          uri.parameters().forEach((k, v) -> q.put(k, v.get(v.size() - 1)));
          toyPool.execute(() -> {
            Reply r;
            try {
              r = api.toyField(q);
            } catch (DiffuseException e) {
              r = Reply.error(e);
            } catch (RuntimeException e) {
              LOG.log(System.Logger.Level.ERROR, "GET /api/toy/field failed", e);
              r = Reply.error(500, null, "internal error: " + e);
            }
            send(ctx, r, keepAlive);
          });
        }
        case "/api/generate", "/api/sweep" -> {
          Api.Call call = api.parse(body, path.equals("/api/sweep"));
          Api.Pending p = api.submit(call, diffuse.api.Listener.NONE);
          Runnable forget = cancelOnClose(ctx.channel(), p);
          p.samples().whenComplete((s, err) -> {
            forget.run();
            if (err == null) {
              send(ctx, safely(() -> Api.reply(call, s)), keepAlive);
            } else if (ctx.channel().isActive()) {
              send(ctx, failure(err), keepAlive);
            }
          });
        }
        case "/api/generate/stream" -> stream(ctx, body);
        default -> throw new IllegalStateException(path);
      }
    }

    /** Server-sent events: "step" with a preview of x̂_0 after every step, then "result" (or "error"). */
    private void stream(ChannelHandlerContext ctx, String body) {
      Api.Call call = api.parse(body, false);
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
      head.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
      head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      HttpUtil.setTransferEncodingChunked(head, true);
      Channel ch = ctx.channel();
      Api.Pending p = api.submit(call, diffuse.api.Listener.ofSteps(s -> {
        if (!ch.isActive()) {
          throw new IllegalStateException("client gone");
        }
        event(ch, "step", Reply.GSON.toJson(Map.of("step", s.step(), "steps", s.steps(),
            "preview", Api.preview(call.slot(), s.x0(), call.n()))));
      }));
      ctx.writeAndFlush(head);
      event(ch, "queued", Reply.GSON.toJson(Map.of("n", call.n(), "steps", call.spec().steps())));
      Runnable forget = cancelOnClose(ch, p);
      p.samples().whenComplete((s, err) -> {
        forget.run();
        if (err == null) {
          Reply r = safely(() -> Api.reply(call, s));
          event(ch, r.status() == 200 ? "result" : "error", new String(r.body(), StandardCharsets.UTF_8));
        } else {
          event(ch, "error", new String(failure(err).body(), StandardCharsets.UTF_8));
        }
        ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
      });
    }

    /**
     * Cancels {@code p} if the connection closes before it is done; returns what unregisters that,
     * to run when it is done. A keep-alive connection serves request after request, so a listener
     * left on its close future would keep every finished request (and its images) alive.
     */
    private static Runnable cancelOnClose(Channel ch, Api.Pending p) {
      io.netty.util.concurrent.GenericFutureListener<io.netty.util.concurrent.Future<? super Void>> l = f -> p.cancel();
      ch.closeFuture().addListener(l);
      return () -> ch.closeFuture().removeListener(l);
    }

    private void event(Channel ch, String name, String json) {
      String text = "event: " + name + "\ndata: " + json + "\n\n";
      ch.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
    }

    private void requireMethod(boolean ok, HttpMethod method, String path, String allowed) {
      if (!ok) {
        throw new WrongMethod(method + " is not allowed on " + path + "; use " + allowed, allowed);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // a client that resets its connection is routine; anything else is worth a line
      System.Logger.Level level = cause instanceof java.io.IOException ? System.Logger.Level.DEBUG
          : System.Logger.Level.WARNING;
      LOG.log(level, "connection from " + ctx.channel().remoteAddress() + " closed: " + cause, cause);
      ctx.close();
    }
  }

  /** 405: the path exists, the method does not. */
  private static final class WrongMethod extends RuntimeException {
    final String allowed;

    WrongMethod(String message, String allowed) {
      super(message, null, false, false);
      this.allowed = allowed;
    }
  }

  static Reply failure(Throwable err) {
    Throwable e = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
    if (e instanceof DiffuseException d) {
      return Reply.error(d);
    }
    LOG.log(System.Logger.Level.ERROR, "a request failed", e);
    return Reply.error(500, null, "internal error: " + e);
  }

  private static Reply safely(java.util.function.Supplier<Reply> f) {
    try {
      return f.get();
    } catch (RuntimeException e) {
      return failure(e);
    }
  }

  private static void send(ChannelHandlerContext ctx, Reply r, boolean keepAlive) {
    if (!ctx.channel().isActive()) {
      return;
    }
    FullHttpResponse res = toResponse(r);
    if (keepAlive) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(res);
    } else {
      ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "png", "image/png",
      "svg", "image/svg+xml");
  private static final List<String> PAGES = List.of("index.html", "app.js", "style.css");

  /** The page's files, from the jar: nothing is fetched from the internet. */
  private static Reply page(String path) throws IOException {
    String name = path.equals("/") ? "index.html" : path.substring(1);
    if (!PAGES.contains(name)) {
      return Reply.error(404, null, "not found: " + path);
    }
    try (InputStream in = WebServer.class.getResourceAsStream("/web/" + name)) {
      if (in == null) {
        return Reply.error(404, null, "not found: " + path);
      }
      byte[] bytes = in.readAllBytes();
      return new Reply(200, TYPES.get(name.substring(name.lastIndexOf('.') + 1)), bytes, Map.of());
    }
  }
}
