package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * What a provider saw of one key: PRESENT (with the live document, a version token and the
 * ownership mark if any), ABSENT, or UNKNOWN (it could not look). UNKNOWN is never taken as absent.
 *
 * <pre>{@code
 * Observation.present(key, live, "rv-42");
 * Observation.absent(key);
 * Observation.unknown(key, "forbidden: cannot list secrets");
 * // an object whose live system keeps its own record of what was last applied to it
 * Observation.present(key, live, "rv-42").withLastApplied(lastApplied);
 * }</pre>
 *
 * <p>Last-applied as the live system records it: some systems keep, on the object itself, what
 * the last tool applied to it (Kubernetes' {@code kubectl.kubernetes.io/last-applied-configuration}
 * annotation). A provider that reads such a record returns it as {@link #lastApplied()}. The engine
 * uses it as the base of its three-way merge <em>only</em> when its state store has no record of
 * its own for the key (no last-applied and no pending entry: typically an object another tool
 * created, being adopted), so that fields that tool applied and Git no longer declares are removed.
 * The store's own record always wins; the live record never proves ownership (adoption rules are
 * unchanged) and is never written to the store as such.
 *
 * @param key the key observed
 * @param status PRESENT, ABSENT or UNKNOWN
 * @param live the live document (frozen), null unless PRESENT
 * @param version a token that changes whenever the live object changes (resourceVersion,
 *     mtime+size, state serial), or "" when the provider has none
 * @param mark the ownership mark read from the object, or null
 * @param reason why the status is UNKNOWN; for ABSENT, optionally what stands in the object's place and what
 *     a write does with it (the plan shows it), else ""
 * @param lastApplied the last-applied document as the live system records it on the object
 *     (frozen), or null when it records none; only a PRESENT observation has one
 */
public record Observation(ResourceKey key, Status status, JsonNode live, String version, OwnerMark mark,
    String reason, JsonNode lastApplied) {

  /** The three things a provider can say about a key. */
  public enum Status {
    /** The object exists. */
    PRESENT,
    /** The object does not exist. */
    ABSENT,
    /** The provider could not tell. */
    UNKNOWN
  }

  /**
   * Validates and freezes. A PRESENT observation whose live document or last-applied record nests
   * deeper than {@link Documents#MAX_DEPTH} levels is made UNKNOWN instead, its reason naming the key
   * and the path where the limit is passed: the engine cannot merge it, and one such object must
   * not fail the observation of the others.
   */
  public Observation {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(reason, "reason");
    if (status == Status.PRESENT) {
      JsonNode frozen = Documents.freeze(Objects.requireNonNull(live, "live document of a PRESENT observation"),
          Documents.MAX_DEPTH);
      JsonNode record = lastApplied == null ? null : Documents.freeze(lastApplied, Documents.MAX_DEPTH);
      if (frozen == null || (lastApplied != null && record == null)) {
        // One object too deep for the engine's walkers is one UNKNOWN key, not a failed observe.
        reason = key + ": its live " + (frozen == null ? "document " + Documents.tooDeep(live)
            : "last-applied record " + Documents.tooDeep(lastApplied));
        status = Status.UNKNOWN;
        live = null;
        lastApplied = null;
        mark = null;
        version = "";
      } else {
        live = frozen;
        lastApplied = record;
      }
    } else if (live != null) {
      throw new IllegalArgumentException(key + ": only a PRESENT observation has a live document");
    }
    if (lastApplied != null && status != Status.PRESENT) {
      // a PRESENT observation's record was frozen (or found too deep) with its live document above
      throw new IllegalArgumentException(key + ": only a PRESENT observation has a live last-applied record");
    }
  }

  /** An observation without a live last-applied record (see {@link #lastApplied()}). */
  public Observation(ResourceKey key, Status status, JsonNode live, String version, OwnerMark mark, String reason) {
    this(key, status, live, version, mark, reason, null);
  }

  /**
   * This observation with {@code recorded} as the last-applied document the live system keeps on
   * the object (null for none). Only for a PRESENT observation.
   */
  public Observation withLastApplied(JsonNode recorded) {
    return new Observation(key, status, live, version, mark, reason, recorded);
  }

  /**
   * This observation with another live document (the engine's normalized copy), everything else,
   * the live last-applied record included, kept. Only for a PRESENT observation.
   */
  public Observation withLive(JsonNode other) {
    return new Observation(key, status, other, version, mark, reason, lastApplied);
  }

  /** The object exists with this document and version token. */
  public static Observation present(ResourceKey key, JsonNode live, String version) {
    return new Observation(key, Status.PRESENT, live, version, null, "");
  }

  /** The object exists with this document, version token and ownership mark. */
  public static Observation present(ResourceKey key, JsonNode live, String version, OwnerMark mark) {
    return new Observation(key, Status.PRESENT, live, version, mark, "");
  }

  /** The object does not exist. */
  public static Observation absent(ResourceKey key) {
    return new Observation(key, Status.ABSENT, null, "", null, "");
  }

  /** The provider could not tell, for {@code reason}. */
  public static Observation unknown(ResourceKey key, String reason) {
    return new Observation(key, Status.UNKNOWN, null, "", null, reason);
  }

  /** Whether the object exists. */
  public boolean isPresent() {
    return status == Status.PRESENT;
  }

  /** Whether the object does not exist. */
  public boolean isAbsent() {
    return status == Status.ABSENT;
  }

  /** Whether the provider could not tell. */
  public boolean isUnknown() {
    return status == Status.UNKNOWN;
  }

  /** Everything but the live document, which appears only as a digest: it may hold secrets. */
  @Override
  public String toString() {
    return "Observation[key=" + key + ", status=" + status + ", live="
        + (live == null ? "null" : "sha256:" + Documents.digest(live).substring(0, 12)) + ", version=" + version
        + ", mark=" + mark + ", reason=" + reason + ", lastApplied="
        + (lastApplied == null ? "null" : "sha256:" + Documents.digest(lastApplied).substring(0, 12)) + "]";
  }
}
