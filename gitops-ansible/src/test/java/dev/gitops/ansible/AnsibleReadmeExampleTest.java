package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.testkit.JavaSnippets;
import dev.gitops.testkit.TempGitRepo;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Compiles the root README's Ansible example and runs it against a repository and real ansible-playbook. */
class AnsibleReadmeExampleTest {

  @TempDir Path tmp;

  @Test
  void readmeAnsibleExampleCompilesAndConvergesAFleet() throws Exception {
    String text = Files.readString(Path.of(System.getProperty("user.dir")).getParent().resolve("README.md"));
    Matcher m = Pattern.compile("```java\\n((?:import [^\\n]+\\n)+)\\n// ansible-example: begin\\n(.*?)"
        + "// ansible-example: end", Pattern.DOTALL).matcher(text);
    assertThat(m.find()).as("README has the Ansible example between ansible-example markers").isTrue();
    // The example keeps its reconciler for the next sync, as an embedding does; run once here, it
    // is closed, or its Git source's temporary clone would stay in the temporary directory.
    String source = m.group(1) + "import java.nio.file.Path;\n\npublic class AnsibleReadmeExample {\n"
        + "  public static Object run(Path repository, Path state) throws Exception {\n" + m.group(2)
        + "    reconciler.close();\n    return result;\n  }\n}\n";
    Class<?> example = JavaSnippets.compile(tmp, "AnsibleReadmeExample", source);

    Path out = Files.createDirectories(tmp.resolve("out"));
    try (TempGitRepo repo = TempGitRepo.in(Files.createDirectories(tmp.resolve("repo")))) {
      repo.write("inventory/hosts", "[web]\nweb1 " + AnsibleFixture.LOCAL + " out_dir=" + out + " db_password=x\n")
          .write("site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy:\n"
              + "        dest: \"{{ out_dir }}/{{ inventory_hostname }}\"\n        content: \"up\\n\"\n")
          .write("decommission.yml", "- hosts: all\n  gather_facts: false\n  tasks: []\n")
          .commit("fleet");
      Method run = example.getMethod("run", Path.class, Path.class);
      Object result = run.invoke(null, repo.dir(), tmp.resolve("state"));
      assertThat(result.getClass().getMethod("isSuccessful").invoke(result)).as("%s", result).isEqualTo(true);
      assertThat(Files.readString(out.resolve("web1"))).isEqualTo("up\n");
      assertThat(tmp.resolve("state/inventory.yml")).exists();
    }
  }
}
