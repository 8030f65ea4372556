package diffuse.serve;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.Set;

/**
 * Swagger UI's files for {@code /api/docs}, from the {@code org.webjars:swagger-ui} jar on the
 * class path (so the documentation page works offline, as the rest of the page does). Only the
 * files the page loads are served.
 */
final class SwaggerUi {
  /** What {@code web/docs.html} loads. */
  static final Set<String> FILES = Set.of("swagger-ui.css", "swagger-ui-bundle.js", "index.css", "favicon-32x32.png");

  private static final String VERSION = version();

  private SwaggerUi() {}

  /** GET /api/docs/{file} */
  static Reply file(String name) throws IOException {
    if (!FILES.contains(name) || VERSION == null) {
      return Reply.error(404, null, "not found: /api/docs/" + name
          + (VERSION == null ? " (org.webjars:swagger-ui is not on the class path)" : ""));
    }
    Reply r = WebServer.resource("/META-INF/resources/webjars/swagger-ui/" + VERSION + "/" + name, "/api/docs/" + name);
    return r.status() != 200 ? r
        : new Reply(200, r.contentType(), r.body(), java.util.Map.of("Cache-Control", "max-age=86400"));
  }

  /** The webjar's version, which names its directory; null where the jar is absent. */
  static String version() {
    try (InputStream in = SwaggerUi.class.getResourceAsStream("/META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
      if (in == null) {
        return null;
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      return null;
    }
  }
}
