package dev.gitops.api;

import java.util.Objects;

/**
 * Where a resource was declared: a file path relative to the source root, a 1-based line (0 when
 * unknown) and the revision it was read at.
 *
 * <pre>{@code
 * Origin at = Origin.of("apps/web.yaml", 12, "main@sha1:" + sha);
 * String where = at.toString();             // "apps/web.yaml:12@main@sha1:...", as error messages name it
 * String inCode = Origin.NONE.toString();    // "(code)": a resource built in code
 * }</pre>
 *
 * @param path file path relative to the source root, or "" when the resource was built in code
 * @param line 1-based line of the document's start, 0 when unknown
 * @param revision the revision, for example {@code main@sha1:<40 hex>}, or "" when none
 */
public record Origin(String path, int line, String revision) {

  /** The origin of a resource built in code. */
  public static final Origin NONE = new Origin("", 0, "");

  /** Validates the parts. */
  public Origin {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(revision, "revision");
    if (line < 0) {
      throw new IllegalArgumentException("line must be >= 0, got " + line);
    }
  }

  /**
   * Whether {@code o} is an origin with equal parts (as a record's equals; written out, as the
   * generated one is linked through invokedynamic at its first call, ~10 ms of a one-shot command).
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof Origin other && line == other.line && path.equals(other.path)
        && revision.equals(other.revision);
  }

  /** A hash of the parts, agreeing with {@link #equals}. */
  @Override
  public int hashCode() {
    return (path.hashCode() * 31 + line) * 31 + revision.hashCode();
  }

  /** Returns an origin at {@code path:line} of {@code revision}. */
  public static Origin of(String path, int line, String revision) {
    return new Origin(path, line, revision);
  }

  /**
   * How an error about a resource declared here ends: {@code "declared at apps/web.yaml:12"} (the
   * revision is left out: the sync names it), or {@code "declared in code, in no file"}. Providers
   * and the engine end their messages about a resource with it, so one wording names the place.
   *
   * <pre>{@code
   * String message = key + ": degraded: 0 of 3 replicas ready; " + resource.origin().declaredAt();
   * }</pre>
   */
  public String declaredAt() {
    return path.isEmpty() ? "declared in code, in no file" : "declared at " + path + (line > 0 ? ":" + line : "");
  }

  /** {@code path:line@revision}, leaving out what is unknown. */
  @Override
  public String toString() {
    if (path.isEmpty()) {
      return revision.isEmpty() ? "(code)" : "(code)@" + revision;
    }
    StringBuilder sb = new StringBuilder(path);
    if (line > 0) {
      sb.append(':').append(line);
    }
    if (!revision.isEmpty()) {
      sb.append('@').append(revision);
    }
    return sb.toString();
  }
}
