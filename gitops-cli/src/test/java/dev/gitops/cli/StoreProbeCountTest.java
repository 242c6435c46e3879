package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writing command probes its state store once: the session's early check (which names {@code
 * --state} when it fails) is the engine's own, which the sync then takes as its check. It probed
 * twice, once in the session and once more in the engine's sync. The probes are counted as the
 * files they create in the store directory ({@code .tmp-probe-…}), seen through the file system's
 * change notices, which come in the order the files were made: a marker file made after the
 * command closes the count.
 */
class StoreProbeCountTest {

  @TempDir
  Path tmp;

  @Test
  void aSyncProbesItsStoreOnce() throws Exception {
    FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("a.txt", "a\n").commit("initial");
    Path target = tmp.resolve("target");
    Path state = tmp.resolve("state");
    String[] sync = {"sync", "--repo", repo.dir().toString(), "--target", target.toString(), "--state",
        state.toString()};
    CliRun first = gitops(sync);
    assertThat(first.code()).as("%s", first).isZero();
    repo.write("a.txt", "a2\n").commit("change a");

    try (WatchService watch = FileSystems.getDefault().newWatchService()) {
      state.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
      CliRun second = gitops(sync);
      assertThat(second.code()).as("%s", second).isZero();
      Files.createFile(state.resolve("end-of-count"));
      assertThat(probesUntilTheMarker(watch)).as("probe files made in %s by one 'gitops sync'", state).isEqualTo(1);
    }
    assertThat(target.resolve("a.txt")).hasContent("a2");
  }

  /** The probe files created before the marker file. */
  private static int probesUntilTheMarker(WatchService watch) throws InterruptedException {
    int probes = 0;
    while (true) {
      // the marker was made after the command: its notice comes, after every notice before it
      WatchKey key = watch.poll(60, TimeUnit.SECONDS);
      assertThat(key).as("the notice of the marker file").isNotNull();
      for (WatchEvent<?> e : key.pollEvents()) {
        assertThat(e.kind()).as("no notice was lost").isNotEqualTo(StandardWatchEventKinds.OVERFLOW);
        String name = e.context().toString();
        if (name.equals("end-of-count")) {
          return probes;
        }
        if (name.startsWith(".tmp-probe-")) {
          probes++;
        }
      }
      key.reset();
    }
  }
}
