package diffuse.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.runtime.Device;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page in a real browser: headless Chromium driven through Selenium against the shipped MNIST
 * model. It loads, takes a typed prompt, generates (the preview of x̂₀ updating step by step, then
 * the grid), re-samples when the slider moves, sweeps, and draws the two-pixel field. The last state is
 * saved to {@code target/serve-screenshot.png} (the README's {@code docs/serve.png}).
 *
 * <p>Needs Debian's {@code chromium} and {@code chromium-driver} ({@code .ci/run} installs them);
 * where neither is installed the test is skipped, never passed.
 */
class BrowserTest {
  static final Path CHROMIUM = Path.of(System.getProperty("diffuse.chromium", "/usr/bin/chromium"));
  static final Path DRIVER = Path.of(System.getProperty("diffuse.chromedriver", "/usr/bin/chromedriver"));

  static WebServer server;
  static ChromeDriver browser;
  /** Holds a copy of the Fashion model that samples at 2 by default, so that the slider visibly follows the model. */
  @org.junit.jupiter.api.io.TempDir
  static Path copies;

  @BeforeAll
  static void start() {
    boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER);
    if (!installed) { // said out loud: surefire counts a class skipped in @BeforeAll as 0 tests, not as skipped
      System.err.println("BrowserTest SKIPPED: headless Chromium is not installed (apt-get install chromium"
          + " chromium-driver; .ci/run installs them)");
    }
    Assumptions.assumeTrue(installed, "headless Chromium is not installed (apt-get install chromium chromium-driver)");
    // a copy of the shipped Fashion model at 2 (the shipped one's own scale too) beside MNIST's 1.45: the slider
    // follows the model
    Path fashion = copies.resolve("fashion-mnist");
    try {
      diffuse.io.ModelStore.export(Path.of("models/fashion-mnist"), fashion, null, "test copy", 2.0);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    server = new Serving(List.of(Path.of("models/mnist"), Path.of("models/mnist-guide"), fashion),
        List.of(), "127.0.0.1", 0,
        64, 5, 64)
        .start(Device.CPU.resolve(0));
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--window-size=1200,1900", "--no-first-run", "--disable-extensions");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
        .usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (server != null) {
      server.close();
    }
  }

  static WebDriverWait waitUpTo(int seconds) {
    return new WebDriverWait(browser, Duration.ofSeconds(seconds));
  }

  static WebElement id(String id) {
    return browser.findElement(By.id(id));
  }

  static Object js(String script, Object... args) {
    return ((JavascriptExecutor) browser).executeScript(script, args);
  }

  static com.google.gson.JsonObject health() throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    var r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port()
        + "/api/health")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    return com.google.gson.JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("models")
        .getAsJsonObject("mnist");
  }

  /**
   * Stop cancels the running generation: the page closes its stream, the server stops the run between
   * steps (its batcher counts it stopped), and no further preview arrives.
   */
  @Test
  void stopCancelsTheRunningGeneration() throws Exception {
    browser.get("http://127.0.0.1:" + server.port() + "/");
    waitUpTo(20).until(d -> browser.findElements(By.cssSelector("#labels option")).size() == 10);
    assertTrue(!id("stop").isEnabled(), "nothing to stop yet");
    new org.openqa.selenium.support.ui.Select(id("sampler")).selectByVisibleText("ddpm"); // 1000 steps: minutes
    assertEquals("1000", id("steps").getAttribute("value"));
    long stopped = health().get("stopped").getAsLong();
    id("generate").click();
    waitUpTo(60).until(d -> id("status").getText().startsWith("denoising: step"));
    assertTrue(id("stop").isEnabled());
    long clicked = System.nanoTime();
    id("stop").click();
    assertEquals("stopped", id("status").getText());
    assertTrue(!id("stop").isEnabled());
    long stoppedAt = 0;
    while (System.nanoTime() - clicked < 30_000_000_000L) { // the server counts the run stopped
      if (health().get("stopped").getAsLong() > stopped && health().get("queued").getAsInt() == 0) {
        stoppedAt = System.nanoTime();
        break;
      }
      Thread.sleep(20);
    }
    assertTrue(stoppedAt > 0, "the server never stopped the run");
    assertTrue(stoppedAt - clicked < 1_000_000_000L, "stopped " + (stoppedAt - clicked) / 1_000_000
        + " ms after the click; at most 1 s");
    String step = id("preview").getAttribute("data-step");
    Thread.sleep(500);
    assertEquals(step, id("preview").getAttribute("data-step"), "a preview arrived after Stop");
    assertEquals("stopped", id("status").getText());
    new org.openqa.selenium.support.ui.Select(id("sampler")).selectByVisibleText("dpm++2m");
  }

  /**
   * The guide menu lists the served models that can guide the chosen one; a generation with one, blended
   * with CFG in an interval, records all three, and its PNG dropped on the page restores them.
   */
  @Test
  void aServedGuideIsChosenFromThePageAndRecorded() throws Exception {
    browser.get("http://127.0.0.1:" + server.port() + "/");
    waitUpTo(20).until(d -> browser.findElements(By.cssSelector("#guide option")).size() == 2);
    assertTrue(id("guide-label").isDisplayed());
    new org.openqa.selenium.support.ui.Select(id("guide")).selectByValue("mnist-guide");
    assertTrue(id("guide-cfg-label").isDisplayed());
    id("guide-cfg").sendKeys("1.2");
    // the model's own interval fills the field and is left to the server, which blends its CFG in it
    assertEquals("0.3,5", id("interval").getAttribute("value"));
    id("steps").clear();
    id("steps").sendKeys("3");
    id("count").clear();
    id("count").sendKeys("2");
    id("generate").click();
    waitUpTo(60).until(d -> id("status").getText().startsWith("2 images of"));
    String sidecar = (String) ((JavascriptExecutor) browser).executeAsyncScript(
        "const done = arguments[0]; fetch(document.getElementById('download-sidecar').href)"
            + ".then((r) => r.text()).then(done);");
    assertTrue(sidecar.contains("\"guideModel\"") && sidecar.contains("mnist-guide"), sidecar);
    assertTrue(sidecar.replaceAll("\\s", "").contains("\"guideCfg\":1.2"), sidecar);
    assertTrue(sidecar.replaceAll("\\s", "").matches("(?s).*\"interval\":\\[0.3,5(\\.0)?].*"), sidecar);
    assertTrue(sidecar.contains("autoguidance w = 1.45 by mnist-guide + CFG 1.2 in σ (0.3, 5]"), sidecar);
    // cleared, then restored from the PNG
    new org.openqa.selenium.support.ui.Select(id("guide")).selectByValue("none");
    id("guide-cfg").clear();
    id("interval").clear();
    ((JavascriptExecutor) browser).executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "fetch(document.getElementById('download').href).then((r) => r.blob()).then((b) => {"
        + "  const dt = new DataTransfer(); dt.items.add(new File([b], 'g.png', {type: 'image/png'}));"
        + "  document.body.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));"
        + "  done(); });");
    waitUpTo(20).until(d -> id("status").getText().contains("settings of g.png restored"));
    assertEquals("mnist-guide", id("guide").getAttribute("value"));
    assertEquals("1.2", id("guide-cfg").getAttribute("value"));
    assertEquals("0.3,5", id("interval").getAttribute("value"));
    new org.openqa.selenium.support.ui.Select(id("guide")).selectByValue("none");
    id("guide-cfg").clear();
    id("interval").clear();
  }

  /** /api/docs: Swagger UI, from the jar, renders every operation of the document. */
  @Test
  void theApiDocsPageRendersEveryOperation() {
    browser.get("http://127.0.0.1:" + server.port() + "/api/docs");
    waitUpTo(30).until(d -> browser.findElements(By.cssSelector(".opblock")).size() == WebServer.ROUTES.size());
    String text = browser.findElement(By.tagName("body")).getText();
    assertTrue(text.contains("/v1/images/generations") && text.contains("/api/jobs/{id}"), text);
    assertTrue(browser.findElements(By.cssSelector(".errors-wrapper")).isEmpty(), "Swagger UI reports errors");
  }

  /**
   * A PNG that the server wrote, dropped on the page, restores the form from the settings inside it
   * (through /api/png-info); a PNG without settings is reported, naming the body.
   */
  @Test
  void droppingAPngTheServerWroteRestoresTheForm() {
    browser.get("http://127.0.0.1:" + server.port() + "/");
    waitUpTo(20).until(d -> browser.findElements(By.cssSelector("#labels option")).size() == 10);
    String drop = "const done = arguments[arguments.length - 1];"
        + "const dropped = (blob) => { const dt = new DataTransfer();"
        + "  dt.items.add(new File([blob], 'x.png', {type: 'image/png'}));"
        + "  document.body.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); };";
    ((JavascriptExecutor) browser).executeAsyncScript(drop
        + "fetch('/api/generate', {method: 'POST', body: JSON.stringify({prompt: 'digit 4', guidance: 3.5,"
        + " sampler: 'ddim', steps: 3, seed: 31, n: 2, negative: 'digit 1', guidanceInterval: [0.5, 20],"
        + " format: 'png'})}).then((r) => r.blob()).then((b) => { dropped(b); done(); });");
    waitUpTo(20).until(d -> id("status").getText().contains("settings of x.png restored"));
    Object[][] want = {{"prompt", "digit 4"}, {"guidance", "3.5"}, {"sampler", "ddim"}, {"steps", "3"},
        {"seed", "31"}, {"count", "2"}, {"negative", "digit 1"}, {"interval", "0.5,20"}};
    for (Object[] w : want) {
      assertEquals(w[1], id((String) w[0]).getAttribute("value"), (String) w[0]);
    }
    assertEquals("3.5", id("guidance-value").getText());
    // a PNG with no settings in it
    ((JavascriptExecutor) browser).executeAsyncScript(drop
        + "const c = document.createElement('canvas'); c.width = c.height = 4;"
        + "c.toBlob((b) => { dropped(b); done(); }, 'image/png');");
    waitUpTo(20).until(d -> id("status").getText().contains("(body)"));
    assertTrue(id("status").getAttribute("class").contains("error"));
  }

  @Test
  void thePageGeneratesPreviewsResamplesWhenTheSliderMovesSweepsAndDrawsTheField() throws IOException {
    browser.get("http://127.0.0.1:" + server.port() + "/");
    // the model's labels are offered as prompts
    waitUpTo(20).until(d -> browser.findElements(By.cssSelector("#labels option")).size() == 10);
    assertEquals("digit 7", browser.findElements(By.cssSelector("#labels option")).get(7).getAttribute("value"));
    assertTrue(id("model").getText().contains("mnist"));
    // the slider starts at the chosen model's own scale (its model.json), and follows the model
    assertEquals("1.45", id("guidance-value").getText());
    var model = new org.openqa.selenium.support.ui.Select(id("model"));
    model.selectByValue("fashion-mnist");
    assertEquals("2", id("guidance-value").getText());
    assertEquals("2", id("guidance").getAttribute("value"));
    model.selectByValue("mnist");
    assertEquals("1.45", id("guidance-value").getText());

    // count every preview the stream delivers
    js("window.previews = 0; new MutationObserver(() => window.previews++)"
        + ".observe(document.getElementById('preview'), {attributes: true, attributeFilter: ['data-step']});");
    WebElement prompt = id("prompt");
    prompt.clear();
    prompt.sendKeys("digit 3");
    WebElement count = id("count");
    count.clear();
    count.sendKeys("8");
    id("generate").click();
    waitUpTo(60).until(d -> browser.findElements(By.cssSelector("#grid img.sample")).size() == 8);
    waitUpTo(10).until(d -> id("status").getText().contains("images of 3"));
    long previews = ((Number) js("return window.previews;")).longValue();
    assertTrue(previews >= 5, "the preview updated " + previews + " times in 10 steps");
    assertEquals("10", id("preview").getAttribute("data-step"));
    String first = browser.findElements(By.cssSelector("#grid img.sample")).get(0).getAttribute("src");
    assertTrue(first.startsWith("data:image/png;base64,"));
    assertTrue(id("download").isDisplayed());
    assertTrue(id("download").getAttribute("href").startsWith("data:image/png"));

    // a prompt the model does not know: the page says so, names the field, and keeps the images
    prompt.clear();
    prompt.sendKeys("digit 11");
    id("generate").click();
    waitUpTo(20).until(d -> id("status").getAttribute("class").contains("error"));
    assertTrue(id("status").getText().contains("(prompt)"), id("status").getText());
    assertEquals(first, browser.findElements(By.cssSelector("#grid img.sample")).get(0).getAttribute("src"));
    prompt.clear();
    prompt.sendKeys("digit 3");

    // a guidance interval that is not two numbers: named by the server, shown by the page
    assertEquals("0.3,5", id("interval").getAttribute("value")); // the model's own, back with the model
    id("interval").clear();
    id("interval").sendKeys("0.3");
    id("generate").click();
    waitUpTo(20).until(d -> id("status").getText().contains("(guidanceInterval)"));
    id("interval").clear();

    // the slider: one notch right, s = 1.45 → 1.5, the same noise drawn again
    id("guidance").sendKeys(Keys.ARROW_RIGHT);
    assertEquals("1.5", id("guidance-value").getText());
    waitUpTo(60).until(d -> id("preview-caption").getText().contains("s = 1.5"));
    String again = browser.findElements(By.cssSelector("#grid img.sample")).get(0).getAttribute("src");
    assertNotEquals(first, again, "moving the slider changed nothing");
    assertEquals(8, browser.findElements(By.cssSelector("#grid img.sample")).size());

    // the sweep view: one row per scale, from the same noise
    WebElement sweepCount = id("sweep-count");
    sweepCount.clear();
    sweepCount.sendKeys("6");
    id("sweep").click();
    waitUpTo(90).until(d -> browser.findElements(By.cssSelector("#sweep-rows .row")).size() == 5);
    List<WebElement> rows = browser.findElements(By.cssSelector("#sweep-rows .row"));
    assertEquals("s = 0", rows.get(0).findElement(By.tagName("span")).getText());
    assertEquals("s = 5", rows.get(4).findElement(By.tagName("span")).getText());
    for (WebElement row : rows) {
      assertEquals(6, row.findElements(By.tagName("img")).size());
    }
    waitUpTo(10).until(d -> id("sweep-status").getText().contains("sweep of 3"));
    assertTrue(id("status").getText().contains("images of 3"), "the sweep wrote over the generate panel's status");

    // the two-pixel world draws its field and follows its own slider
    waitUpTo(30).until(d -> id("toy-status").getText().contains("t = 300"));
    WebElement t = id("toy-t");
    for (int i = 0; i < 5; i++) {
      t.sendKeys(Keys.ARROW_LEFT);
    }
    waitUpTo(30).until(d -> id("toy-status").getText().contains("t = 295"));
    Number inked = (Number) js("const c = document.getElementById('field'), g = c.getContext('2d');"
        + "const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;"
        + "for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;");
    assertTrue(inked.longValue() > 2000, "the field canvas is nearly empty: " + inked + " pixels");

    // the trade-off plot of the shipped model's evaluation is shown
    assertTrue(id("tradeoff-panel").isDisplayed());
    assertTrue((Boolean) js("return document.getElementById('tradeoff').naturalWidth > 100;"));

    File shot = browser.getScreenshotAs(OutputType.FILE);
    Files.createDirectories(Path.of("target"));
    Files.copy(shot.toPath(), Path.of("target/serve-screenshot.png"), StandardCopyOption.REPLACE_EXISTING);
  }
}
