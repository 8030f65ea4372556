package diffuse.prompt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Maps a text prompt to one class label of a model. A prompt names a label: for digit models "digit
 * 7", "7", "seven", "a handwritten 7", "sevens"; for others the label names in model.json
 * ("sneaker", "ankle boots", "a photo of a bag"). Matching ignores case, punctuation, articles, a few
 * filler words ("digit", "handwritten", "picture of") and plural endings; it never picks a label
 * other than the one named. Anything else is a {@link PromptException} listing the labels.
 */
public final class Prompts {
  private static final Set<String> FILLER = Set.of("a", "an", "the", "some", "of", "digit", "digits",
      "number", "numbers", "handwritten", "hand", "written", "picture", "image", "photo", "drawing",
      "sample", "samples", "please", "draw", "generate", "make", "show", "me", "single");
  private static final Map<String, String> NUMBER_WORDS = Map.of("zero", "0", "one", "1", "two", "2",
      "three", "3", "four", "4", "five", "5", "six", "6", "seven", "7", "eight", "8", "nine", "9");

  private static final Set<String> ARTICLES = Set.of("a", "an", "the");

  private final List<String> labels;
  /** Per label: its names with only articles dropped (tier 1), and with every filler word dropped (tier 2). */
  private final List<Set<String>> exactForms = new ArrayList<>();
  private final List<Set<String>> looseForms = new ArrayList<>();

  /** @param labels the model's label names, index = label */
  public Prompts(List<String> labels) {
    this.labels = List.copyOf(labels);
    for (String label : labels) {
      Set<String> exact = new LinkedHashSet<>();
      Set<String> loose = new LinkedHashSet<>();
      List<String> names = new ArrayList<>(List.of(label));
      names.addAll(List.of(label.split("/")));
      for (String name : names) {
        exact.add(normalize(name, false, ARTICLES));
        loose.add(normalize(name, false, FILLER));
      }
      exact.remove("");
      loose.remove("");
      exactForms.add(exact);
      looseForms.add(loose);
    }
  }

  /**
   * The label index a prompt names. A prompt that is a label's name (up to case, punctuation,
   * articles and plurals) names that label, even when another label is the same name without a
   * filler word ("picture frame" next to "frame"); otherwise filler words are dropped from the
   * prompt and from the labels, and the result must name exactly one label.
   */
  public int resolve(String prompt) {
    String exact = normalize(prompt, true, ARTICLES);
    String loose = normalize(prompt, true, FILLER);
    if (loose.isEmpty() && exact.isEmpty()) {
      throw new PromptException("empty prompt; " + validLabels());
    }
    List<Integer> hits = matches(exactForms, exact);
    if (hits.isEmpty()) {
      hits = matches(looseForms, loose);
    }
    if (hits.size() == 1) {
      return hits.get(0);
    }
    if (hits.isEmpty()) {
      throw new PromptException("unknown prompt '" + prompt.strip() + "'; " + validLabels());
    }
    throw new PromptException("ambiguous prompt '" + prompt.strip() + "' matches "
        + hits.stream().map(labels::get).toList() + "; " + validLabels());
  }

  private static List<Integer> matches(List<Set<String>> forms, String p) {
    List<Integer> hits = new ArrayList<>();
    if (p.isEmpty()) {
      return hits;
    }
    for (int i = 0; i < forms.size(); i++) {
      if (forms.get(i).contains(p)) {
        hits.add(i);
      }
    }
    return hits;
  }

  /** The label names. */
  public List<String> labels() {
    return labels;
  }

  private String validLabels() {
    boolean digits = labels.stream().allMatch(l -> l.matches("\\d"));
    String list = String.join(", ", labels);
    return digits ? "valid labels: " + list + " (e.g. \"digit 7\", \"7\", \"seven\")"
        : "valid labels: " + list;
  }

  /** Lower-case words, punctuation and {@code drop} words removed, plurals made singular; for prompts also number words. */
  private String normalize(String text, boolean prompt, Set<String> drop) {
    String s = text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", " ").trim();
    if (s.isEmpty()) {
      return s;
    }
    List<String> words = new ArrayList<>();
    for (String w : s.split(" ")) {
      if (drop.contains(w)) {
        continue;
      }
      words.add(singular(prompt && NUMBER_WORDS.containsKey(w) ? NUMBER_WORDS.get(w) : numberPlural(w)));
    }
    return String.join(" ", words);
  }

  private static String numberPlural(String w) {
    // "sevens" -> "7", "7s" -> "7"
    if (w.endsWith("s") && NUMBER_WORDS.containsKey(w.substring(0, w.length() - 1))) {
      return NUMBER_WORDS.get(w.substring(0, w.length() - 1));
    }
    if (w.matches("\\d+s")) {
      return w.substring(0, w.length() - 1);
    }
    if (NUMBER_WORDS.containsKey(w)) {
      return NUMBER_WORDS.get(w);
    }
    return w;
  }

  private static String singular(String w) {
    if (w.length() > 3 && w.endsWith("ies")) {
      return w.substring(0, w.length() - 3) + "y";
    }
    if (w.length() > 3 && (w.endsWith("ses") || w.endsWith("shes") || w.endsWith("ches") || w.endsWith("xes"))) {
      return w.substring(0, w.length() - 2);
    }
    if (w.length() > 2 && w.endsWith("s") && !w.endsWith("ss")) {
      return w.substring(0, w.length() - 1);
    }
    return w;
  }

  /** Reads a prompt file: one prompt per line; blank lines and '#' comments are skipped. */
  public static List<String> readFile(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new PromptException("cannot read prompt file " + file + ": " + e.getMessage());
    }
    List<String> prompts = new ArrayList<>();
    for (String line : lines) {
      int hash = line.indexOf('#');
      String p = (hash >= 0 ? line.substring(0, hash) : line).strip();
      if (!p.isEmpty()) {
        prompts.add(p);
      }
    }
    if (prompts.isEmpty()) {
      throw new PromptException("prompt file " + file + " holds no prompts");
    }
    return prompts;
  }
}
