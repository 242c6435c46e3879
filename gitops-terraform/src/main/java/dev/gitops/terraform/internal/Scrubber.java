package dev.gitops.terraform.internal;

import dev.gitops.core.redact.Redactor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Removes known secret strings from text before it is logged, thrown or handed to a listener:
 * values under Terraform's sensitive masks, sensitive outputs and variables. Terraform redacts
 * sensitive values in its own messages; this is the second line, for a provider or a wrapper
 * that prints one anyway. Strings shorter than {@value #MIN_LENGTH} characters are not scrubbed
 * (they would mangle every message and hide nothing).
 */
public final class Scrubber {

  /** The shortest secret replaced. */
  public static final int MIN_LENGTH = 4;

  private final Set<String> secrets = ConcurrentHashMap.newKeySet();

  /** Remembers {@code values} as secrets. */
  public void addAll(Collection<String> values) {
    for (String v : values) {
      if (v != null && v.length() >= MIN_LENGTH) {
        secrets.add(v);
      }
    }
  }

  /** {@code text} with every known secret replaced by {@value Redactor#MARKER}. */
  public String scrub(String text) {
    if (text == null || text.isEmpty() || secrets.isEmpty()) {
      return text;
    }
    List<String> longestFirst = new ArrayList<>(secrets);
    longestFirst.sort(Comparator.comparingInt(String::length).reversed());
    String out = text;
    for (String s : longestFirst) {
      if (out.contains(s)) {
        out = out.replace(s, Redactor.MARKER);
      }
    }
    return out;
  }
}
