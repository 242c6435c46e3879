package dev.gitops.cluster.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the scenarios' write log proves, on logs written by hand. */
class WriteHistoryTest {

  @TempDir
  Path dir;

  WriteHistory read(String... lines) throws Exception {
    Path f = dir.resolve("writes.log");
    Files.write(f, List.of(lines));
    return WriteHistory.read(f);
  }

  @Test
  void handoversOneAfterTheOtherAreClean() throws Exception {
    assertThat(read(
        "W+ t1 m1 5 100 11", "W- t1 m1 5 110 11",
        "W+ t2 m2 6 105 22", "W+ t1 m2 9 120 22", "W- t1 m2 9 130 22", "W- t2 m2 6 131 22").violations()).isEmpty();
  }

  @Test
  void aWriteStartedWhileAnotherProcessWritesTheSameTargetIsAnOverlap() throws Exception {
    assertThat(read("W+ t1 m1 5 100 11", "W+ t1 m2 9 101 22", "W- t1 m1 5 102 11", "W- t1 m2 9 103 22").violations())
        .singleElement().asString().contains("t1: the write of m2 (pid 22, token 9, line 2) started while the write of m1");
  }

  @Test
  void anOlderTokenWritingAfterANewerOneIsAStaleWrite() throws Exception {
    assertThat(read("W+ t1 m2 9 100 22", "W- t1 m2 9 101 22", "W+ t1 m1 5 102 11", "W- t1 m1 5 103 11").violations())
        .singleElement().asString().contains("(a stale token landed)");
  }

  @Test
  void aKilledWriterWritesNoMore() throws Exception {
    assertThat(read("W+ t1 m1 5 100 11", "X killed m1 101 11", "W+ t1 m2 9 102 22", "W- t1 m2 9 103 22").violations())
        .isEmpty();
    assertThat(read("W+ t1 m1 5 100 11", "X stopped m1 101 11", "W+ t1 m2 9 102 22").violations()).hasSize(1);
  }

  @Test
  void writesAndAttemptsOfAPausedProcessAfterItsMarks() throws Exception {
    WriteHistory h = read("W+ t1 m1 5 100 11", "W- t1 m1 5 101 11", "X stopped m1 102 11", "X continued m1 200 11",
        "A t1 m1 5 210 11 lock fenced 205", "A t1 m1 5 211 11 applyAll ok 150", "W+ t1 m1 5 212 11",
        "W+ t1 m1 12 213 11", "W+ t2 m1 5 214 11");
    WriteHistory.Line stopped = h.event("stopped", 11);
    // token 5 was t1's: t2's token 5 (tokens count per target on Kubernetes) is another ownership
    assertThat(h.landed(11, Map.of("t1", 5L, "t2", 3L), stopped)).extracting(WriteHistory.Line::index).containsExactly(6);
    assertThat(h.attempted(11, Map.of("t1", 5L), 200)).extracting(WriteHistory.Line::operation).containsExactly("lock");
  }
}
