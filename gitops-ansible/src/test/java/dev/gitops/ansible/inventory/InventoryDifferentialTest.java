package dev.gitops.ansible.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.ansible.internal.InventoryYaml;
import dev.gitops.ansible.internal.JsonDifference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hand-written tricky inventories, each read by the parser and by the real {@code ansible-inventory
 * --list} (and {@code --list --export}): the outputs must be equal.
 */
class InventoryDifferentialTest {

  @TempDir Path tmp;

  /** Writes path/content pairs under a fresh directory and returns it. */
  private Path tree(String... pathsAndContents) throws IOException {
    Path dir = Files.createTempDirectory(tmp, "inv");
    for (int i = 0; i < pathsAndContents.length; i += 2) {
      Path f = dir.resolve(pathsAndContents[i]);
      Files.createDirectories(f.getParent());
      Files.writeString(f, pathsAndContents[i + 1], StandardCharsets.UTF_8);
    }
    return dir;
  }

  /**
   * Both views of {@code source} equal Ansible's; and the managed inventory the provider would
   * write for it gives Ansible the same host variables again.
   */
  static void assertSameAsAnsible(Path source) throws Exception {
    Inventory inv = InventoryParser.parse(source);
    for (boolean export : new boolean[] {false, true}) {
      JsonNode want = AnsibleInventoryCli.list(source, export);
      assertThat(inv.differenceFrom(want, export))
          .as("%s (export=%s)%nansible: %s%nparser:  %s", source, export, want, inv.toListJson(export)).isEmpty();
    }
    List<InventoryYaml.HostEntry> hosts = new ArrayList<>();
    Map<String, List<String>> groupHosts = new TreeMap<>();
    for (Inventory.Host h : inv.hosts().values()) {
      hosts.add(new InventoryYaml.HostEntry(h.name(), h.vars(), h.groups()));
      h.groups().forEach(g -> groupHosts.computeIfAbsent(g, x -> new ArrayList<>()).add(h.name()));
    }
    Path managed = source.resolveSibling(source.getFileName() + "-managed.yml");
    Files.writeString(managed, InventoryYaml.render(hosts, groupHosts, Map.of()));
    JsonNode hostvars = AnsibleInventoryCli.list(managed, false).path("_meta").path("hostvars");
    for (Inventory.Host h : inv.hosts().values()) {
      JsonNode got = hostvars.has(h.name()) ? hostvars.get(h.name()) : new ObjectMapper().createObjectNode();
      assertThat(JsonDifference.first("/" + h.name(), h.vars(), got)).as("managed inventory %s:%n%s", managed,
          Files.readString(managed)).isNull();
    }
  }

  @Test
  void unicodeLineAndParagraphSeparatorsNelAndOtherPythonLineBreaksInIniAndYaml() throws Exception {
    // Python's str.splitlines() (Ansible's INI reader) breaks lines at VT, FF, U+001C-U+001E, NEL
    // (U+0085), U+2028 and U+2029 too; PyYAML folds NEL, U+2028 and U+2029 inside quoted scalars
    assertSameAsAnsible(tree(
        "hosts", "[web]\nh1 a=x\u2028h2 b=y\nh3 c=p\u0085q\nh4 d=1\u000bh5\nh6 e=caf\u00e9\u00a0\ud83d\ude80\n",
        "group_vars/web.yml", "nel: \"a\\Nb c\"\nls: \"x \\L y\"\nps: \"x \\P y\"\nraw: \"caf\u00e9 \u00a0!\"\n"));
  }

  @Test
  void iniRangesChildrenAndYamlOneOneScalarsInGroupVars() throws Exception {
    assertSameAsAnsible(tree(
        "hosts", "[web]\nweb[01:03].example.com x=1\n[db]\ndb-[a:c] y=\"2\"\n[all:vars]\nz=3\n"
            + "[prod:children]\nweb\ndb\n",
        "group_vars/web.yml", "a: yes\nb: 0777\nc: 1:20\nd: 2001-12-14\ne: 2001-12-14 21:59:43.10 -5\n"
            + "f: !unsafe \"{{ x }}\"\ng: 1e5\nh: 1.5e+3\ni: ~\nj: .5\nk: 0x1f\nl: +12\nm: 'on'\nn: On\no: 0b101\n"
            + "p: 1_000\nq: 2001-12-14t21:59:43Z\nr: -1:30\ns: 190:20:30.15\n"));
  }

