package dev.gitops.ansible.inventory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.DecodeException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InventoryParserTest {

  private static final String REV = "main@sha1:0123";

  private static Map<String, byte[]> files(String... pathsAndContents) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    for (int i = 0; i < pathsAndContents.length; i += 2) {
      m.put(pathsAndContents[i], pathsAndContents[i + 1].getBytes(StandardCharsets.UTF_8));
    }
    return m;
  }

  private static DecodeException failure(String inventory, Map<String, byte[]> files) {
    try {
      InventoryParser.parse(inventory, files, REV);
    } catch (DecodeException e) {
      return e;
    }
    throw new AssertionError("no error for " + files.keySet());
  }

  /**
   * One host pattern expands to at most 1,000,000 names, nested ranges too: each of the three
   * ranges of {@code h[0:999][0:999][0:999]} is within the bound, and the pattern, a billion names,
   * ran the JVM out of memory instead of failing at its line.
   */
  @Test
  void nestedRangesExpandingPastTheBoundFailAtTheirLine() {
    DecodeException e = failure("hosts", files("hosts", "[web]\nweb1\nh[0:999][0:999][0:999]\n"));
    assertThat(e.origin().line()).isEqualTo(3);
    assertThat(e.getMessage()).contains("h[0:999][0:999][0:999]").contains("more than 1,000,000 hosts");

    e = failure("hosts.yml", files("hosts.yml", "all:\n  hosts:\n    web1:\n    'n[a:z][0:999][0:999]':\n"));
    assertThat(e.origin().line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("n[a:z][0:999][0:999]").contains("more than 1,000,000 hosts");

    // nested ranges within the bound expand as Ansible expands them
    assertThat(InventoryParser.parse("hosts", files("hosts", "[web]\nh[1:2][a:b]\n"), REV).hosts().keySet())
        .containsExactly("h1a", "h1b", "h2a", "h2b");
  }

  @Test
  void malformedIniLinesNameTheFileAndTheLine() {
    DecodeException e = failure("inv", files("inv/hosts", "[web]\nweb1\nweb[1:2\n"));
    assertThat(e.origin().path()).isEqualTo("inv/hosts");
    assertThat(e.origin().line()).isEqualTo(3);
    assertThat(e.origin().revision()).isEqualTo(REV);
    assertThat(e.getMessage()).contains("inv/hosts").contains("web[1:2");

    e = failure("hosts", files("hosts", "a\n[web:bogus]\n"));
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("unknown type: bogus");

    e = failure("hosts", files("hosts", "[web]\nweb1 novalue\n"));
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("Expected key=value host variable assignment for host 'web1', got a word"
        + " without '=' right after the host pattern");

    e = failure("hosts", files("hosts", "[top:children]\nmissing\n[web]\nh1\n"));
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("includes undefined group: missing");

    e = failure("hosts", files("hosts", "[web]\nh1 a='unclosed\n"));
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("No closing quotation");
  }

  /**
   * A section header without its closing bracket, in a file without an extension: an INI error at
   * its line, not the YAML reader's complaint about an unclosed flow sequence further down.
   */
  @Test
  void anUnclosedIniSectionHeaderIsAnIniSyntaxErrorAtItsLine() {
    DecodeException e = failure("inv", files("inv/hosts", "# fleet\n[web\nweb1\n[db]\ndb1\n"));
    assertThat(e.origin().path()).isEqualTo("inv/hosts");
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("inv/hosts").contains("INI syntax error").contains("'[web'")
        .contains("no closing ']'").doesNotContain("YAML");
    e = failure("inv", files("inv/hosts", "[web]\nweb1\n[web:vars\nport=80\n"));
    assertThat(e.origin().line()).isEqualTo(3);
    assertThat(e.getMessage()).contains("'[web:vars'").doesNotContain("YAML");
    // a host range that opens the line is a host line, as for Ansible
    assertThat(InventoryParser.parse("inv", files("inv/hosts", "[web]\n[a:b]-node\n"), REV).hosts())
        .containsKeys("a-node", "b-node");
  }

  @Test
  void iniErrorsNameTheLineHostAndVariableButNeverShowTheValues() {
    String secret = "TopSecret123";
    DecodeException e = failure("hosts", files("hosts", "[web]\nh1 msg=a db_pass=" + secret + " note='oops x=1\n"));
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("hosts:2").contains("host 'h1'").contains("variable 'note'")
        .contains("No closing quotation").doesNotContain(secret).doesNotContain("oops");

    e = failure("hosts", files("hosts", "[web]\nh1 db_pass= " + secret + "\n"));
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("host 'h1'").contains("after variable 'db_pass'").doesNotContain(secret);

    e = failure("hosts", files("hosts", "[web]\nh1\n[web:vars]\n" + secret + "\n"));
    assertThat(e.origin().line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("[web:vars]").contains("without '='").doesNotContain(secret);

    e = failure("hosts", files("hosts", "[web]\nh1\n[top:children]\nweb password=" + secret + "\n"));
    assertThat(e.origin().line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("[top:children]").contains("group name").doesNotContain(secret);

    e = failure("hosts", files("hosts", "[web]\nh1 a=\\\n"));
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("variable 'a'").contains("No escaped character");
  }

  @Test
  void anInventoryDirectoryWhoseFilesAnsibleSkipsIsAnErrorNamingThemNotAnEmptyFleet() {
    // Ansible skips *.ini (and .cfg, .txt, ...) in a directory, warns it could not parse it and runs on no host
    DecodeException e = failure("inventory", files("inventory/hosts.ini", "[web]\nh1\n",
        "inventory/group_vars/web.yml", "port: 1\n"));
    assertThat(e.origin().path()).isEqualTo("inventory");
    assertThat(e.getMessage()).contains("inventory directory 'inventory' holds no file Ansible reads")
        .contains("it skips inventory/hosts.ini").contains(".ini").doesNotContain("group_vars");

    e = failure("inventory", files("inventory/group_vars/all.yml", "port: 1\n"));
    assertThat(e.getMessage()).contains("holds no file Ansible reads as an inventory").doesNotContain("null");

    // one file read is enough, even one that declares no host
    assertThat(InventoryParser.parse("inventory", files("inventory/hosts.ini", "[web]\nh1\n",
        "inventory/hosts", "[db]\nd1\n"), REV).toListJson(false).toString()).contains("d1").doesNotContain("h1");
    InventoryParser.parse("inventory", files("inventory/empty.yml", ""), REV);
  }

  @Test
  void yamlProblemsNameTheFileAndTheLine() {
    DecodeException e = failure("inv", files("inv/hosts.yml", "all:\n  hosts:\n    a: {x: 1\n    b:\n"));
    assertThat(e.origin().path()).isEqualTo("inv/hosts.yml");
    assertThat(e.origin().line()).isGreaterThanOrEqualTo(3);

    e = failure("inv", files("inv/hosts.yml", "web:\n  hosts:\n    a:\n    a:\n"));
    assertThat(e.origin().line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("duplicate key 'a'").contains("first at line 3");

    e = failure("inv", files("inv/hosts.yml", "web:\n  hosts: [a, b]\n"));
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("Invalid \"hosts\" entry for \"web\" group");

    e = failure("inv", files("inv/hosts", "[web]\nh1\n", "inv/group_vars/web.yml", "a: 1\nb: [\n"));
    assertThat(e.origin().path()).isEqualTo("inv/group_vars/web.yml");
    assertThat(e.origin().line()).isGreaterThanOrEqualTo(2);

    e = failure("inv", files("inv/hosts", "[web]\nh1\n", "inv/group_vars/web.yml", "- a\n- b\n"));
    assertThat(e.origin().path()).isEqualTo("inv/group_vars/web.yml");
    assertThat(e.getMessage()).contains("expected dicts");

    e = failure("inv", files("inv/hosts", "[web]\nh1\n", "inv/host_vars/h1.yml", "a: !python/object x\n"));
    assertThat(e.origin().path()).isEqualTo("inv/host_vars/h1.yml");
    assertThat(e.getMessage()).contains("unsupported YAML tag '!python/object' on a scalar");
  }

  /** A tag the loader does not read is named as written, at its file and line, with the tags it reads. */
  @Test
  void anUnsupportedYamlTagIsNamedAtItsFileAndLineWithTheTagsThatAreRead() {
    DecodeException e = failure("inv", files("inv/hosts", "[web]\nh1\n", "inv/group_vars/web.yml",
        "port: 80\nlist: !!omap [{a: 1}]\n"));
    assertThat(e.origin().path()).isEqualTo("inv/group_vars/web.yml");
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("inv/group_vars/web.yml").contains("unsupported YAML tag '!!omap' on a sequence")
        .contains("!vault and !unsafe").contains("!!str").contains("!!binary").contains("!!set")
        .contains("remove the tag").doesNotContain("constructor").doesNotContain("tag:yaml.org");
  }

  /**
   * {@code !!binary} and {@code !!set} are read as Ansible reads them (Python bytes, a set of the
   * mapping's keys), held as markers the managed inventory writes back with their tags; what PyYAML
   * refuses is an error at its file and line, as is a mapping that would pass for a marker.
   */
  @Test
  void binaryAndSetValuesAreReadAsAnsibleReadsThem() {
    Inventory inv = InventoryParser.parse("inv", files("inv/hosts.yml",
        "all:\n  hosts:\n    h1:\n      cert: !!binary |\n        aGVsbG8g\n        d29ybGQ=\n"
        + "      ports: !!set {80, '443', 80.5}\n      none: !!set {}\n      in_list: [!!binary aGk=]\n"), REV);
    com.fasterxml.jackson.databind.JsonNode vars = inv.host("h1").vars();
    assertThat(vars.get("cert").toString()).isEqualTo("{\"__yaml_binary\":\"aGVsbG8g\\nd29ybGQ=\\n\"}");
    assertThat(vars.get("ports").toString()).isEqualTo("{\"__yaml_set\":[80,\"443\",80.5]}");
    assertThat(vars.get("none").toString()).isEqualTo("{\"__yaml_set\":[]}");
    assertThat(vars.get("in_list").toString()).isEqualTo("[{\"__yaml_binary\":\"aGk=\"}]");
    // written back with their tags, which PyYAML reads to the same bytes and set
    StringBuilder written = new StringBuilder();
    dev.gitops.ansible.internal.InventoryYaml.value(vars, written);
    assertThat(written.toString()).contains("\"cert\": !!binary \"aGVsbG8g\\nd29ybGQ=\\n\"")
        .contains("\"ports\": !!set {80: null, \"443\": null, 80.5: null}").contains("\"none\": !!set {}");

    DecodeException e = failure("inv", files("inv/hosts", "[web]\nh1\n", "inv/group_vars/web.yml",
        "port: 80\ncert: !!binary \"not base64!\"\n"));
    assertThat(e.origin().line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("inv/group_vars/web.yml").contains("!!binary value is not base64");
    e = failure("inv", files("inv/hosts.yml", "all:\n  hosts:\n    h1:\n      ports: !!set [80, 443]\n"));
    assertThat(e.origin().line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("!!set must tag a mapping").contains("not a sequence");
    e = failure("inv", files("inv/hosts.yml", "all:\n  hosts:\n    h1:\n      ports: !!set {80, 443, 80}\n"));
    assertThat(e.getMessage()).contains("duplicate element '80' of a !!set");
    e = failure("inv", files("inv/hosts.yml", "all:\n  hosts:\n    h1:\n      x: {__yaml_binary: aGk=}\n"));
    assertThat(e.origin().line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("a mapping whose only key is '__yaml_binary'").contains("rename the key");
    e = failure("inv", files("inv/hosts", "[web]\nh1\n", "inv/host_vars/h1.json", "{\"x\": {\"__yaml_set\": [1]}}"));
    assertThat(e.origin().path()).isEqualTo("inv/host_vars/h1.json");
    assertThat(e.getMessage()).contains("a mapping whose only key is '__yaml_set'");
  }

  @Test
  void anEvidentlyYamlFilesErrorIsTheYamlErrorAloneWithoutTheIniReadersComplaint() {
    // named .yml: the INI reader's "Invalid host pattern 'all:'" at line 1 says nothing about it
    DecodeException e = failure("inv", files("inv/hosts.yml", "all:\n  hosts:\n    a:\n    a:\n"));
    assertThat(e.origin().line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("duplicate key 'a'").doesNotContain("as INI").doesNotContain("all:'");

    e = failure("inv", files("inv/hosts.yaml", "all:\n  hosts:\n    a: {x: 1\n    b:\n"));
    assertThat(e.origin().line()).isGreaterThanOrEqualTo(3);
    assertThat(e.getMessage()).doesNotContain("as INI").doesNotContain("Invalid host pattern");

    // no extension, but read as YAML up to line 4 where INI stopped at line 1
    e = failure("inv", files("inv/hosts", "all:\n  hosts:\n    a:\n    a:\n"));
    assertThat(e.origin().line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("duplicate key 'a'").doesNotContain("as INI").doesNotContain("all:'");

    // no extension and INI read further: the INI error, with what YAML made of it
    e = failure("inv", files("inv/hosts", "[web]\nh1\nh2 a='unclosed\n"));
    assertThat(e.origin().line()).isEqualTo(3);
    assertThat(e.getMessage()).contains("No closing quotation");
  }

  @Test
  void textThatIsNotUtf8NamesItsLine() {
    Map<String, byte[]> f = new LinkedHashMap<>();
    f.put("hosts", new byte[] {'[', 'w', ']', '\n', 'h', '1', '\n', 'h', (byte) 0xff, '\n'});
    DecodeException e = failure("hosts", f);
    assertThat(e.origin().line()).isEqualTo(3);
    assertThat(e.getMessage()).contains("not valid UTF-8");
  }

  @Test
  void aMissingInventoryPathIsNamed() {
    DecodeException e = failure("nope", files("hosts", "h1\n"));
    assertThat(e.getMessage()).contains("nope");
  }

  @Test
  void effectiveVariablesFollowAnsiblePrecedence() {
    Inventory inv = InventoryParser.parse("", files(
        "hosts", "h1 hv=line\n[parent:children]\nchild\n[child]\nh1\n[parent]\n[child:vars]\nv=child\nhv=child\n"
            + "[parent:vars]\nv=parent\nfile=inline\n[all:vars]\nv=all\n",
        "group_vars/all.yml", "file: all-file\n",
        "group_vars/parent.yml", "file: parent-file\n",
        "host_vars/h1.yml", "hv: file\n"), REV);
    Inventory.Host h1 = inv.host("h1");
    assertThat(h1.vars().get("v").asText()).as("child group over parent over all").isEqualTo("child");
    assertThat(h1.vars().get("file").asText()).as("group_vars files over inline group vars").isEqualTo("parent-file");
    assertThat(h1.vars().get("hv").asText()).as("host_vars over the host line over groups").isEqualTo("file");
    assertThat(h1.groups()).containsExactly("child", "parent");
    assertThat(inv.group("parent").children()).containsExactly("child");
    assertThat(h1.origin().path()).isEqualTo("hosts");
    assertThat(h1.origin().line()).isEqualTo(1);
  }
}
