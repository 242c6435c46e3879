package dev.gitops.images.policy;

import dev.gitops.images.regex.GoRegex;
import dev.gitops.images.regex.GoRegexException;
import dev.gitops.images.registry.internal.BoundedText;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * Which tags a policy considers and what it orders them by: a regular expression each tag must
 * match (searched, so anchor it), and an {@code extract} template built from its groups, as in
 * Flux's {@code filterTags}. For {@code main-3f2a9c1-1718000000} the filter {@code
 * ^main-[a-f0-9]+-(?P<ts>[0-9]+)$} with extract {@code $ts} orders by the timestamp.
 *
 * <p>The pattern is RE2 syntax, Go's, as Flux reads it ({@link GoRegex}): {@code $} is the end of
 * the tag, {@code \d} and {@code \w} are ASCII, {@code [[:alpha:]]}, {@code \pN} and {@code (?P<name>…)}
 * work, and what RE2 refuses (backreferences, lookaround, possessive quantifiers, counts above
 * 1000) is refused here.
 *
 * <p>Templates follow Go's {@code regexp.Expand}: {@code $name} or {@code ${name}} for a named
 * group, {@code $1} for a numbered one, {@code $$} for a dollar; a name is as long as it can be
 * ({@code $1x} is {@code ${1x}}), an unknown or unmatched group expands to nothing, and a malformed
 * reference ({@code ${a-b}}, {@code $-}) stays as written. An empty template means the whole tag.
 *
 * <pre>{@code
 * TagFilter f = TagFilter.of("^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "$ts");
 * f.extract("main-3f2a9c1-1718000000");   // Optional[1718000000]
 * f.extract("v1.2.3");                    // Optional.empty: skipped
 * }</pre>
 */
public final class TagFilter {

  private final String pattern;
  private final GoRegex compiled;
  private final String template;

  private TagFilter(String pattern, GoRegex compiled, String template) {
    this.pattern = pattern;
    this.compiled = compiled;
    this.template = template;
  }

  /**
   * A filter.
   *
   * @throws IllegalArgumentException naming the pattern and what RE2 refuses in it
   */
  public static TagFilter of(String pattern, String extract) {
    Objects.requireNonNull(pattern, "pattern");
    try {
      return new TagFilter(pattern, GoRegex.compile(pattern), extract == null ? "" : extract);
    } catch (GoRegexException e) {
      throw new IllegalArgumentException("tag filter pattern " + e.getMessage(), e);
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

  /** Go's {@code regexp.Expand} of the template over match {@code m}. */
  private String expand(Matcher m) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < template.length()) {
      char c = template.charAt(i);
      if (c != '$') {
        out.append(c);
        i++;
        continue;
      }
      if (i + 1 < template.length() && template.charAt(i + 1) == '$') {
        out.append('$');
        i += 2;
        continue;
      }
      boolean brace = i + 1 < template.length() && template.charAt(i + 1) == '{';
      int from = i + 1 + (brace ? 1 : 0);
      int j = from;
      while (j < template.length()) {
        int cp = template.codePointAt(j);
        if (!Character.isLetter(cp) && !Character.isDigit(cp) && cp != '_') {
          break;
        }
        j += Character.charCount(cp);
      }
      if (j == from || (brace && (j >= template.length() || template.charAt(j) != '}'))) {
        out.append('$');  // as Go: a malformed reference is a literal '$', and what follows is text
        i++;
        continue;
      }
      out.append(group(m, template.substring(from, j)));
      i = brace ? j + 1 : j;
    }
    return out.toString();
  }

  /** {@code $name}: a number (ASCII digits, no leading zero, below 10^8) is a group index, anything else a name. */
  private String group(Matcher m, String name) {
    boolean number = name.length() <= 8 && name.chars().allMatch(ch -> ch >= '0' && ch <= '9')
        && !(name.length() > 1 && name.charAt(0) == '0');
    if (number) {
      int g = Integer.parseInt(name);
      return g <= m.groupCount() && m.start(g) >= 0 ? m.group(g) : "";
    }
    return compiled.group(m, name).orElse("");
  }

  @Override
  public String toString() {
    return "TagFilter[" + pattern + (template.isEmpty() ? "" : " -> " + template) + "]";
  }
}
