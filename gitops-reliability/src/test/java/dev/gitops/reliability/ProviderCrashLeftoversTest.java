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
 * before the rename) leaves {@code .<name>.<digits>.gitops-tmp} beside the file. The crash suite
 * cannot land there by counting (it counts whole apply calls), so the leftover is planted exactly
 * as such a kill leaves it, and the next write or delete of that file must remove it.
 */
class ProviderCrashLeftoversTest {

  @TempDir
  Path tmp;

  @Test
  void theNextWriteOrDeleteOfAFileRemovesTheTempFileOfAKilledWrite() throws Exception {
    Path target = tmp.resolve("target");
    Path v1 = tmp.resolve("v1");
    Path v2 = tmp.resolve("v2");
    CrashWorld.writeTree(v1, Map.of("a.txt", "a1\n", "deep/x/y.txt", "y1\n", "keep.txt", "k\n"));
    CrashWorld.writeTree(v2, Map.of("a.txt", "a2\n", "keep.txt", "k\n"));
    assertThat(sync(target, v1, "rev-1")).isTrue();

    Path leftA = target.resolve(".a.txt.8123456789.gitops-tmp");
    Path leftY = target.resolve("deep/x/.y.txt.77.gitops-tmp");
    Path notOurs = target.resolve(".a.txt.backup.gitops-tmp");
    Files.writeString(leftA, "a2 half");
    Files.writeString(leftY, "");
    Files.writeString(notOurs, "a user's file that only looks similar\n");

    assertThat(sync(target, v2, "rev-2")).isTrue();

    assertThat(leftA).as("temp file of a killed write of a.txt").doesNotExist();
    assertThat(leftY).as("temp file of a killed write of deep/x/y.txt").doesNotExist();
    assertThat(target.resolve("deep")).as("emptied directories are removed").doesNotExist();
    assertThat(notOurs).as("a file not named like our temp files").exists();
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("a2\n");
  }

  private static boolean sync(Path target, Path desiredDir, String revision) {
    LocalFilesProvider files = CrashWorld.files(target);
    return CrashWorld.reconciler(target, files, CrashWorld.desired(desiredDir, files, revision),
        FileStateStore.Options.defaults()).sync().isSuccessful();
  }
}
