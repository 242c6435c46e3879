package dev.gitops.core.decode;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A path glob over relative, slash-separated paths: {@code *} and {@code ?} stay inside one
 * segment, {@code **} crosses segments ({@code **}{@code /} also matches no directory at all, so
 * {@code **}{@code /*.json} matches {@code a.json}), {@code {a,b}} is an alternation. It selects
 * files for decoders ({@link GlobDecoder}) and for the local-files provider's structured merge.
 *
 * <pre>{@code
 * Glob.of("settings/**}{@code /*.{yaml,yml}").matches("settings/eu/shop.yaml");   // true
 * }</pre>
 */
public final class Glob {
  private final String text;
  private final Pattern regex;

  private Glob(String text, Pattern regex) {
    this.text = text;
    this.regex = regex;
  }

  /** Compiles {@code glob}; an unbalanced brace is an error naming the glob. */
  public static Glob of(String glob) {
    Objects.requireNonNull(glob, "glob");
    if (glob.isEmpty()) {
      throw new IllegalArgumentException("empty glob");
    }
    StringBuilder re = new StringBuilder();
    int braces = 0;
    int n = glob.length();
    for (int i = 0; i < n; i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        boolean dbl = i + 1 < n && glob.charAt(i + 1) == '*';
        if (!dbl) {
          re.append("[^/]*");
          continue;
        }
        boolean segStart = i == 0 || glob.charAt(i - 1) == '/';
        boolean slashAfter = i + 2 < n && glob.charAt(i + 2) == '/';
        boolean atEnd = i + 2 == n;
        if (segStart && slashAfter) {
          re.append("(?:.*/)?");
          i += 2;
        } else if (segStart && atEnd && i > 0) {
          // "dir/**": the trailing slash is already in the pattern; match everything below it
          re.append(".*");
          i += 1;
        } else {
          re.append(".*");
          i += 1;
        }
      } else if (c == '?') {
        re.append("[^/]");
      } else if (c == '{') {
        braces++;
        re.append("(?:");
      } else if (c == '}' && braces > 0) {
        braces--;
        re.append(')');
      } else if (c == ',' && braces > 0) {
        re.append('|');
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    if (braces != 0) {
      throw new IllegalArgumentException("unbalanced '{' in glob '" + glob + "'");
    }
    return new Glob(glob, Pattern.compile(re.toString()));
  }

  /** Whether {@code relativePath} (forward slashes) matches. */
  public boolean matches(String relativePath) {
    return regex.matcher(relativePath).matches();
  }

  @Override
  public String toString() {
    return text;
  }
}
