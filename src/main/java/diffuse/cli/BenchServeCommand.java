package diffuse.cli;

import diffuse.app.GenerateRequest;
import diffuse.app.GenerateService;
import diffuse.app.LoadedModel;
import diffuse.api.Listener;
import diffuse.app.SamplingRequest;
import diffuse.io.ModelStore;
import diffuse.sampling.SamplerKind;
import diffuse.serve.Serving;
import diffuse.serve.WebServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code diffuse bench serve}: {@code diffuse serve} in this process, driven over loopback HTTP.
 *
 * <p>Load mode (default): the offline throughput of {@code generate} (one batch of clients × n
 * images, as {@code generate} batches them) first, then N clients each sending requests for n images
 * back to back for a set time: images/s against offline, latency percentiles, errors, the mean merged
 * batch, and resident memory, threads and open files before and after.
 *
 * <p>Soak mode ({@code --requests R}): R requests in a row from one client, one in ten of them bad
 * (an unknown prompt, answered 400); resident memory, threads and open files every tenth of the way.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Drive `diffuse serve` (in this process) over loopback: throughput against offline generate,",
        "latency, errors and memory under N concurrent clients; or --requests R in a row for leaks."})
final class BenchServeCommand implements Callable<Integer> {
  @Option(names = "--model", paramLabel = "DIR", description = "Model (default: the shipped one).") Path model;
  @Option(names = "--clients", defaultValue = "16", paramLabel = "N", description = "Concurrent clients (default: ${DEFAULT-VALUE}).") int clients;
  @Option(names = {"-n", "--count"}, defaultValue = "4", paramLabel = "N", description = "Images per request (default: ${DEFAULT-VALUE}).") int count;
  @Option(names = "--seconds", defaultValue = "30", paramLabel = "S", description = "Measured load time (default: ${DEFAULT-VALUE}).") double seconds;
  @Option(names = "--warmup-seconds", defaultValue = "5", paramLabel = "S", description = "Unmeasured load first (default: ${DEFAULT-VALUE}).") double warmup;
  @Option(names = "--sampler", defaultValue = diffuse.api.Defaults.SAMPLER, paramLabel = "NAME",
      description = "Sampler of both the offline baseline and the requests (default: generate's, ${DEFAULT-VALUE}).")
  String sampler;
  @Option(names = "--steps", paramLabel = "N", description = "Sampler steps (default: the sampler's own, as for generate).") Integer steps;
  @Option(names = "--guidance", defaultValue = "" + diffuse.api.Defaults.GUIDANCE, paramLabel = "S") double guidance;
  @Option(names = "--requests", defaultValue = "0", paramLabel = "R", description = "Soak mode: R requests in a row from one client.") int requests;
  @Option(names = "--max-batch", defaultValue = "" + Serving.DEFAULT_MAX_BATCH, paramLabel = "N") int maxBatch;
  @Option(names = "--max-wait-ms", defaultValue = "" + Serving.DEFAULT_MAX_WAIT_MS, paramLabel = "MS") long maxWait;
  @Option(names = "--format", defaultValue = "png", paramLabel = "png|json", description = "Reply format asked for (default: ${DEFAULT-VALUE}).") String format;
  @Mixin DeviceOptions device;
  /** The served model's labels, which the requests prompt for in turn. */
  List<String> labels;

