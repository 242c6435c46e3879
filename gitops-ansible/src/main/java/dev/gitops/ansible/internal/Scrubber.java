package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Replaces known secret values in text that came back from Ansible (task messages, diffs, error
 * output) before it reaches a log, an event or a result. The callback plugin already scrubs vault
 * values and sensitive variables as Ansible rendered them; this is the second line, for the values
 * Java knows.
 */
public final class Scrubber {

  /** What a scrubbed value reads as. */
  public static final String REDACTED = "(sensitive)";

  private final List<String> secrets;

  private Scrubber(Set<String> secrets) {
    List<String> s = new ArrayList<>(secrets);
    s.sort(Comparator.comparingInt(String::length).reversed());
    this.secrets = List.copyOf(s);
  }

  /** A scrubber that changes nothing. */
  public static Scrubber none() {
    return new Scrubber(Set.of());
  }

  /** A scrubber for every text leaf of {@code values} (numbers and booleans shorter than 4 are left alone). */
  public static Scrubber of(Iterable<JsonNode> values) {
    Set<String> out = new LinkedHashSet<>();
    for (JsonNode v : values) {
      collect(v, out);
    }
    return new Scrubber(out);
  }

  private static void collect(JsonNode v, Set<String> out) {
    if (v == null || v.isNull() || AnsibleYaml.isVault(v)) {
      return;  // the ciphertext is not secret; the plugin scrubs the plain text
    }
    if (v.isContainerNode()) {
      v.forEach(c -> collect(c, out));
      return;
    }
    String text = v.asText();
    if (v.isTextual() ? !text.isBlank() : text.length() >= 4) {
      out.add(text);
    }
  }

  /** {@code text} with every known secret replaced by {@value #REDACTED}. */
  public String scrub(String text) {
    if (text == null || text.isEmpty() || secrets.isEmpty()) {
      return text;
    }
    String out = text;
    for (String s : secrets) {
      if (out.contains(s)) {
        out = out.replace(s, REDACTED);
      }
    }
    return out;
  }
}
