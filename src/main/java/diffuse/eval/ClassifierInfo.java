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
 */
public record ClassifierInfo(ClassifierConfig architecture, List<String> labels, String dataset,
    double testAccuracy, int epochs, double trainSeconds, String command) {}
