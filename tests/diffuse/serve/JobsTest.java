package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import diffuse.api.DiffuseException;
import diffuse.app.LoadedModel;
import diffuse.runtime.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * /api/jobs with the shipped MNIST model: a job polled to the end gives the pixels of
 * /api/generate; cancelling a queued and a running job takes their tickets out of the batcher;
 * unknown ids and bad bodies are named; finished jobs are kept in bounded number and time.
 */
class JobsTest {
  static final Path MNIST = Path.of("models/mnist");
  static WebServer server;

  @BeforeAll
  static void start() {
    server = new Serving(List.of(MNIST), List.of(), "127.0.0.1", 0, 64, 5, 64).start(Device.CPU.resolve(0));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  static java.net.http.HttpResponse<byte[]> send(String method, String path, String body) throws Exception {
    return OpenAiImagesTest.sendTo(server, method, path, body);
  }

  static JsonObject json(java.net.http.HttpResponse<byte[]> r) {
    return OpenAiImagesTest.json(r);
  }

  static JsonObject job(String id) throws Exception {
    java.net.http.HttpResponse<byte[]> r = send("GET", "/api/jobs/" + id, null);
    assertEquals(200, r.statusCode());
    return json(r);
  }

  static ApiTest.Stats stats() throws Exception {
    JsonObject m = json(send("GET", "/api/health", null)).getAsJsonObject("models").getAsJsonObject("mnist");
    return new ApiTest.Stats(m.get("batches").getAsLong(), m.get("tickets").getAsLong(), m.get("cancelled").getAsLong(),
        m.get("stopped").getAsLong(), m.get("queued").getAsInt());
  }

  @Test
  void aJobPolledToTheEndGivesThePixelsOfApiGenerate() throws Exception {
    String body = "{\"prompt\": \"digit 3\", \"n\": 2, \"steps\": 6, \"seed\": 8, \"guidance\": 2.5}";
    java.net.http.HttpResponse<byte[]> created = send("POST", "/api/jobs", body);
    assertEquals(202, created.statusCode());
    String id = json(created).get("id").getAsString();
    assertTrue(json(created).get("position").getAsInt() >= 0);
    assertEquals("/api/jobs/" + id, created.headers().firstValue("location").orElse(""));
    Set<String> states = new LinkedHashSet<>();
    JsonObject j = job(id);
    for (int i = 0; i < 1200 && !j.get("state").getAsString().equals("done"); i++) {
      states.add(j.get("state").getAsString());
      assertEquals(6, j.getAsJsonObject("progress").get("total").getAsInt());
      Thread.sleep(25);
      j = job(id);
    }
    assertEquals("done", j.get("state").getAsString(), "seen: " + states);
    assertTrue(List.of("queued", "running").containsAll(states), states.toString());
    assertEquals(6, j.getAsJsonObject("progress").get("done").getAsInt());
    assertFalse(j.has("error"));
    List<int[]> polled = ApiTest.pixels(j.getAsJsonObject("result"));
    List<int[]> direct = ApiTest.pixels(json(send("POST", "/api/generate", body)));
    assertEquals(2, polled.size());
    for (int i = 0; i < 2; i++) {
      assertArrayEquals(direct.get(i), polled.get(i), "image " + i);
    }
    // a finished job stays as it is
    JsonObject deleted = json(send("DELETE", "/api/jobs/" + id, null));
    assertEquals("done", deleted.get("state").getAsString());
  }

  @Test
  void cancellingAQueuedAndARunningJobTakesTheirTicketsOutOfTheBatcher() throws Exception {
    ApiTest.Stats before = stats();
    // 1000 DDPM steps run far longer than this test; 999 steps cannot share that run, so the second waits
    String running = json(send("POST", "/api/jobs", "{\"prompt\": \"digit 1\", \"n\": 8, \"steps\": 1000,"
        + " \"sampler\": \"ddpm\"}")).get("id").getAsString();
    String queued = json(send("POST", "/api/jobs", "{\"prompt\": \"digit 2\", \"n\": 8, \"steps\": 999,"
        + " \"sampler\": \"ddpm\"}")).get("id").getAsString();
    try {
      cancelBoth(before, running, queued);
    } finally { // a failure above must not leave a run of minutes behind
      send("DELETE", "/api/jobs/" + queued, null);
      send("DELETE", "/api/jobs/" + running, null);
    }
  }

  private void cancelBoth(ApiTest.Stats before, String running, String queued) throws Exception {
    JsonObject r = job(running);
    for (int i = 0; i < 1200 && !(r.get("state").getAsString().equals("running") && r.has("preview")); i++) {
      Thread.sleep(25);
      r = job(running);
    }
    assertEquals("running", r.get("state").getAsString());
    assertTrue(r.getAsJsonObject("progress").get("done").getAsInt() >= 1);
    assertTrue(r.get("preview").getAsString().startsWith("data:image/png;base64,"));
    JsonObject q = job(queued);
    assertEquals("queued", q.get("state").getAsString());
    assertEquals(0, q.get("position").getAsInt(), "next in line");
    assertEquals(1, stats().queued());

    JsonObject cancelledQueued = json(send("DELETE", "/api/jobs/" + queued, null));
    assertEquals("cancelled", cancelledQueued.get("state").getAsString());
    assertEquals(0, stats().queued(), "the queued ticket left the queue at once");
    JsonObject cancelledRunning = json(send("DELETE", "/api/jobs/" + running, null));
    assertEquals("cancelled", cancelledRunning.get("state").getAsString());
    ApiTest.Stats after = stats();
    for (int i = 0; i < 400 && after.stopped() == before.stopped(); i++) {
      Thread.sleep(25);
      after = stats();
    }
    assertEquals(2, after.tickets() - before.tickets());
    assertEquals(2, after.cancelled() - before.cancelled(), after.toString());
    assertEquals(1, after.stopped() - before.stopped(), "the running batch stopped between steps: " + after);
    assertEquals(0, after.queued());
    assertEquals("cancelled", job(running).get("state").getAsString());
    assertFalse(job(running).has("result"));
    // and the server still draws
    assertEquals(200, send("POST", "/api/generate", "{\"prompt\": \"7\", \"n\": 1, \"steps\": 2}").statusCode());
  }

  @Test
  void unknownIdsAndBadBodiesAreNamed() throws Exception {
    for (String method : List.of("GET", "DELETE")) {
      // %25zz is the id "%zz", decoded once (twice it would be a malformed escape)
      for (String id : List.of("0f0f", "%25zz")) {
        java.net.http.HttpResponse<byte[]> r = send(method, "/api/jobs/" + id, null);
        assertEquals(404, r.statusCode(), id);
        assertEquals("id", json(r).get("field").getAsString(), id);
      }
    }
    for (String[] bad : new String[][] {{"{\"prompt\": \"digit 3\", \"format\": \"png\"}", "format"},
        {"{\"prompt\": \"digit 33\"}", "prompt"}, {"{\"prompt\": \"3\", \"guidance\": [1, 2]}", "guidance"},
        {"{\"prompt\": \"3\", \"n\": 65}", "n"}}) {
      java.net.http.HttpResponse<byte[]> r = send("POST", "/api/jobs", bad[0]);
      assertEquals(400, r.statusCode(), bad[0]);
      assertEquals(bad[1], json(r).get("field").getAsString(), bad[0]);
    }
  }

  /** Finished jobs: only the newest keepFinished, each for keepMillis at most; then their ids are unknown. */
  @Test
  void finishedJobsAreKeptInBoundedNumberAndTime() throws Exception {
    try (Api api = new Api()) {
      LoadedModel model = LoadedModel.load(LoadedModel.openImageModel(MNIST), Device.CPU.resolve(0));
      api.add("mnist", model, new Batcher("mnist", model.generator(), 64, 0, 64));
      Jobs jobs = new Jobs(2, 60_000);
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        ids.add(id(jobs.submit(api, api.parse("{\"prompt\": \"5\", \"n\": 1, \"steps\": 1, \"seed\": " + i + "}", false))));
      }
      for (String id : ids) {
        waitDone(jobs, id, ids);
      }
      assertEquals(2, jobs.size(), "finished jobs beyond the newest two are forgotten");
      for (String old : ids.subList(0, 3)) {
        DiffuseException e = assertThrows(DiffuseException.class, () -> jobs.get(old));
        assertEquals("id", e.field());
      }
      jobs.get(ids.get(4));

      Jobs brief = new Jobs(100, 50);
      String id = id(brief.submit(api, api.parse("{\"prompt\": \"5\", \"n\": 1, \"steps\": 1}", false)));
      waitDone(brief, id, List.of(id));
      Thread.sleep(120);
      assertThrows(DiffuseException.class, () -> brief.get(id));
      assertEquals(0, brief.size());
    }
  }

  static String id(Reply r) {
    return com.google.gson.JsonParser.parseString(new String(r.body(), java.nio.charset.StandardCharsets.UTF_8))
        .getAsJsonObject().get("id").getAsString();
  }

  /** Waits until {@code id} is done (it may be forgotten already when another finishes after it). */
  static void waitDone(Jobs jobs, String id, List<String> all) throws InterruptedException {
    for (int i = 0; i < 2400; i++) {
      try {
        String state = com.google.gson.JsonParser.parseString(new String(jobs.get(id).body(),
            java.nio.charset.StandardCharsets.UTF_8)).getAsJsonObject().get("state").getAsString();
        if (state.equals("done")) {
          return;
        }
      } catch (DiffuseException e) {
        return; // forgotten: finished, and newer ones too
      }
      Thread.sleep(25);
    }
    throw new AssertionError("job " + id + " did not finish");
  }
}
