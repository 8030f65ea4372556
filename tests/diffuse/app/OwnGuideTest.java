package diffuse.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffuseException;
import diffuse.api.ModelException;
import diffuse.io.Json;
import diffuse.io.ModelInfo;
import diffuse.sampling.Guidance;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A model's own autoguidance ({@code sampling.guideModel}, {@code guideCfg}, {@code guideInterval} in
 * model.json): which requests it fills, how a request says "no guide", and how model.json carries it.
 */
class OwnGuideTest {
  static final Path DIR = Path.of("models", "mnist");
  static final ModelInfo.Sampling OWN = new ModelInfo.Sampling(2.0, List.of(0.3, 5.0), "mnist-guide", 1.2,
      List.of(0.5, 1000.0));

  static Guidance resolve(Guidance g) {
    return LoadedModel.withOwnInterval(LoadedModel.withOwnGuide(g, OWN, DIR), OWN.guidanceInterval());
  }

  @Test
  void aRequestNamingNoGuideGetsTheModelsOwnBesideIt() {
    Guidance r = resolve(Guidance.PLAIN);
    assertEquals(Path.of("models", "mnist-guide").toString(), r.guideModel());
    assertEquals(1.2, r.guideCfg());
    assertEquals(List.of(0.5, 1000.0), r.guideInterval());
    assertEquals(List.of(0.3, 5.0), r.interval(), "the blended CFG in the model's own interval");
    assertEquals(r, resolve(r), "resolving twice changes nothing");
    // the request's own CFG parts shape the blended CFG
    Guidance rescaled = resolve(Guidance.PLAIN.withRescale(0.7).withInterval(1, 5));
    assertEquals(List.of(1.0, 5.0), rescaled.interval());
    assertEquals(0.7, rescaled.rescale());
    assertTrue(rescaled.isAutoguidance());
  }

  @Test
  void aRequestsOwnGuideNoGuideOrOwnRuleStays() {
    Guidance none = resolve(Guidance.PLAIN.withGuideModel(Guidance.NO_GUIDE));
    assertFalse(none.isAutoguidance());
    assertEquals(List.of(0.3, 5.0), none.interval(), "plain CFG in the model's own interval");
    assertEquals(Guidance.interval(0.3, 5).guider(), none.guider());
    assertEquals(none, resolve(none), "no guide stays no guide when resolved again");
    Guidance other = resolve(Guidance.autoguidance("elsewhere", null));
    assertEquals("elsewhere", other.guideModel());
    assertNull(other.guideCfg());
    assertNull(other.guideInterval());
    assertFalse(resolve(Guidance.custom("Mine")).isAutoguidance());
    // a model without a guide of its own
    assertFalse(LoadedModel.withOwnGuide(Guidance.PLAIN, new ModelInfo.Sampling(1.45, List.of(0.3, 5.0)), DIR)
        .isAutoguidance());
    assertEquals("guideCfg", assertThrows(DiffuseException.class,
        () -> Guidance.PLAIN.withGuideModel(Guidance.NO_GUIDE).withGuide(Guidance.NO_GUIDE, 1.2, null)).field());
  }

  @Test
  void modelJsonCarriesItAndRefusesANonsensicalOne() {
    assertEquals(OWN, Json.fromJson(Json.toJson(OWN), ModelInfo.Sampling.class));
    assertNull(Json.fromJson("{\"guidance\": 1.5}", ModelInfo.Sampling.class).guideModel(), "a model.json of before");
    assertThrows(ModelException.class, () -> new ModelInfo.Sampling(2.0, null, null, 1.2, null));
    assertThrows(ModelException.class, () -> new ModelInfo.Sampling(2.0, null, "none", null, null));
    String why = assertThrows(ModelException.class,
        () -> new ModelInfo.Sampling(2.0, null, "g", null, List.of(5.0, 1.0))).getMessage();
    assertTrue(why.startsWith("sampling.guideInterval must be"), why);
  }
}
