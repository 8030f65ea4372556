package diffuse.serve;

import diffuse.app.GenerateRequest;
import diffuse.app.GenerateService;
import diffuse.app.GenerationPlan;
import diffuse.app.LoadedModel;
import diffuse.app.SamplingRequest;
import diffuse.app.Samples;
import diffuse.app.ToyWorld;
import diffuse.api.DiffuseException;
import diffuse.io.Images;
import diffuse.io.ModelInfo;
import diffuse.io.PngSettings;
import diffuse.io.Sidecar;
import diffuse.prompt.Prompts;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.sampling.Guidance;
import diffuse.sampling.Guider;
import diffuse.schedule.Spacing;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.SamplerSpec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The HTTP API's use cases, independent of the server library: each takes a request body and
 * returns a {@link Reply} (or a future of one), failing with a {@link DiffuseException} that names
 * the field at fault. Image work goes through each model's {@link Batcher}.
 */
final class Api implements AutoCloseable {
  /** Most images one request may ask for (also the most a batch holds by default). */
  public static final int MAX_N = 64;
  /** Longest prompt accepted. */
  static final int MAX_PROMPT = 200;
  /** Most scales in one sweep. */
  static final int MAX_SCALES = 12;
  /** Largest |s| accepted: beyond it images are saturated noise. */
  static final double MAX_SCALE = 100;

  /** The fields of a generate (and sweep, and job) body; the OpenAPI document describes each. */
  static final Set<String> GENERATE_FIELDS = Set.of("model", "prompt", "guidance", "sampler", "steps", "eta",
      "seed", "n", "clip", "format", "spacing", "guidanceInterval", "rescale", "negative",
      "apg", "apgNorm", "metadata", "guideModel", "guideCfg", "guideInterval");

  /** A served image model and its batcher. */
  record Slot(String id, LoadedModel model, Batcher batcher) {}

  private final Map<String, Slot> models = new LinkedHashMap<>();
  private final Map<String, ToyWorld> toys = new LinkedHashMap<>();
  private final long started = System.nanoTime();
  private final Jobs jobs = new Jobs(Jobs.KEEP_FINISHED, Jobs.KEEP_MILLIS);

  Api() {}

  /** The jobs of /api/jobs. */
  Jobs jobs() {
    return jobs;
  }

  /**
   * Serves {@code model} as {@code id}. It and the models already served that can guide each other
   * ({@link #guides}) share one copy: a request naming a served guide never loads it again.
   */
  void add(String id, LoadedModel model, Batcher batcher) {
    Slot slot = new Slot(id, model, batcher);
    models.put(id, slot);
    for (String g : guides(slot)) {
      LoadedModel other = models.get(g).model();
      model.shareGuide(other);
      other.shareGuide(model);
    }
  }

  void addToy(String id, ToyWorld world) {
    toys.put(id, world);
  }

  Map<String, Slot> models() {
    return models;
  }

