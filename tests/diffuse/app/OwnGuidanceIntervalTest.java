package diffuse.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import diffuse.api.ModelException;
import diffuse.io.Json;
import diffuse.io.ModelInfo;
import diffuse.sampling.Guidance;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A model's own guidance interval ({@code sampling.guidanceInterval} in model.json): which requests it applies
 * to, how a request says "every step", and how model.json carries it.
 */
class OwnGuidanceIntervalTest {
  static final List<Double> OWN = List.of(0.3, 5.0);

  @Test
  void aRequestNamingNoIntervalGetsTheModelsOwnForEveryMethodThatRunsItsCfg() {
    assertEquals(OWN, LoadedModel.withOwnInterval(Guidance.PLAIN, OWN).interval());
    assertEquals(OWN, LoadedModel.withOwnInterval(Guidance.PLAIN.withRescale(0.7), OWN).interval());
    // CFG blended into autoguidance runs in it; autoguidance alone has no CFG to limit, a custom rule is its own
    assertEquals(OWN, LoadedModel.withOwnInterval(Guidance.autoguidance("g", 1.2), OWN).interval());
    assertNull(LoadedModel.withOwnInterval(Guidance.autoguidance("g", null), OWN).interval());
    assertNull(LoadedModel.withOwnInterval(Guidance.custom("Mine"), OWN).interval());
    // a model without one: every step
    assertNull(LoadedModel.withOwnInterval(Guidance.PLAIN, null).interval());
  }

  @Test
  void aRequestsOwnIntervalOrEveryStepStaysAndResolvingTwiceChangesNothing() {
    assertEquals(List.of(1.0, 2.0), LoadedModel.withOwnInterval(Guidance.interval(1, 2), OWN).interval());
    Guidance everyStep = Guidance.PLAIN.withInterval(List.of());
    Guidance resolved = LoadedModel.withOwnInterval(everyStep, OWN);
    assertEquals(List.of(), resolved.interval());
    assertEquals(resolved, LoadedModel.withOwnInterval(resolved, OWN));
    assertEquals(Guidance.PLAIN.guider(), resolved.guider(), "every step is plain CFG");
    Guidance own = LoadedModel.withOwnInterval(Guidance.PLAIN, OWN);
    assertEquals(own, LoadedModel.withOwnInterval(own, OWN));
    // the sidecar records every step as no interval (a replay reads none so: CliTest)
    assertNull(GenerateService.recorded(resolved, resolved.guider()));
  }

  @Test
  void modelJsonCarriesItAndRefusesANonsensicalOne() {
    ModelInfo.Sampling s = new ModelInfo.Sampling(1.45, OWN);
    assertEquals(s, Json.fromJson(Json.toJson(s), ModelInfo.Sampling.class));
    assertNull(Json.fromJson("{\"guidance\": 1.5}", ModelInfo.Sampling.class).guidanceInterval(),
        "a model.json of before has none: every step");
    String why = assertThrows(ModelException.class, () -> new ModelInfo.Sampling(1.5, List.of(5.0, 0.3))).getMessage();
    org.junit.jupiter.api.Assertions.assertTrue(why.startsWith("sampling.guidanceInterval must be"), why);
    assertThrows(ModelException.class, () -> new ModelInfo.Sampling(1.5, List.of(0.3)));
  }
}
