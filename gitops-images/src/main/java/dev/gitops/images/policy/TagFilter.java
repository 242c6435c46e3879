package dev.gitops.images.policy;

import dev.gitops.images.registry.internal.BoundedText;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which tags a policy considers and what it orders them by: a regular expression each tag must
 * match (searched, so anchor it), and an {@code extract} template built from its groups, as in
 * Flux's {@code filterTags}. For {@code main-3f2a9c1-1718000000} the filter {@code
 * ^main-[a-f0-9]+-(?P<ts>[0-9]+)$} with extract {@code $ts} orders by the timestamp.
 *
 * <p>Templates follow Go's {@code regexp.Expand}: {@code $name} or {@code ${name}} for a named
 * group, {@code $1} for a numbered one, {@code $$} for a dollar; an unknown group expands to
 * nothing. An empty template means the whole tag. Go's {@code (?P<name>…)} is accepted besides
 * Java's {@code (?<name>…)}; group names are letters and digits.
 *
 * <pre>{@code
 * TagFilter f = TagFilter.of("^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "$ts");
 * f.extract("main-3f2a9c1-1718000000");   // Optional[1718000000]
 * f.extract("v1.2.3");                    // Optional.empty: skipped
 * }</pre>
 */
public final class TagFilter {

  private final String pattern;
  private final Pattern compiled;
  private final String template;

  private TagFilter(String pattern, Pattern compiled, String template) {
    this.pattern = pattern;
    this.compiled = compiled;
    this.template = template;
  }

  /**
   * A filter.
   *
   * @throws IllegalArgumentException naming the pattern when it does not compile
   */
  public static TagFilter of(String pattern, String extract) {
    Objects.requireNonNull(pattern, "pattern");
    try {
      return new TagFilter(pattern, Pattern.compile(pattern.replace("(?P<", "(?<")), extract == null ? "" : extract);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("tag filter pattern '" + pattern + "' does not compile: " + e.getDescription(), e);
    }
  }

  /** A filter that takes every tag as it is. */
  public static TagFilter all() {
    return of("", "");
  }

  /** The pattern as given. */
  public String pattern() {
    return pattern;
  }

  /** The extract template as given ("" for the whole tag). */
  public String template() {
    return template;
  }

  /**
   * The value to order {@code tag} by, or empty when the tag does not match.
   *
   * @throws PatternTooSlowException naming the pattern and the tag when matching runs past its
   *     budget ({@link BoundedText#DEFAULT_STEPS} characters read: a backtracking pattern)
   */
  public Optional<String> extract(String tag) {
    Matcher m = compiled.matcher(new BoundedText(tag, BoundedText.DEFAULT_STEPS));
    try {
      if (!m.find()) {
        return Optional.empty();
      }
    } catch (BoundedText.Exhausted e) {
      throw new PatternTooSlowException(pattern, "tag filter pattern '" + pattern + "' takes too long on tag '" + tag
          + "' (" + e.getMessage() + "; Java regexes backtrack where Flux's Go regexes do not): simplify the pattern");
    }
    return Optional.of(template.isEmpty() ? tag : expand(m));
  }

  private String expand(Matcher m) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < template.length()) {
      char c = template.charAt(i);
      if (c != '$' || i + 1 >= template.length()) {
        out.append(c);
        i++;
        continue;
      }
      char next = template.charAt(i + 1);
      if (next == '$') {
        out.append('$');
        i += 2;
        continue;
      }
      String name;
      if (next == '{') {
        int close = template.indexOf('}', i + 2);
        if (close < 0) {
          out.append(c);  // as Go: a malformed reference stays literal
          i++;
          continue;
        }
        name = template.substring(i + 2, close);
        i = close + 1;
      } else {
        int j = i + 1;
        while (j < template.length() && (Character.isLetterOrDigit(template.charAt(j)) || template.charAt(j) == '_')) {
          j++;
        }
        if (j == i + 1) {
          out.append(c);
          i++;
          continue;
        }
        name = template.substring(i + 1, j);
        i = j;
      }
      out.append(group(m, name));
    }
    return out.toString();
  }

  private static String group(Matcher m, String name) {
    String v;
    try {
      v = name.chars().allMatch(Character::isDigit) ? m.group(Integer.parseInt(name)) : m.group(name);
    } catch (IllegalArgumentException | IndexOutOfBoundsException unknownGroup) {
      v = null;  // as Go's Expand: an unknown group is empty
    }
    return v == null ? "" : v;
  }

  @Override
  public String toString() {
    return "TagFilter[" + pattern + (template.isEmpty() ? "" : " -> " + template) + "]";
  }
}
