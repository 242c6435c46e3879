package dev.gitops.core.redact;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Known secret values, hidden wherever free text may quote them: a provider's error, a tool's
 * output, a health message. Where {@link Redactor} hides values at masked paths of a document,
 * this hides the same values inside text nobody can parse. Each value is hidden as written, as
 * JSON escapes it and, for a text of several lines, line by line, shown as {@value
 * Redactor#MARKER}; longest first, so a value inside another is not hidden in part. A value shorter
 * than {@value #SHORTEST} characters is left: hiding {@code "1"} would hide every 1 in the text
 * and leave a reader nothing to read. Immutable and thread-safe.
 *
 * <pre>{@code
 * Scrubber secrets = Scrubber.of(List.of("hunter2-pw"));
 * String shown = secrets.scrub("login failed for hunter2-pw");   // "login failed for (sensitive)"
 * }</pre>
 */
public final class Scrubber {

  /** The shortest value hidden. */
  public static final int SHORTEST = 4;

  private static final Scrubber NONE = new Scrubber(List.of());
  private static final Comparator<String> LONGEST_FIRST =
      Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder());

  private final List<String> longestFirst;

  private Scrubber(List<String> longestFirst) {
    this.longestFirst = longestFirst;
  }

  /** A scrubber that hides nothing. */
  public static Scrubber none() {
    return NONE;
  }

  /** A scrubber hiding {@code secrets}. */
  public static Scrubber of(Collection<String> secrets) {
    return NONE.with(secrets);
  }

  /** This scrubber, hiding {@code secrets} too (null entries are skipped). */
  public Scrubber with(Collection<String> secrets) {
    Set<String> forms = new LinkedHashSet<>(longestFirst);
    for (String s : secrets) {
      if (s != null) {
        forms(s, forms);
      }
    }
    return of(forms);
  }

  /**
   * This scrubber, hiding every scalar under each of {@code values} too (text, numbers and booleans
   * as their text), except in subtrees {@code skip} accepts (an encrypted value whose ciphertext
   * is no secret, say).
   */
  public Scrubber withValues(Iterable<? extends JsonNode> values, Predicate<JsonNode> skip) {
    Set<String> forms = new LinkedHashSet<>(longestFirst);
    for (JsonNode v : values) {
      scalars(v, skip, forms);
    }
    return of(forms);
  }

  private static Scrubber of(Set<String> forms) {
    if (forms.isEmpty()) {
      return NONE;
    }
    List<String> sorted = new ArrayList<>(forms);
    sorted.sort(LONGEST_FIRST);
    return new Scrubber(List.copyOf(sorted));
  }

  private static void scalars(JsonNode value, Predicate<JsonNode> skip, Set<String> out) {
    if (value == null || value.isNull() || value.isMissingNode() || skip.test(value)) {
      return;
    }
    if (value.isContainerNode()) {
      value.elements().forEachRemaining(v -> scalars(v, skip, out));
      return;
    }
    forms(value.asText(), out);
  }

  /** {@code text} as written, as JSON escapes it and line by line, each that is long enough. */
  private static void forms(String text, Set<String> out) {
    add(text, out);
    add(new String(JsonStringEncoder.getInstance().quoteAsString(text)), out);
    if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
      for (String line : text.split("\\R")) {
        add(line.strip(), out);
      }
    }
  }

  private static void add(String text, Set<String> out) {
    if (text.length() >= SHORTEST && !text.isBlank()) {
      out.add(text);
    }
  }

  /** Whether this scrubber hides nothing. */
  public boolean isEmpty() {
    return longestFirst.isEmpty();
  }

  /**
   * Whether {@code text} holds a secret this scrubber hides (what {@link #scrub} would change).
   *
   * <pre>{@code
   * Scrubber.of(List.of("hunter2-pw")).hides("postgres://app:hunter2-pw@db/app");   // true
   * }</pre>
   */
  public boolean hides(String text) {
    return hides(text, SHORTEST);
  }

  /**
   * Whether {@code text} is a secret this scrubber hides, or holds one of at least {@code
   * shortestInside} characters: where a match decides more than what is shown (a value no longer
   * handed on), a short secret ({@code 5432}) must not catch every text that happens to hold it.
   */
  public boolean hides(String text, int shortestInside) {
    if (text == null || text.length() < SHORTEST) {
      return false;
    }
    for (String s : longestFirst) {
      if (s.length() <= text.length() && (text.equals(s) || s.length() >= shortestInside && text.contains(s))) {
        return true;
      }
    }
    return false;
  }

  /** {@code text} with every secret replaced by {@value Redactor#MARKER}; {@code text} itself (null too) when it holds none. */
  public String scrub(String text) {
    if (text == null || text.length() < SHORTEST || longestFirst.isEmpty()) {
      return text;
    }
    String out = text;
    for (String s : longestFirst) {
      if (out.contains(s)) {
        out = out.replace(s, Redactor.MARKER);
      }
    }
    return out;
  }
}
