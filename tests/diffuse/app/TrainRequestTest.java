package diffuse.app;

import diffuse.api.Defaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import diffuse.api.DiffuseException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The train request fails fast, names the field at fault, and leaves what was not given unset. */
class TrainRequestTest {
  static DiffuseException fails(Runnable r) {
    return assertThrows(DiffuseException.class, r::run);
  }

  @Test
  void badValuesNameTheirField() {
    Path out = Path.of("runs/x");
    assertEquals("epochs", fails(() -> TrainRequest.newRun("mnist", out).epochs(0).build()).field());
    assertEquals("epochs", fails(() -> TrainRequest.newRun("mnist", out).epochs(Double.NaN).build()).field());
    assertEquals("checkpointEvery", fails(() -> TrainRequest.newRun("mnist", out).checkpointEvery(-1L).build()).field());
    assertEquals("limit", fails(() -> TrainRequest.newRun("mnist", out).limit(0).build()).field());
    assertEquals("timesteps", fails(() -> TrainRequest.newRun("mnist", out).timesteps(1).build()).field());
    assertEquals("dataset", fails(() -> TrainRequest.newRun(null, out).build()).field());
    assertEquals("out", fails(() -> TrainRequest.newRun("mnist", null).build()).field());
    // a new run's training settings and network are checked at build(), before any data is read
    assertEquals("batchSize", fails(() -> TrainRequest.newRun("mnist", out).batchSize(0).build()).field());
    assertEquals("lr", fails(() -> TrainRequest.newRun("mnist", out).lr(-1.0).build()).field());
    assertEquals("pUncond", fails(() -> TrainRequest.newRun("mnist", out).pUncond(2.0).build()).field());
    assertEquals("emaDecay", fails(() -> TrainRequest.newRun("mnist", out).emaDecay(1.0).build()).field());
    DiffuseException widths = fails(() -> TrainRequest.newRun("mnist", out).widths(List.of(30, 64)).build());
    assertEquals("widths", widths.field());
    assertEquals("every width must be a positive multiple of groups=8, got [30, 64]", widths.getMessage());
    assertEquals("groups", fails(() -> TrainRequest.newRun("mnist", out).groups(3).build()).field());
    assertEquals("widths", fails(() -> TrainRequest.newRun("mnist", out).widths(List.of()).build()).field());
    assertEquals("embedDim", fails(() -> TrainRequest.newRun("mnist", out).embedDim(7).build()).field());
    assertEquals("resBlocks", fails(() -> TrainRequest.newRun("mnist", out).resBlocks(0).build()).field());
    assertEquals(List.of(12, 24), TrainRequest.newRun("mnist", out).widths(List.of(12, 24)).groups(4).build().widths());
    DiffuseException both = fails(() -> TrainRequest.resume(out).out(Path.of("elsewhere")).build());
    assertEquals("out", both.field());
    assertTrue(both.getMessage().startsWith("out must not be given"), both.getMessage());
    assertEquals(DiffuseException.Code.BAD_VALUE, both.code());
  }

  @Test
  void unsetSettingsStayUnsetSoAResumedRunKeepsItsOwn() {
    TrainRequest r = TrainRequest.resume(Path.of("runs/x")).epochs(7).build();
    assertTrue(r.resuming());
    assertEquals(7, r.epochs());
    assertNull(r.batchSize());
    assertNull(r.lr());
    assertNull(r.widths());
    assertNull(r.checkpointEvery());
    TrainRequest fresh = TrainRequest.newRun("mnist", Path.of("runs/y")).widths(List.of(8, 16)).build();
    assertEquals(Defaults.TRAIN_EPOCHS, fresh.epochs());
    assertEquals(List.of(8, 16), fresh.widths());
  }

  /** A new run's defaults are the shipped models' recipe; each part can be turned off. */
  @Test
  void aNewRunDefaultsToTheShippedRecipe() {
    TrainRequest fresh = TrainRequest.newRun("mnist", Path.of("runs/y")).build();
    var s = fresh.settings();
    assertEquals(diffuse.sampling.Prediction.V, s.target());
    assertEquals(Defaults.TRAIN_P_MEAN, s.pMean());
    assertEquals(Defaults.TRAIN_P_STD, s.pStd());
    assertTrue(fresh.adaGnOrDefault());
    assertEquals(0.8, TrainRequest.newRun("mnist", Path.of("runs/y")).pStd(0.8).build().settings().pStd());
    assertEquals(Defaults.TRAIN_P_MEAN, TrainRequest.newRun("mnist", Path.of("runs/y")).pStd(0.8).build().settings().pMean());
    TrainRequest plain = TrainRequest.newRun("mnist", Path.of("runs/y")).prediction(diffuse.sampling.Prediction.EPS)
        .scaleShiftNorm(false).uniformT(true).build();
    assertEquals(diffuse.sampling.Prediction.EPS, plain.settings().target());
    assertNull(plain.settings().pMean());
    assertNull(plain.settings().pStd());
    assertTrue(!plain.adaGnOrDefault());
    assertEquals("uniformT", fails(() -> TrainRequest.newRun("mnist", Path.of("runs/y")).uniformT(true).pMean(0.0)
        .build()).field());
  }

  @Test
  void aConflictNamesEveryFieldInTheCallersWords() {
    var c = new TrainService.SettingsConflict("runs/x/model.json", List.of(
        new TrainService.Conflict("lr", 0.5, 0.001), new TrainService.Conflict("batchSize", 64, 128)));
    assertEquals("lr", c.field());
    assertEquals("a resumed run keeps its settings (runs/x/model.json): lr 0.5 differs from the run's 0.001,"
        + " batchSize 64 differs from the run's 128; leave them out, or start a new run", c.getMessage());
    assertTrue(c.describe(f -> "--" + f).contains("--batchSize 64 differs"));
  }

  @Test
  void folderImageSizeOnlyForFolders() {
    assertEquals(Defaults.TRAIN_FOLDER_IMAGE_SIZE,
        TrainService.folderImageSize(diffuse.data.DatasetSpec.parse("mnist"), null));
    assertEquals(16, TrainService.folderImageSize(diffuse.data.DatasetSpec.parse("folder:/tmp/x"), 16));
    assertEquals("imageSize", fails(() -> TrainService.folderImageSize(diffuse.data.DatasetSpec.parse("mnist"), 16)).field());
  }
}
