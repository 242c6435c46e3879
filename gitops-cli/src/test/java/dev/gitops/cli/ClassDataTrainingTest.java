package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The class-data training runs the demo to its end in this process, prints nothing on the
 * process's streams (the child's command has printed its output already) and leaves no temporary
 * directory; the training is asked for by the writing child's flag only.
 */
class ClassDataTrainingTest {

  private static List<Path> trainingDirectories() throws IOException {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.filter(p -> p.getFileName().toString().startsWith("gitops-cds-training-")).toList();
    }
  }

  @Test
  void theDemoRunsToItsEndSilentlyAndLeavesNothingBehind() throws Exception {
    List<Path> before = trainingDirectories();
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(printed, true, StandardCharsets.UTF_8);
    System.setOut(capture);
    System.setErr(capture);
    boolean done;
    try {
      done = ClassDataTraining.run(Duration.ofSeconds(60));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    assertThat(done).isTrue();
    assertThat(printed.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(System.out).isSameAs(out);
    assertThat(trainingDirectories()).isEqualTo(before);
  }

  @Test
  void onlyAWritingChildWhoseCommandRanToItsEndTrains() {
    assertThat(System.getProperty(ClassDataTraining.PROPERTY)).isNull();
    assertThat(ChildClassData.keeps(ExitCodes.OK)).isTrue();
    assertThat(ChildClassData.keeps(ExitCodes.PENDING)).isTrue();
    assertThat(ChildClassData.keeps(ExitCodes.REFUSED)).isTrue();
    assertThat(ChildClassData.keeps(ExitCodes.ERROR)).isFalse();
  }
}
