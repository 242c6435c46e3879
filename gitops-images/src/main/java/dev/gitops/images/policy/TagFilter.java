package dev.gitops.images.policy;

import dev.gitops.images.regex.GoRegex;
import dev.gitops.images.regex.GoRegexException;
import dev.gitops.images.registry.internal.BoundedText;
import java.util.ArrayList;
import java.util.List;
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
 * ({@code $1x} is {@code ${1x}}), a group that took no part in the match expands to nothing, and a
 * malformed reference ({@code ${a-b}}, {@code $-}) stays as written. An empty template means the
 * whole tag. A template naming a group the pattern does not have ({@code $timestamp} beside {@code
 * (?P<ts>…)}, {@code $2} with one group, {@code $1x}) is refused: Go expands it to nothing for every
 * tag, so every tag would be ordered by the same text and the choice would be arbitrary.
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
   * @throws IllegalArgumentException naming the pattern and what RE2 refuses in it, or naming the
   *     template and a group it names that the pattern does not have
   */
  public static TagFilter of(String pattern, String extract) {
    Objects.requireNonNull(pattern, "pattern");
    GoRegex compiled;
    try {
      compiled = GoRegex.compile(pattern);
    } catch (GoRegexException e) {
      throw new IllegalArgumentException("tag filter pattern " + e.getMessage(), e);
    }
    String template = extract == null ? "" : extract;
    for (String name : references(template)) {
      if (!(number(name) ? Integer.parseInt(name) <= compiled.groupCount() : compiled.groupNames().containsKey(name))) {
        // Go's Expand makes it nothing for every tag: all would rank the same, and the choice would be arbitrary
        List<String> groups = new ArrayList<>();
        for (int g = 1; g <= compiled.groupCount(); g++) {
          groups.add("$" + g);
        }
        compiled.groupNames().keySet().forEach(n -> groups.add("$" + n));
        throw new IllegalArgumentException("extract template '" + template + "' names group '" + name + "', which"
            + " pattern '" + pattern + "' does not have (" + (groups.isEmpty() ? "it has no groups"
            : "its groups: " + String.join(", ", groups)) + "); it would expand to nothing for every tag, so every"
            + " tag would rank the same (write ${name} when letters follow a reference: ${1}x, not $1x)");
      }
    }
    return new TagFilter(pattern, compiled, template);
  }

  /** The group names and numbers {@code template} refers to, as {@link #expand} reads them. */
  private static List<String> references(String template) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < template.length(); ) {
      int[] ref = reference(template, i);
      if (ref == null) {
        i += template.startsWith("$$", i) ? 2 : 1;
      } else {
        out.add(template.substring(ref[0], ref[1]));
        i = ref[2];
      }
    }
    return out;
  }

  /**
   * The reference at {@code i} of {@code template}, as Go's {@code Expand} reads it: the name's
   * start and end and where the text after it starts; null when there is none there (not a
   * {@code $}, a {@code $$}, or a malformed reference, which stays as written).
   */
  private static int[] reference(String template, int i) {
    if (template.charAt(i) != '$' || template.startsWith("$$", i)) {
      return null;
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
      return null;
    }
    return new int[] {from, j, brace ? j + 1 : j};
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
      if (template.startsWith("$$", i)) {
        out.append('$');
        i += 2;
        continue;
      }
      int[] ref = reference(template, i);
      if (ref == null) {
        out.append(template.charAt(i));  // text, or as Go: a malformed reference's '$' is a literal
        i++;
        continue;
      }
      out.append(group(m, template.substring(ref[0], ref[1])));
      i = ref[2];
    }
    return out.toString();
  }

  /** Whether {@code $name} is a group index: ASCII digits, no leading zero, below 10^8 (else it is a name). */
  private static boolean number(String name) {
    return name.length() <= 8 && name.chars().allMatch(ch -> ch >= '0' && ch <= '9')
        && !(name.length() > 1 && name.charAt(0) == '0');
  }

  /** The text of group {@code name} (a number or a name) in match {@code m}; "" when it took no part. */
  private String group(Matcher m, String name) {
    if (number(name)) {
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
