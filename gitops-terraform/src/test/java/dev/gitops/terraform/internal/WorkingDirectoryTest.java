package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
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
  void eachLineOfTheHclVariableFileNamesItsVariableAlsoAfterAValueOverSeveralLines() throws Exception {
    WorkingDirectory dir = new WorkingDirectory(root);
    Path file = dir.writeHclVariables(new TreeMap<>(java.util.Map.of("a", "[\n  \"x\",\n  \"y\"\n]", "b", "{c = ",
        "z", "1")));
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(6);
    assertThat(lines.get(4)).startsWith("b = ");
    assertThat(dir.hclVariableAt(1)).isEqualTo("a");
    assertThat(dir.hclVariableAt(4)).as("the list's last line").isEqualTo("a");
    assertThat(dir.hclVariableAt(5)).as("the line Terraform reports for b's bad value").isEqualTo("b");
    assertThat(dir.hclVariableAt(6)).isEqualTo("z");
    assertThat(dir.hclVariableAt(7)).isNull();
    assertThat(dir.hclVariableAt(0)).isNull();
  }

  @Test
  void aWorkingDirectoryItCreatesIsOwnerOnlyOneThatExistsKeepsItsProtection() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(root.getFileSystem().supportedFileAttributeViews().contains("posix"));
    Path made = root.resolve("targets/prod");
    new WorkingDirectory(made).own();
    // Terraform writes terraform.tfstate, sensitive values in plain text, readable by all as the umask allows
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made))).isEqualTo("rwx------");
    Path existing = Files.createDirectory(root.resolve("shared"));
    Files.setPosixFilePermissions(existing, PosixFilePermissions.fromString("rwxr-x---"));
    new WorkingDirectory(existing).own();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(existing))).isEqualTo("rwxr-x---");
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

  @Test
  void gitContentIsNeverWrittenIntoAGitopsStateStore() {
    WorkingDirectory dir = new WorkingDirectory(root);
    for (String path : List.of(".gitops/evil.tf", ".gitops/history/9999999999999-deadbeef.tf.json",
        "app/.gitops/x.tf")) {
      assertThatThrownBy(() -> dir.materialize(files("main.tf", "a", path, "b")))
          .isInstanceOf(dev.gitops.terraform.TerraformException.class).hasMessageContaining(path)
          .hasMessageContaining("state store");
    }
    assertThat(root.resolve(".gitops")).doesNotExist();
  }

  @Test
  void configurationGitopsDidNotWriteIsListedWhereverTerraformWouldReadIt() throws Exception {
    WorkingDirectory dir = new WorkingDirectory(root);
    dir.materialize(files("main.tf", "a", "modules/net/main.tf", "b", "data.txt", "d"));
    Files.writeString(root.resolve("extra.tf"), "x");
    Files.writeString(root.resolve("zz.auto.tfvars"), "x");
    Files.writeString(root.resolve("modules/net/override.tf.json"), "{}");
    Files.writeString(root.resolve("extra.tofu"), "x");
    Files.writeString(root.resolve("modules/net/x_override.tofu.json"), "{}");
    Files.writeString(root.resolve("notes.txt"), "not configuration");
    Files.createDirectories(root.resolve(".terraform/modules"));
    Files.writeString(root.resolve(".terraform/modules/x.tf"), "Terraform's own");
    Files.createDirectories(root.resolve(".gitops"));
    Files.writeString(root.resolve(".gitops/y.tf"), "the store's");
    assertThat(dir.unwrittenConfiguration()).containsOnlyKeys("extra.tf", "zz.auto.tfvars",
        "modules/net/override.tf.json", "extra.tofu", "modules/net/x_override.tofu.json");
  }

  @Test
  void aModuleTerraformResolvedOrCopiedFromOutsideTheWorkingDirectoryIsNamed() throws Exception {
    WorkingDirectory dir = new WorkingDirectory(root);
    assertThat(dir.modulesOutside()).as("no init yet").isEmpty();
    Files.createDirectories(root.resolve(".terraform/modules"));
    Files.writeString(root.resolve(".terraform/modules/modules.json"), """
        {"Modules":[{"Key":"","Source":"","Dir":"."},
          {"Key":"in","Source":"./modules/in","Dir":"modules/in"},
          {"Key":"reg","Source":"registry.terraform.io/x/y/z","Dir":".terraform/modules/reg"},
          {"Key":"up","Source":"../x","Dir":"../x"},
          {"Key":"abs","Source":"/srv/m","Dir":"/srv/m"},
          {"Key":"copied","Source":"file:///srv/m","Dir":".terraform/modules/copied"}]}
        """);
    assertThat(dir.modulesOutside()).containsExactly("up (source \"../x\")", "abs (source \"/srv/m\")",
        "copied (source \"file:///srv/m\")");
  }

  @Test
  void anInitThatMadeNoDataDirectoryIsNotRunAgainForTheLackOfOne() throws Exception {
    WorkingDirectory dir = new WorkingDirectory(root);
    assertThat(dir.initDigest()).as("never initialized").isEmpty();
    // only built-in providers and no modules: init installs nothing and makes no .terraform/
    dir.recordInit("d1");
    assertThat(dir.initDigest()).isEqualTo("d1");
    Files.createDirectories(root.resolve(".terraform/providers"));
    dir.recordInit("d2");
    assertThat(dir.initDigest()).isEqualTo("d2");
    Files.delete(root.resolve(".terraform/providers"));
    Files.delete(root.resolve(".terraform"));
    assertThat(dir.initDigest()).as("what init installed is gone: init again").isEmpty();
    // a record of an older version (the digest alone) holds only while .terraform/ is there
    Files.writeString(root.resolve(".gitops-terraform/init.digest"), "d3");
    assertThat(dir.initDigest()).isEmpty();
    Files.createDirectories(root.resolve(".terraform"));
    assertThat(dir.initDigest()).isEqualTo("d3");
  }
}
