package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code demo --dir} that cannot be the tour's directory is an error naming the flag and what is wrong. */
class DemoDirFlagTest {

  @TempDir
  Path tmp;

  @Test
  void aDirThatIsAFileOrUnderAFileOrEmptyIsRefusedNamingTheFlag() throws Exception {
    Path file = Files.writeString(tmp.resolve("a file"), "x\n");
    CliRun onFile = gitops("demo", "--dir", file.toString());
    assertThat(onFile.code()).as("%s", onFile).isEqualTo(ExitCodes.ERROR);
    assertThat(onFile.err().strip()).isEqualTo("gitops: --dir " + file + ": cannot create the directory: " + file
        + " is a file, not a directory");

    CliRun under = gitops("demo", "--dir", file.resolve("sub").toString());
    assertThat(under.code()).as("%s", under).isEqualTo(ExitCodes.ERROR);
    assertThat(under.err()).startsWith("gitops: --dir " + file.resolve("sub") + ": cannot create the directory: ");

    CliRun empty = gitops("demo", "--dir", "");
    assertThat(empty.code()).as("%s", empty).isEqualTo(ExitCodes.ERROR);
    assertThat(empty.err()).startsWith("gitops: --dir is empty");
    assertThat(Path.of("repo")).as("nothing made in the working directory").doesNotExist();
    assertThat(onFile.out()).isEmpty();
  }

  /**
   * The commands the tour prints "as you would type it" are read back by a shell as the words it ran,
   * for a --dir holding a space, a quote and a line break: they were printed joined with spaces, so
   * the paths broke into words (and the line) and a pasted command read another directory.
   */
  @Test
  void theCommandsItPrintsAreReadBackByAShellAsTheOnesItRan() throws Exception {
    Path base = tmp.resolve("it's a\ntour");
    CliRun demo = gitops("demo", "--dir", base.toString());
    assertThat(demo.code()).as("%s", demo).isZero();
    String repo = base.resolve("repo").toString();
    String target = base.resolve("target").toString();
    List<String> typed = demo.out().lines().filter(l -> l.startsWith("$ gitops ") || l.startsWith("  gitops "))
        .map(l -> l.substring(l.indexOf("gitops ") + "gitops ".length())).toList();
    assertThat(typed).hasSizeGreaterThan(10);
    List<String> last = null;
    for (String line : typed) {
      List<String> words = shellWords(line);
      assertThat(words.get(words.indexOf("--repo") + 1)).as(line).isEqualTo(repo);
      assertThat(words.get(words.indexOf("--target") + 1)).as(line).isEqualTo(target);
      last = words;
    }
    assertThat(last).startsWith("plan").endsWith("--out", "plan.json");
    List<String> status = shellWords(typed.get(typed.size() - 2));
    assertThat(status).startsWith("status");
    CliRun again = gitops(status.toArray(String[]::new));
    assertThat(again.code()).as("%s", again).isZero();
  }

  /** The words bash reads in {@code line}. */
  private static List<String> shellWords(String line) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", "-c", "printf '%s\\0' " + line).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return Arrays.asList(out.split("\0"));
  }
}
