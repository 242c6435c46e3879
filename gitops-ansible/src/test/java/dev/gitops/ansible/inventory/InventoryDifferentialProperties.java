package dev.gitops.ansible.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Generated inventories (INI and YAML files side by side, group_vars and host_vars as files,
 * directories and JSON, children, priorities, ranges, ports and colliding variable names) read by
 * the parser and by the real {@code ansible-inventory --list} must give the same JSON. Each try
 * runs one process, so the tries are few.
 */
class InventoryDifferentialProperties {

  private static final List<String> GROUPS = List.of("web", "db", "app", "eu", "us", "prod");
  private static final List<String> HOST_PATTERNS = List.of("h1", "h2", "web[1:3]", "db-[a:c]", "n[01:09:4]",
      "10.0.0.[1:2]", "sv:2222", "x.example.com", "h[x:B:20]", "[::1]:22");
  private static final List<String> HOST_FILE_NAMES = List.of("h1", "h2", "web2", "db-b", "n05", "x.example.com",
      "10.0.0.1");
  private static final List<String> VAR_NAMES = List.of("a", "b", "port", "list", "ansible_user");
  private static final List<String> YAML_VALUES = List.of("5", "yes", "'yes'", "0777", "1:20", "1e5", "1.5e+3", "~",
      "2001-12-14", "[1, two, {a: b}]", "{k: v, n: 1}", "!unsafe '{{ x }}'", "0x1f", "+12", ".5", "null",
      "\"str\"", "On", "-3", "3.0", "0b11", "text with spaces", "'#not a comment'", "x # comment", "2001-1-2 3:04:05.5");
  private static final List<String> INI_VALUES = List.of("5", "'quoted'", "\"dq\"", "[1, 2]", "{'a': 1, 'b': None}",
      "True", "yes", "hello world", "0x1F", "1_000", "3.5", "-2", "None", "07", "a=b", "3.0", "(1, 'x')",
      "u'uni' r'\\d'", "'it''s'", "x # y");
  private static final List<String> INI_TOKENS = List.of("5", "'quoted words'", "\"[1,2]\"", "True", "yes", "0x1F",
      "a\\ b", "'5'", "none", "-1.5", "{'k':'v'}");

  private static final Path ROOT;

