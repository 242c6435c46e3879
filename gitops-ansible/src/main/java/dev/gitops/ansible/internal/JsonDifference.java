package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;

/**
 * The first place two JSON trees differ, comparing as Python's {@code json} module writes values:
 * numbers by kind and value ({@code 1} and {@code 1.0} differ), object keys in any order, arrays in
 * order.
 */
public final class JsonDifference {

  private JsonDifference() {}

  /** A description of the first difference under {@code path}, or null when the trees are equal. */
  public static String first(String path, JsonNode want, JsonNode got) {
    if (want == null || got == null) {
      return want == got ? null : at(path) + ": want " + want + ", got " + got;
    }
    if (want.isNumber() && got.isNumber()) {
      if (want.isIntegralNumber() != got.isIntegralNumber()) {
        return at(path) + ": want " + want + ", got " + got + " (int vs float)";
      }
      boolean same = want.isIntegralNumber() ? want.bigIntegerValue().equals(got.bigIntegerValue())
          : want.doubleValue() == got.doubleValue();
      return same ? null : at(path) + ": want " + want + ", got " + got;
    }
    if (want.getNodeType() != got.getNodeType()) {
      return at(path) + ": want " + want + ", got " + got;
    }
    if (want.isObject()) {
      for (Iterator<String> it = want.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        String d = first(path + "/" + k, want.get(k), got.get(k));
        if (d != null) {
          return d;
        }
      }
      for (Iterator<String> it = got.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!want.has(k)) {
          return at(path + "/" + k) + ": unexpected " + got.get(k);
        }
      }
      return null;
    }
    if (want.isArray()) {
      if (want.size() != got.size()) {
        return at(path) + ": want " + want + ", got " + got;
      }
      for (int i = 0; i < want.size(); i++) {
        String d = first(path + "/" + i, want.get(i), got.get(i));
        if (d != null) {
          return d;
        }
      }
      return null;
    }
    return want.equals(got) ? null : at(path) + ": want " + want + ", got " + got;
  }

  private static String at(String path) {
    return path.isEmpty() ? "/" : path;
  }
}