  @Override
  public Integer call() throws Exception {
    if (clients < 1 || count < 1 || seconds <= 0 || warmup < 0 || requests < 0) {
      throw new IllegalArgumentException("--clients and -n must be >= 1, --seconds > 0, --warmup-seconds and --requests >= 0");
    }
    Path dir = model != null ? model : GenerateOptions.defaultModel();
    var choice = device.resolve();
    SamplerKind kind = SamplerKind.parse(sampler);
    ModelStore.StoredModel stored = ModelStore.open(dir);
    var info = stored.info();
    int steps = this.steps != null ? this.steps
        : diffuse.sampling.SamplerSpec.defaultSteps(kind, info.schedule().steps());
    this.labels = info.labels();
    System.out.printf(Locale.ROOT, "model %s, %s %d steps, guidance %s, device %s, %d cores%n", dir, kind.id(), steps,
        guidance, choice.description(), Runtime.getRuntime().availableProcessors());
    double offline = requests > 0 ? 0 : offline(stored, choice, steps);
    Serving serving = new Serving(List.of(dir), List.of(), "127.0.0.1", 0, maxBatch, maxWait, 4 * clients + 16);
    try (WebServer server = serving.start(choice)) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10)).build();
      String base = "http://127.0.0.1:" + server.port();
      return requests > 0 ? soak(http, base, steps) : load(http, base, steps, offline);
    }
  }

  /** Images/s of generate's own batching: clients × n images in batches of 64, after a warm-up. */
  private double offline(ModelStore.StoredModel stored, diffuse.runtime.Device.Choice choice, int steps) {
    int total = clients * count;
    try (LoadedModel m = LoadedModel.load(stored, choice)) {
      SamplingRequest s = new SamplingRequest(new diffuse.sampling.SamplerSpec(SamplerKind.parse(sampler), steps, 0, true), 1,
          diffuse.api.Defaults.BATCH_SIZE);
      GenerateService.generate(m, new GenerateRequest(List.of(m.info().labels().get(0)), List.of(guidance),
          Math.min(total, diffuse.api.Defaults.BATCH_SIZE), s), Listener.NONE); // warm-up
      double best = 0;
      for (int rep = 0; rep < 2; rep++) {
        long t0 = System.nanoTime();
        GenerateService.generate(m, new GenerateRequest(List.of(m.info().labels().get(rep % m.info().labels().size())),
            List.of(guidance), total, s.withSeed(rep + 2)), Listener.NONE);
        best = Math.max(best, total / ((System.nanoTime() - t0) / 1e9));
      }
      System.out.printf(Locale.ROOT, "offline generate: %d images in batches of %d: %.1f images/s (best of 2)%n", total,
          diffuse.api.Defaults.BATCH_SIZE, best);
      return best;
    }
  }

  /** A request for the model's label {@code label} modulo its label count. */
  String body(int label, long seed, int n, int steps) {
    return String.format(Locale.ROOT, "{\"prompt\": \"%s\", \"n\": %d, \"sampler\": \"%s\", \"steps\": %d, \"guidance\": %s,"
        + " \"seed\": %d, \"format\": \"%s\"}", labels.get(label % labels.size()), n, SamplerKind.parse(sampler).id(), steps, guidance, seed, format);
  }

  private static HttpRequest post(String base, String path, String body) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  private int load(HttpClient http, String base, int steps, double offline) throws Exception {
    long warmEnd = System.nanoTime() + (long) (warmup * 1e9);
    long end = warmEnd + (long) (seconds * 1e9);
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    AtomicLong errors = new AtomicLong(), images = new AtomicLong();
    ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      Thread t = new Thread(() -> {
        long seed = client * 1_000_003L;
        while (System.nanoTime() < end) {
          long t0 = System.nanoTime();
          boolean measured = t0 >= warmEnd;
          try {
            HttpResponse<byte[]> r = http.send(post(base, "/api/generate", body((int) (seed % labels.size()), seed, count, steps)),
                HttpResponse.BodyHandlers.ofByteArray());
            long t1 = System.nanoTime();
            if (r.statusCode() != 200) {
              errors.incrementAndGet();
              if (firstErrors.size() < 3) {
                firstErrors.add(r.statusCode() + " " + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
              }
            } else if (measured && t1 <= end) {
              latencies.add(t1 - t0);
              images.addAndGet(count);
            }
          } catch (IOException e) {
            errors.incrementAndGet();
            firstErrors.add(e.toString());
          } catch (InterruptedException e) {
            return;
          }
          seed++;
        }
      }, "bench-client-" + c);
      threads.add(t);
      t.start();
    }
    Thread.sleep(Math.max(0, (warmEnd - System.nanoTime()) / 1_000_000));
    Probe before = Probe.now();
    long[] s0 = health(http, base);
    for (Thread t : threads) {
      t.join();
    }
    long[] s1 = health(http, base);
    Probe after = Probe.now();
    long[] ms = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    double rate = images.get() / seconds;
    double meanBatch = s1[0] > s0[0] ? (double) (s1[1] - s0[1]) / (s1[0] - s0[0]) : 0;
    System.out.printf(Locale.ROOT, "serve: %d clients × %d images for %.0f s: %.1f images/s (%.0f%% of offline),"
        + " %d requests, p50 %.0f ms, p99 %.0f ms, %d errors, mean merged batch %.1f images%n", clients, count, seconds,
        rate, offline > 0 ? 100 * rate / offline : 0, ms.length, pct(ms, 0.5), pct(ms, 0.99), errors.get(), meanBatch);
    System.out.println("process: " + before + " -> " + after);
    firstErrors.forEach(e -> System.out.println("error: " + e));
    return errors.get() == 0 ? 0 : 1;
  }

  private int soak(HttpClient http, String base, int steps) throws Exception {
    int errors = 0, bad = 0;
    List<Probe> probes = new ArrayList<>();
    int warm = Math.max(1, requests / 10); // the heap and TensorFlow's arenas reach their working size
    long t0 = System.nanoTime();
    for (int i = 0; i < warm + requests; i++) {
      if (i == warm) {
        System.gc();
        probes.add(Probe.now());
        t0 = System.nanoTime();
      }
      boolean wrong = i % 10 == 9;
      String body = wrong ? "{\"prompt\": \"digit eleven\"}" : body(i % labels.size(), i, count, steps);
      HttpResponse<byte[]> r = http.send(post(base, "/api/generate", body), HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() != (wrong ? 400 : 200)) {
        errors++;
      }
      bad += wrong ? 1 : 0;
      int done = i - warm + 1;
      if (done > 0 && done % Math.max(1, requests / 10) == 0) {
        System.gc();
        Probe p = Probe.now();
        probes.add(p);
        System.out.printf(Locale.ROOT, "%6d requests  %s%n", done, p);
      }
    }
    double sec = (System.nanoTime() - t0) / 1e9;
    Probe first = probes.get(0), last = probes.get(probes.size() - 1);
    double maxRss = probes.stream().mapToDouble(Probe::rssMb).max().orElse(0);
    System.out.printf(Locale.ROOT, "soak: %d requests in a row (%d of them bad, answered 400) in %.0f s, %d wrong answers;"
        + " after a warm-up of %d: RSS %.0f -> %.0f MB (%+.1f%%, max %.0f), Java heap in use %.0f -> %.0f MB,"
        + " threads %d -> %d, open files %d -> %d%n", requests, bad, sec, errors, warm,
        first.rssMb(), last.rssMb(), 100 * (last.rssMb() / first.rssMb() - 1), maxRss, first.heapMb(), last.heapMb(),
        first.threads(), last.threads(), first.files(), last.files());
    return errors == 0 ? 0 : 1;
  }

  /** batches and images served so far, from /api/health. */
  private static long[] health(HttpClient http, String base) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/health")).build(),
        HttpResponse.BodyHandlers.ofString());
    var models = com.google.gson.JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("models");
    var m = models.get(models.keySet().iterator().next()).getAsJsonObject();
    return new long[] {m.get("batches").getAsLong(), m.get("images").getAsLong()};
  }

  private static double pct(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
  }

  /** Resident memory, OS threads (TensorFlow's included) and open file descriptors of this process. */
  record Probe(double rssMb, double heapMb, int threads, int files) {
    static Probe now() {
      int threads = -1;
      try {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
          if (line.startsWith("Threads:")) {
            threads = Integer.parseInt(line.replaceAll("[^0-9]", ""));
          }
        }
      } catch (IOException | RuntimeException ignored) {
        // not Linux
      }
      int files = -1;
      try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
        files = (int) fds.count();
      } catch (IOException | RuntimeException ignored) {
        // not Linux
      }
      Runtime rt = Runtime.getRuntime();
      return new Probe(BenchCommand.rssMb(), (rt.totalMemory() - rt.freeMemory()) / 1048576.0, threads, files);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "RSS %.0f MB, heap in use %.0f MB, %d threads, %d open files", rssMb, heapMb,
          threads, files);
    }
  }
}
