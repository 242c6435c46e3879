package dev.gitops.api.spi;

import dev.gitops.api.Resource;
import java.util.Objects;

/**
 * The last-applied state of one key, as stored: the resource (sensitive leaves as keyed hashes),
 * the store serial at which it was written, the revision it came from and, when the engine last
 * saw the live object in sync with it, what proved that ({@link InSync}).
 *
 * <pre>{@code
 * StoredResource l = store.load().inventory().get(key);
 * if (l.inSync() != null) {
 *   // the live object was last seen equal to the desired document of digest l.inSync().desired(),
 *   // at version token l.inSync().version()
 * }
 * }</pre>
 *
 * @param resource what was applied, with its metadata (policy, dependsOn, wave decide deletes)
 * @param serial the store serial of the write, for cache keys
 * @param revision the revision it was applied at
 * @param inSync what proved the live object in sync with this record, or null when nothing did
 *     (entries written before stores kept it, or a live system without version tokens)
 */
public record StoredResource(Resource resource, long serial, String revision, InSync inSync) {
  /** Validates. */
  public StoredResource {
    Objects.requireNonNull(resource, "resource");
    Objects.requireNonNull(revision, "revision");
  }

  /** A record without a proof of being in sync. */
  public StoredResource(Resource resource, long serial, String revision) {
    this(resource, serial, revision, null);
  }

  /**
   * What the engine saw when it last verified the key in sync: the live object, normalized, was
   * equal to the desired resource of digest {@code desired} (its {@link Resource#digest()}) under
   * merge rules of fingerprint {@code rules}, and the provider gave it the version token {@code
   * version}. While the desired digest, the rules, this record and the live version token are all
   * unchanged, the key is in sync without reading or merging the live object. A token is the
   * provider's promise that an unchanged token means an unchanged object: what it cannot see
   * (for files, a write that restores size, mtime and inode) is not seen here either.
   *
   * <pre>{@code
   * StoredResource.InSync proof = new StoredResource.InSync(desiredResource.digest(), rules.fingerprint(), "rv-42");
   * }</pre>
   *
   * @param desired the desired resource's digest
   * @param rules the fingerprint of the merge rules the key was decided under
   * @param version the live object's version token, never empty
   */
  public record InSync(String desired, String rules, String version) {
    /** Validates. */
    public InSync {
      Objects.requireNonNull(desired, "desired");
      Objects.requireNonNull(rules, "rules");
      Objects.requireNonNull(version, "version");
      if (version.isEmpty()) {
        throw new IllegalArgumentException("an in-sync proof needs a version token");
      }
    }

    // equals and hashCode written out (the same as the record's), as a record's generated ones are
    // linked through invokedynamic at their first call (~10 ms of a one-shot command)
    @Override
    public boolean equals(Object o) {
      return o instanceof InSync s && desired.equals(s.desired) && rules.equals(s.rules) && version.equals(s.version);
    }

    @Override
    public int hashCode() {
      return (desired.hashCode() * 31 + rules.hashCode()) * 31 + version.hashCode();
    }
  }
}
