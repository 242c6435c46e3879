package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration written into the working directory, and what is removed when Git drops it. */
class WorkingDirectoryTest {

  @TempDir
  Path root;

  private static TreeMap<String, String> files(String... pathsAndContents) {
    TreeMap<String, String> m = new TreeMap<>();
    for (int i = 0; i < pathsAndContents.length; i += 2) {
      m.put(pathsAndContents[i], pathsAndContents[i + 1]);
    }
    return m;
  }

  @Test
  void aModuleDroppedFromGitLeavesNoEmptyDirectoryButNothingElseIsTouched() throws Exception {
    WorkingDirectory dir = new WorkingDirectory(root);
    dir.materialize(files("main.tf", "a", "modules/net/main.tf", "b", "modules/net/sub/x.tf", "c",
        "modules/db/main.tf", "d"));
    Files.writeString(root.resolve("modules/db/notes.txt"), "someone's");
    assertThat(root.resolve("modules/net/sub/x.tf")).hasContent("c");

    assertThat(dir.materialize(files("main.tf", "a"))).isTrue();
    assertThat(root.resolve("modules/net")).as("emptied: removed").doesNotExist();
    assertThat(root.resolve("modules/db/main.tf")).doesNotExist();
    assertThat(root.resolve("modules/db/notes.txt")).as("not ours: kept, and its directory with it").exists();
    assertThat(root.resolve("main.tf")).hasContent("a");
    assertThat(dir.materialized()).containsOnlyKeys("main.tf");
  }
}
