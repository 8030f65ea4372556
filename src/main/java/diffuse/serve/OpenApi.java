package diffuse.serve;

import diffuse.api.Defaults;
import diffuse.app.GenerateRequest;
import diffuse.app.SamplingRequest;
import diffuse.sampling.SamplerKind;
import diffuse.schedule.Spacing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The OpenAPI 3.1 document of the server ({@code GET /api/openapi.json}, shown by {@code /api/docs}):
 * every route of {@link WebServer#ROUTES}, each request body with every field, its type, range and
 * default, and every answer, the error body included. Built from the code it describes: the
 * limits are {@link Api}'s constants, the samplers and spacings the enums', the models, sizes and
 * largest {@code n} those served. Its schemas are JSON Schema 2020-12, which OpenAPI 3.1 uses as is.
 */
final class OpenApi {
  private OpenApi() {}

  private static final String REF = "#/components/schemas/";

  /** The document for what {@code api} serves. */
  static Map<String, Object> document(Api api) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("openapi", "3.1.0");
    doc.put("info", map("title", "diffuse", "version", Defaults.version(), "description",
        "Class-conditional diffusion with classifier-free guidance: the page's API (docs/http-api.md), an"
            + " OpenAI-compatible image endpoint and jobs to poll. Errors are {error, field, status} (OpenAI's"
            + " shape under /v1); field names the request field at fault."));
    doc.put("servers", List.of(map("url", "/")));
    Map<String, Object> paths = new LinkedHashMap<>();
    Map<String, Map<String, Object>> ops = operations(api);
    for (WebServer.Route r : WebServer.ROUTES) {
      Map<String, Object> op = ops.get(r.method() + " " + r.path());
      if (op != null) {
        @SuppressWarnings("unchecked")
        Map<String, Object> item = (Map<String, Object>) paths.computeIfAbsent(r.path(), k -> new LinkedHashMap<>());
        item.put(r.method().toLowerCase(java.util.Locale.ROOT), op);
      }
    }
    doc.put("paths", paths);
    doc.put("components", map("schemas", schemas(api)));
    return doc;
  }

  private static Map<String, Map<String, Object>> operations(Api api) {
    Map<String, Map<String, Object>> ops = new LinkedHashMap<>();
    ops.put("GET /", op("page", "The page: generate, sweep, the two-pixel field", null,
        responses(200, content("text/html", map("type", "string")))));
    ops.put("GET /{file}", op("page", "The page's files (index.html, app.js, style.css), from the jar", null,
        responses(200, content("*/*", map("type", "string")), 404, error()), pathParam("file", "a file of the page")));
    ops.put("GET /api/health", op("server", "Up, and per model what its batcher has done", null,
        responses(200, json(ref("Health")))));
    ops.put("GET /api/models", op("server", "The served models, their labels, sizes and defaults", null,
        responses(200, json(ref("Models")))));
    ops.put("GET /api/models/{id}/tradeoff.png", op("server", "The model's evaluation plot", null,
        responses(200, png(), 400, error(), 404, error()), pathParam("id", "a served model's id")));
    ops.put("POST /api/generate", op("generate", "Images of one prompt at one guidance scale", body(ref("GenerateRequest")),
        generated(200, ref("GenerateAnswer"), true)));
    ops.put("POST /api/sweep", op("generate", "One row of images per guidance scale, all from the same noise",
        body(ref("SweepRequest")), generated(200, ref("GenerateAnswer"), true)));
    ops.put("POST /api/generate/stream", op("generate", "Server-sent events: queued, a step (with a preview of x̂₀)"
        + " after every sampling step, then result (the generate answer) or error. Closing the connection cancels"
        + " the work.", body(ref("GenerateRequest")), generated(200, null, false)));
    ops.put("POST /api/png-info", op("generate", "The settings inside a PNG that diffuse wrote",
        Map.of("required", true, "content", content("image/png", map("type", "string", "contentMediaType", "image/png"))),
        responses(200, json(ref("PngInfo")), 400, error(), 413, error())));
    ops.put("GET /api/toy/field", op("toy", "The guided field −ε̃ of the two-pixel world on a grid, its data and DDIM"
        + " paths", null, responses(200, json(ref("ToyField")), 400, error()), toyParams()));
    ops.put("POST /api/jobs", op("jobs", "Queues a generation (a generate body, format json) and answers its id at"
        + " once", body(ref("GenerateRequest")), jobAnswers(202, ref("JobCreated"), true)));
    ops.put("GET /api/jobs/{id}", op("jobs", "A job's state, progress, preview and, when done, its result", null,
        jobAnswers(200, ref("Job"), false), pathParam("id", "the id POST /api/jobs answered")));
    ops.put("DELETE /api/jobs/{id}", op("jobs", "Cancels a queued or running job (a finished one stays as it is)"
        + " and answers its state", null, jobAnswers(200, ref("Job"), false), pathParam("id", "the job's id")));
    ops.put("POST " + OpenAiImages.PATH, op("openai", "OpenAI's image generation: point an OpenAI client at"
        + " http://HOST:PORT/v1. Runs as /api/generate does: the same settings give the same pixels.",
        body(ref("ImageGenerationRequest")), openAiAnswers()));
    ops.put("GET /api/openapi.json", op("server", "This document", null,
        responses(200, json(map("type", "object")))));
    ops.put("GET /api/docs", op("server", "This document in Swagger UI, served from the jar", null,
        responses(200, content("text/html", map("type", "string")))));
    ops.put("GET /api/docs/{file}", op("server", "Swagger UI's files", null,
        responses(200, content("*/*", map("type", "string")), 404, error()), pathParam("file", "a Swagger UI file")));
    return ops;
  }

  private static Map<String, Object> op(String tag, String summary, Map<String, Object> body,
      Map<String, Object> responses, Object... params) {
    Map<String, Object> op = new LinkedHashMap<>();
    op.put("tags", List.of(tag));
    op.put("summary", summary);
    if (params.length == 1 && params[0] instanceof List<?> l) {
      op.put("parameters", l);
    } else if (params.length > 0) {
      op.put("parameters", Arrays.asList(params));
    }
    if (body != null) {
      op.put("requestBody", body);
    }
    op.put("responses", responses);
    return op;
  }

  /** Answers of a generation: its own, then the errors of a body, a full queue and a failed run. */
  private static Map<String, Object> generated(int status, Map<String, Object> schema, boolean pngToo) {
    Map<String, Object> ok;
    if (schema == null) {
      ok = content("text/event-stream", map("type", "string", "description", "event: queued|step|result|error,"
          + " data: JSON (step: {step, steps, preview}; result: the generate answer; error: the error body)"));
    } else {
      ok = new LinkedHashMap<>(content("application/json", schema));
      if (pngToo) {
        ok.putAll(content("image/png", map("type", "string", "contentMediaType", "image/png",
            "description", "the grid, when format is png")));
      }
    }
    return responses(status, ok, 400, error(), 413, error(), 429, error(), 500, error());
  }

  private static Map<String, Object> jobAnswers(int status, Map<String, Object> schema, boolean submit) {
    return submit ? responses(status, json(schema), 400, error(), 413, error(), 429, error())
        : responses(status, json(schema), 404, error());
  }

  private static Map<String, Object> openAiAnswers() {
    Map<String, Object> e = json(ref("OpenAIError"));
    Map<String, Object> out = responses(200, json(ref("ImageGenerationAnswer")), 400, e, 404, e, 413, e, 429, e, 500, e);
    out.put("default", map("description", "any other error, in OpenAI's shape too", "content", e));
    return out;
  }

  private static Map<String, Object> responses(Object... statusAndContent) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int i = 0; i < statusAndContent.length; i += 2) {
      int status = (Integer) statusAndContent[i];
      out.put(String.valueOf(status), map("description", describe(status), "content", statusAndContent[i + 1]));
    }
    out.put("default", map("description", "any other error (405 with Allow for a wrong method)", "content",
        json(ref("Error"))));
    return out;
  }

  private static String describe(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 202 -> "accepted: queued";
      case 400 -> "a bad value; field names it";
      case 404 -> "not found; field names what";
      case 413 -> "the body is too large";
      case 429 -> "the queue is full; Retry-After says when to try again";
      default -> "the run failed";
    };
  }

  private static Map<String, Object> error() {
    return json(ref("Error"));
  }

  private static Map<String, Object> json(Map<String, Object> schema) {
    return content("application/json", schema);
  }

  private static Map<String, Object> png() {
    return content("image/png", map("type", "string", "contentMediaType", "image/png"));
  }

  private static Map<String, Object> content(String type, Map<String, Object> schema) {
    return map(type, map("schema", schema));
  }

  private static Map<String, Object> body(Map<String, Object> schema) {
    return map("required", true, "content", json(schema));
  }

  private static Map<String, Object> pathParam(String name, String description) {
    return map("name", name, "in", "path", "required", true, "description", description, "schema",
        map("type", "string"));
  }

  private static List<Object> toyParams() {
    List<Object> out = new ArrayList<>();
    out.add(map("name", "world", "in", "query", "description", "exact, or a served toy model's id", "schema",
        map("type", "string", "default", "exact")));
    out.add(query("classes", "blobs of the exact mixture", 1, 12, 3));
    out.add(query("class", "the class to guide toward", 0, 11, 0));
    out.add(query("t", "timestep", 0, 999, 300));
    out.add(query("paths", "how many DDIM paths", 0, 200, 40));
    out.add(query("steps", "DDIM steps of the paths", 1, 200, 40));
    out.add(query("cells", "grid side", 4, 40, 17));
    out.add(map("name", "guidance", "in", "query", "description", "guidance scale s", "schema",
        map("type", "number", "minimum", -Api.MAX_SCALE, "maximum", Api.MAX_SCALE, "default", 1)));
    return out;
  }

  private static Map<String, Object> query(String name, String description, int min, int max, int dflt) {
    return map("name", name, "in", "query", "description", description, "schema",
        map("type", "integer", "minimum", min, "maximum", max, "default", dflt));
  }

  private static Map<String, Object> ref(String name) {
    return map("$ref", REF + name);
  }

  /** Largest {@code n} any served model takes, the steps of the longest schedule, the ids and sizes. */
  private static Map<String, Object> schemas(Api api) {
    int maxN = api.models().values().stream().mapToInt(s -> s.batcher().maxBatch()).max().orElse(Api.MAX_N);
    int maxSteps = api.models().values().stream().mapToInt(s -> s.model().info().schedule().steps()).max()
        .orElse(1000);
    List<String> ids = new ArrayList<>(api.models().keySet());
    Set<String> sizes = new TreeSet<>();
    api.models().values().forEach(s -> sizes.add(OpenAiImages.size(s.model().info())));

    Map<String, Object> s = new LinkedHashMap<>();
    s.put("Error", object(List.of("error", "field", "status"), props(
        "error", map("type", "string", "description", "what is wrong, in one line"),
        "field", map("type", List.of("string", "null"), "description", "the request field at fault, or null"),
        "status", map("type", "integer", "description", "the HTTP status"))));
    s.put("OpenAIError", object(List.of("error"), props("error", object(List.of("message", "type", "param", "code"),
        props("message", map("type", "string"),
            "type", map("type", "string", "enum", List.of("invalid_request_error", "rate_limit_error", "server_error")),
            "param", map("type", List.of("string", "null"), "description", "the request field at fault"),
            "code", map("type", List.of("string", "null")))))));

    Map<String, Object> generate = generateFields(ids, maxN, maxSteps, false);
    s.put("GenerateRequest", object(List.of("prompt"), generate));
    s.put("SweepRequest", object(List.of("prompt"), generateFields(ids, maxN, maxSteps, true)));

    s.put("GenerateAnswer", object(List.of("model", "label", "rows", "grid", "sidecar", "seconds"), props(
        "model", map("type", "string", "description", "the served model's id"),
        "label", map("type", "string", "description", "the label the prompt resolved to"),
        "rows", map("type", "array", "description", "one row per guidance scale", "items",
            object(List.of("guidance", "images"), props("guidance", map("type", "number"),
                "images", map("type", "array", "items", dataUrl("one image, its settings in text chunks"))))),
        "grid", dataUrl("the labelled grid of every image"),
        "sidecar", map("type", "object", "description", "the settings, as generate --out writes them"
            + " (docs/model-format.md)"),
        "seconds", map("type", "number", "minimum", 0))));

    s.put("PngInfo", object(List.of("parameters", "sidecar"), props(
        "parameters", map("type", List.of("string", "null"), "description", "the infotext chunk"),
        "sidecar", map("type", List.of("object", "null"), "description", "the diffuse chunk: the sidecar"))));

    Map<String, Object> stats = object(List.of("batches", "images", "tickets", "refused", "cancelled", "stopped",
        "queued"), props("batches", count(), "images", count(), "tickets", count(), "refused", count(), "cancelled",
        count(), "stopped", count(), "queued", count()));
    s.put("Health", object(List.of("status", "uptimeSeconds", "models", "toyModels"), props(
        "status", map("type", "string", "const", "ok"),
        "uptimeSeconds", map("type", "number", "minimum", 0),
        "models", map("type", "object", "description", "per model id, its batcher's counters since start",
            "additionalProperties", stats),
        "toyModels", strings())));

    Map<String, Object> defaults = object(List.of("guidance", "guidanceInterval", "sampler", "steps", "n"), props(
        "guidance", map("type", "number"), "guidanceInterval", map("type", "array", "maxItems", 2, "items",
            map("type", "number"), "description", "the noise levels [lo, hi] the model guides in unless told; [] every step"),
        "sampler", map("type", "string"), "steps", map("type", "integer"), "n", map("type", "integer"),
        "guideModel", map("type", "string", "description", "the model's own guide (autoguidance; a served model's id"
            + " where it is served), present only where its model.json names one"),
        "guideCfg", map("type", "number", "description", "with guideModel: the CFG blended in"),
        "guideInterval", map("type", "array", "minItems", 2, "maxItems", 2, "items", map("type", "number"),
            "description", "with guideModel: the noise levels [lo, hi] the guide is called at")));
    Map<String, Object> image = object(List.of("id", "kind", "labels", "dataset", "height", "width", "channels",
        "timesteps", "checkpoint", "modelHash", "defaults", "maxN", "samplerSteps", "guides", "tradeoff"), props(
        "id", map("type", "string"), "kind", map("const", "image"), "labels", strings(),
        "dataset", map("type", List.of("string", "null")), "height", count(), "width", count(), "channels", count(),
        "timesteps", count(), "checkpoint", map("type", List.of("string", "null")),
        "modelHash", map("type", "string", "description", "docs/model-format.md#settings-inside-a-png"),
        "defaults", defaults, "maxN", count(),
        "samplerSteps", map("type", "object", "description", "each sampler's default steps for this model",
            "additionalProperties", count()),
        "guides", map("type", "array", "items", map("type", "string"), "description",
            "served models that can guide this one by autoguidance (guideModel)"),
        "tradeoff", map("type", List.of("string", "null"), "description", "the evaluation plot's path, if any")));
    Map<String, Object> toy = object(List.of("id", "kind", "labels", "name"), props("id", map("type", "string"),
        "kind", map("const", "toy"), "labels", strings(), "name", map("type", "string")));
    s.put("Models", object(List.of("models"), props("models", map("type", "array", "items",
        map("oneOf", List.of(image, toy))))));

    Map<String, Object> numbers = map("type", "array", "items", map("type", "number"));
    Map<String, Object> field = object(List.of("world", "t", "sqrtAlphaBar", "range", "cells", "grid", "eps",
        "points", "pointLabels", "labels"), props("world", map("type", "string"), "t", count(),
        "sqrtAlphaBar", map("type", "number"), "range", map("type", "number"), "cells", count(),
        "grid", numbers, "eps", numbers, "points", numbers, "pointLabels", map("type", "array", "items", count()),
        "labels", strings(), "paths", map("type", "array", "description", "per DDIM step, the points of every path",
            "items", numbers)));
    s.put("ToyField", field);

    s.put("JobCreated", object(List.of("id", "position"), props(
        "id", map("type", "string", "description", "GET or DELETE /api/jobs/{id}"),
        "position", map("type", "integer", "minimum", 0, "description", "requests waiting ahead of it"))));
    s.put("Job", object(List.of("id", "state", "progress"), props(
        "id", map("type", "string"),
        "state", map("type", "string", "enum", List.of("queued", "running", "done", "cancelled", "failed")),
        "progress", object(List.of("done", "total"), props("done", count(), "total", count())),
        "position", map("type", "integer", "minimum", 0, "description", "while queued: requests waiting ahead"),
        "preview", dataUrl("while running: x̂₀ of its images after the latest step"),
        "result", ref("GenerateAnswer"),
        "error", ref("Error"))));

    Map<String, Object> openAi = new LinkedHashMap<>();
    openAi.put("prompt", generate.get("prompt"));
    openAi.put("n", map("type", "integer", "minimum", 1, "maximum", maxN, "default", 1));
    openAi.put("response_format", map("type", "string", "enum", List.of("b64_json"), "default", "b64_json",
        "description", "url is not served: this server keeps no images"));
    Map<String, Object> size = map("type", "string", "description", "the model's own size, WIDTHxHEIGHT");
    if (!sizes.isEmpty()) {
      size.put("enum", List.copyOf(sizes));
    }
    openAi.put("size", size);
    openAi.put("model", generate.get("model"));
    openAi.put("user", map("type", "string", "description", "taken and ignored"));
    openAi.put("output_format", map("type", "string", "enum", List.of("png"), "default", "png"));
    for (String extra : List.of("guidance", "seed", "steps", "sampler")) {
      openAi.put(extra, generate.get(extra));
    }
    s.put("ImageGenerationRequest", object(List.of("prompt"), openAi));
    s.put("ImageGenerationAnswer", object(List.of("created", "data"), props(
        "created", map("type", "integer", "description", "Unix seconds"),
        "data", map("type", "array", "items", object(List.of("b64_json"), props(
            "b64_json", map("type", "string", "contentEncoding", "base64", "contentMediaType", "image/png"),
            "revised_prompt", map("type", "string", "description", "the label the prompt resolved to")))),
        "output_format", map("type", "string", "const", "png"))));
    return s;
  }

  /**
   * The fields of a generate (or sweep) body, one schema each; every name of
   * {@link Api#GENERATE_FIELDS} and no other.
   */
  static Map<String, Object> generateFields(List<String> ids, int maxN, int maxSteps, boolean sweep) {
    Map<String, Object> p = new LinkedHashMap<>();
    Map<String, Object> model = map("type", "string", "description", "a served model's id (default: the first)");
    if (!ids.isEmpty()) {
      model.put("enum", ids);
    }
    p.put("model", model);
    p.put("prompt", map("type", "string", "minLength", 1, "maxLength", Api.MAX_PROMPT, "description",
        "what to draw: a label, \"digit 7\", \"seven\" (see GET /api/models)", "examples", List.of("digit 7")));
    Map<String, Object> scale = map("type", "number", "minimum", -Api.MAX_SCALE, "maximum", Api.MAX_SCALE);
    p.put("guidance", sweep
        ? map("oneOf", List.of(map("type", "array", "minItems", 1, "maxItems", Api.MAX_SCALES, "items", scale), scale),
            "description", "the scales of the rows")
        : with(scale, "description", "guidance scale s; default: the model's own (GET /api/models: defaults.guidance),"
            + " else " + diffuse.api.Defaults.GUIDANCE));
    List<String> samplers = Arrays.stream(SamplerKind.values()).map(SamplerKind::id).toList();
    p.put("sampler", map("type", "string", "enum", samplers, "default", diffuse.api.Defaults.SAMPLER));
    p.put("steps", map("type", "integer", "minimum", 1, "maximum", maxSteps, "description",
        "sampling steps, at most the model's timesteps (default: the sampler's, see GET /api/models)"));
    p.put("eta", map("type", "number", "minimum", 0, "maximum", 1, "default", 0, "description", "DDIM's η (ddim only)"));
    p.put("spacing", map("type", "string", "enum", Arrays.stream(Spacing.values()).map(Spacing::toString).toList(),
        "description", "which timesteps the steps evaluate (default: the sampler's)"));
    p.put("guidanceInterval", map("oneOf", List.of(map("type", "array", "minItems", 2, "maxItems", 2, "items",
        map("type", "number", "minimum", 0)), map("type", "array", "maxItems", 0)), "description", "guide only at noise levels σ in (lo, hi]; [] at every"
            + " step; omitted: the model's own (GET /api/models: defaults.guidanceInterval); with guideModel, the"
            + " blended CFG (needs guideCfg)"));
    p.put("rescale", map("type", "number", "minimum", 0, "maximum", 1, "description", "guidance rescale φ"));
    p.put("negative", map("type", "string", "description", "a prompt to steer away from instead of ∅"));
    p.put("apg", map("type", "number", "minimum", 0, "description", "adaptive projected guidance η"));
    p.put("apgNorm", map("type", "number", "exclusiveMinimum", 0, "description", "APG's norm threshold r (needs apg)"));
    p.put("seed", map("type", "integer", "minimum", Long.MIN_VALUE / 2, "maximum", Long.MAX_VALUE / 2, "default", 0));
    p.put("n", map("type", "integer", "minimum", 1, "maximum", maxN,
        "default", Math.min(sweep ? diffuse.api.Defaults.SWEEP_COUNT : diffuse.api.Defaults.COUNT, maxN),
        "description", "images per row"));
    p.put("clip", map("type", "boolean", "default", true, "description", "clip x̂₀ to the data range"));
    p.put("format", map("type", "string", "enum", List.of("json", "png"), "default", "json",
        "description", "png: the grid itself (not for jobs)"));
    p.put("metadata", map("type", "boolean", "default", true, "description", "false: PNGs without the settings"));
    List<String> guideIds = new java.util.ArrayList<>(ids);
    guideIds.add(diffuse.sampling.Guidance.NO_GUIDE);
    p.put("guideModel", map("type", "string", "enum", guideIds, "description", "autoguidance (Karras et al. 2024): the"
        + " served model that guides this one (one of its guides in /api/models); guidance is then its w. none:"
        + " classifier-free guidance alone, in place of the model's own guide (defaults.guideModel); omitted: the"
        + " model's own, if any"));
    p.put("guideCfg", map("type", "number", "description", "with guideModel: CFG at this scale on the main model first;"
        + " guidanceInterval, rescale, negative and apg then shape it"));
    p.put("guideInterval", map("type", "array", "minItems", 2, "maxItems", 2, "items", map("type", "number",
        "minimum", 0), "description", "with guideModel: [lo, hi], the noise levels σ at which the guide is called"
        + " and autoguidance applies; elsewhere the main model (after guideCfg's CFG) alone; omitted: every step"));
    return p;
  }

  private static Map<String, Object> object(List<String> required, Map<String, Object> properties) {
    return map("type", "object", "required", required, "properties", properties, "additionalProperties", false);
  }

  private static Map<String, Object> props(Object... kv) {
    return map(kv);
  }

  private static Map<String, Object> count() {
    return map("type", "integer", "minimum", 0);
  }

  private static Map<String, Object> strings() {
    return map("type", "array", "items", map("type", "string"));
  }

  private static Map<String, Object> dataUrl(String description) {
    return map("type", "string", "pattern", "^data:image/png;base64,", "description", description);
  }

  private static Map<String, Object> with(Map<String, Object> m, Object... kv) {
    Map<String, Object> out = new LinkedHashMap<>(m);
    out.putAll(map(kv));
    return out;
  }

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }
}
