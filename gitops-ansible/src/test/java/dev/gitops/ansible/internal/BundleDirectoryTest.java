package dev.gitops.ansible.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bundle's directory is named by all of its files: two bundles with one digest (the hosts'
 * digest leaves the decommission playbook out) but other files never share a directory, so what
 * runs is always what was decoded.
 */
class BundleDirectoryTest {

  @TempDir Path work;

  private static PlaybookBundle bundle(String digest, String decommission) {
    Map<String, byte[]> files = new TreeMap<>();
    files.put("play/site.yml", "- hosts: all\n  tasks: []\n".getBytes(StandardCharsets.UTF_8));
    files.put("play/decommission.yml", decommission.getBytes(StandardCharsets.UTF_8));
    return new PlaybookBundle(digest, files, "play/site.yml", "play/decommission.yml");
  }

  @Test
  void aBundleWithTheSameDigestButAnotherFileGetsADirectoryOfItsOwnWithItsOwnContent() throws Exception {
    BundleDirectory dirs = new BundleDirectory(work);
    String digest = "sha256:" + "ab".repeat(32);
    Path first = dirs.materialize(bundle(digest, "# v1\n"));
    Path second = dirs.materialize(bundle(digest, "# v2\n"));
    assertThat(second).isNotEqualTo(first);
    assertThat(first.resolve("play/decommission.yml")).hasContent("# v1");
    assertThat(second.resolve("play/decommission.yml")).hasContent("# v2");
    assertThat(second.getFileName().toString()).matches("[0-9a-f]{64}");

    assertThat(dirs.materialize(bundle("sha256:" + "cd".repeat(32), "# v1\n"))).as("the same files, the same"
        + " directory, whatever the digest").isEqualTo(first);
    assertThat(Files.list(work.resolve("bundles")).filter(p -> !p.getFileName().toString().startsWith(".")))
        .hasSize(2);
  }
}
