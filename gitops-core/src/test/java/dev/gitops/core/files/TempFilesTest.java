package dev.gitops.core.files;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TempFilesTest {

  @TempDir
  Path root;

  @Test
  void aSecondCallerWhileTheCleaningRunsReturnsOnlyOnceItHasEnded() throws Exception {
    Path dir = root.resolve(".gitops/files/tmp");
    Files.createDirectories(dir);
    long dead = deadPid();
    int leftovers = 1_000;
    for (int i = 0; i < leftovers; i++) {
      Files.writeString(dir.resolve(dead + ".x" + i), "half");
    }
    Set<Path> cleaned = ConcurrentHashMap.newKeySet();
    TempFiles first = new TempFiles(root, dir, cleaned);
    TempFiles second = new TempFiles(root, dir, cleaned);
    Thread cleaner = new Thread(first::cleanOnce);
    cleaner.start();
    // wait until the first caller's cleaning has begun, then call from this thread (as a delete in
    // the same parallel batch does): when it returns, no leftover may remain
    while (count(dir) == leftovers && cleaner.isAlive()) {
      Thread.onSpinWait();
    }
    second.cleanOnce();
    assertThat(count(dir)).as("leftovers when the second caller returns").isZero();
    cleaner.join(10_000);
  }

  private static long count(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    }
  }

  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }
}
