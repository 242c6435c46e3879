package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ansible's INI inventory plugin, line for line: {@code [group]}, {@code [group:vars]} and
 * {@code [group:children]} sections, host lines cut with shlex into a host pattern and {@code
 * key=value} words, values read as Python literals, children that may be declared later, and the
 * same errors (each naming its line).
 */
public final class IniInventory {

  private static final Pattern SECTION = Pattern.compile("^\\[([^:\\]\\s]+)(?::(\\w+))?\\]\\s*(?:#.*)?$",
      Pattern.UNICODE_CHARACTER_CLASS);
  /** How an unclosed section header's problem starts: the parser reports it as the file's error. */
  public static final String UNCLOSED = "INI syntax error: an unclosed section header";

  /**
   * Whether {@code line} (stripped) opens a section it never closes: a '[' first and no ']' at all.
   * A line that starts with a host range ({@code [a:c]-web}) closes it, and is a host line.
   */
  public static boolean isUnclosedSection(String line) {
    return line.startsWith("[") && line.indexOf(']') < 0;
  }

  private static final Pattern GROUP_NAME = Pattern.compile("^([^:\\]\\s]+)\\s*(?:#.*)?$",
      Pattern.UNICODE_CHARACTER_CLASS);

  private record Pending(int line, String state, List<String> parents) {}

  private final InventoryModel inventory;
  private final String path;
  private int lineNo;

  private IniInventory(InventoryModel inventory, String path) {
    this.inventory = inventory;
    this.path = path;
  }

  /**
   * Parses {@code text} (the file at {@code path}) into {@code inventory}.
   *
   * @throws InventoryProblem naming the line
   */
  public static void parse(InventoryModel inventory, String path, String text) {
    new IniInventory(inventory, path).parse(PyText.splitLines(text));
  }

  private InventoryProblem problem(String message) {
    return new InventoryProblem(lineNo, message);
  }

  private void parse(List<String> lines) {
    Map<String, Pending> pending = new LinkedHashMap<>();
    String groupName = "ungrouped";
    String state = "hosts";
    lineNo = 0;
    for (String raw : lines) {
      lineNo++;
      String line = PyText.strip(raw);
      if (line.isEmpty() || line.charAt(0) == ';' || line.charAt(0) == '#') {
        continue;
      }
      Matcher m = SECTION.matcher(line);
      if (m.matches()) {
        // Ansible's INI plugin calls to_safe_group_name without force: names are kept as written
        groupName = m.group(1);
        state = m.group(2) == null || m.group(2).isEmpty() ? "hosts" : m.group(2);
        if (!state.equals("hosts") && !state.equals("children") && !state.equals("vars")) {
          throw problem("Section [" + m.group(1) + ":" + m.group(2) + "] has unknown type: " + state);
        }
        try {
          if (!inventory.groups().containsKey(groupName)) {
            if (state.equals("vars") && !pending.containsKey(groupName)) {
              pending.put(groupName, new Pending(lineNo, "vars", new ArrayList<>()));
            }
            inventory.addGroup(groupName);
          }
          Pending p = pending.get(groupName);
          if (p != null && !state.equals("vars")) {
            if (p.state().equals("children")) {
              addPendingChildren(groupName, pending);
            } else {
              pending.remove(groupName);
            }
          }
        } catch (InventoryProblem e) {
          throw e.at(lineNo);
        }
        continue;
      } else if (line.startsWith("[") && line.endsWith("]")) {
        throw problem("Invalid section entry: '" + line + "'. Please make sure that there are no spaces in the section"
            + " entry, and that there are no other invalid characters");
      } else if (isUnclosedSection(line)) {
        // Ansible takes it for a host pattern and fails with "not enough values to unpack"
        throw problem(UNCLOSED + ": '" + line + "' has no closing ']' (a section is [group], [group:vars] or"
            + " [group:children])");
      }
      try {
        switch (state) {
          case "hosts" -> hostLine(line, groupName);
          case "vars" -> {
            int eq = line.indexOf('=');
            if (eq < 0) {
              // the line is not shown: a value written without its key would be
              throw problem("Expected key=value in section [" + groupName + ":vars], got a line without '='"
                  + HIDDEN);
            }
            String k = PyText.strip(line.substring(0, eq));
            String v = PyText.strip(line.substring(eq + 1));
            inventory.setVariable(groupName, k, PythonLiteral.parseValue(v));
          }
          default -> {
            Matcher gm = GROUP_NAME.matcher(line);
            if (!gm.matches()) {
              throw problem("Expected a group name in section [" + groupName + ":children], got a line that is"
                  + " not one (a name has no white space, ':' or ']')" + HIDDEN);
            }
            String child = gm.group(1);
            if (!inventory.groups().containsKey(child)) {
              Pending p = pending.get(child);
              if (p == null) {
                List<String> parents = new ArrayList<>();
                parents.add(groupName);
                pending.put(child, new Pending(lineNo, "children", parents));
              } else {
                p.parents().add(groupName);
              }
            } else {
              inventory.addChild(groupName, child);
            }
          }
        }
      } catch (InventoryProblem e) {
        throw e.at(lineNo);
      }
    }
    for (Map.Entry<String, Pending> e : pending.entrySet()) {
      Pending p = e.getValue();
      if (p.state().equals("vars")) {
        throw new InventoryProblem(p.line(), "Section [" + e.getKey() + ":vars] not valid for undefined group: "
            + e.getKey());
      }
      throw new InventoryProblem(p.line(), "Section [" + p.parents().get(p.parents().size() - 1)
          + ":children] includes undefined group: " + e.getKey());
    }
  }

