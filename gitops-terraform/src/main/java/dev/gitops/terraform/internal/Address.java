package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.terraform.TerraformException;
import java.util.ArrayList;
import java.util.List;

/**
 * A Terraform resource instance address taken apart: {@code module.a["x"].module.b.aws_instance.web[0]}
 * is module {@code module.a["x"].module.b}, mode managed, type {@code aws_instance}, name {@code
 * web}, index 0; {@code data.aws_ami.ubuntu} is mode data.
 *
 * @param module the module path ("" for the root module)
 * @param mode {@code managed} or {@code data}
 * @param type the resource type
 * @param name the resource name
 * @param index the instance key (a JSON number or string), or null
 */
public record Address(String module, String mode, String type, String name, JsonNode index) {

  /**
   * Parses {@code address}.
   *
   * @throws TerraformException naming the address when it is not one
   */
  public static Address parse(String address) {
    List<String> parts = split(address);
    int i = 0;
    StringBuilder module = new StringBuilder();
    while (i + 1 < parts.size() && parts.get(i).equals("module")) {
      if (module.length() > 0) {
        module.append('.');
      }
      module.append("module.").append(parts.get(i + 1));
      i += 2;
    }
    String mode = "managed";
    if (i < parts.size() && parts.get(i).equals("data")) {
      mode = "data";
      i++;
    }
    if (parts.size() - i != 2) {
      throw new TerraformException("not a resource instance address: '" + address + "'");
    }
    String type = parts.get(i);
    String nameWithIndex = parts.get(i + 1);
    int bracket = nameWithIndex.indexOf('[');
    if (bracket < 0) {
      return new Address(module.toString(), mode, type, nameWithIndex, null);
    }
    String name = nameWithIndex.substring(0, bracket);
    String key = nameWithIndex.substring(bracket + 1, nameWithIndex.length() - 1);
    JsonNode index;
    if (key.startsWith("\"")) {
      if (key.length() < 2 || !key.endsWith("\"")) {
        throw new TerraformException("not a resource instance address: '" + address + "' (bad instance key)");
      }
      // quoted as HCL quotes it (Addresses#quote), not as JSON: x["$${a}"] is the key ${a}, \U0001f600 a character
      index = Documents.nodes().textNode(VariableFiles.unescape(key.substring(1, key.length() - 1)));
    } else {
      try {
        index = Documents.nodes().numberNode(Long.parseLong(key));
      } catch (NumberFormatException e) {
        throw new TerraformException("not a resource instance address: '" + address + "' (bad instance key)");
      }
    }
    return new Address(module.toString(), mode, type, name, index);
  }

  /** Splits at dots outside brackets and quotes. */
  private static List<String> split(String address) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    int depth = 0;
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      if (quoted) {
        cur.append(c);
        if (c == '\\' && i + 1 < address.length()) {
          cur.append(address.charAt(++i));
        } else if (c == '"') {
          quoted = false;
        }
        continue;
      }
      if (c == '"') {
        quoted = true;
      } else if (c == '[') {
        depth++;
      } else if (c == ']') {
        depth--;
      } else if (c == '.' && depth == 0) {
        out.add(cur.toString());
        cur.setLength(0);
        continue;
      }
      cur.append(c);
    }
    out.add(cur.toString());
    return out;
  }
}
