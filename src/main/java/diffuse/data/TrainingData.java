package diffuse.data;

import java.util.List;

/** Labelled training samples, read a batch at a time: images ({@code Dataset}) or toy points. */
public interface TrainingData {
  /** What it is, as recorded in model.json ("mnist", "toy:spirals", ...). */
  String name();

  int size();

  /** Values per sample. */
  int sampleSize();

  /** Label of every sample, 0 … numClasses−1. */
  int[] labels();

  List<String> labelNames();

  /** Copies samples {@code indices} into {@code out} in data units. */
  void fill(int[] indices, float[] out);
}
