package dev.gitops.ansible.inventory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.api.Origin;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An Ansible inventory as {@link InventoryParser} read it: hosts with their effective variables
 * (every source merged with Ansible's precedence) and groups with their own variables and
 * children. Equal, by construction and by a differential test, to what {@code ansible-inventory
 * --list} (and {@code --list --export}) prints for the same files.
 *
 * <pre>{@code
 * Inventory inv = InventoryParser.parse(Path.of("inventory"));
 * JsonNode port = inv.host("web01").vars().get("http_port");
 * inv.group("web").children();            // ["web_eu", "web_us"]
 * }</pre>
 */
public final class Inventory {

  /**
   * One host.
   *
   * @param name the inventory hostname
   * @param groups every group it belongs to (ancestors included, {@code all} not), sorted, as
   *     Ansible's {@code group_names}
   * @param vars its effective variables: inventory and {@code group_vars}/{@code host_vars}
   *     merged with Ansible's precedence, without Ansible's internal names; numbers keep their
   *     Python kind ({@code 1500.0} stays a float), unlike a frozen document
   * @param ownVars variables set on the host itself (inventory line and {@code host_vars}), as
   *     {@code --export} shows them
   * @param origin the file and line where the host first appeared
   */
  public record Host(String name, List<String> groups, JsonNode vars, JsonNode ownVars, Origin origin) {
    /** Copies. */
    public Host {
      Objects.requireNonNull(name, "name");
      groups = List.copyOf(groups);
      vars = vars.deepCopy();
      ownVars = ownVars.deepCopy();
      Objects.requireNonNull(origin, "origin");
    }

    /** A copy of the effective variables. */
    @Override
    public JsonNode vars() {
      return vars.deepCopy();
    }

    /** A copy of the host's own variables. */
    @Override
    public JsonNode ownVars() {
      return ownVars.deepCopy();
    }
  }

  /**
   * One group.
   *
   * @param name the group name
   * @param vars its variables from the inventory and {@code group_vars}, with {@code
   *     ansible_group_priority} when not 1, as {@code --export} shows them
   * @param children child groups, in the order the inventory added them
   * @param hosts hosts listed in the group itself, in order
   * @param depth its depth below {@code all}
   */
  public record Group(String name, JsonNode vars, List<String> children, List<String> hosts, int depth) {
    /** Copies. */
    public Group {
      Objects.requireNonNull(name, "name");
      vars = vars.deepCopy();
      children = List.copyOf(children);
      hosts = List.copyOf(hosts);
    }

    /** A copy of the group's variables. */
    @Override
    public JsonNode vars() {
      return vars.deepCopy();
    }
  }

  private final Map<String, Host> hosts;
  private final Map<String, Group> groups;
  private final Set<String> vaultedVariables;

  Inventory(Map<String, Host> hosts, Map<String, Group> groups, Set<String> vaultedVariables) {
    this.hosts = Collections.unmodifiableMap(new LinkedHashMap<>(hosts));
    this.groups = Collections.unmodifiableMap(new LinkedHashMap<>(groups));
    this.vaultedVariables = Set.copyOf(vaultedVariables);
  }

  /**
   * The names of the variables set in a whole vault-encrypted file: an inventory file (its hosts'
   * and groups' variables) or a {@code group_vars}/{@code host_vars} file (its top-level keys).
   * Whoever encrypted the file meant every one of them to be secret.
   */
  public Set<String> vaultedVariables() {
    return vaultedVariables;
  }

  /** Hosts by name, in the order the inventory first named them. */
  public Map<String, Host> hosts() {
    return hosts;
  }

  /** Groups by name, in the order the inventory added them ({@code all} and {@code ungrouped} first). */
  public Map<String, Group> groups() {
    return groups;
  }

  /** The host named {@code name}, or null. */
  public Host host(String name) {
    return hosts.get(name);
  }

  /** The group named {@code name}, or null. */
  public Group group(String name) {
    return groups.get(name);
  }

  /**
   * What {@code ansible-inventory --list} prints ({@code --list --export} when {@code export}):
   * groups with hosts and children from {@code all} down, empty parts left out, and {@code
   * _meta.hostvars} with each host's variables (effective ones, or its own with export).
   */
  public ObjectNode toListJson(boolean export) {
    ObjectNode out = Documents.nodes().objectNode();
    Set<String> seen = new HashSet<>();
    formatGroup(groups.get("all"), export, seen, out);
    ObjectNode meta = out.putObject("_meta");
    ObjectNode hostvars = meta.putObject("hostvars");
    for (Host h : hosts.values()) {
      JsonNode v = export ? h.ownVars : h.vars;
      if (v.size() > 0) {
        hostvars.set(h.name(), v);
      }
    }
    return out;
  }

  /**
   * Where {@code ansibleList}, the JSON that {@code ansible-inventory --list} (with {@code
   * --export} when {@code export}) printed for the same files, differs from {@link
   * #toListJson(boolean)}; empty when they are equal. Numbers compare by kind and value (Python
   * prints {@code 1} and {@code 1.0} apart), object keys in any order, lists in order.
   */
  public java.util.Optional<String> differenceFrom(JsonNode ansibleList, boolean export) {
    return java.util.Optional.ofNullable(
        dev.gitops.ansible.internal.JsonDifference.first("", ansibleList, toListJson(export)));
  }

  private void formatGroup(Group g, boolean export, Set<String> seen, ObjectNode out) {
    ObjectNode entry = Documents.nodes().objectNode();
    out.set(g.name(), entry);
    if (!g.name().equals("all") && !g.hosts().isEmpty()) {
      ArrayNode hs = entry.putArray("hosts");
      g.hosts().forEach(hs::add);
    }
    ArrayNode children = Documents.nodes().arrayNode();
    for (String c : g.children()) {
      children.add(c);
      if (seen.add(c)) {
        formatGroup(groups.get(c), export, seen, out);
      }
    }
    if (children.size() > 0) {
      entry.set("children", children);
    }
    if (export && g.vars.size() > 0) {
      entry.set("vars", g.vars());
    }
    if (entry.size() == 0) {
      out.remove(g.name());
    }
  }
}
