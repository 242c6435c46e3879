package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The demo a child writing the class-data archive runs after its command: only in that child, only
 * after a command whose archive is kept, never under {@code --verbose}, and it leaves nothing behind.
 * {@code OneShotJvmIT} shows what it brings: the classes of later syncs in the archive.
 */
class ClassDataTrainingTest {

  @AfterEach
  void clear() {
    System.clearProperty(ClassDataTraining.PROPERTY);
  }

  private static List<Path> trainingDirectories() throws IOException {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.filter(p -> p.getFileName().toString().startsWith("gitops-class-data-")).toList();
    }
  }

  @Test
  void theDemoRunsOnlyInTheChildThatWritesAnArchiveAfterACommandWhoseArchiveIsKept() throws IOException {
    assertThat(ClassDataTraining.afterCommand(ExitCodes.OK, "sync")).as("not the child writing an archive").isFalse();
    System.setProperty(ClassDataTraining.PROPERTY, "true");
    assertThat(ClassDataTraining.afterCommand(ExitCodes.ERROR, "sync")).as("the archive is dropped").isFalse();
    assertThat(ClassDataTraining.afterCommand(ExitCodes.OK, "sync", "--verbose")).as("its log would show").isFalse();
    assertThat(ClassDataTraining.afterCommand(ExitCodes.OK, "sync", "-v")).isFalse();
    List<Path> before = trainingDirectories();

    assertThat(ClassDataTraining.afterCommand(ExitCodes.PENDING, "plan", "--detailed-exitcode"))
        .as("the demo ran to its end").isTrue();

    assertThat(trainingDirectories()).as("its directory removed").isEqualTo(before);
  }
}