  static {
    try {
      ROOT = Files.createTempDirectory("inventory-properties-");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterContainer
  static void cleanUp() throws IOException {
    try (Stream<Path> s = Files.walk(ROOT)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  record Var(int name, int value) {}

  record HostDef(int pattern, List<Integer> groups, List<Var> vars, boolean inYaml) {}

  /** filesKind: 0 none, 1 YAML file, 2 directory of two files, 3 JSON file. */
  record GroupDef(List<Var> vars, int priority, List<Integer> children, boolean inYaml, int filesKind,
      List<Var> fileVars) {}

  record HostFile(int name, List<Var> vars, boolean json) {}

  record Spec(List<GroupDef> groups, List<HostDef> hosts, List<Var> allVars, List<Var> allFileVars,
      List<HostFile> hostFiles, boolean export) {}

  @Property(tries = 50, shrinking = ShrinkingMode.BOUNDED)
  void generatedInventoriesReadAsAnsibleReadsThem(@ForAll("specs") Spec spec) throws Exception {
    Path dir = Files.createTempDirectory(ROOT, "inv");
    Map<String, String> files = render(spec);
    for (Map.Entry<String, String> f : files.entrySet()) {
      Path p = dir.resolve(f.getKey());
      Files.createDirectories(p.getParent());
      Files.writeString(p, f.getValue(), StandardCharsets.UTF_8);
    }
    JsonNode want = AnsibleInventoryCli.list(dir, spec.export());
    Inventory inv = InventoryParser.parse(dir);
    assertThat(inv.differenceFrom(want, spec.export()))
        .as("files %s%nansible: %s%nparser:  %s", files, want, inv.toListJson(spec.export())).isEmpty();
  }

  // ------------------------------------------------------------------ generators

  private static Arbitrary<List<Var>> vars(int max) {
    return Combinators.combine(Arbitraries.integers().between(0, VAR_NAMES.size() - 1),
        Arbitraries.integers().between(0, 1000)).as(Var::new).list().ofMaxSize(max);
  }

  @Provide
  Arbitrary<Spec> specs() {
    Arbitrary<Integer> groupCount = Arbitraries.integers().between(1, GROUPS.size());
    return groupCount.flatMap(n -> {
      Arbitrary<GroupDef> group = Combinators.combine(vars(3), Arbitraries.integers().between(0, 3),
          Arbitraries.integers().between(0, n - 1).list().ofMaxSize(2), Arbitraries.of(true, false),
          Arbitraries.integers().between(0, 3), vars(3)).as(GroupDef::new);
      Arbitrary<HostDef> host = Combinators.combine(Arbitraries.integers().between(0, HOST_PATTERNS.size() - 1),
          Arbitraries.integers().between(0, n - 1).list().ofMaxSize(2), vars(2), Arbitraries.of(true, false))
          .as(HostDef::new);
      Arbitrary<HostFile> hostFile = Combinators.combine(Arbitraries.integers().between(0, HOST_FILE_NAMES.size() - 1),
          vars(3), Arbitraries.of(true, false)).as(HostFile::new);
      return Combinators.combine(group.list().ofSize(n), host.list().ofMinSize(1).ofMaxSize(6), vars(3), vars(3),
          hostFile.list().ofMaxSize(2), Arbitraries.of(true, false)).as(Spec::new);
    });
  }

  // ------------------------------------------------------------------ rendering

  private static String yamlValue(Var v) {
    return YAML_VALUES.get(v.value() % YAML_VALUES.size());
  }

  private static String name(Var v) {
    return VAR_NAMES.get(v.name());
  }

  /** YAML mappings take each name once (the parser refuses duplicate keys; Ansible would warn). */
  private static String yamlVars(List<Var> vars, String indent, int priority) {
    StringBuilder sb = new StringBuilder();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Var v : vars) {
      if (!seen.add(name(v))) {
        continue;
      }
      sb.append(indent).append(name(v)).append(": ").append(yamlValue(v)).append('\n');
    }
    if (priority > 0) {
      sb.append(indent).append("ansible_group_priority: ").append(priority).append('\n');
    }
    return sb.toString();
  }

  private static String jsonVars(List<Var> vars) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Var v : vars) {
      Object[] pool = {v.value(), "s" + v.value(), v.value() % 2 == 0, List.of(v.value(), "x"), v.value() + 0.5,
          Map.of("k", v.value()), null};
      m.put(name(v), pool[v.value() % pool.length]);
    }
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Two files in a fixed order (INI first), plus group_vars and host_vars. */
  static Map<String, String> render(Spec spec) {
    List<GroupDef> groups = spec.groups();
    StringBuilder ini = new StringBuilder("# generated\n");
    StringBuilder yaml = new StringBuilder();
    // ungrouped hosts
    StringBuilder yamlAllHosts = new StringBuilder();
    java.util.Set<Integer> yamlUngrouped = new java.util.HashSet<>();
    for (HostDef h : spec.hosts()) {
      if (h.groups().isEmpty()) {
        if (!h.inYaml()) {
          ini.append(iniHost(h));
        } else if (yamlUngrouped.add(h.pattern())) {
          yamlAllHosts.append(yamlHost(h, "    "));
        }
      }
    }
    for (int g = 0; g < groups.size(); g++) {
      GroupDef def = groups.get(g);
      String name = GROUPS.get(g);
      List<HostDef> members = new ArrayList<>();
      for (HostDef h : spec.hosts()) {
        if (h.groups().contains(g)) {
          members.add(h);
        }
      }
      // children only downwards (a higher index), so there is never a cycle
      final int index = g;
      List<Integer> children = def.children().stream().filter(c -> c > index).distinct().toList();
      if (!def.inYaml()) {
        ini.append('[').append(name).append("]\n");
        members.forEach(h -> ini.append(iniHost(h)));
        if (!def.vars().isEmpty() || def.priority() > 0) {
          ini.append('[').append(name).append(":vars]\n");
          for (Var v : def.vars()) {
            ini.append(name(v)).append('=').append(INI_VALUES.get(v.value() % INI_VALUES.size())).append('\n');
          }
          if (def.priority() > 0) {
            ini.append("ansible_group_priority=").append(def.priority()).append('\n');
          }
        }
        List<Integer> iniChildren = children.stream().filter(c -> !groups.get(c).inYaml()).toList();
        if (!iniChildren.isEmpty()) {
          ini.append('[').append(name).append(":children]\n");
          iniChildren.forEach(c -> ini.append(GROUPS.get(c)).append('\n'));
        }
        List<Integer> yamlChildren = children.stream().filter(c -> groups.get(c).inYaml()).toList();
        if (!yamlChildren.isEmpty()) {
          yaml.append(name).append(":\n  children:\n");
          yamlChildren.forEach(c -> yaml.append("    ").append(GROUPS.get(c)).append(":\n"));
        }
      } else {
        yaml.append(name).append(":\n");
        if (!members.isEmpty()) {
          yaml.append("  hosts:\n");
          java.util.Set<Integer> seen = new java.util.HashSet<>();
          members.stream().filter(h -> seen.add(h.pattern())).forEach(h -> yaml.append(yamlHost(h, "    ")));
        }
        if (!def.vars().isEmpty() || def.priority() > 0) {
          yaml.append("  vars:\n").append(yamlVars(def.vars(), "    ", def.priority()));
        }
        if (!children.isEmpty()) {
          yaml.append("  children:\n");
          children.forEach(c -> yaml.append("    ").append(GROUPS.get(c)).append(":\n"));
        }
      }
    }
    if (!spec.allVars().isEmpty() || yamlAllHosts.length() > 0) {
      yaml.append("all:\n");
      if (yamlAllHosts.length() > 0) {
        yaml.append("  hosts:\n").append(yamlAllHosts);
      }
      if (!spec.allVars().isEmpty()) {
        yaml.append("  vars:\n").append(yamlVars(spec.allVars(), "    ", 0));
      }
    }
    Map<String, String> files = new LinkedHashMap<>();
    files.put("10-hosts", ini.toString());
    if (yaml.length() > 0) {
      files.put("20-more.yml", yaml.toString());
    }
    if (!spec.allFileVars().isEmpty()) {
      files.put("group_vars/all.yml", yamlVars(spec.allFileVars(), "", 0));
    }
    for (int g = 0; g < groups.size(); g++) {
      GroupDef def = groups.get(g);
      String name = GROUPS.get(g);
      switch (def.filesKind()) {
        case 1 -> files.put("group_vars/" + name + ".yml", "---\n" + yamlVars(def.fileVars(), "", 0));
        case 2 -> {
          int half = def.fileVars().size() / 2;
          files.put("group_vars/" + name + "/10.yml", yamlVars(def.fileVars().subList(0, half), "", 0));
          files.put("group_vars/" + name + "/20", yamlVars(def.fileVars().subList(half, def.fileVars().size()), "", 0));
        }
        case 3 -> files.put("group_vars/" + name + ".json", jsonVars(def.fileVars()));
        default -> { }
      }
    }
    for (HostFile hf : spec.hostFiles()) {
      String n = HOST_FILE_NAMES.get(hf.name());
      if (hf.json()) {
        files.put("host_vars/" + n + ".json", jsonVars(hf.vars()));
      } else {
        files.put("host_vars/" + n, yamlVars(hf.vars(), "", 0));
      }
    }
    return files;
  }

  private static String iniHost(HostDef h) {
    StringBuilder sb = new StringBuilder(HOST_PATTERNS.get(h.pattern()));
    for (Var v : h.vars()) {
      sb.append(' ').append(name(v)).append('=').append(INI_TOKENS.get(v.value() % INI_TOKENS.size()));
    }
    return sb.append('\n').toString();
  }

  private static String yamlHost(HostDef h, String indent) {
    String pattern = HOST_PATTERNS.get(h.pattern());
    StringBuilder sb = new StringBuilder(indent).append('\'').append(pattern).append("':");
    if (h.vars().isEmpty()) {
      return sb.append('\n').toString();
    }
    sb.append('\n').append(yamlVars(h.vars(), indent + "  ", 0));
    return sb.toString();
  }
}
