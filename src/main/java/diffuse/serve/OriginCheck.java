package diffuse.serve;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.util.Locale;
import java.util.Objects;

/**
 * Keeps other web sites' pages, open in the user's browser, from using the server, before a
 * request's body is read:
 *
 * <ul>
 *   <li><b>Origin</b>: a request that may start work or change state (any method but GET and HEAD)
 *       and carries an {@code Origin} header must come from the server's own page (the origin's
 *       host:port is the request's {@code Host}) or from the one {@code --cors} origin. A browser
 *       sends Origin with every cross-site POST, including the "simple" ones (a text/plain form
 *       post) that need no CORS preflight, so without this any page could queue generations on a
 *       server running on the user's machine. Programs (curl, the Java client) send no Origin and are
 *       served as ever.
 *   <li><b>Host</b>, on a server without a token (the default loopback address only): the request
 *       must be addressed to {@code localhost}, {@code 127.0.0.1} or {@code [::1]}. A page on
 *       {@code evil.example} whose name is re-pointed at 127.0.0.1 (DNS rebinding) is same-origin
 *       with itself, so the Origin rule lets it through; its {@code Host} still names
 *       {@code evil.example}. With a token the token decides, under any name (a reverse proxy).
 * </ul>
 *
 * A refused request gets a JSON 403 naming the header, and the connection is closed.
 */
final class OriginCheck extends HeadCheck {
  private final String cors;
  private final boolean loopbackOnly;

  /**
   * @param cors the {@code --cors} origin, or null
   * @param loopbackOnly true on a server without a token: only loopback names are answered
   */
  OriginCheck(String cors, boolean loopbackOnly) {
    this.cors = cors;
    this.loopbackOnly = loopbackOnly;
  }

  @Override
  FullHttpResponse refusal(HttpRequest req) {
    String why = refusal(req.method(), req.headers().get(HttpHeaderNames.HOST),
        req.headers().get(HttpHeaderNames.ORIGIN), cors, loopbackOnly);
    if (why == null) {
      return null;
    }
    String path = Objects.requireNonNullElse(WebServer.pathOf(req.uri()), "/");
    return WebServer.toResponse(WebServer.shaped(path, Reply.error(403, why.startsWith("Host") ? "Host" : "Origin",
        why)));
  }

  /**
   * Why a request with these headers is refused (a message that starts with the header's name), or
   * null if it is served.
   *
   * @param host the Host header, or null
   * @param origin the Origin header, or null
   */
  static String refusal(HttpMethod method, String host, String origin, String cors, boolean loopbackOnly) {
    if (loopbackOnly && host != null && !isLoopbackName(hostName(host))) {
      return "Host '" + host + "' is not a loopback name: this server has no token, so it answers only requests"
          + " addressed to localhost, 127.0.0.1 or [::1] (another name may be a web page's, re-pointed here);"
          + " serve with --token to answer under other names";
    }
    boolean safe = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
    if (safe || origin == null || origin.equals(cors) || sameOrigin(origin, host)) {
      return null;
    }
    return "Origin '" + origin + "' may not call this server: only its own page"
        + (cors == null ? "" : " and " + cors) + " may (serve --cors ORIGIN allows one more)";
  }

  /** The name part of a Host header: {@code [::1]:8080} → {@code [::1]}, {@code localhost:80} → {@code localhost}. */
  static String hostName(String host) {
    String h = host.strip().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? h : h.substring(0, end + 1);
    }
    int colon = h.indexOf(':');
    return colon < 0 ? h : h.substring(0, colon);
  }

  static boolean isLoopbackName(String name) {
    return name.equals("localhost") || name.equals("[::1]") || name.matches("127(\\.\\d{1,3}){3}");
  }

  /**
   * True if the page at {@code origin} is the server's own: the origin's host[:port] is the request's
   * Host (http, whose default port is 80; or https, 443: the page as served through a TLS proxy).
   */
  static boolean sameOrigin(String origin, String host) {
    if (host == null) {
      return false;
    }
    String o = origin.strip().toLowerCase(Locale.ROOT);
    String h = host.strip().toLowerCase(Locale.ROOT);
    for (String[] scheme : new String[][] {{"http://", ":80"}, {"https://", ":443"}}) {
      if (o.startsWith(scheme[0])) {
        String rest = o.substring(scheme[0].length());
        return rest.equals(h) || (rest + scheme[1]).equals(h) || rest.equals(h + scheme[1]);
      }
    }
    return false;
  }
}
