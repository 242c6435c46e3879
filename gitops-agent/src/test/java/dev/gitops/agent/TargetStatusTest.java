package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetStatusTest {

  @TempDir
  Path stateDir;

  private static TargetStatus status(String revision) {
    return new TargetStatus("web", "files", revision, "succeeded", Instant.parse("2026-12-03T10:00:00Z"),
        Instant.parse("2026-12-03T10:00:00Z"), List.of(), false, null);
  }

  /**
   * A sync that outlived its target's stop and the restarted target's first sync can write one
   * target's status at once: each write goes through its own temporary file, so neither fails on
   * the other's rename nor leaves bytes of both in the file.
   */
  @Test
  void twoWritersOfOneTargetsStatusAtOnceNeitherFailNorMixTheirBytes() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> writers = new ArrayList<>();
      for (String revision : List.of("a".repeat(4000), "b")) {
        Callable<Void> writes = () -> {
          for (int i = 0; i < 200; i++) {
            status(revision).write(stateDir);
          }
          return null;
        };
        writers.add(pool.submit(writes));
      }
      for (Future<?> w : writers) {
        w.get(60, TimeUnit.SECONDS);  // rethrows a writer's failure
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(TargetStatus.read(stateDir, "web")).hasValueSatisfying(s ->
        assertThat(s.revision()).isIn("a".repeat(4000), "b"));
    try (Stream<Path> left = Files.list(TargetStatus.file(stateDir, "web").getParent())) {
      assertThat(left.map(p -> p.getFileName().toString())).containsExactly("web.json");
    }
  }

  /** A status without its result says nothing of where the target stands: unreadable, not a blank result. */
  @Test
  void aStatusFileWithoutAResultIsUnreadableNamingTheField() throws Exception {
    status("v1").write(stateDir);
    Path f = TargetStatus.file(stateDir, "web");
    for (String result : List.of("", "\"result\": \"\", ", "\"result\": null, ", "\"result\": 3, ")) {
      Files.writeString(f, "{\"target\": \"web\", " + result + "\"finished\": \"2026-12-03T10:00:00Z\"}");
      assertThatThrownBy(() -> TargetStatus.read(stateDir, "web")).as(result)
          .isInstanceOf(java.io.UncheckedIOException.class)
          .hasMessage("java.io.IOException: cannot read the status file " + f + ": result: missing; want the last"
              + " sync's result, such as \"succeeded\" or \"failed\"");
    }
  }

  @Test
  void aStatusFileIsReadableByOthersAsBefore() throws Exception {
    status("v1").write(stateDir);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(TargetStatus.file(stateDir, "web"))))
        .isEqualTo("rw-r--r--");
  }
}
