package dev.gitops.ansible;

import dev.gitops.api.Resource;
import dev.gitops.api.spi.SourceFile;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Source files handed straight to the decoder, without Git: for tests of the provider alone. */
final class TinyRepo {

  static final String REVISION = "main@sha1:" + "0".repeat(40);
  static final String PLAYBOOK = """
      - hosts: all
        gather_facts: false
        tasks:
          - name: say hello
            ansible.builtin.debug:
              msg: "hello {{ inventory_hostname }}"
      """;

  private TinyRepo() {}

  /** Decodes {@code inventory} (INI, at ansible/inventory/hosts) with a one-task playbook. */
  static List<Resource> decode(AnsibleProvider provider, String inventory) {
    return decode(provider, inventory, java.util.Map.of());
  }

  /** As {@link #decode(AnsibleProvider, String)}, with {@code more} files (repository path to text) beside them. */
  static List<Resource> decode(AnsibleProvider provider, String inventory, java.util.Map<String, String> more) {
    List<SourceFile> files = new ArrayList<>();
    files.add(file("ansible/inventory/hosts", inventory));
    files.add(file("ansible/site.yml", PLAYBOOK));
    files.add(file("ansible/decommission.yml", PLAYBOOK));
    new java.util.TreeMap<>(more).forEach((path, text) -> files.add(file(path, text)));
    return provider.ansibleDecoder().decodeTogether(files);
  }

  static SourceFile file(String path, String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    return new SourceFile(path, Integer.toHexString(java.util.Arrays.hashCode(b)), b, REVISION);
  }
}