  @Test
  void precedenceGroupVarsFilesBeatInventoryGroupVarsChildBeatsParentPriorityThenName() throws Exception {
    assertSameAsAnsible(tree(
        "inventory/hosts",
        "h1 own=host\nh2\n[parent]\nh3\n[parent:children]\nchild\n[child]\nh1\nh2\n"
            + "[child:vars]\nlevel=child\nsib=child\n[parent:vars]\nlevel=parent\nfileonly=inline\n"
            + "[alpha]\nh1\n[beta]\nh1\n[alpha:vars]\nsib=alpha\nprio=alpha\nansible_group_priority=5\n"
            + "[beta:vars]\nsib=beta\nprio=beta\n[all:vars]\nlevel=all\nown=all\n",
        "inventory/group_vars/all.yml", "fileonly: all-file\nlevel: all-file\n",
        "inventory/group_vars/parent.yaml", "fileonly: parent-file\n",
        "inventory/group_vars/beta/01.yml", "dir: one\n",
        "inventory/group_vars/beta/02.json", "{\"dir\": \"two\", \"n\": 1.0}\n",
        "inventory/group_vars/beta/.hidden.yml", "dir: hidden\n",
        "inventory/group_vars/beta/notes.txt", "dir: txt\n",
        "inventory/group_vars/beta.yml", "ignored: because the directory wins\n",
        "inventory/host_vars/h1", "own: host-file\n",
        "inventory/host_vars/h2.yml", "---\n# nothing\n"));
  }

  @Test
  void yamlInventoryWithAllUngroupedShorthandsPortsAndNestedChildren() throws Exception {
    assertSameAsAnsible(tree(
        "inv/a.yml",
        "all:\n  hosts:\n    lonely:\n    '[::1]:2222':\n    10.0.0.[1:2]:\n  vars:\n    top: 1\n"
            + "  children:\n    web:\n      hosts:\n        web[a:c]:\n          role: web\n        'w-[1:7:3].x:8080':\n"
            + "      children:\n        web_eu:\n          hosts: eu1\n          vars: {zone: eu}\n"
            + "    db:\n      hosts: {db1: {ansible_group_priority: 3}}\n"
            + "ungrouped:\n  hosts:\n    stray:\n",
        "inv/b.yaml", "web_eu:\n  vars:\n    zone: eu-west\n    ansible_group_priority: 2\nother:\n  - not a group\n",
        "inv/ignored.ini", "[nope]\nshould-not-appear\n",
        "inv/README.md", "# not an inventory\n",
        "inv/.hidden", "[nope]\nhidden\n"));
  }

  @Test
  void iniPendingChildrenVarsBeforeDeclarationAndPythonLiterals() throws Exception {
    assertSameAsAnsible(tree(
        "hosts",
        "; a comment\n[top:children]\nmid\n[mid:vars]\nlist=[1, 'two', {'k': (3, 4)}]\ndict={'a': None, 'b': True}\n"
            + "str='quoted # not a comment'\nraw=plain text # stays\nnum=1_000\nhex=0x1F\nflt=3.5e2\nneg=-7\n"
            + "lead=07\nesc=\"tab\\there\"\nconcat='a' \"b\"\n[mid:children]\nleaf\n[leaf]\n"
            + "x1 a='five' b=5 c=\"[1,2]\" d=True e=none f=a=b g='x y' # trailing\n"
            + "x2:2200 ansible_host=127.0.0.2\n[weird-name]\nx3\n[web.servers]\nx4\n"));
  }

  @Test
  void anchorsMergeKeysVaultAndJsonHostVars() throws Exception {
    assertSameAsAnsible(tree(
        "inventory/hosts.yml",
        "all:\n  children:\n    app:\n      hosts:\n        app1:\n        app2:\n",
        "inventory/group_vars/app.yml",
        "odd: [1500.0, 1.0e+16, 2.5e-07, -0.0, 12345678901234567890, \"tab\\there\", \"\\u00e9t\\u00e9\", \"\\u0085x\","
            + " '#', '', 'yes', '1e5', ~, true, {'a b': 'c: d'}]\n"
            + "base: &base\n  user: deploy\n  shell: /bin/sh\nmerged:\n  <<: *base\n  shell: /bin/bash\n"
            + "many:\n  <<: [{a: 1}, {a: 2, b: 2}]\n  c: 3\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n"
            + "  62313365396662343061393464336163383764373764613633653634306231386433626436623361\n"
            + "  6134333665353966363534333632666535333761666131620a663537646436643839616531643561\n"
            + "list: [*base, x]\n",
        "inventory/host_vars/app1.json", "{\"port\": 8080, \"nested\": {\"__ansible_unsafe\": \"{{ raw }}\"}}"));
  }
}
