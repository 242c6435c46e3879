package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo a child writing the class-data archive runs after its command: only in that child (the
 * parent names an absolute directory), only after a command whose archive is kept, never under
 * {@code --verbose}; it makes its directory and removes it, and never runs in, nor removes, one
 * that is there already. {@code OneShotJvmIT} shows what it brings: the classes of later syncs in
 * the archive.
 */
class ClassDataTrainingTest {

  @TempDir
  Path tmp;

  @AfterEach
  void clear() {
    System.clearProperty(ClassDataTraining.PROPERTY);
  }

  @Test
  void theDemoRunsOnlyInTheChildThatWritesAnArchiveAfterACommandWhoseArchiveIsKept() throws IOException {
    Path dir = tmp.resolve("training");
    assertThat(ClassDataTraining.afterCommand(ExitCodes.OK, "sync")).as("not the child writing an archive").isFalse();
    System.setProperty(ClassDataTraining.PROPERTY, "training");
    assertThat(ClassDataTraining.afterCommand(ExitCodes.OK, "sync")).as("not an absolute directory").isFalse();
    System.setProperty(ClassDataTraining.PROPERTY, "/a\0b");
    assertThat(ClassDataTraining.afterCommand(ExitCodes.OK, "sync")).as("not a path").isFalse();
    assertThat(Path.of("training")).doesNotExist();
    System.setProperty(ClassDataTraining.PROPERTY, dir.toString());
    assertThat(ClassDataTraining.afterCommand(ExitCodes.ERROR, "sync")).as("the archive is dropped").isFalse();
    assertThat(ClassDataTraining.afterCommand(ExitCodes.OK, "sync", "--verbose")).as("its log would show").isFalse();
    assertThat(ClassDataTraining.afterCommand(ExitCodes.OK, "sync", "-v")).isFalse();
    assertThat(dir).doesNotExist();

    assertThat(ClassDataTraining.afterCommand(ExitCodes.PENDING, "plan", "--detailed-exitcode"))
        .as("the demo ran to its end").isTrue();

    assertThat(dir).as("its directory removed").doesNotExist();
  }

  @Test
  void aDirectoryThatIsThereAlreadyIsNeitherRunInNorRemoved() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("mine"));
    Path kept = Files.writeString(dir.resolve("kept.txt"), "not the demo's");
    Path link = Files.createSymbolicLink(tmp.resolve("link"), dir);
    for (Path p : java.util.List.of(dir, link)) {
      System.setProperty(ClassDataTraining.PROPERTY, p.toString());
      assertThat(ClassDataTraining.afterCommand(ExitCodes.OK, "sync")).as(p.toString()).isFalse();
    }
    try (var s = Files.list(dir)) {
      assertThat(s.toList()).containsExactly(kept);
    }
  }
}
