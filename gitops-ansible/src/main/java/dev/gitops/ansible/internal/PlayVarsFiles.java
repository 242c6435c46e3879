package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code vars_files} of a playbook's plays, checked against the playbook directory that a run
 * gets: only that directory is desired state, copied for each run, so a vars file named relative to
 * the playbook that is not in it is not there when the play starts, and Ansible ends the play
 * ({@code ERROR! vars file ../common.yml was not found}) on every host, at apply time, while
 * {@code --syntax-check} does not load vars files. Checked here, it fails the plan at the line.
 * Names with a template ({@code {{ }}}), absolute paths (files of the controller, outside Git by
 * intent) and first-found lists are left to Ansible.
 */
public final class PlayVarsFiles {

  private PlayVarsFiles() {}

  /**
   * The first {@code vars_files} entry of {@code playbook}'s plays that names a file relative to
   * the playbook that the bundle does not hold, with why; empty when there is none, or when the
   * playbook is not a list of plays that can be read (the syntax check reports that).
   */
  public static Optional<SyntaxCheck.Problem> missing(PlaybookBundle bundle, String playbook) {
    byte[] bytes = bundle.files().get(playbook);
    if (bytes == null) {
      return Optional.empty();
    }
    AnsibleYaml.Loaded loaded;
    try {
      loaded = AnsibleYaml.load(new String(bytes, StandardCharsets.UTF_8));
    } catch (AnsibleYaml.YamlError e) {
      return Optional.empty();  // what Ansible cannot load, its syntax check names
    }
    JsonNode plays = loaded.value();
    if (plays == null || !plays.isArray()) {
      return Optional.empty();
    }
    String dir = RepoPaths.parent(playbook);
    String top = RepoPaths.parent(bundle.playbook());
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
        String name = entry.asText();
        String resolved = resolve(dir, name);
        if (resolved != null && bundle.files().containsKey(resolved)) {
          continue;
        }
        String why = resolved == null || !(top.isEmpty() || resolved.startsWith(top + "/"))
            ? "it is outside the playbook's directory " + (top.isEmpty() ? "(the repository's root)" : top + "/")
                + ", the only one desired state and copied for a run: move it under that directory"
            : resolved + " is not in the source";
        return Optional.of(new SyntaxCheck.Problem(playbook, loaded.lineOf(play, "vars_files"),
            "vars_files '" + dev.gitops.core.render.PlanRenderer.printable(name) + "' would not be found when the play runs: " + why));
      }
    }
    return Optional.empty();
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
