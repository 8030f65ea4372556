package diffuse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import diffuse.app.EvaluateService;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrontierCommandTest {
  private static EvaluateService.Stored stored(String model, int n) {
    return new EvaluateService.Stored(Path.of("eval"), model, "dpm++2m 10", n, List.of(), List.of());
  }

  /** Evaluations of several models (an old and a new one on one frontier) are told apart by the model's name. */
  @Test
  void aCurveIsNamedAfterItsModelWhenTheModelsDiffer() {
    assertEquals("dpm++2m 10", FrontierCommand.curveName(stored("/m/fashion-mnist", 200), true, true));
    assertEquals("fashion-mnist: dpm++2m 10", FrontierCommand.curveName(stored("/m/fashion-mnist/", 200), true, false));
    assertEquals("fashion-mnist: dpm++2m 10, n = 500",
        FrontierCommand.curveName(stored("models/fashion-mnist", 500), false, false));
    assertEquals("dpm++2m 10", FrontierCommand.curveName(stored(null, 200), true, false), "older files name no model");
  }
}
