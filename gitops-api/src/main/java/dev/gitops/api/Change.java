package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What the plan does with one key, and why.
 *
 * <pre>{@code
 * for (Change c : plan.changes()) {
 *   System.out.println(c.action() + " " + c.key() + ": " + c.reason());
 *   c.fields().forEach(f -> System.out.println("  " + f.symbol() + " " + f.path()));
 * }
 * }</pre>
 *
 * @param key the key acted on
 * @param previousKey for a move by a planning provider, the key it had; otherwise null
 * @param action the action
 * @param resource the desired resource, or for a delete the last-applied one (whose metadata
 *     decides the delete); null only for orphans and provider-planned changes without one
 * @param live the normalized live document, null when absent or unknown
 * @param desired the desired document, null when deleted
 * @param target the merged target the live object will match, null for delete and skip
 * @param patch RFC 6902 operations turning {@code live} into {@code target}
 * @param fields the changed leaves, key-addressed
 * @param flags drift, conflict, takeover and the like
 * @param reason a one-line explanation
 * @param sensitive key-addressed paths whose values are secret
 * @param unknown key-addressed paths whose values are known only after apply
 */
public record Change(ResourceKey key, ResourceKey previousKey, Action action, Resource resource, JsonNode live,
    JsonNode desired, JsonNode target, List<PatchOp> patch, List<FieldChange> fields, Set<Flag> flags,
    String reason, Set<FieldPath> sensitive, Set<FieldPath> unknown) {

  /** Facts about a change that a reviewer wants to see. */
  public enum Flag {
    /** The live object moved away from what was last applied. */
    DRIFT,
    /** Git and the live system both changed one owned field, differently. */
    CONFLICT,
    /** A field new in Git already has another value live. */
    TAKEOVER,
    /** The live object exists without our mark and adoption was allowed. */
    ADOPT,
    /** The live object carries our mark but is not in the inventory. */
    ORPHAN,
    /** The object was deleted out of band and will be created again. */
    DELETED_OUT_OF_BAND,
    /** A delete or replace the plan holds back (as a SKIP) because the plan is incomplete. */
    HELD_BACK
  }

  /** Validates and copies. */
  public Change {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(action, "action");
    live = live == null ? null : Documents.freeze(live);
    desired = desired == null ? null : Documents.freeze(desired);
    target = target == null ? null : Documents.freeze(target);
    patch = List.copyOf(patch);
    fields = List.copyOf(fields);
    flags = flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
    Objects.requireNonNull(reason, "reason");
    sensitive = Set.copyOf(sensitive);
    unknown = Set.copyOf(unknown);
  }

  /** A change with just a key, an action and a reason (NOOP, SKIP, FORGET and the like). */
  public static Change of(ResourceKey key, Action action, Resource resource, JsonNode live, String reason) {
    return new Change(key, null, action, resource, live, resource == null ? null : resource.document(), null,
        List.of(), List.of(), Set.of(), reason, Set.of(), Set.of());
  }

  /** Whether {@code flag} is set. */
  public boolean has(Flag flag) {
    return flags.contains(flag);
  }

  /** Whether the live object drifted from what was last applied. */
  public boolean drift() {
    return flags.contains(Flag.DRIFT);
  }

  /** Whether Git and the live system changed a field differently. */
  public boolean conflict() {
    return flags.contains(Flag.CONFLICT);
  }

  /** Whether a field new in Git takes over a value set live. */
  public boolean takeover() {
    return flags.contains(Flag.TAKEOVER);
  }

  /** This change with {@code flag} added, everything else kept. */
  public Change withFlag(Flag flag) {
    EnumSet<Flag> more = flags.isEmpty() ? EnumSet.noneOf(Flag.class) : EnumSet.copyOf(flags);
    more.add(flag);
    return new Change(key, previousKey, action, resource, live, desired, target, patch, fields, more, reason,
        sensitive, unknown);
  }

  /** This change with another action and reason, everything else kept. */
  public Change withAction(Action newAction, String newReason) {
    return new Change(key, previousKey, newAction, resource, live, desired, target, patch, fields, flags, newReason,
        sensitive, unknown);
  }

  /**
   * Key, action, reason, flags and the changed fields (sensitive values redacted); documents
   * appear only as digests. The generated record text printed every document whole, so a secret
   * reached any log line or event that showed a change or a plan.
   */
  @Override
  public String toString() {
    return "Change[key=" + key + (previousKey == null ? "" : ", previousKey=" + previousKey) + ", action=" + action
        + ", reason=" + reason + ", flags=" + flags + ", fields=" + fields + ", sensitive=" + sensitive
        + ", unknown=" + unknown + ", desired=" + digest(desired) + ", target=" + digest(target)
        + ", live=" + digest(live) + ", patch=" + patch.size() + " ops]";
  }

  private static String digest(JsonNode doc) {
    return doc == null ? "null" : "sha256:" + Documents.digest(doc).substring(0, 12);
  }
}