  private void addPendingChildren(String group, Map<String, Pending> pending) {
    for (String parent : pending.get(group).parents()) {
      inventory.addChild(parent, group);
      Pending pp = pending.get(parent);
      if (pp != null && pp.state().equals("children")) {
        addPendingChildren(parent, pending);
      }
    }
    pending.remove(group);
  }

  /** Said of a message that does not show the line. */
  private static final String HIDDEN = " (the line is not shown: it may hold secret values)";

  /** Where a word is: after the last variable of {@code before} (host pattern first), or right after the pattern. */
  private static String after(List<String> before) {
    for (int i = before.size() - 1; i > 0; i--) {
      int eq = before.get(i).indexOf('=');
      if (eq > 0) {
        return "after variable '" + before.get(i).substring(0, eq) + "'";
      }
    }
    return "right after the host pattern";
  }

  private void hostLine(String line, String groupName) {
    List<String> tokens;
    try {
      tokens = Shlex.split(line);
    } catch (Shlex.SplitError e) {
      // named by its host and variable: the line itself may hold secret values
      List<String> before = e.wordsBefore();
      String where;
      if (before.isEmpty()) {
        where = "in the host pattern";
      } else if (e.unfinished().indexOf('=') > 0) {
        where = "of host '" + before.get(0) + "' in the value of variable '"
            + e.unfinished().substring(0, e.unfinished().indexOf('=')) + "'";
      } else {
        where = "of host '" + before.get(0) + "' " + after(before);
      }
      throw problem("Error parsing host definition " + where + ": " + e.getMessage() + HIDDEN);
    }
    if (tokens.isEmpty()) {
      throw problem("Expected a host definition, got none");
    }
    String pattern = tokens.get(0);
    HostPatterns.Expanded expanded;
    try {
      expanded = HostPatterns.expand(pattern);
    } catch (IllegalArgumentException e) {
      throw problem("Invalid host pattern '" + pattern + "': " + e.getMessage());
    }
    if (PyText.strip(pattern).endsWith(":") && expanded.port() == null) {
      throw problem("Invalid host pattern '" + pattern + "' supplied, ending in ':' is not allowed, this character is"
          + " reserved to provide a port.");
    }
    for (String h : expanded.hosts()) {
      if (PyText.strip(h).equals("---")) {
        throw problem("Invalid host pattern '" + pattern + "' supplied, '---' is normally a sign this is a YAML file.");
      }
    }
    Map<String, JsonNode> variables = new LinkedHashMap<>();
    for (int i = 1; i < tokens.size(); i++) {
      String t = tokens.get(i);
      int eq = t.indexOf('=');
      if (eq < 0) {
        // the word is not shown: it may be a value cut from its key by a blank ("password= s3cret")
        throw problem("Expected key=value host variable assignment for host '" + pattern + "', got a word without"
            + " '=' " + after(tokens.subList(0, i)) + HIDDEN);
      }
      variables.put(t.substring(0, eq), PythonLiteral.parseValue(t.substring(eq + 1)));
    }
    for (String h : expanded.hosts()) {
      inventory.addHost(h, groupName, expanded.port(), path, lineNo);
      for (Map.Entry<String, JsonNode> v : variables.entrySet()) {
        inventory.setVariable(h, v.getKey(), v.getValue());
      }
    }
  }
}
