package diffuse.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffuseException;
import diffuse.sampling.SamplerKind;
import org.junit.jupiter.api.Test;

/** Method specs as {@code evaluate --method} reads them. */
class SamplingRequestTest {
  @Test
  void aMethodSpecSetsSamplerStepsAndGuidance() {
    SamplingRequest r = SamplingRequest.defaults().withMethod("ddim/25/rescale=0.7");
    assertEquals(SamplerKind.DDIM, r.sampler().kind());
    assertEquals(25, r.sampler().steps());
    assertEquals(0.7, r.guidance().rescale());
    assertNull(r.guidance().guideModel());
  }

  /** A guide's directory keeps its slashes: guide= takes the rest of the spec, but for a trailing guidecfg=. */
  @Test
  void theGuideModelsDirectoryMayHoldSlashes() {
    SamplingRequest r = SamplingRequest.defaults().withMethod("dpm++2m/10/guide=runs/small/guide-1");
    assertEquals("runs/small/guide-1", r.guidance().guideModel());
    assertEquals(10, r.sampler().steps());
    assertNull(r.guidance().guideCfg());
    SamplingRequest b = SamplingRequest.defaults().withMethod("dpm++2m/guide=/abs/dir/guidecfg=1.25");
    assertEquals("/abs/dir", b.guidance().guideModel());
    assertEquals(1.25, b.guidance().guideCfg());
    SamplingRequest c = SamplingRequest.defaults().withMethod("dpm++2m/interval=1-5/guide=a/b/guideinterval=2-1000/guidecfg=1.2");
    assertEquals("a/b", c.guidance().guideModel());
    assertEquals(java.util.List.of(2.0, 1000.0), c.guidance().guideInterval());
    assertEquals(java.util.List.of(1.0, 5.0), c.guidance().interval());
    assertEquals(1.2, c.guidance().guideCfg());
    assertEquals("method", assertThrows(DiffuseException.class,
        () -> SamplingRequest.defaults().withMethod("dpm++2m/guide=a/guideinterval=2")).field());
    assertEquals("guideModel", assertThrows(DiffuseException.class,
        () -> SamplingRequest.defaults().withMethod("dpm++2m/rescale=0.5/guide=a/b")).field());
    assertEquals("method", assertThrows(DiffuseException.class,
        () -> SamplingRequest.defaults().withMethod("dpm++2m/bogus=1")).field());
  }

  /** A method's steps are 1 or more: 0 is not "the sampler's default", and too many digits are no crash. */
  @Test
  void aMethodsStepsAreOneOrMore() {
    for (String bad : new String[] {"ddim/0", "ddim/99999999999", "ddim/0000"}) {
      DiffuseException e = assertThrows(DiffuseException.class, () -> SamplingRequest.defaults().withMethod(bad), bad);
      assertEquals("method", e.field(), bad);
      assertTrue(e.getMessage().contains("steps must be a whole number from 1"), e.getMessage());
    }
    assertEquals(7, SamplingRequest.defaults().withMethod("ddim/007").sampler().steps());
  }
}
