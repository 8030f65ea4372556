package diffuse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The class-data sharing archive of the short commands: when it is written, checked, used and refused. */
class ClassDataArchiveTest {
  @TempDir Path tmp;

  /** What the archived JVM runs in {@link #aDumpedArchiveIsCheckedThenInstalledAndATruncatedOneIsNeverUsed}. */
  public static final class Hello {
    public static void main(String[] args) {
      System.out.println("hello " + java.util.List.of(args));
    }
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** A jar holding {@link Hello} (CDS archives classes from jars, not from directories). */
  private Path helloJar() throws IOException {
    Path jar = tmp.resolve("hello.jar");
    String entry = Hello.class.getName().replace('.', '/') + ".class";
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream j = new JarOutputStream(out, new Manifest());
        InputStream in = Hello.class.getClassLoader().getResourceAsStream(entry)) {
      j.putNextEntry(new JarEntry(entry));
      in.transferTo(j);
      j.closeEntry();
    }
    return jar;
  }

  private static int run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return p.waitFor();
  }

  @Test
  void theNameChangesWithTheJvmAndWithAnyClassPathEntrysSizeOrTimeAndOnlyThen() throws IOException {
    Path a = Files.writeString(tmp.resolve("a.jar"), "one");
    Path b = Files.writeString(tmp.resolve("b.jar"), "two");
    String k = ClassDataArchive.key("/jdk", "17.0.15", List.of(a, b));
    assertEquals(k, ClassDataArchive.key("/jdk", "17.0.15", List.of(a, b)));
    assertTrue(k.matches("diffuse-[0-9a-f]{16}"), k);
    assertNotEquals(k, ClassDataArchive.key("/jdk", "17.0.16", List.of(a, b)));
    assertNotEquals(k, ClassDataArchive.key("/other-jdk", "17.0.15", List.of(a, b)));
    assertNotEquals(k, ClassDataArchive.key("/jdk", "17.0.15", List.of(b, a)));
    Files.setLastModifiedTime(b, FileTime.fromMillis(Files.getLastModifiedTime(b).toMillis() - 5000));
    String touched = ClassDataArchive.key("/jdk", "17.0.15", List.of(a, b));
    assertNotEquals(k, touched);
    FileTime t = Files.getLastModifiedTime(b);
    Files.writeString(b, "two, rebuilt");
    Files.setLastModifiedTime(b, t);
    assertNotEquals(touched, ClassDataArchive.key("/jdk", "17.0.15", List.of(a, b)), "same time, other size");
  }

  @Test
  void theJarsThatAJarsManifestNamesCountAsClassPath() throws IOException {
    Path lib = Files.createDirectories(tmp.resolve("lib"));
    Files.writeString(lib.resolve("dep.jar"), "dep");
    Manifest m = new Manifest();
    m.getMainAttributes().putValue("Manifest-Version", "1.0");
    m.getMainAttributes().putValue("Class-Path", "lib/dep.jar lib/gone.jar");
    Path app = tmp.resolve("app.jar");
    try (OutputStream out = Files.newOutputStream(app); JarOutputStream j = new JarOutputStream(out, m)) {
      j.putNextEntry(new JarEntry("x.txt"));
      j.closeEntry();
    }
    assertEquals(List.of(app, lib.resolve("dep.jar"), lib.resolve("gone.jar")),
        ClassDataArchive.withManifestClassPath(List.of(app)));
  }

  @Test
  void nothingIsUsedUntilAnArchiveIsInstalledWithItsSize() throws IOException {
    ClassDataArchive cds = new ClassDataArchive(tmp, "diffuse-0123456789abcdef");
    assertFalse(cds.usable(), "nothing there");
    Files.write(cds.archive(), new byte[100]);
    assertFalse(cds.usable(), "an archive without its size file was never checked");
    Files.writeString(cds.sizeFile(), "100");
    assertTrue(cds.usable());
    Files.write(cds.archive(), new byte[60]);
    assertFalse(cds.usable(), "truncated: mapping it would kill the JVM");
    Files.writeString(cds.sizeFile(), "garbage");
    assertFalse(cds.usable());
  }

  @Test
  void anArchiveThatTheJvmCannotMapIsDeletedNotInstalled() throws IOException {
    ClassDataArchive cds = new ClassDataArchive(tmp, "diffuse-00000000000000aa");
    Path dump = cds.newDumpPath();
    Files.write(dump, "not an archive at all".getBytes());
    assertFalse(cds.install(dump, List.of(java()), List.of("-version")));
    assertFalse(Files.exists(dump), "the bad dump is gone");
    assertFalse(cds.usable());
    assertFalse(Files.exists(cds.archive()));
    assertFalse(cds.install(null, List.of(java()), List.of("-version")), "nothing dumped, nothing installed");
    Path failed = Files.write(cds.newDumpPath(), new byte[] {1});
    ClassDataArchive.discard(failed);
    assertFalse(Files.exists(failed), "what a failed run dumped is deleted");
    ClassDataArchive.discard(failed); // twice, or never written: no error
  }

  @Test
  void aDumpedArchiveIsCheckedThenInstalledAndATruncatedOneIsNeverUsed() throws Exception {
    Path jar = helloJar();
    ClassDataArchive cds = new ClassDataArchive(tmp.resolve("cds"), "diffuse-00000000000000bb");
    Path dump = cds.newDumpPath();
    List<String> cmd = new ArrayList<>(List.of(java()));
    cmd.addAll(ClassDataArchive.dumpOptions(dump));
    cmd.addAll(List.of("-cp", jar.toString(), Hello.class.getName()));
    assertEquals(0, run(cmd));
    assertTrue(Files.size(dump) > 0, "the JVM wrote an archive at its exit");

    assertTrue(cds.install(dump, List.of(java()), List.of("-cp", jar.toString(), Hello.class.getName())));
    assertTrue(cds.usable());
    assertFalse(Files.exists(dump), "moved, not copied");
    List<String> use = new ArrayList<>(List.of(java(), "-Xshare:on"));
    use.addAll(cds.useOptions());
    use.addAll(List.of("-cp", jar.toString(), Hello.class.getName()));
    assertEquals(0, run(use), "the installed archive maps with -Xshare:on");

    // a truncated archive (which would kill a JVM that maps it) is refused before any JVM sees it
    byte[] all = Files.readAllBytes(cds.archive());
    cds.archive().toFile().setWritable(true);
    Files.write(cds.archive(), java.util.Arrays.copyOf(all, all.length / 2));
    assertFalse(cds.usable());
  }

  @Test
  void onlyTheNewestArchivesAreKept() throws IOException {
    for (int i = 0; i < ClassDataArchive.KEEP + 2; i++) {
      ClassDataArchive a = new ClassDataArchive(tmp, "diffuse-" + i);
      Files.write(a.archive(), new byte[] {1});
      Files.writeString(a.sizeFile(), "1");
      Files.setLastModifiedTime(a.archive(), FileTime.fromMillis(1_000_000L * (i + 1)));
    }
    Path leftover = Files.write(tmp.resolve("diffuse-9.jsa.writing-123"), new byte[] {1});
    Files.setLastModifiedTime(leftover, FileTime.fromMillis(1_000L));
    Path fresh = Files.write(tmp.resolve("diffuse-9.jsa.writing-456"), new byte[] {1});
    new ClassDataArchive(tmp, "diffuse-0").prune();
    for (int i = 0; i < ClassDataArchive.KEEP + 2; i++) {
      ClassDataArchive a = new ClassDataArchive(tmp, "diffuse-" + i);
      assertEquals(i >= 2, a.usable(), "archive " + i);
      assertEquals(i >= 2, Files.exists(a.sizeFile()), "size file " + i);
    }
    assertFalse(Files.exists(leftover), "an hour-old unfinished dump is removed");
    assertTrue(Files.exists(fresh), "one being written now is left alone");
  }
}
