package diffuse.eval;

import diffuse.model.ClassifierConfig;
import java.util.List;

/**
 * What {@code classifier.json} records about an evaluation classifier.
 *
 * @param architecture the CNN
 * @param labels class names, index = label
 * @param dataset what it was trained on
 * @param testAccuracy accuracy on the data set's test split
 * @param epochs passes over the training data
 * @param trainSeconds training wall time
 * @param command the command that trained it
 * @param accuracyOn what {@code testAccuracy} was measured on (null in files written before this was
 *     recorded: the test split)
 * @param savedModel the subdirectory holding the SavedModel (null: {@code saved_model}, the layout
 *     before versioned saves)
 */
public record ClassifierInfo(ClassifierConfig architecture, List<String> labels, String dataset,
    double testAccuracy, int epochs, double trainSeconds, String command, String accuracyOn, String savedModel) {

  /** The SavedModel directory's name inside the classifier directory. */
  public String savedModelDir() {
    return savedModel == null ? "saved_model" : savedModel;
  }

  public ClassifierInfo withAccuracy(double accuracy) {
    return new ClassifierInfo(architecture, labels, dataset, accuracy, epochs, trainSeconds, command, accuracyOn,
        savedModel);
  }

  public ClassifierInfo withSavedModel(String name) {
    return new ClassifierInfo(architecture, labels, dataset, testAccuracy, epochs, trainSeconds, command, accuracyOn,
        name);
  }
}