  /** GET /api/health */
  Reply health() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("status", "ok");
    out.put("uptimeSeconds", Math.round((System.nanoTime() - started) / 1e7) / 100.0);
    Map<String, Object> per = new LinkedHashMap<>();
    models.forEach((id, s) -> per.put(id, s.batcher().stats()));
    out.put("models", per);
    out.put("toyModels", List.copyOf(toys.keySet()));
    return Reply.json(200, out);
  }

  /** GET /api/models */
  Reply listModels() {
    List<Object> out = new ArrayList<>();
    for (Slot s : models.values()) {
      ModelInfo info = s.model().info();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", s.id());
      m.put("kind", "image");
      m.put("labels", info.labels());
      m.put("dataset", info.data().dataset());
      m.put("height", info.architecture().height());
      m.put("width", info.architecture().width());
      m.put("channels", info.architecture().channels());
      m.put("timesteps", info.schedule().steps());
      m.put("checkpoint", info.checkpoint());
      m.put("modelHash", s.model().modelHash());
      Map<String, Object> defaults = new LinkedHashMap<>(Map.of("guidance", info.defaultGuidance(),
          "guidanceInterval", info.defaultGuidanceInterval() == null ? List.of() : info.defaultGuidanceInterval(),
          "sampler", diffuse.api.Defaults.SAMPLER,
          "steps", diffuse.sampling.SamplerSpec.defaultSteps(SamplingRequest.DEFAULT_SAMPLER, info.schedule().steps()),
          "n", Math.min(diffuse.api.Defaults.COUNT, s.batcher().maxBatch())));
      ModelInfo.Sampling own = info.sampling();
      if (s.model().ownGuideDir() != null) { // the model's own autoguidance: its guide by served id
        java.nio.file.Path dir = s.model().ownGuideDir().toAbsolutePath().normalize();
        defaults.put("guideModel", models.values().stream()
            .filter(o -> o.model().dir().toAbsolutePath().normalize().equals(dir)).map(Slot::id).findFirst()
            .orElse(own.guideModel()));
        if (own.guideCfg() != null) {
          defaults.put("guideCfg", own.guideCfg());
        }
        if (own.guideInterval() != null) {
          defaults.put("guideInterval", own.guideInterval());
        }
      }
      m.put("defaults", defaults);
      m.put("maxN", s.batcher().maxBatch());
      Map<String, Integer> stepsBySampler = new java.util.LinkedHashMap<>();
      for (diffuse.sampling.SamplerKind k : diffuse.sampling.SamplerKind.values()) {
        stepsBySampler.put(k.id(), diffuse.sampling.SamplerSpec.defaultSteps(k, info.schedule().steps()));
      }
      m.put("samplerSteps", stepsBySampler);
      m.put("guides", guides(s));
      m.put("tradeoff", tradeoffPlot(s) != null ? "/api/models/" + s.id() + "/tradeoff.png" : null);
      out.add(m);
    }
    for (var e : toys.entrySet()) {
      out.add(Map.of("id", e.getKey(), "kind", "toy", "labels", e.getValue().data().labelNames(),
          "name", e.getValue().name()));
    }
    return Reply.json(200, Map.of("models", out));
  }

  /**
   * The served models that can guide {@code s} by autoguidance (Karras et al. 2024): the same
   * labels, schedule and image size, itself included (a guide equal to the model changes nothing).
   */
  List<String> guides(Slot s) {
    ModelInfo a = s.model().info();
    List<String> out = new ArrayList<>();
    for (Slot o : models.values()) {
      ModelInfo b = o.model().info();
      if (a.labels().equals(b.labels()) && a.schedule().equals(b.schedule())
          && a.architecture().height() == b.architecture().height()
          && a.architecture().width() == b.architecture().width()
          && a.architecture().channels() == b.architecture().channels()) {
        out.add(o.id());
      }
    }
    return out;
  }

  /**
   * The evaluation's trade-off plot of a model, when it has one: {@code evaluation/tradeoff.png}
   * inside the model directory (what {@code diffuse evaluate --out MODEL/evaluation} writes).
   */
  static Path tradeoffPlot(Slot s) {
    Path p = s.model().dir().resolve("evaluation").resolve("tradeoff.png");
    return Files.isRegularFile(p) ? p : null;
  }

  /** GET /api/models/{id}/tradeoff.png */
  Reply tradeoff(String id) throws IOException {
    Slot s = slot(id);
    Path p = tradeoffPlot(s);
    if (p == null) {
      throw new DiffuseException(DiffuseException.Code.NOT_FOUND, "model",
          "model " + id + " has no evaluation (run `diffuse evaluate --model DIR --out DIR/evaluation`)", null);
    }
    return Reply.png(Files.readAllBytes(p), "tradeoff.png");
  }

  Slot slot(String id) {
    if (id == null) {
      if (models.isEmpty()) {
        throw new DiffuseException(DiffuseException.Code.NOT_FOUND, "model", "no image model is served", null);
      }
      return models.values().iterator().next();
    }
    Slot s = models.get(id);
    if (s == null) {
      throw new DiffuseException(DiffuseException.Code.UNKNOWN_NAME, "model", "unknown model '" + id + "'; served: "
          + String.join(", ", models.keySet()), null);
    }
    return s;
  }

  /**
   * A parsed, validated generation request, one prompt at one or more scales, as the plan every
   * path runs ({@link GenerateService#plan}); its rows go to the model's batcher.
   */
  record Call(Slot slot, GenerationPlan plan, boolean png, boolean metadata, String body) {
    String prompt() {
      return plan.request().prompts().get(0);
    }

    int label() {
      return plan.labels().get(0);
    }

    List<Double> scales() {
      return plan.request().scales();
    }

    SamplerSpec spec() {
      return plan.spec();
    }

    long seed() {
      return plan.seed();
    }

    int n() {
      return plan.count();
    }

    /** The guider every row runs with: the model's own guidance, or autoguidance by another served model. */
    Guider method() {
      return plan.guider();
    }

    diffuse.sampling.Guidance guidance() {
      return plan.guidance();
    }

    /** The request as the sidecar records it. */
    String command() {
      return "POST " + body.strip().replaceAll("\\s+", " ");
    }
  }

  /** Parses and checks a generate (one scale) or sweep (several) body. */
  Call parse(String text, boolean sweep) {
    return call(Fields.parse(text, GENERATE_FIELDS), sweep, sweep ? diffuse.api.Defaults.SWEEP_COUNT : diffuse.api.Defaults.COUNT, text);
  }

  /**
   * The call that checked fields ask for: those of a generate body, each absent one taking its
   * default ({@code n}: {@code defaultN}); {@code text} is the body as the sidecar records it.
   */
  Call call(Fields f, boolean sweep, int defaultN, String text) {
    Slot slot = slot(f.string("model", null));
    ModelInfo info = slot.model().info();
    if (!f.has("prompt")) {
      throw DiffuseException.badValue("prompt", "prompt is missing: name what to draw, e.g. \"digit 7\"");
    }
    String prompt = f.string("prompt", "");
    if (prompt.length() > MAX_PROMPT) {
      throw DiffuseException.badValue("prompt", "prompt is longer than " + MAX_PROMPT + " characters");
    }
    new Prompts(info.labels()).resolve(prompt); // an unknown prompt is the first error a caller hears of
    List<Double> scales = f.numbers("guidance", List.of(info.defaultGuidance()));
    if (scales.isEmpty() || scales.size() > (sweep ? MAX_SCALES : 1)) {
      throw DiffuseException.badValue("guidance", sweep ? "guidance must list 1.." + MAX_SCALES + " scales"
          : "guidance must be one number (a list is for /api/sweep)");
    }
    for (double s : scales) {
      ClassifierFreeGuidance.requireFinite(s);
      if (Math.abs(s) > MAX_SCALE) {
        throw DiffuseException.badValue("guidance", "guidance must be within ±" + (int) MAX_SCALE + ", got " + s);
      }
    }
    String samplerName = f.string("sampler", diffuse.api.Defaults.SAMPLER).toLowerCase(Locale.ROOT);
    SamplerKind kind = SamplerKind.parse(samplerName);
    Integer steps = f.optionalInt("steps", 1, info.schedule().steps());
    Double eta = f.has("eta") ? f.number("eta", 0) : null;
    long seed = f.integer("seed", 0, Long.MIN_VALUE / 2, Long.MAX_VALUE / 2);
    // the default count is cut to what one batch may hold, so that a request naming no n never fails on it
    int n = (int) f.integer("n", Math.min(defaultN, slot.batcher().maxBatch()), 1, slot.batcher().maxBatch());
    boolean clip = f.bool("clip", true);
    boolean metadata = f.bool("metadata", true);
    String format = f.string("format", "json");
    if (!format.equals("json") && !format.equals("png")) {
      throw DiffuseException.badValue("format", "format must be json or png, got '" + format + "'");
    }
    Spacing spacing = null;
    if (f.has("spacing")) {
      String name = f.string("spacing", "");
      try {
        spacing = Spacing.parse(name);
      } catch (IllegalArgumentException e) {
        throw DiffuseException.badValue("spacing", "spacing must be linspace, uniform, trailing, karras, karras-exact or logsnr, got '"
            + name + "'");
      }
    }
    List<Double> interval = f.numbers("guidanceInterval", null);
    if (interval != null && interval.size() != 2 && !interval.isEmpty()) {
      throw DiffuseException.badValue("guidanceInterval", "guidanceInterval must be two noise levels [lo, hi], or []"
          + " for every step");
    }
    Double rescale = f.has("rescale") ? f.number("rescale", 0) : null;
    String negative = f.has("negative") ? f.string("negative", "") : null;
    Double apg = f.has("apg") ? f.number("apg", 0) : null;
    Double apgNorm = f.has("apgNorm") ? f.number("apgNorm", 0) : null;
    String guideDir = null;
    if (f.has("guideModel")) {
      String id = f.string("guideModel", "");
      Slot guide = models.get(id);
      if (id.equals(Guidance.NO_GUIDE)) {
        guideDir = Guidance.NO_GUIDE;
      } else if (guide == null || !guides(slot).contains(id)) {
        throw DiffuseException.badValue("guideModel", "guideModel must name a served model of the same labels, schedule"
            + " and size as " + slot.id() + " (autoguidance), or none; these can guide it: " + guides(slot));
      } else {
        guideDir = guide.model().dir().toString();
      }
    }
    Double guideCfg = f.has("guideCfg") ? f.number("guideCfg", 0) : null;
    List<Double> guideInterval = f.numbers("guideInterval", null); // Guidance checks it, naming guideInterval
    var g = new Guidance(interval, rescale, negative, null, apg, apgNorm, guideDir, null, guideCfg, guideInterval,
        null);
    SamplingRequest request = new SamplingRequest(new SamplerSpec(kind, steps == null ? SamplerSpec.DEFAULT_STEPS : steps,
        eta == null ? 0 : eta, clip, spacing), seed, MAX_N, g);
    GenerationPlan plan = GenerateService.plan(slot.model(), new GenerateRequest(List.of(prompt), scales, n, request));
    return new Call(slot, plan, format.equals("png"), metadata, text);
  }

  /** Work in flight for one call: its tickets and the future of its samples. */
  record Pending(List<Batcher.Ticket> tickets, CompletableFuture<Samples> samples) {
    void cancel() {
      tickets.forEach(Batcher.Ticket::cancel);
    }
  }

  /** Queues a call's rows (one ticket per scale); {@code listener} sees the steps of the first row. */
  Pending submit(Call c, diffuse.api.Listener listener) {
    List<Batcher.Ticket> tickets = new ArrayList<>();
    long start = System.nanoTime();
    try {
      for (int i = 0; i < c.scales().size(); i++) {
        tickets.add(c.slot().batcher().submit(c.label(), c.scales().get(i), c.seed(), c.n(), c.spec(), c.method(),
            i == 0 ? listener : diffuse.api.Listener.NONE));
      }
    } catch (RuntimeException e) {
      tickets.forEach(Batcher.Ticket::cancel);
      throw e;
    }
    CompletableFuture<?>[] all = tickets.stream().map(Batcher.Ticket::result).toArray(CompletableFuture[]::new);
    CompletableFuture<Samples> samples = CompletableFuture.allOf(all).thenApply(v -> GenerateService.assemble(c.plan(),
        tickets.stream().map(t -> t.result().join()).toList(), (System.nanoTime() - start) / 1e9, c.slot().id()));
    return new Pending(tickets, samples);
  }

  /**
   * The reply for finished samples: a PNG grid, or JSON with every image, the grid and the sidecar;
   * every PNG carries its settings (unless the request said {@code "metadata": false}).
   */
  static Reply reply(Call c, Samples s) {
    try {
      Sidecar.Grid layout = layout(c, s);
      Sidecar sidecar = s.sidecar(c.command()).withGrid(layout);
      List<Images.Row> gridRows = new ArrayList<>();
      for (int k = 0; k < s.rows().size(); k++) {
        gridRows.add(new Images.Row(layout.labels().get(k), s.images(s.rows().get(k))));
      }
      byte[] grid = png(c, s, Images.grid(layout.title(), gridRows, layout.columns(), layout.scale()), sidecar);
      Map<String, String> logged = Map.of(AccessLog.IMAGES_HEADER, "" + s.rows().size() * c.n(),
          AccessLog.COMPUTE_HEADER, "" + Math.round(s.seconds() * 1000));
      if (c.png()) {
        Reply png = Reply.png(grid, "diffuse-" + c.slot().id() + "-" + slug(s.rows().get(0).labelName()) + ".png");
        Map<String, String> h = new LinkedHashMap<>(png.headers());
        h.putAll(logged);
        return new Reply(png.status(), png.contentType(), png.body(), h);
      }
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("model", c.slot().id());
      out.put("label", s.rows().get(0).labelName());
      List<Object> rows = new ArrayList<>();
      for (int k = 0; k < s.rows().size(); k++) {
        Samples.Row r = s.rows().get(k);
        List<String> imgs = new ArrayList<>();
        List<BufferedImage> images = gridRows.get(k).images();
        for (int i = 0; i < images.size(); i++) {
          imgs.add(dataUrl(png(c, s, images.get(i), s.sidecar(r, i, c.command()))));
        }
        rows.add(Map.of("guidance", r.scale(), "images", imgs));
      }
      out.put("rows", rows);
      out.put("grid", dataUrl(grid));
      out.put("sidecar", sidecar);
      out.put("seconds", s.seconds());
      Reply json = Reply.json(200, out);
      return new Reply(json.status(), json.contentType(), json.body(), logged);
    } catch (IOException e) {
      throw new DiffuseException(DiffuseException.Code.FAILED, "cannot encode the images: " + e.getMessage(), e);
    }
  }

  /** The PNG of every image of the first row, each with its own settings (sample i of the seed). */
  static List<byte[]> imagePngs(Call c, Samples s) {
    Samples.Row r = s.rows().get(0);
    List<byte[]> out = new ArrayList<>();
    try {
      List<BufferedImage> images = s.images(r);
      for (int i = 0; i < images.size(); i++) {
        out.add(png(c, s, images.get(i), s.sidecar(r, i, c.command())));
      }
    } catch (IOException e) {
      throw new DiffuseException(DiffuseException.Code.FAILED, "cannot encode the images: " + e.getMessage(), e);
    }
    return out;
  }

  /** {@code img} as a PNG, with {@code sidecar} in its text chunks unless the call asked for none. */
  private static byte[] png(Call c, Samples s, BufferedImage img, Sidecar sidecar) throws IOException {
    return c.metadata() ? s.png(img, sidecar, Reply.GSON.toJson(sidecar)) : Images.pngWithText(img, Map.of());
  }

  /** The server's grid: a row per scale (captioned by the label for one), at most 8 images a line, magnified 3×. */
  private static Sidecar.Grid layout(Call c, Samples s) {
    diffuse.sampling.Guidance g = s.guidanceOrPlain();
    List<String> labels = new ArrayList<>();
    for (Samples.Row r : s.rows()) {
      labels.add(c.scales().size() > 1 ? g.scaleSymbol() + " = " + fmt(r.scale()) : r.labelName());
    }
    String title = String.format(Locale.ROOT, "\"%s\" → %s; %s %d steps, seed %d%s", c.prompt(),
        s.rows().get(0).labelName(), c.spec().kind().id(), c.spec().steps(), c.seed(),
        c.scales().size() == 1 ? ", " + g.describeScale(c.scales().get(0)) : g.isPlain() ? "" : ", " + g.describe());
    return new Sidecar.Grid(title, labels, Math.min(8, c.n()), 3);
  }

  /**
   * POST /api/png-info: the settings that a PNG carries, {@code {"parameters": infotext, "sidecar":
   * {...}}} (null where a chunk is absent); 400 naming {@code body} for a body that is not a PNG, or a
   * PNG with neither chunk.
   */
  Reply pngInfo(byte[] body) {
    PngSettings.Found found = PngSettings.read(body, "body", "body");
    if (found.parameters() == null && found.sidecar() == null) {
      throw DiffuseException.badValue("body", "body is a PNG without settings (no '" + PngSettings.PARAMETERS
          + "' or '" + PngSettings.SIDECAR + "' text chunk)");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("parameters", found.parameters());
    out.put("sidecar", found.sidecar());
    return Reply.json(200, out);
  }

  /** A preview of x̂_0 for the page: the images in one row, as a PNG data URL. */
  static String preview(Slot slot, float[] x0, int n) {
    var a = slot.model().info().architecture();
    int cols = Math.min(n, 8);
    int rows = (n + cols - 1) / cols;
    BufferedImage out = new BufferedImage(cols * a.width(), rows * a.height(),
        a.channels() == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
    var g = out.createGraphics();
    for (int i = 0; i < n; i++) {
      g.drawImage(Images.toImage(x0, i, a.height(), a.width(), a.channels()), (i % cols) * a.width(),
          (i / cols) * a.height(), null);
    }
    g.dispose();
    try {
      return dataUrl(Images.pngWithText(out, Map.of()));
    } catch (IOException e) {
      throw new DiffuseException(DiffuseException.Code.FAILED, "cannot encode a preview", e);
    }
  }

  /** GET /api/toy/field: {@link ToyField#answer}. */
  Reply toyField(Map<String, String> q) {
    return ToyField.answer(toys, q);
  }

  static String dataUrl(byte[] png) {
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
  }

  static String fmt(double s) {
    return diffuse.sampling.ClassifierFreeGuidance.formatScale(s);
  }

  static String slug(String s) {
    return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
  }

  @Override
  public void close() {
    // every batcher first: a model may guide another's batches (shared guides), so none closes while one runs
    for (Slot s : models.values()) {
      s.batcher().close();
    }
    for (Slot s : models.values()) {
      s.model().close();
    }
    for (ToyWorld w : toys.values()) {
      try {
        w.close();
      } catch (Exception ignored) {
        // closing a session
      }
    }
  }
}
