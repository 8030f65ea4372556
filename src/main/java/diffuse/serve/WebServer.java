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
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsConfigBuilder;
import io.netty.handler.codec.http.cors.CorsHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
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
  /**
   * A connection that sends nothing for this long while no request of it is being answered (an idle
   * keep-alive, or a request that never finishes arriving) is closed; one waiting for its answer is not.
   */
  static final java.time.Duration IDLE = java.time.Duration.ofSeconds(60);
  /** How long a refused request's connection is kept to drop the rest of its body ({@link #refuse}). */
  static final java.time.Duration LINGER = java.time.Duration.ofSeconds(2);
  /** Requests one connection may send ahead (HTTP/1.1 pipelining) while one is answered; more close it. */
  static final int MAX_PIPELINED = 16;
  /** Toy-field requests that may wait for one of its two threads; more are answered 429. */
  static final int TOY_QUEUE = 16;
  /** The one endpoint whose body is a PNG, not JSON. */
  static final String PNG_INFO = "/api/png-info";

  private final Api api;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ExecutorService toyPool;
  private final Channel channel;
  private volatile Reply openApi;

  private static final System.Logger LOG = System.getLogger("diffuse.serve");

  private WebServer(Api api, String host, int port, String token, String cors, java.time.Duration idle)
      throws InterruptedException {
    this.api = api;
    CorsConfig corsConfig = cors == null ? null : CorsConfigBuilder.forOrigin(cors)
        .allowedRequestMethods(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE)
        .allowedRequestHeaders(HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.AUTHORIZATION)
        .exposeHeaders(HttpHeaderNames.CONTENT_DISPOSITION, HttpHeaderNames.RETRY_AFTER, HttpHeaderNames.LOCATION)
        .maxAge(600).build();
    this.boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    this.workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    this.toyPool = toyPool();
    ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            // the checks look at a request's head, before its body is read and aggregated
            ch.pipeline().addLast(new IdleStateHandler(0, 0, idle.toMillis(), TimeUnit.MILLISECONDS));
            ch.pipeline().addLast(new HttpServerCodec(), new AccessLog());
            if (corsConfig != null) { // answers preflights, and adds Access-Control-Allow-Origin for that origin only
              ch.pipeline().addLast(new CorsHandler(corsConfig));
            }
            ch.pipeline().addLast(new OriginCheck(cors, token == null));
            if (token != null) { // after CORS: a browser's preflight carries no Authorization
              ch.pipeline().addLast(new TokenCheck(token));
            }
            ch.pipeline().addLast(new Limiter()).addLast(AGGREGATOR, new BoundedAggregator(MAX_BODY))
                .addLast(new Handler());
          }
        });
    try {
      this.channel = b.bind(host, port).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      shutdownGroups();
      throw e;
    }
  }

  /**
   * The toy field's threads: two, and a bounded queue, so that a flood of field requests is
   * answered 429 ({@link RejectedExecutionException}), not queued without end.
   */
  static ThreadPoolExecutor toyPool() {
    return new ThreadPoolExecutor(2, 2, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(TOY_QUEUE), r -> {
      Thread t = new Thread(r, "toy-field");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts serving {@code api} on host:port (port 0: any free port) without a token or CORS. */
  public static WebServer start(Api api, String host, int port) {
    return start(api, host, port, null, null);
  }

  /**
   * Starts serving {@code api} on host:port (port 0: any free port); with a {@code token}, the API
   * answers only requests that carry it ({@link TokenCheck}); {@code cors}, when not null, is the one
   * origin whose pages may call the API from a browser (CORS is off without it).
   */
  public static WebServer start(Api api, String host, int port, String token, String cors) {
    return start(api, host, port, token, cors, IDLE);
  }

  /** As {@link #start(Api, String, int, String, String)}, closing connections idle for {@code idle}. */
  static WebServer start(Api api, String host, int port, String token, String cors, java.time.Duration idle) {
    try {
      return new WebServer(api, host, port, token, cors, idle);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DiffuseException(DiffuseException.Code.FAILED, "interrupted while starting the server");
    } catch (Exception e) {
      throw new DiffuseException(DiffuseException.Code.UNAVAILABLE, "cannot listen on " + host + ":" + port + ": "
          + DiffuseException.firstLine(e.getMessage()), e);
    }
  }

  /** What it serves. */
  Api api() {
    return api;
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
    return PNG_INFO.equals(pathOf(uri)) ? MAX_PNG : MAX_BODY;
  }

  /**
   * The decoded path of a request's {@code uri}, or null where it has none to route by: a bad
   * %-escape ({@code /%zz}) or no leading '/' ({@code ?x}); such a request is answered 400.
   */
  static String pathOf(String uri) {
    try {
      String p = new QueryStringDecoder(uri).path();
      return p.startsWith("/") ? p : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Answers a body over the limit with a JSON 413 and closes the connection: the limit of its path
   * ({@link #limit}, set per request by {@link Limiter}), checked against the Content-Length before
   * the body is read, or, for a body sent in chunks, as soon as the chunks pass it.
   */
  private static final class BoundedAggregator extends HttpObjectAggregator {
    final int max;

    BoundedAggregator(int max) {
      super(max);
      this.max = max;
    }

    @Override
    protected boolean isContentLengthInvalid(HttpMessage start, int maxContentLength) {
      int max = start instanceof io.netty.handler.codec.http.HttpRequest r ? limit(r.uri()) : maxContentLength;
      return super.isContentLengthInvalid(start, Math.min(max, maxContentLength));
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, io.netty.channel.ChannelPipeline p) {
      // "Expect: 100-continue" is answered against the path's own limit too, not the largest one. A body
      // over it gets no 100: null hands the request to isContentLengthInvalid, and so to
      // handleOversizedMessage, whose JSON 413 is answered in turn (Netty's own would be empty, and written
      // at once, ahead of the answers to requests sent before it)
      int max = Math.min(start instanceof io.netty.handler.codec.http.HttpRequest r ? limit(r.uri()) : maxContentLength,
          maxContentLength);
      if (io.netty.handler.codec.http.HttpUtil.is100ContinueExpected(start)
          && io.netty.handler.codec.http.HttpUtil.getContentLength(start, -1L) > max) {
        return null;
      }
      return super.newContinueResponse(start, max, p);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      // answered in its turn, after any request sent before it on the connection
      ctx.fireChannelRead(new Refused(tooLarge(oversized instanceof io.netty.handler.codec.http.HttpRequest q
          ? q.uri() : "/")));
    }
  }

  /** The pipeline name of the {@link BoundedAggregator}, which {@link Limiter} replaces. */
  private static final String AGGREGATOR = "aggregator";

  /**
   * Gives each request the aggregator of its own path's limit, so that a body sent in chunks (no
   * Content-Length to judge from its head) is refused once it passes that limit, not the largest
   * one. A request's head comes after the last part of the one before, so the aggregator it
   * replaces has nothing half-read.
   */
  private static final class Limiter extends io.netty.channel.ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof io.netty.handler.codec.http.HttpRequest r) {
        int max = limit(r.uri());
        if (!(ctx.pipeline().get(AGGREGATOR) instanceof BoundedAggregator a) || a.max != max) {
          ctx.pipeline().replace(AGGREGATOR, AGGREGATOR, new BoundedAggregator(max));
        }
      }
      ctx.fireChannelRead(msg);
    }
  }

  /**
   * A request refused from its head (too large, no token, another site's page), passed down the
   * pipeline to the handler so that it is answered in its turn; the connection ends with it.
   */
  record Refused(FullHttpResponse response) {}

  /** The 413 answer to a body over the limit of {@code uri}'s path. */
  static FullHttpResponse tooLarge(String uri) {
    Reply r = Reply.error(413, "body", "body is larger than " + limit(uri) + " bytes");
    return toResponse(shaped(java.util.Objects.requireNonNullElse(pathOf(uri), uri), r));
  }

  /**
   * Answers a request refused before its body was read, and ends the connection without losing that
   * answer: closing a socket with the client's body still arriving resets it, and a reset can wipe
   * the answer from the client's buffer before it is read. So the server sends its answer, then its
   * end of the stream (FIN), drops whatever of the body still comes, and closes {@link #LINGER} later
   * (or when the client does).
   */
  static void refuse(ChannelHandlerContext ctx, FullHttpResponse res) {
    res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ctx.writeAndFlush(res).addListener(f -> {
      if (f.isSuccess() && ctx.channel() instanceof SocketChannel sc && sc.isActive()) {
        sc.shutdownOutput();
      } else {
        ctx.close();
      }
    });
    // closed then whatever became of the write: a client that reads nothing does not keep it open
    ctx.executor().schedule(() -> ctx.close(), LINGER.toMillis(), TimeUnit.MILLISECONDS);
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

  /**
   * A route: a method and a path, OpenAPI's template form ({@code {name}} stands for one path
   * segment). {@link #ROUTES} is what the server answers, and what its OpenAPI document describes.
   */
  record Route(String method, String path) {
    /** The path's segments match the template's, a {@code {name}} any one non-empty segment. */
    boolean matches(String p) {
      if (path.equals("/")) {
        return p.equals("/");
      }
      String[] want = path.substring(1).split("/", -1);
      String[] got = p.substring(1).split("/", -1);
      if (want.length != got.length) {
        return false;
      }
      for (int i = 0; i < want.length; i++) {
        boolean any = want[i].startsWith("{") && want[i].endsWith("}");
        if (any ? got[i].isEmpty() : !want[i].equals(got[i])) {
          return false;
        }
      }
      return true;
    }

    /** The path segment that the template's {@code {name}} stands for, as {@link #pathOf} decoded it (once). */
    String param(String p, String name) {
      String[] want = path.substring(1).split("/", -1);
      String[] got = p.substring(1).split("/", -1);
      for (int i = 0; i < want.length; i++) {
        if (want[i].equals("{" + name + "}")) {
          return got[i];
        }
      }
      throw new IllegalArgumentException(name);
    }
  }

  /** Every route the server answers: the handler dispatches on this table, the OpenAPI document lists it. */
  static final List<Route> ROUTES = List.of(
      new Route("GET", "/"),
      new Route("GET", "/{file}"),
      new Route("GET", "/api/health"),
      new Route("GET", "/api/models"),
      new Route("GET", "/api/models/{id}/tradeoff.png"),
      new Route("POST", "/api/generate"),
      new Route("POST", "/api/sweep"),
      new Route("POST", "/api/generate/stream"),
      new Route("POST", PNG_INFO),
      new Route("GET", "/api/toy/field"),
      new Route("POST", "/api/jobs"),
      new Route("GET", "/api/jobs/{id}"),
      new Route("DELETE", "/api/jobs/{id}"),
      new Route("POST", OpenAiImages.PATH),
      new Route("GET", "/api/openapi.json"),
      new Route("GET", "/api/docs"),
      new Route("GET", "/api/docs/{file}"));

  /** The routes whose template {@code path} matches, whatever their method. */
  static List<Route> routes(String path) {
    return ROUTES.stream().filter(r -> r.matches(path)).toList();
  }

  /** An error answer in the shape of its path: OpenAI's under /v1/, {error, field, status} elsewhere. */
  static Reply shaped(String path, Reply r) {
    return path.startsWith("/v1/") ? OpenAiImages.error(r) : r;
  }

  /**
   * One connection's requests, answered one at a time and in the order they came (HTTP/1.1): a
   * request that arrives while another is answered (pipelining) waits for it, up to
   * {@link #MAX_PIPELINED}. Its fields are touched on the connection's event loop only.
   */
  private final class Handler extends io.netty.channel.ChannelInboundHandlerAdapter {
    /** Requests (retained, ours to release) and refusals waiting their turn. */
    private final java.util.ArrayDeque<Object> waiting = new java.util.ArrayDeque<>();
    /** Body bytes held in {@link #waiting}. */
    private long waitingBytes;
    /** A request is being answered (event loop only). */
    private boolean busy;
    /** A refusal has come: the connection ends with it, later requests are dropped (event loop only). */
    private boolean ended;
    /**
     * The current request's answer has been handed to Netty (set from any thread): from then on an
     * idle connection is one whose client does not read, and may be closed.
     */
    private volatile boolean answered;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof FullHttpRequest) && !(msg instanceof Refused)) {
        ctx.fireChannelRead(msg);
        return;
      }
      if (ended) {
        io.netty.util.ReferenceCountUtil.release(msg);
        return;
      }
      ended = msg instanceof Refused;
      if (busy) {
        long bytes = msg instanceof FullHttpRequest r ? r.content().readableBytes() : 0;
        if (waiting.size() >= MAX_PIPELINED || waitingBytes + bytes > MAX_PNG) {
          io.netty.util.ReferenceCountUtil.release(msg);
          ctx.close();
          return;
        }
        waiting.add(msg);
        waitingBytes += bytes;
        return;
      }
      start(ctx, msg);
    }

    /** Takes up a request or a refusal; any Throwable escaping a request's handling closes the connection. */
    private void start(ChannelHandlerContext ctx, Object msg) {
      busy = true;
      answered = false;
      if (msg instanceof Refused r) {
        answered = true;
        refuse(ctx, r.response());
        return;
      }
      FullHttpRequest req = (FullHttpRequest) msg;
      try {
        handle(ctx, req);
      } catch (Throwable t) { // an Error, e.g. a stack overflow: no answer can be trusted, the connection ends
        LOG.log(System.Logger.Level.ERROR, req.method() + " " + req.uri() + " failed", t);
        ctx.close();
      } finally {
        req.release();
      }
    }

    /** The current answer has been written: the next waiting request is taken up, on the event loop. */
    private void next(ChannelHandlerContext ctx) {
      if (!ctx.executor().inEventLoop()) {
        ctx.executor().execute(() -> next(ctx));
        return;
      }
      busy = false;
      Object msg = waiting.poll();
      if (msg != null) {
        waitingBytes -= msg instanceof FullHttpRequest r ? r.content().readableBytes() : 0;
        start(ctx, msg);
      }
    }

    /**
     * Nothing read or written for the idle time: closed unless a request is being worked on (a long
     * generation writes nothing until it is done); once its answer is out, a client that does not read
     * it is idle too.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof IdleStateEvent && (!busy || answered)) {
        ctx.close();
        return;
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      for (Object m; (m = waiting.poll()) != null; ) {
        io.netty.util.ReferenceCountUtil.release(m);
      }
      waitingBytes = 0;
      super.channelInactive(ctx);
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      if (req.decoderResult().isFailure()) { // e.g. a bad chunk size: the body is not what was sent
        send(ctx, Reply.error(400, null, "the request is malformed: "
            + DiffuseException.firstLine(String.valueOf(req.decoderResult().cause()))), false);
        return;
      }
      String path = pathOf(req.uri());
      if (path == null) {
        send(ctx, Reply.error(400, null, "the request's path is not a valid URL path (a bad %-escape, or no leading /)"),
            keepAlive);
        return;
      }
      QueryStringDecoder uri = new QueryStringDecoder(req.uri());
      HttpMethod method = req.method();
      if (req.content().readableBytes() > limit(req.uri())) { // a body sent without its length
        answered = true;
        refuse(ctx, tooLarge(req.uri()));
        return;
      }
      String body = path.equals(PNG_INFO) ? "" : req.content().toString(StandardCharsets.UTF_8);
      try {
        List<Route> matching = routes(path);
        if (matching.isEmpty()) {
          throw path.startsWith("/api/") || path.startsWith("/v1/")
              ? new DiffuseException(DiffuseException.Code.NOT_FOUND, null, "no such endpoint: " + path + " (see "
                  + "/api/openapi.json, or /api/docs in a browser)", null)
              : new DiffuseException(DiffuseException.Code.NOT_FOUND, null, "not found: " + path, null);
        }
        // HEAD is GET without the body (RFC 9110 §9.3.2): HttpServerCodec leaves the body out of its answer
        String as = method.equals(HttpMethod.HEAD) ? "GET" : method.name();
        Route route = matching.stream().filter(r -> r.method().equals(as)).findFirst().orElse(null);
        if (route == null) {
          String allowed = String.join(", ", matching.stream().map(Route::method).distinct()
              .flatMap(m -> m.equals("GET") ? java.util.stream.Stream.of("GET", "HEAD") : java.util.stream.Stream.of(m))
              .toList());
          throw new WrongMethod(method + " is not allowed on " + path + "; use " + allowed.replace(", ", " or "),
              allowed);
        }
        route(ctx, route, path, uri, body, req, keepAlive);
      } catch (WrongMethod e) {
        Reply r = Reply.error(405, null, e.getMessage());
        send(ctx, shaped(path, new Reply(405, r.contentType(), r.body(), Map.of("Allow", e.allowed))), keepAlive);
      } catch (DiffuseException e) {
        send(ctx, shaped(path, Reply.error(e)), keepAlive);
      } catch (IllegalArgumentException e) {
        send(ctx, shaped(path, Reply.error(400, null, DiffuseException.firstLine(e.getMessage()))), keepAlive);
      } catch (Exception e) {
        LOG.log(System.Logger.Level.ERROR, method + " " + path + " failed", e);
        send(ctx, shaped(path, Reply.error(500, null, "internal error: " + e)), keepAlive);
      }
    }

    private void route(ChannelHandlerContext ctx, Route route, String path, QueryStringDecoder uri, String body,
        FullHttpRequest req, boolean keepAlive) throws IOException {
      switch (route.method() + " " + route.path()) {
        case "GET /", "GET /{file}" -> send(ctx, page(path), keepAlive);
        case "GET /api/health" -> send(ctx, api.health(), keepAlive);
        case "GET /api/models" -> send(ctx, api.listModels(), keepAlive);
        case "GET /api/models/{id}/tradeoff.png" -> send(ctx, api.tradeoff(route.param(path, "id")), keepAlive);
        case "GET /api/toy/field" -> {
          Map<String, String> q = new HashMap<>();
          uri.parameters().forEach((k, v) -> q.put(k, v.get(v.size() - 1)));
          Runnable work = () -> send(ctx, safely(() -> api.toyField(q)), keepAlive);
          try {
            toyPool.execute(work);
          } catch (RejectedExecutionException e) {
            send(ctx, Reply.error(new DiffuseException(DiffuseException.Code.BUSY, null, "too many field requests are"
                + " waiting (" + TOY_QUEUE + "); try again in a moment", null)), keepAlive);
          }
        }
        case "POST /api/generate", "POST /api/sweep" -> {
          Api.Call call = api.parse(body, path.equals("/api/sweep"));
          answer(ctx, call, api.submit(call, diffuse.api.Listener.NONE), s -> Api.reply(call, s), keepAlive, path);
        }
        case "POST " + OpenAiImages.PATH -> {
          Api.Call call = OpenAiImages.parse(api, body);
          answer(ctx, call, api.submit(call, diffuse.api.Listener.NONE), s -> OpenAiImages.reply(call, s), keepAlive,
              path);
        }
        case "POST /api/generate/stream" -> stream(ctx, body);
        case "POST " + PNG_INFO -> send(ctx, api.pngInfo(io.netty.buffer.ByteBufUtil.getBytes(req.content())), keepAlive);
        case "POST /api/jobs" -> send(ctx, api.jobs().submit(api, api.parse(body, false)), keepAlive);
        case "GET /api/jobs/{id}" -> send(ctx, api.jobs().get(route.param(path, "id")), keepAlive);
        case "DELETE /api/jobs/{id}" -> send(ctx, api.jobs().cancel(route.param(path, "id")), keepAlive);
        case "GET /api/openapi.json" -> send(ctx, openApi(), keepAlive);
        case "GET /api/docs" -> send(ctx, resource("/web/docs.html", path), keepAlive);
        case "GET /api/docs/{file}" -> send(ctx, SwaggerUi.file(route.param(path, "file")), keepAlive);
        default -> throw new IllegalStateException("no handler for " + route);
      }
    }

    /** Sends the answer of {@code p} when it is done; a closed connection cancels it first. */
    private void answer(ChannelHandlerContext ctx, Api.Call call, Api.Pending p,
        java.util.function.Function<diffuse.app.Samples, Reply> reply, boolean keepAlive, String path) {
      Runnable forget = cancelOnClose(ctx.channel(), p);
      p.samples().whenComplete((s, err) -> {
        forget.run();
        if (err == null) {
          send(ctx, shaped(path, safely(() -> reply.apply(s))), keepAlive);
        } else if (ctx.channel().isActive()) {
          send(ctx, shaped(path, failure(err)), keepAlive);
        }
      });
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
        if (!ch.isWritable()) {
          return; // a client that reads slower than the steps come skips previews rather than queueing them
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
        answered = true;
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

    /** Writes the answer to the current request; on a kept-alive connection, takes up the next. */
    private void send(ChannelHandlerContext ctx, Reply r, boolean keepAlive) {
      if (!ctx.channel().isActive()) {
        return;
      }
      FullHttpResponse res = toResponse(r);
      answered = true;
      if (keepAlive) { // the next request is taken up once this answer is written: a client that does not read
        // its answers stops the connection's work instead of piling them up in the server
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        ctx.writeAndFlush(res).addListener(f -> next(ctx));
      } else {
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
      }
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

  /**
   * {@code f}'s reply, or the 500 of what it threw, errors included (an OutOfMemoryError while encoding
   * a large answer): the connection gets an answer either way, rather than waiting for one to its end.
   */
  static Reply safely(java.util.function.Supplier<Reply> f) {
    try {
      return f.get();
    } catch (RuntimeException | Error e) {
      return failure(e);
    }
  }

  static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "png", "image/png",
      "svg", "image/svg+xml", "json", "application/json; charset=utf-8");
  private static final List<String> PAGES = List.of("index.html", "app.js", "style.css");

  /** The page's files, from the jar: nothing is fetched from the internet. */
  private static Reply page(String path) throws IOException {
    String name = path.equals("/") ? "index.html" : path.substring(1);
    if (!PAGES.contains(name)) {
      return Reply.error(404, null, "not found: " + path);
    }
    return resource("/web/" + name, path);
  }

  /** A file of the jar, typed by its extension; 404 naming {@code path} where it is missing. */
  static Reply resource(String resource, String path) throws IOException {
    try (InputStream in = WebServer.class.getResourceAsStream(resource)) {
      if (in == null) {
        return Reply.error(404, null, "not found: " + path);
      }
      byte[] bytes = in.readAllBytes();
      return new Reply(200, TYPES.getOrDefault(resource.substring(resource.lastIndexOf('.') + 1),
          "application/octet-stream"), bytes, Map.of());
    }
  }

  /** GET /api/openapi.json, built once (the served models do not change). */
  private Reply openApi() {
    Reply r = openApi;
    if (r == null) {
      r = Reply.json(200, OpenApi.document(api));
      openApi = r;
    }
    return r;
  }
}
