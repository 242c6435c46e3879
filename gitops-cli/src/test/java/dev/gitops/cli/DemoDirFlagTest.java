package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
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
}
