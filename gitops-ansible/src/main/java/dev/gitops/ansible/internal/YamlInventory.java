package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ansible's YAML inventory plugin: top-level keys are groups, each with optional {@code hosts}
 * (patterns with their variables), {@code vars} and {@code children} (groups, recursively); a
 * string stands for a one-entry mapping; entries that are not mappings are skipped with a warning,
 * as Ansible skips them.
 */
public final class YamlInventory {

  private static final Logger LOG = LoggerFactory.getLogger(YamlInventory.class);

  private final InventoryModel inventory;
  private final String path;
  private final AnsibleYaml.Loaded loaded;

  private YamlInventory(InventoryModel inventory, String path, AnsibleYaml.Loaded loaded) {
    this.inventory = inventory;
    this.path = path;
    this.loaded = loaded;
  }

  /**
   * Whether {@code loaded} is something the YAML plugin reads (a non-empty mapping without a
   * {@code plugin} key); when not, Ansible hands the file to the INI plugin.
   */
  public static String refusal(AnsibleYaml.Loaded loaded) {
    JsonNode data = loaded.value();
    if (data == null || isFalsy(data)) {
      return "Parsed empty YAML file";
    }
    if (!isMapping(data)) {
      return "YAML inventory has invalid structure, it should be a dictionary, got: " + kind(data);
    }
    JsonNode plugin = data.get("plugin");
    if (plugin != null && !isFalsy(plugin)) {
      return "Plugin configuration YAML file, not YAML inventory (inventory plugins are not supported)";
    }
    return null;
  }

  /**
   * Reads a loaded YAML inventory into {@code inventory}.
   *
   * @throws InventoryProblem naming the line when known
   */
  public static void parse(InventoryModel inventory, String path, AnsibleYaml.Loaded loaded) {
    YamlInventory y = new YamlInventory(inventory, path, loaded);
    JsonNode data = loaded.value();
    for (Iterator<Map.Entry<String, JsonNode>> it = data.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      int line = loaded.lineOf(data, e.getKey());
      if (!loaded.isStringKey(data, e.getKey())) {
        throw new InventoryProblem(line, "Unable to add group " + e.getKey()
            + ": Invalid group name supplied, expected a string");
      }
      y.group(e.getKey(), e.getValue(), line);
    }
  }

