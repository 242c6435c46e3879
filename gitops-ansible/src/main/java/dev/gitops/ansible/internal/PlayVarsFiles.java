package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The {@code vars_files} of a playbook's plays, checked against the playbook directory that a run
 * gets: only that directory is desired state, copied for each run, so a vars file named relative to
 * the playbook that is not in it is not there when the play starts, and Ansible ends the play
 * ({@code ERROR! vars file ../common.yml was not found}) on every host, at apply time, while
 * {@code --syntax-check} does not load vars files. Checked here, it fails the plan at the line.
 * Names with a template ({@code {{ }}}), absolute paths (files of the controller, outside Git by
 * intent) and first-found lists are left to Ansible. The vars files a run loads, those and the
 * playbook directory's {@code group_vars}/{@code host_vars}, are checked for YAML syntax errors
 * ({@link #unreadable}) for the same reason.
 */
public final class PlayVarsFiles {

  private PlayVarsFiles() {}

  /** A {@code vars_files} entry relative to its playbook: the name, where it resolves (or null), its line. */
  private record Entry(String name, String resolved, int line) {}

  /**
   * The first {@code vars_files} entry of {@code playbook}'s plays that names a file relative to
   * the playbook that the bundle does not hold, with why; empty when there is none, or when the
   * playbook is not a list of plays that can be read (the syntax check reports that).
   */
  public static Optional<SyntaxCheck.Problem> missing(PlaybookBundle bundle, String playbook) {
    String top = RepoPaths.parent(bundle.playbook());
    for (Entry e : entries(bundle, playbook)) {
      if (e.resolved() != null && bundle.files().containsKey(e.resolved())) {
        continue;
      }
      String why = e.resolved() == null || !(top.isEmpty() || e.resolved().startsWith(top + "/"))
          ? "it is outside the playbook's directory " + (top.isEmpty() ? "(the repository's root)" : top + "/")
              + ", the only one desired state and copied for a run: move it under that directory"
          : e.resolved() + " is not in the source";
      return Optional.of(new SyntaxCheck.Problem(playbook, e.line(),
          "vars_files '" + dev.gitops.core.render.PlanRenderer.printable(e.name())
              + "' would not be found when the play runs: " + why));
    }
    return Optional.empty();
  }

  /**
   * The first vars file of the playbook's directory that Ansible loads only when a play runs
   * ({@code --syntax-check} loads none) and cannot read as YAML, at the line of its syntax error:
   * a {@code group_vars/} or {@code host_vars/} file or directory beside the playbook for one of
   * {@code groups} or {@code hosts} (as Ansible's {@code host_group_vars} plugin finds them), or a
   * file a play of one of {@code playbooks} names in {@code vars_files}. Ansible ended the run
   * there, before any task, for every host of the batch. Files Ansible never loads (a group no host
   * is in, an extension it skips) are not read, nor are vault-encrypted files (Ansible decrypts
   * them first; a run names one its password does not decrypt) and text that is not UTF-8.
   */
  public static Optional<SyntaxCheck.Problem> unreadable(PlaybookBundle bundle, List<String> playbooks,
      Collection<String> groups, Collection<String> hosts) {
    NavigableMap<String, byte[]> files = new TreeMap<>(bundle.files());
    VarsFiles vars = new VarsFiles(files, RepoPaths.parent(bundle.playbook()), path -> "");
    Map<String, String> loaded = new LinkedHashMap<>();  // file -> why Ansible loads it
    for (String g : groups) {
      vars.sources("group_vars", g).forEach(f -> loaded.putIfAbsent(f, "for group '" + g + "'"));
    }
    for (String h : hosts) {
      vars.sources("host_vars", h).forEach(f -> loaded.putIfAbsent(f, "for host '" + h + "'"));
    }
    for (String playbook : playbooks) {
      for (Entry e : entries(bundle, playbook)) {
        if (e.resolved() != null && files.containsKey(e.resolved())) {
          loaded.putIfAbsent(e.resolved(), "as vars_files of a play of " + playbook + ":" + e.line());
        }
      }
    }
    for (Map.Entry<String, String> f : loaded.entrySet()) {
      String text = utf8(files.get(f.getKey()));
      if (text == null || text.stripLeading().startsWith("$ANSIBLE_VAULT;")) {
        continue;
      }
      Optional<AnsibleYaml.YamlError> error = AnsibleYaml.syntaxError(text);
      if (error.isPresent()) {
        return Optional.of(new SyntaxCheck.Problem(f.getKey(), error.get().line(), "cannot be read as YAML: "
            + error.get().getMessage() + "; Ansible loads it (" + f.getValue() + ") when the play runs, and would end"
            + " the run there, before any task, on every host; nothing runs until it is fixed"));
      }
    }
    return Optional.empty();
  }

  /** {@code bytes} as UTF-8 text, or null when they are not (Ansible reports that itself). */
  private static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
  }

  /**
   * The textual {@code vars_files} entries of {@code playbook}'s plays that name a file relative to
   * it (not templated, not absolute), each with where it resolves in the repository; none when the
   * playbook is not a list of plays that can be read (the syntax check reports that).
   */
  private static List<Entry> entries(PlaybookBundle bundle, String playbook) {
    byte[] bytes = bundle.files().get(playbook);
    if (bytes == null) {
      return List.of();
    }
    AnsibleYaml.Loaded loaded;
    try {
      loaded = AnsibleYaml.load(new String(bytes, StandardCharsets.UTF_8));
    } catch (AnsibleYaml.YamlError e) {
      return List.of();  // what Ansible cannot load, its syntax check names
    }
    JsonNode plays = loaded.value();
    if (plays == null || !plays.isArray()) {
      return List.of();
    }
    String dir = RepoPaths.parent(playbook);
    List<Entry> out = new ArrayList<>();
    for (JsonNode play : plays) {
      JsonNode files = play.isObject() ? play.get("vars_files") : null;
      if (files == null) {
        continue;
      }
      List<JsonNode> entries = new ArrayList<>();
      if (files.isArray()) {
        files.forEach(entries::add);
      } else {
        entries.add(files);
      }
      for (JsonNode entry : entries) {
        if (!entry.isTextual() || entry.asText().contains("{{") || entry.asText().startsWith("/")
            || entry.asText().isBlank()) {
          continue;
        }
        out.add(new Entry(entry.asText(), resolve(dir, entry.asText()), loaded.lineOf(play, "vars_files")));
      }
    }
    return out;
  }

  /** {@code name} relative to {@code dir}, normalised; null when it climbs above the root. */
  private static String resolve(String dir, String name) {
    List<String> parts = new ArrayList<>();
    if (!dir.isEmpty()) {
      parts.addAll(List.of(dir.split("/")));
    }
    for (String p : name.replace('\\', '/').split("/")) {
      if (p.isEmpty() || p.equals(".")) {
        continue;
      }
      if (p.equals("..")) {
        if (parts.isEmpty()) {
          return null;
        }
        parts.remove(parts.size() - 1);
      } else {
        parts.add(p);
      }
    }
    return String.join("/", parts);
  }
}
