package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The inventory as Ansible's {@code InventoryData}, {@code Group} and {@code Host} build it while
 * plugins parse files: groups with parents, children, depth and priority; hosts with the groups
 * they belong to (ancestors included); variables set one by one. The methods follow Ansible's
 * step for step (including the order in which children and hosts are recorded), because that
 * order decides depth, membership of {@code ungrouped} and variable precedence.
 */
public final class InventoryModel {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** One group. */
  public static final class Group {
    final String name;
    int depth;
    BigInteger priority = BigInteger.ONE;
    final ObjectNode vars = NODES.objectNode();
    final List<Group> children = new ArrayList<>();
    final List<Group> parents = new ArrayList<>();
    final List<Host> hosts = new ArrayList<>();
    final Set<String> hostNames = new HashSet<>();

    Group(String name) {
      this.name = name;
    }

    /** The name. */
    public String name() {
      return name;
    }

    /** Depth below {@code all}, as Ansible computes it. */
    public int depth() {
      return depth;
    }

    /** {@code ansible_group_priority} (1 by default). */
    public BigInteger priority() {
      return priority;
    }

    /** Variables set on the group in inventory files (not group_vars files). */
    public ObjectNode vars() {
      return vars;
    }

    /** Child groups, in the order they were added. */
    public List<Group> children() {
      return children;
    }

    /** Hosts added to this group directly, in order. */
    public List<Host> hosts() {
      return hosts;
    }
  }

  /** One host. */
  public static final class Host {
    final String name;
    final ObjectNode vars = NODES.objectNode();
    final LinkedHashSet<Group> groups = new LinkedHashSet<>();
    final String file;
    final int line;

    Host(String name, String file, int line) {
      this.name = name;
      this.file = file;
      this.line = line;
    }

    /** The name. */
    public String name() {
      return name;
    }

    /** Variables set on the host in inventory files (not host_vars files). */
    public ObjectNode vars() {
      return vars;
    }

    /** Every group the host belongs to, ancestors included. */
    public Set<Group> groups() {
      return groups;
    }

    /** The inventory file where the host first appeared. */
    public String file() {
      return file;
    }

    /** The line where the host first appeared (0 when not known). */
    public int line() {
      return line;
    }
  }

  private final Map<String, Group> groups = new LinkedHashMap<>();
  private final Map<String, Host> hosts = new LinkedHashMap<>();
  /** Where the names of the variables set are recorded, or null: see {@link #recordVariableNames}. */
  private Set<String> recording;

  /** An inventory with {@code all} and {@code ungrouped}, as Ansible starts. */
  public InventoryModel() {
    addGroup("all");
    addGroup("ungrouped");
    addChild("all", "ungrouped");
  }

  /** Groups by name, in the order they were added. */
  public Map<String, Group> groups() {
    return groups;
  }

  /** Hosts by name, in the order they were added. */
  public Map<String, Host> hosts() {
    return hosts;
  }

  /** {@code add_group}: adds the group unless present; returns its name. */
  public String addGroup(String name) {
    if (name == null || name.isEmpty()) {
      throw new InventoryProblem(0, "Invalid empty/false group name provided: " + name);
    }
    groups.computeIfAbsent(name, Group::new);
    return name;
  }

  /** {@code add_host}: adds the host unless present (a port only counts for a new host), and to {@code group}. */
  public Host addHost(String name, String group, BigInteger port, String file, int line) {
    if (name == null || name.isEmpty()) {
      throw new InventoryProblem(0, "Invalid empty host name provided: " + name);
    }
    Group g = null;
    if (group != null) {
      g = groups.get(group);
      if (g == null) {
        throw new InventoryProblem(0, "Could not find group " + group + " in inventory");
      }
    }
    Host h = hosts.get(name);
    if (h == null) {
      h = new Host(name, file, line);
      if (port != null) {
        if (recording != null) {
          recording.add("ansible_port");
        }
        h.vars.set("ansible_port", port.bitLength() < 64 ? NODES.numberNode(port.longValue()) : NODES.numberNode(port));
      }
      hosts.put(name, h);
    }
    if (g != null) {
      addHostToGroup(g, h);
    }
    return h;
  }

  /**
   * Adds the name of every variable set from now on (a port of {@code host:port} too) to {@code
   * names}, until called with null: the parser records those of a vault-encrypted inventory file,
   * every one of which is secret.
   */
  public void recordVariableNames(Set<String> names) {
    this.recording = names;
  }

  /** {@code set_variable} on a group (checked first) or a host. */
  public void setVariable(String entity, String key, JsonNode value) {
    if (recording != null) {
      recording.add(key);
    }
    Group g = groups.get(entity);
    if (g != null) {
      if (key.equals("ansible_group_priority")) {
        g.priority = priority(value);
      } else {
        g.vars.set(key, value);
      }
      return;
    }
    Host h = hosts.get(entity);
    if (h == null) {
      throw new InventoryProblem(0, "Could not identify group or host named " + entity);
    }
    h.vars.set(key, value);
  }

  /** Python's {@code int(value)} for a priority. */
  private static BigInteger priority(JsonNode value) {
    JsonNode v = AnsibleYaml.isUnsafe(value) ? value.get(AnsibleYaml.UNSAFE_KEY) : value;
    if (v.isIntegralNumber()) {
      return v.bigIntegerValue();
    }
    if (v.isBoolean()) {
      return v.booleanValue() ? BigInteger.ONE : BigInteger.ZERO;
    }
    if (v.isFloatingPointNumber()) {
      return v.decimalValue().toBigInteger();
    }
    if (v.isTextual()) {
      try {
        return PyText.parseInt(v.textValue());
      } catch (NumberFormatException e) {
        throw new InventoryProblem(0, "ansible_group_priority: " + e.getMessage());
      }
    }
    throw new InventoryProblem(0, "ansible_group_priority must be an integer, not " + v);
  }

