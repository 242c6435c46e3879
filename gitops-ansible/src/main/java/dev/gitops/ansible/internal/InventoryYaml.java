package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes the managed inventory Ansible reads: YAML whose values are written in flow style so that
 * PyYAML reads back exactly the values that were decoded. Vault values keep their {@code !vault}
 * tag (Ansible decrypts them at run time), unsafe text its {@code !unsafe} tag, bytes and sets their
 * {@code !!binary} and {@code !!set} tags (Python bytes and a set to Ansible); floats always carry
 * a decimal point (PyYAML reads {@code 1e+16} as a string); strings are double-quoted with every
 * character PyYAML would refuse or read as a line break escaped.
 */
public final class InventoryYaml {

  private InventoryYaml() {}

  /** One host to write: its name, variables and groups (besides all). */
  public record HostEntry(String name, JsonNode vars, List<String> groups) {}

  /**
   * The inventory text: every host under {@code all} with its variables, each group with its hosts
   * and with the children {@code children} gives it.
   */
  public static String render(List<HostEntry> hosts, Map<String, List<String>> groupHosts,
      Map<String, List<String>> children) {
    StringBuilder sb = new StringBuilder();
    sb.append(ManagedInventory.HEADER).append('\n');
    sb.append("all:\n");
    if (!hosts.isEmpty()) {
      sb.append("  hosts:\n");
      for (HostEntry h : hosts) {
        sb.append("    ").append(string(h.name())).append(": ");
        value(h.vars(), sb);
        sb.append('\n');
      }
    }
    java.util.Set<String> names = new java.util.TreeSet<>(groupHosts.keySet());
    names.addAll(children.keySet());
    names.remove("all");
    if (!names.isEmpty()) {
      sb.append("  children:\n");
      for (String g : names) {
        sb.append("    ").append(string(g)).append(":\n");
        List<String> hs = groupHosts.getOrDefault(g, List.of());
        if (!hs.isEmpty()) {
          sb.append("      hosts:\n");
          for (String h : hs) {
            sb.append("        ").append(string(h)).append(":\n");
          }
        }
        List<String> cs = children.getOrDefault(g, List.of());
        if (!cs.isEmpty()) {
          sb.append("      children:\n");
          for (String c : cs) {
            sb.append("        ").append(string(c)).append(":\n");
          }
        }
      }
    }
    return sb.toString();
  }

  /** A value in YAML flow style. */
  public static void value(JsonNode v, StringBuilder sb) {
    if (v == null || v.isNull()) {
      sb.append("null");
    } else if (AnsibleYaml.isVault(v)) {
      sb.append("!vault ").append(string(v.get(AnsibleYaml.VAULT_KEY).asText()));
    } else if (AnsibleYaml.isUnsafe(v) && v.get(AnsibleYaml.UNSAFE_KEY).isTextual()) {
      sb.append("!unsafe ").append(string(v.get(AnsibleYaml.UNSAFE_KEY).textValue()));
    } else if (AnsibleYaml.isBinary(v)) {
      // PyYAML decodes the scalar's text, whatever its style: the bytes Ansible read from Git
      sb.append("!!binary ").append(string(AnsibleYaml.binaryText(v)));
    } else if (AnsibleYaml.isSet(v)) {
      sb.append("!!set {");
      JsonNode elements = AnsibleYaml.setElements(v);
      for (int i = 0; i < elements.size(); i++) {
        if (i > 0) {
          sb.append(", ");
        }
        value(elements.get(i), sb);
        sb.append(": null");
      }
      sb.append('}');
    } else if (v.isObject()) {
      sb.append('{');
      boolean first = true;
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!first) {
          sb.append(", ");
        }
        first = false;
        sb.append(string(e.getKey())).append(": ");
        value(e.getValue(), sb);
      }
      sb.append('}');
    } else if (v.isArray()) {
      sb.append('[');
      for (int i = 0; i < v.size(); i++) {
        if (i > 0) {
          sb.append(", ");
        }
        value(v.get(i), sb);
      }
      sb.append(']');
    } else if (v.isBoolean()) {
      sb.append(v.booleanValue() ? "true" : "false");
    } else if (v.isIntegralNumber()) {
      sb.append(v.bigIntegerValue());
    } else if (v.isNumber()) {
      sb.append(floatText(v.doubleValue()));
    } else {
      sb.append(string(v.asText()));
    }
  }

  /** A float PyYAML reads back as the same float. */
  static String floatText(double d) {
    String r = PythonLiteral.floatRepr(d);
    int e = r.indexOf('e');
    if (e >= 0 && r.lastIndexOf('.', e) < 0) {
      r = r.substring(0, e) + ".0" + r.substring(e);
    }
    return r;
  }

  /**
   * A double-quoted YAML string; characters outside PyYAML's printable set, and the line breaks
   * inside it (NEL, U+2028, U+2029), are escaped.
   */
  public static String string(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          // NEL, LINE and PARAGRAPH SEPARATOR are printable to PyYAML but line breaks too: inside
          // a quoted scalar it folds them (NEL into a space) and drops the blanks around them
          boolean lineBreak = c == 0x85 || c == 0x2028 || c == 0x2029;
          boolean printable = !lineBreak && ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff)
              || (c >= 0xe000 && c <= 0xfffd));
          if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            sb.append(c).append(s.charAt(++i));
          } else if (printable) {
            sb.append(c);
          } else {
            sb.append(String.format("\\u%04x", (int) c));
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