  private String group(String name, JsonNode data, int line) {
    if (!isMapping(data) && data != null && !data.isNull()) {
      LOG.warn("{}:{}: skipping '{}' as this is not a valid group definition", path, line, name);
      return name;
    }
    try {
      inventory.addGroup(name);
    } catch (InventoryProblem e) {
      throw new InventoryProblem(line, "Unable to add group " + name + ": " + e.getMessage());
    }
    if (data == null || data.isNull()) {
      return name;
    }
    for (String section : new String[] {"vars", "children", "hosts"}) {
      JsonNode v = data.get(section);
      if (v != null && !v.isNull() && !isMapping(v) && !isString(v)) {
        throw new InventoryProblem(loaded.lineOf(data, section), "Invalid \"" + section + "\" entry for \"" + name
            + "\" group, requires a dictionary, found \"" + kind(v) + "\" instead.");
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = data.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      JsonNode v = e.getValue();
      int keyLine = loaded.lineOf(data, key);
      boolean section = key.equals("vars") || key.equals("children") || key.equals("hosts");
      if (section && isString(v)) {
        // a string stands for a mapping with that one key and no value
        String text = AnsibleYaml.isUnsafe(v) ? v.get(AnsibleYaml.UNSAFE_KEY).textValue() : v.textValue();
        v = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().putNull(text);
      }
      if (v.isNull()) {
        continue;
      }
      if (!isMapping(v)) {
        LOG.warn("{}:{}: skipping key ({}) in group ({}) as it is not a mapping", path, keyLine, key, name);
        continue;
      }
      JsonNode mapping = v;
      switch (key) {
        case "vars" -> mapping.fields().forEachRemaining(var -> {
          try {
            inventory.setVariable(name, var.getKey(), var.getValue());
          } catch (InventoryProblem ex) {
            throw ex.at(lineOr(mapping, var.getKey(), keyLine));
          }
        });
        case "children" -> {
          for (Iterator<Map.Entry<String, JsonNode>> ci = mapping.fields(); ci.hasNext(); ) {
            Map.Entry<String, JsonNode> c = ci.next();
            int childLine = lineOr(mapping, c.getKey(), keyLine);
            if (!loaded.isStringKey(mapping, c.getKey())) {
              throw new InventoryProblem(childLine, "Unable to add group " + c.getKey()
                  + ": Invalid group name supplied, expected a string");
            }
            String child = group(c.getKey(), c.getValue(), childLine);
            try {
              inventory.addChild(name, child);
            } catch (InventoryProblem ex) {
              throw ex.at(childLine);
            }
          }
        }
        case "hosts" -> {
          for (Iterator<Map.Entry<String, JsonNode>> hi = mapping.fields(); hi.hasNext(); ) {
            Map.Entry<String, JsonNode> h = hi.next();
            int hostLine = lineOr(mapping, h.getKey(), keyLine);
            if (!loaded.isStringKey(mapping, h.getKey())) {
              throw new InventoryProblem(hostLine, "Host pattern " + h.getKey()
                  + " must be a string. Enclose integers/floats in quotation marks.");
            }
            hosts(name, h.getKey(), h.getValue(), hostLine);
          }
        }
        default -> LOG.warn("{}:{}: skipping unexpected key ({}) in group ({}), only \"vars\", \"children\" and"
            + " \"hosts\" are valid", path, keyLine, key, name);
      }
    }
    return name;
  }

  /** A Python mapping (not the vault or unsafe-text markers, strings to Ansible, nor bytes or a set). */
  static boolean isMapping(JsonNode v) {
    return v != null && v.isObject() && !AnsibleYaml.isVault(v) && !AnsibleYaml.isUnsafe(v)
        && !AnsibleYaml.isBinary(v) && !AnsibleYaml.isSet(v);
  }

  private static boolean isString(JsonNode v) {
    return v != null && (v.isTextual() || AnsibleYaml.isUnsafe(v) && v.get(AnsibleYaml.UNSAFE_KEY).isTextual());
  }

  private int lineOr(JsonNode mapping, String key, int fallback) {
    int l = loaded.lineOf(mapping, key);
    return l > 0 ? l : fallback;
  }

  private void hosts(String group, String pattern, JsonNode vars, int line) {
    HostPatterns.Expanded expanded;
    try {
      expanded = HostPatterns.expand(pattern);
    } catch (IllegalArgumentException e) {
      throw new InventoryProblem(line, "Invalid host pattern '" + pattern + "': " + e.getMessage());
    }
    if (!isFalsy(vars) && !isMapping(vars)) {
      throw new InventoryProblem(line, "Invalid data from file, expected dictionary for host '" + pattern
          + "' and got: " + kind(vars));
    }
    try {
      for (String h : expanded.hosts()) {
        inventory.addHost(h, group, expanded.port(), path, line);
        if (isMapping(vars)) {
          vars.fields().forEachRemaining(v -> inventory.setVariable(h, v.getKey(), v.getValue()));
        }
      }
    } catch (InventoryProblem e) {
      throw e.at(line);
    }
  }

  /** Python's truthiness of a loaded value. */
  static boolean isFalsy(JsonNode v) {
    if (v == null || v.isNull()) {
      return true;
    }
    if (v.isBoolean()) {
      return !v.booleanValue();
    }
    if (v.isNumber()) {
      return v.doubleValue() == 0 && (!v.isBigInteger() || v.bigIntegerValue().signum() == 0);
    }
    if (v.isTextual()) {
      return v.textValue().isEmpty();
    }
    if (AnsibleYaml.isUnsafe(v) && v.get(AnsibleYaml.UNSAFE_KEY).isTextual()) {
      return v.get(AnsibleYaml.UNSAFE_KEY).textValue().isEmpty();
    }
    if (AnsibleYaml.isBinary(v)) {
      return java.util.Base64.getMimeDecoder().decode(AnsibleYaml.binaryText(v)).length == 0;
    }
    if (AnsibleYaml.isSet(v)) {
      return AnsibleYaml.setElements(v).isEmpty();
    }
    return v.size() == 0;
  }

  static String kind(JsonNode v) {
    if (v == null || v.isNull()) {
      return "NoneType";
    }
    if (AnsibleYaml.isVault(v)) {
      return "vault-encrypted string";
    }
    if (AnsibleYaml.isUnsafe(v)) {
      return "str";
    }
    if (AnsibleYaml.isBinary(v)) {
      return "bytes";
    }
    if (AnsibleYaml.isSet(v)) {
      return "set";
    }
    if (v.isObject()) {
      return "dict";
    }
    if (v.isArray()) {
      return "list";
    }
    if (v.isBoolean()) {
      return "bool";
    }
    if (v.isIntegralNumber()) {
      return "int";
    }
    if (v.isNumber()) {
      return "float";
    }
    return "str";
  }
}