  /** {@code add_child}: a group or host under {@code group}. */
  public boolean addChild(String group, String child) {
    Group g = groups.get(group);
    if (g == null) {
      throw new InventoryProblem(0, group + " is not a known group");
    }
    Group cg = groups.get(child);
    if (cg != null) {
      return addChildGroup(g, cg);
    }
    Host h = hosts.get(child);
    if (h != null) {
      return addHostToGroup(g, h);
    }
    throw new InventoryProblem(0, child + " is not a known host nor group");
  }

  private boolean addChildGroup(Group parent, Group child) {
    if (parent == child) {
      throw new InventoryProblem(0, "can't add group to itself (" + parent.name + ")");
    }
    if (parent.children.contains(child)) {
      return false;
    }
    Set<Group> startAncestors = ancestors(child);
    Set<Group> newAncestors = ancestors(parent);
    if (newAncestors.contains(child)) {
      throw new InventoryProblem(0, "Adding group '" + child.name + "' as child to '" + parent.name
          + "' creates a recursive dependency loop.");
    }
    newAncestors.add(parent);
    newAncestors.removeAll(startAncestors);
    parent.children.add(child);
    child.depth = Math.max(parent.depth + 1, child.depth);
    checkChildrenDepth(child);
    if (!child.parents.contains(parent)) {
      child.parents.add(parent);
      for (Host h : hostsUnder(child)) {
        h.groups.addAll(newAncestors);
      }
    }
    return true;
  }

  private static void checkChildrenDepth(Group g) {
    int depth = g.depth;
    int start = g.depth;
    Set<Group> seen = new HashSet<>();
    Set<Group> unprocessed = new LinkedHashSet<>(g.children);
    while (!unprocessed.isEmpty()) {
      seen.addAll(unprocessed);
      depth++;
      Set<Group> toProcess = unprocessed;
      unprocessed = new LinkedHashSet<>();
      for (Group c : toProcess) {
        if (c.depth < depth) {
          c.depth = depth;
          unprocessed.addAll(c.children);
        }
      }
      if (depth - start > seen.size()) {
        throw new InventoryProblem(0, "The group named '" + g.name + "' has a recursive dependency loop.");
      }
    }
  }

  private boolean addHostToGroup(Group g, Host h) {
    if (g.hostNames.contains(h.name)) {
      return false;
    }
    g.hosts.add(h);
    g.hostNames.add(h.name);
    h.groups.addAll(ancestors(g));
    h.groups.add(g);
    return true;
  }

  private void removeHostFromGroup(Group g, Host h) {
    if (g.hostNames.remove(h.name)) {
      g.hosts.remove(h);
      removeGroupFromHost(h, g);
    }
  }

  /** {@code Host.remove_group}: also drops ancestors no other group of the host still needs (never all). */
  private void removeGroupFromHost(Host h, Group g) {
    if (!h.groups.remove(g)) {
      return;
    }
    for (Group old : ancestors(g)) {
      if (old.name.equals("all")) {
        continue;
      }
      boolean needed = false;
      for (Group other : h.groups) {
        if (ancestors(other).contains(old)) {
          needed = true;
          break;
        }
      }
      if (!needed) {
        removeGroupFromHost(h, old);
      }
    }
  }

  /** Every ancestor of {@code g} (not {@code g}). */
  public static Set<Group> ancestors(Group g) {
    Set<Group> seen = new LinkedHashSet<>();
    List<Group> todo = new ArrayList<>(g.parents);
    while (!todo.isEmpty()) {
      Group p = todo.remove(todo.size() - 1);
      if (seen.add(p)) {
        todo.addAll(p.parents);
      }
    }
    return seen;
  }

  /** Hosts of {@code g} and of its descendants. */
  private static Collection<Host> hostsUnder(Group g) {
    Set<Host> out = new LinkedHashSet<>();
    Set<Group> seen = new HashSet<>();
    List<Group> todo = new ArrayList<>();
    todo.add(g);
    while (!todo.isEmpty()) {
      Group x = todo.remove(todo.size() - 1);
      if (seen.add(x)) {
        out.addAll(x.hosts);
        todo.addAll(x.children);
      }
    }
    return out;
  }

  /** {@code reconcile_inventory}: top-level groups under all, hosts without a group in ungrouped. */
  public void reconcile() {
    Group all = groups.get("all");
    Group ungrouped = groups.get("ungrouped");
    for (Group g : new ArrayList<>(groups.values())) {
      if (!g.name.equals("all") && g.parents.isEmpty()) {
        addChild("all", g.name);
      }
    }
    for (Host h : hosts.values()) {
      if (h.groups.contains(ungrouped)) {
        Set<Group> others = new HashSet<>(h.groups);
        others.remove(all);
        others.remove(ungrouped);
        if (!others.isEmpty()) {
          removeHostFromGroup(ungrouped, h);
        }
      } else if (h.groups.isEmpty() || (h.groups.size() == 1 && h.groups.contains(all))) {
        addChild("ungrouped", h.name);
      }
    }
  }

  /** Groups of {@code h} but all, in Ansible's merge order: depth, then priority, then name. */
  public static List<Group> sortedGroups(Host h) {
    List<Group> out = new ArrayList<>();
    for (Group g : h.groups) {
      if (!g.name.equals("all")) {
        out.add(g);
      }
    }
    out.sort((a, b) -> {
      int c = Integer.compare(a.depth, b.depth);
      if (c != 0) {
        return c;
      }
      c = a.priority.compareTo(b.priority);
      return c != 0 ? c : compareCodePoints(a.name, b.name);
    });
    return out;
  }

  /** Python's string order (by code point). */
  public static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
