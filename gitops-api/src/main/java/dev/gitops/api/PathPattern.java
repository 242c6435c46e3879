package dev.gitops.api;

import java.util.List;
import java.util.Objects;

/**
 * A JSON-pointer pattern over {@link FieldPath}s: {@code *} matches any one segment (a field, a
 * keyed element, a set element), {@code **} any number of segments, anything else the segment's
 * string form exactly.
 *
 * <pre>{@code
 * PathPattern p = PathPattern.of("/spec/containers/*");
 * p.matches(FieldPath.parse("/spec/containers/[name=app]"));  // true
 * }</pre>
 */
public final class PathPattern {

  private final String text;
  private final String[] parts;

  private PathPattern(String text, String[] parts) {
    this.text = text;
    this.parts = parts;
  }

  /** Parses a pattern such as {@code /data} or {@code /metadata/labels/*}. */
  public static PathPattern of(String pattern) {
    Objects.requireNonNull(pattern, "pattern");
    if (pattern.isEmpty() || pattern.equals("/")) {
      return new PathPattern("", new String[0]);
    }
    if (pattern.charAt(0) != '/') {
      throw new IllegalArgumentException("a path pattern starts with '/': '" + pattern + "'");
    }
    return new PathPattern(pattern, pattern.substring(1).split("/", -1));
  }

  /** Whether {@code path} matches the whole pattern. */
  public boolean matches(FieldPath path) {
    return match(path.segments(), 0, 0);
  }

  private boolean match(List<FieldPath.Segment> segs, int si, int pi) {
    while (pi < parts.length) {
      String p = parts[pi];
      if (p.equals("**")) {
        for (int k = si; k <= segs.size(); k++) {
          if (match(segs, k, pi + 1)) {
            return true;
          }
        }
        return false;
      }
      if (si >= segs.size()) {
        return false;
      }
      if (!p.equals("*") && !p.equals(segs.get(si).text())) {
        return false;
      }
      si++;
      pi++;
    }
    return si == segs.size();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PathPattern p && p.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  /** The pattern text. */
  @Override
  public String toString() {
    return text;
  }
}
