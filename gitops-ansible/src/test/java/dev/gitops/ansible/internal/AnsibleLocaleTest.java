package dev.gitops.ansible.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.ansible.AnsibleProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ansible refuses to start under a locale that is not UTF-8 ("ERROR: Ansible requires the locale
 * encoding to be UTF-8; Detected None."), as LC_ALL=C, which scripts and CI machines export for
 * byte-wise sorting, makes it; a JVM started so passed it to every run and every syntax check.
 */
class AnsibleLocaleTest {

  @TempDir Path tmp;

  /** The real ansible-playbook's first line of {@code --version} output under {@code env}. */
  private static String version(Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("ansible-playbook", "--version").redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out.lines().findFirst().orElse("");
  }

  @Test
  void anInheritedCOrPosixLcAllIsNotPassedToAnsibleWhichThenStarts() throws Exception {
    for (String c : new String[] {"C", "POSIX"}) {
      Map<String, String> env = new HashMap<>(Map.of("PATH", System.getenv("PATH"), "HOME", tmp.toString(),
          "LC_ALL", c));
      assertThat(version(env)).as("Ansible under LC_ALL=%s as it is", c).contains("requires the locale encoding");
      PlaybookRunner.utf8Locale(env);
      assertThat(env).doesNotContainKey("LC_ALL");
      assertThat(version(env)).as("LC_ALL=%s left out", c).startsWith("ansible-playbook [core");
    }
    // a UTF-8 one is passed as it is
    Map<String, String> utf8 = new HashMap<>(Map.of("LC_ALL", "C.UTF-8"));
    PlaybookRunner.utf8Locale(utf8);
    assertThat(utf8).containsEntry("LC_ALL", "C.UTF-8");
  }

  @Test
  void environmentRefusesACOrPosixLcAll() {
    for (String c : new String[] {"C", "POSIX"}) {
      assertThatThrownBy(() -> AnsibleProvider.builder().environment(Map.of("LC_ALL", c)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("LC_ALL=" + c)
          .hasMessageContaining("UTF-8");
    }
    AnsibleProvider.builder().environment(Map.of("LC_ALL", "en_US.UTF-8"));
  }
}
