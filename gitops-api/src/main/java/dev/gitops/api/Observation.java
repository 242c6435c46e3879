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
 * }</pre>
 *
 * @param key the key observed
 * @param status PRESENT, ABSENT or UNKNOWN
 * @param live the live document (frozen), null unless PRESENT
 * @param version a token that changes whenever the live object changes (resourceVersion,
 *     mtime+size, state serial), or "" when the provider has none
 * @param mark the ownership mark read from the object, or null
 * @param reason why the status is UNKNOWN, or ""
 */
public record Observation(ResourceKey key, Status status, JsonNode live, String version, OwnerMark mark,
    String reason) {

  /** The three things a provider can say about a key. */
  public enum Status {
    /** The object exists. */
    PRESENT,
    /** The object does not exist. */
    ABSENT,
    /** The provider could not tell. */
    UNKNOWN
  }

  /** Validates and freezes. */
  public Observation {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(reason, "reason");
    if (status == Status.PRESENT) {
      live = Documents.freeze(Objects.requireNonNull(live, "live document of a PRESENT observation"));
    } else if (live != null) {
      throw new IllegalArgumentException(key + ": only a PRESENT observation has a live document");
    }
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
        + ", mark=" + mark + ", reason=" + reason + "]";
  }
}
