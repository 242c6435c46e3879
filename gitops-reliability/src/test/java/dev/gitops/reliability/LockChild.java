package dev.gitops.reliability;

import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM that syncs a desired directory into a target and appends {@code <name> in} to a
 * log at its first apply call (then lingers 300 ms, so that a second process has time to try the
 * lock) and {@code <name> out} when the sync has finished, still under the lock.
 *
 * <p>Usage: {@code LockChild <desiredDir> <target> <revision> <log> <name>}.
 */
public final class LockChild {

  private LockChild() {}

  static Process start(Path workDir, Path desired, Path target, String revision, Path log, String name) throws IOException {
    Files.createDirectories(workDir);
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(ChildJvm.FLAGS);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        LockChild.class.getName(), desired.toString(), target.toString(), revision, log.toString(), name));
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(workDir.resolve(name + ".out").toFile()).start();
  }

  static int finish(Process p) throws InterruptedException {
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("lock child hung");
    }
    return p.exitValue();
  }

  private static void append(Path log, String line) {
    try {
      Files.writeString(log, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Entry point of the child JVM. */
  public static void main(String[] args) throws Exception {
    Path log = Path.of(args[3]);
    String name = args[4];
    boolean[] first = {true};
    CountingProvider provider = new CountingProvider(CrashWorld.files(Path.of(args[1])), (c, after) -> {
      if (!after && first[0]) {
        first[0] = false;
        append(log, name + " in");
        try {
          TimeUnit.MILLISECONDS.sleep(300);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    Reconciler r = Reconciler.builder()
        .desiredState(CrashWorld.desired(Path.of(args[0]), provider, args[2]))
        .provider(provider)
        .store(FileStateStore.open(Path.of(args[1]).resolve(CrashWorld.STORE)))
        .options(CrashWorld.options())
        .listener(e -> {
          if (e instanceof SyncEvent.Finished) {
            append(log, name + " out");
          }
        })
        .build();
    SyncResult result = r.sync();
    System.out.println(result.status());
    System.exit(result.isSuccessful() ? 0 : 1);
  }
}
