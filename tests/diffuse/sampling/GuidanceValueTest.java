package diffuse.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffuseException;
import diffuse.io.Json;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Guidance}: the one guidance value, its checks, its JSON form and the guider it stands for. */
class GuidanceValueTest {
  private static String field(Runnable r) {
    return assertThrows(DiffuseException.class, r::run).field();
  }

  @Test
  void itsJsonFormIsTheSidecarsAndReadsBackEqual() {
    Guidance own = Guidance.interval(0.5, 20).withRescale(0.7).withNegative("v").withNegativeLabel(1);
    String json = Json.toJson(own);
    assertTrue(json.contains("\"interval\": [\n    0.5,\n    20.0\n  ]") || json.contains("\"interval\":[0.5,20.0]"), json);
    assertEquals(own, Json.fromJson(json, Guidance.class));
    Guidance auto = Guidance.autoguidance("models/mnist-guide", 1.25).withGuideCheckpoint("ckpt-00000100");
    assertEquals(auto, Json.fromJson(Json.toJson(auto), Guidance.class));
    assertEquals(Guidance.interval(1, 2), Guidance.interval(1, 2), "a value: equal settings, equal guidance");
  }

  @Test
  void contradictionsFailNamingTheField() {
    assertEquals("guidanceInterval", field(() -> Guidance.interval(2, 1)));
    assertEquals("guidanceInterval", field(() -> Guidance.interval(-1, 2)));
    assertEquals("guidanceInterval", field(() -> new Guidance(Arrays.asList(1.0, null), null, null, null, null,
        null, null, null, null, null, null)));
    assertEquals("guidanceInterval", field(() -> new Guidance(List.of(1.0), null, null, null, null, null, null, null,
        null, null, null)));
    assertEquals("rescale", field(() -> Guidance.PLAIN.withRescale(1.5)));
    assertEquals("apgNorm", field(() -> new Guidance(null, null, null, null, null, 2.0, null, null, null, null, null)));
    assertEquals("apgNorm", field(() -> Guidance.PLAIN.withApg(0, 0.0)));
    assertEquals("apg", field(() -> Guidance.PLAIN.withRescale(0.5).withApg(0, null)));
    assertEquals("guideCfg", field(() -> new Guidance(null, null, null, null, null, null, null, null, 2.0, null, null)));
    assertEquals("guideModel", field(() -> Guidance.autoguidance("g", null).withRescale(0.5)));
    assertEquals("guideModel", field(() -> Guidance.autoguidance("g", null).withInterval(0.3, 5)));
    assertEquals("guideInterval", field(() -> Guidance.PLAIN.withGuideInterval(List.of(0.3, 5.0))));
    assertEquals("guideInterval", field(() -> Guidance.autoguidance("g", null).withGuideInterval(List.of(5.0, 2.0))));
    assertEquals("guideInterval", field(() -> Guidance.autoguidance("g", null).withGuideInterval(List.of(1.0))));
    Guidance blend = Guidance.autoguidance("g", 1.5).withInterval(0.3, 5); // the blended CFG's interval
    assertEquals(Guidance.interval(0.3, 5).guider(), blend.ownGuider());
    // what a grid's title says
    assertEquals("guidance s = 1.5", Guidance.PLAIN.describeScale(1.5));
    assertEquals("guidance s = 1.5 in σ (0.3, 5]", Guidance.interval(0.3, 5).describeScale(1.5));
    assertEquals("guidance s = 3, rescale 0.7, negative 'digit 1'",
        Guidance.PLAIN.withRescale(0.7).withNegative("digit 1").describeScale(3));
    assertEquals("guidance s = 2, APG η 0 r 15", Guidance.PLAIN.withApg(0, 15.0).describeScale(2));
    // the same words without the scale name an evaluation's method in frontier legends
    assertEquals("CFG", Guidance.PLAIN.describe());
    assertEquals("CFG in σ (0.3, 5]", Guidance.interval(0.3, 5).describe());
    assertEquals("autoguidance by g + CFG 1.5 in σ (0.3, 5]", blend.describe());
    assertEquals("Mine s = 2", Guidance.custom("Mine").describeScale(2));
    assertEquals("w", blend.scaleSymbol(), "a sweep's rows under autoguidance are captioned w = …");
    assertEquals("s", Guidance.interval(0.3, 5).scaleSymbol());
    assertEquals("autoguidance w = 2 by mnist-guide", Guidance.autoguidance("models/mnist-guide", null).describeScale(2));
    assertEquals("autoguidance w = 2 by /", Guidance.autoguidance("/", null).describeScale(2), "a path without a name");
    assertEquals("autoguidance w = 2 by g + CFG 1.5 in σ (0.3, 5]", blend.describeScale(2.0));
    assertEquals("autoguidance w = 2 by g in σ (2, 1000] + CFG 1.5 in σ (1, 5]", Guidance.autoguidance("g", 1.5)
        .withInterval(1, 5).withGuideInterval(List.of(2.0, 1000.0)).describeScale(2.0));
    assertEquals("customGuidance", field(() -> Guidance.custom("Mine").withInterval(0, 1)));
  }

  @Test
  void itStandsForTheModelsOwnGuider() {
    assertTrue(Guidance.PLAIN.isPlain());
    assertEquals(GuidanceMethod.PLAIN, Guidance.PLAIN.guider());
    assertEquals(GuidanceMethod.PLAIN, Guidance.PLAIN.withRescale(0.0).guider(), "rescale 0 is plain CFG");
    assertEquals(new GuidanceMethod(0.5, 20, 0.7, 3, null),
        Guidance.interval(0.5, 20).withRescale(0.7).withNegative("x").withNegativeLabel(3).guider());
    assertEquals(GuidanceMethod.PLAIN.withApg(new GuidanceMethod.Apg(0.25, Double.POSITIVE_INFINITY)),
        Guidance.PLAIN.withApg(0.25, null).guider());
    assertThrows(IllegalStateException.class, () -> Guidance.PLAIN.withNegative("x").guider(),
        "a negative prompt must be resolved to a label first");
    assertThrows(IllegalStateException.class, () -> Guidance.autoguidance("g", null).guider());
    assertFalse(Guidance.autoguidance("g", null).isPlain());
  }
}
