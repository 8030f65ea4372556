package diffuse;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README and the pages under docs/ link to each other and to their pictures with relative links;
 * every one of them must name a file that exists, and the README stays a front page. Runs from the
 * repository root (Maven's basedir).
 */
class DocsLinksTest {
  /** The README's most lines: the rest belongs under docs/. */
  static final int README_MAX_LINES = 250;

  /** {@code ](target)} or {@code ](target "title")}, for links and images alike; {@code <target>} too. */
  private static final Pattern LINK = Pattern.compile("\\]\\(\\s*(<[^>]*>|[^)\\s]+)(?:\\s+\"[^\"]*\")?\\s*\\)");

  /** Markdown files checked: README.md and every *.md under docs/, recursively. */
  static List<Path> markdownFiles() throws IOException {
    List<Path> files = new ArrayList<>();
    files.add(Path.of("README.md"));
    Path docs = Path.of("docs");
    if (Files.isDirectory(docs)) {
      try (Stream<Path> walk = Files.walk(docs)) {
        walk.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".md")).sorted()
            .forEach(files::add);
      }
    }
    return files;
  }

  /** The relative link and image targets of {@code markdown}, without fragments; fenced code is skipped. */
  static List<String> relativeTargets(String markdown) {
    List<String> targets = new ArrayList<>();
    boolean fenced = false;
    for (String line : markdown.split("\n", -1)) {
      String stripped = line.strip();
      if (stripped.startsWith("```") || stripped.startsWith("~~~")) {
        fenced = !fenced;
        continue;
      }
      if (fenced) {
        continue;
      }
      Matcher m = LINK.matcher(line);
      while (m.find()) {
        String target = m.group(1);
        if (target.startsWith("<") && target.endsWith(">")) {
          target = target.substring(1, target.length() - 1).strip();
        }
        if (target.isEmpty() || target.startsWith("#") || target.startsWith("http:") || target.startsWith("https:")
            || target.startsWith("mailto:")) {
          continue;
        }
        int hash = target.indexOf('#');
        String file = hash >= 0 ? target.substring(0, hash) : target;
        if (!file.isEmpty()) {
          targets.add(file);
        }
      }
    }
    return targets;
  }

  @Test
  void everyRelativeLinkAndImageOfTheReadmeAndTheDocsNamesAFileThatExists() throws IOException {
    List<String> broken = new ArrayList<>();
    int checked = 0;
    for (Path file : markdownFiles()) {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      Path folder = file.toAbsolutePath().getParent();
      for (String target : relativeTargets(text)) {
        checked++;
        if (!Files.exists(folder.resolve(target).normalize())) {
          broken.add(file + ": " + target);
        }
      }
    }
    assertTrue(checked > 0, "no relative links found in README.md and docs/: is the working directory the repository root?");
    assertTrue(broken.isEmpty(), broken.size() + " broken links (file: target):\n" + String.join("\n", broken));
  }

  @Test
  void theReadmeIsAFrontPageOfAtMost250Lines() throws IOException {
    int lines = Files.readAllLines(Path.of("README.md"), StandardCharsets.UTF_8).size();
    assertTrue(lines <= README_MAX_LINES,
        "README.md has " + lines + " lines, more than " + README_MAX_LINES + ": move the details to a page under docs/");
  }
}
