package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.PatchOp;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The outcome of one {@link ThreeWayMerge#merge three-way merge}. The report collections
 * ({@code fields}, {@code drift}, {@code conflicts}, {@code takeovers}, {@code owned}) are
 * immutable and may be computed on first access, so a caller that only needs the target and
 * the patch does not pay for them.
 *
 * <pre>{@code
 * MergeResult r = new ThreeWayMerge(rules).merge(key, lastApplied, desired, live);
 * boolean inSync = r.isNoop();   // no patch: the live object matches already
 * r.fields().forEach(f -> log.info("{} {}", f.symbol(), f.path()));   // as a plan shows them
 * r.conflicts().forEach(p -> log.warn("{}: Git and the live system changed {} differently", key, p));
 * }</pre>
 *
 * @param target the merged document the live object should match (frozen)
 * @param patch RFC 6902 operations turning the live document into {@code target}, with
 *     index-based pointers; for a create a single {@code add} of the whole document at {@code ""}
 * @param fields the changed leaves from live to target, key-addressed
 * @param drift owned paths where live differs from both last-applied and desired
 * @param conflicts owned paths where desired, last-applied and live all differ
 * @param takeovers paths new in desired where live already holds another value
 * @param owned the leaves of last-applied (ignored paths excluded)
 */
public record MergeResult(JsonNode target, List<PatchOp> patch, List<FieldChange> fields, List<FieldPath> drift,
    List<FieldPath> conflicts, List<FieldPath> takeovers, Set<FieldPath> owned) {

  /** Validates. */
  public MergeResult {
    Objects.requireNonNull(target, "target");
    patch = List.copyOf(patch);
    Objects.requireNonNull(fields, "fields");
    Objects.requireNonNull(drift, "drift");
    Objects.requireNonNull(conflicts, "conflicts");
    Objects.requireNonNull(takeovers, "takeovers");
    Objects.requireNonNull(owned, "owned");
  }

  /** Whether the live object already matches the target. */
  public boolean isNoop() {
    return patch.isEmpty();
  }
}
