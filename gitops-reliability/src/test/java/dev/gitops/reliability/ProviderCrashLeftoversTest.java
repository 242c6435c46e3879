package dev.gitops.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.store.FileStateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SIGKILL inside the local-files provider's atomic write (after its temp file is created,
 * before the rename) leaves {@code <pid>.<random>} in the provider's temp directory {@code
 * <target>/.gitops/files/tmp/}, or, for a file on another file system than that directory, a
 * {@code .gitops-tmp-<pid>.<random>} beside the file that a record in the temp directory names.
 * The crash suite cannot land there by counting (it counts whole apply calls), so the leftovers
 * are planted exactly as such a kill leaves them: the next sync must remove them, and must never
 * remove a user's file, however much it looks like a temp file.
 */
class ProviderCrashLeftoversTest {

  @TempDir
  Path tmp;

  @Test
  void theNextSyncRemovesWhatAKilledWriteLeftAndNoUserFile() throws Exception {
    Path target = tmp.resolve("target");
    Path v1 = tmp.resolve("v1");
    Path v2 = tmp.resolve("v2");
    CrashWorld.writeTree(v1, Map.of("a.txt", "a1\n", "deep/x/y.txt", "y1\n", "keep.txt", "k\n"));
    CrashWorld.writeTree(v2, Map.of("a.txt", "a2\n", "keep.txt", "k\n"));
    assertThat(sync(target, v1, "rev-1")).isTrue();

    long dead = deadPid();
    Path temps = target.resolve(".gitops/files/tmp");
    Path killedWrite = Files.writeString(temps.resolve(dead + ".q7w8e9"), "a2 half");
    Path killedBeside = Files.writeString(target.resolve("deep/x/.gitops-tmp-" + dead + ".r5t6"), "");
    Files.writeString(temps.resolve(dead + ".r5t6.ref"), "deep/x/.gitops-tmp-" + dead + ".r5t6");
    Path oldStyle = target.resolve(".a.txt.8123456789.gitops-tmp");
    Path lookalike = target.resolve(".gitops-tmp-" + dead + ".unrecorded");
    Files.writeString(oldStyle, "a user's file named like the old temp files\n");
    Files.writeString(lookalike, "a user's file named like a temp file, but never recorded\n");

    assertThat(sync(target, v2, "rev-2")).isTrue();

    assertThat(killedWrite).as("temp file of a killed write").doesNotExist();
    assertThat(killedBeside).as("recorded temp file of a killed write beside its file").doesNotExist();
    assertThat(temps.resolve(dead + ".r5t6.ref")).as("its record").doesNotExist();
    assertThat(target.resolve("deep")).as("emptied directories are removed").doesNotExist();
    assertThat(oldStyle).as("a file the provider did not create").exists();
    assertThat(lookalike).as("a file the provider did not record").exists();
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("a2\n");
  }

  /** The pid of a process that has ended. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  private static boolean sync(Path target, Path desiredDir, String revision) {
    LocalFilesProvider files = CrashWorld.files(target);
    return CrashWorld.reconciler(target, files, CrashWorld.desired(desiredDir, files, revision),
        FileStateStore.Options.defaults()).sync().isSuccessful();
  }
}
