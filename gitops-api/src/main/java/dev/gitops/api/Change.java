package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What the plan does with one key, and why. Made with a factory per action ({@link #create},
 * {@link #update}, {@link #replace}, {@link #delete}, {@link #noop}, {@link #skip}) or, for
 * everything else, a {@link #builder(ResourceKey, Action) builder}; {@link #toBuilder()} copies a
 * change to rewrite some of it. Use those rather than the canonical constructor: they say which
 * resource is Git's and which is the last-applied one.
 *
 * <pre>{@code
 * Change create = Change.create(resource, "not present");
 * Change delete = Change.delete(lastAppliedResource, live, "removed from Git");
 * for (Change c : List.of(create, delete)) {
 *   log.info("{} {}: {}", c.action(), c.key(), c.reason());
 *   c.fields().forEach(f -> log.info("  {} {}", f.symbol(), f.path()));
 * }
 * }</pre>
 *
 * <p>Each component means one thing, whatever the action:
 *
 * @param key the key acted on
 * @param previousKey for a move by a planning provider, the key it had; otherwise null
 * @param action the action
 * @param resource the resource whose metadata (policy, wave, dependencies, sensitive marks)
 *     governs the change: Git's when Git has the key ({@link #desired} is then its document),
 *     otherwise the last-applied one ({@link #desired} is then null and this resource's document
 *     is the last-applied document, see {@link #lastApplied()}); null for orphans and for changes a
 *     planning provider made without one
 * @param live the normalized live document, null when absent or unknown
 * @param desired the document in Git; null when Git does not have the key (a delete, an orphan,
 *     a key dropped from the inventory) — never the last-applied document
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
    /**
     * A delete or replace the plan holds back (as a SKIP): the plan is incomplete, or the delete
     * would take resources the desired state still declares with it ({@link
     * dev.gitops.api.spi.Provider#cascadesTo}).
     */
    HELD_BACK
  }

  /** Validates and copies. */
  public Change {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(action, "action");
    live = live == null ? null : Documents.freeze(live);
    desired = desired == null ? null : Documents.freeze(desired);
    target = target == null ? null : Documents.freeze(target);
    patch = List.copyOf(Objects.requireNonNull(patch, "patch"));
    fields = List.copyOf(Objects.requireNonNull(fields, "fields"));
    flags = Objects.requireNonNull(flags, "flags").isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
    Objects.requireNonNull(reason, "reason");
    sensitive = Set.copyOf(Objects.requireNonNull(sensitive, "sensitive"));
    unknown = Set.copyOf(Objects.requireNonNull(unknown, "unknown"));
  }

  /** Creates {@code desired}, the resource in Git, which is not live. */
  public static Change create(Resource desired, String reason) {
    return ofDesired(Action.CREATE, desired, null, reason);
  }

  /** Updates the live object {@code live} to {@code desired}, the resource in Git. */
  public static Change update(Resource desired, JsonNode live, String reason) {
    return ofDesired(Action.UPDATE, desired, live, reason);
  }

  /** Deletes the live object {@code live} and creates {@code desired}, the resource in Git, again. */
  public static Change replace(Resource desired, JsonNode live, String reason) {
    return ofDesired(Action.REPLACE, desired, live, reason);
  }

  /** Leaves {@code live} alone: it matches {@code desired}, the resource in Git. */
  public static Change noop(Resource desired, JsonNode live, String reason) {
    return ofDesired(Action.NOOP, desired, live, reason);
  }

  /** Holds back the change {@code desired}, the resource in Git, would need; the reason says why. */
  public static Change skip(Resource desired, JsonNode live, String reason) {
    return ofDesired(Action.SKIP, desired, live, reason);
  }

  /**
   * Deletes the live object {@code live} of a resource Git no longer has; {@code lastApplied} is
   * the resource as last applied, whose metadata decides the delete.
   */
  public static Change delete(Resource lastApplied, JsonNode live, String reason) {
    Objects.requireNonNull(lastApplied, "lastApplied");
    return builder(lastApplied.key(), Action.DELETE).lastApplied(lastApplied).live(live).reason(reason).build();
  }

  private static Change ofDesired(Action action, Resource desired, JsonNode live, String reason) {
    Objects.requireNonNull(desired, "desired");
    return builder(desired.key(), action).desired(desired).live(live).reason(reason).build();
  }

  /** A builder for a change of {@code key}; every part but the reason has a default (null or empty). */
  public static Builder builder(ResourceKey key, Action action) {
    return new Builder(key, action);
  }

  /** A builder holding this change, to rewrite some of it. */
  public Builder toBuilder() {
    Builder b = new Builder(key, action);
    b.previousKey = previousKey;
    b.resource = resource;
    b.live = live;
    b.desired = desired;
    b.target = target;
    b.patch = patch;
    b.fields = fields;
    b.flags = flags;
    b.reason = reason;
    b.sensitive = sensitive;
    b.unknown = unknown;
    return b;
  }

  /**
   * The resource as last applied when Git no longer has the key (a delete, or a key kept or
   * dropped from the inventory): {@link #resource} when {@link #desired} is null; otherwise null.
   */
  public Resource lastApplied() {
    return desired == null ? resource : null;
  }

  /**
   * Where the object of this change is declared, the way an error about it ends: {@code "declared
   * at apps/web.yaml:12"} when Git has the key; for a key Git no longer has, where it was declared
   * when last applied ({@code "no longer in Git (last applied from <revision>), declared at
   * apps/web.yaml:12"}); "" when no file declares it (a resource built in code, an orphan).
   *
   * <pre>{@code
   * String at = change.declaredAt();
   * String message = change.key() + ": not healthy: readiness probe failed" + (at.isEmpty() ? "" : "; " + at);
   * }</pre>
   */
  public String declaredAt() {
    return resource == null || resource.origin().path().isEmpty() ? "" : declaredAt(resource.origin(), desired == null);
  }

  /**
   * {@link #declaredAt()}'s wording for {@code origin}, found elsewhere than in a change (a
   * provider's own record of the desired state); {@code removed} when Git no longer has the key.
   */
  public static String declaredAt(Origin origin, boolean removed) {
    Objects.requireNonNull(origin, "origin");
    if (!removed || origin.path().isEmpty()) {
      return origin.declaredAt();
    }
    return "no longer in Git" + (origin.revision().isEmpty() ? "" : " (last applied from " + origin.revision() + ")")
        + ", " + origin.declaredAt();
  }

  /** Whether {@code flag} is set. */
  public boolean has(Flag flag) {
    return flags.contains(Objects.requireNonNull(flag, "flag"));
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
    Objects.requireNonNull(flag, "flag");
    EnumSet<Flag> more = flags.isEmpty() ? EnumSet.noneOf(Flag.class) : EnumSet.copyOf(flags);
    more.add(flag);
    return toBuilder().flags(more).build();
  }

  /** This change with another action and reason, everything else kept. */
  public Change withAction(Action newAction, String newReason) {
    return toBuilder().action(newAction).reason(newReason).build();
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

  /**
   * Builds a {@link Change}. {@link #desired(Resource)} and {@link #lastApplied(Resource)} set the
   * resource together with the desired document, so the two always agree; {@link #resource} and
   * {@link #desiredDocument} set one component each, for rewriting a change (masking its documents,
   * say). {@link #build()} fails with an {@link IllegalStateException} naming a missing reason.
   */
  public static final class Builder {
    private final ResourceKey key;
    private Action action;
    private ResourceKey previousKey;
    private Resource resource;
    private JsonNode live;
    private JsonNode desired;
    private JsonNode target;
    private List<PatchOp> patch = List.of();
    private List<FieldChange> fields = List.of();
    private Set<Flag> flags = Set.of();
    private String reason;
    private Set<FieldPath> sensitive = Set.of();
    private Set<FieldPath> unknown = Set.of();

    private Builder(ResourceKey key, Action action) {
      this.key = Objects.requireNonNull(key, "key");
      this.action = Objects.requireNonNull(action, "action");
    }

    /** The action. */
    public Builder action(Action v) {
      this.action = Objects.requireNonNull(v, "action");
      return this;
    }

    /** For a move by a planning provider, the key it had; null (the default) otherwise. */
    public Builder previousKey(ResourceKey v) {
      this.previousKey = v;
      return this;
    }

    /**
     * The resource in Git: sets {@link Change#resource} to it and {@link Change#desired} to its
     * document (null: neither).
     */
    public Builder desired(Resource inGit) {
      this.resource = inGit;
      this.desired = inGit == null ? null : inGit.document();
      return this;
    }

    /**
     * The resource as last applied, for a key Git no longer has: sets {@link Change#resource} to it
     * and {@link Change#desired} to null.
     */
    public Builder lastApplied(Resource v) {
      this.resource = v;
      this.desired = null;
      return this;
    }

    /** Only the {@link Change#resource} component (see its meaning there). */
    public Builder resource(Resource v) {
      this.resource = v;
      return this;
    }

    /** Only the {@link Change#desired} component: the document in Git, or null. */
    public Builder desiredDocument(JsonNode v) {
      this.desired = v;
      return this;
    }

    /** The normalized live document; null when absent or unknown. */
    public Builder live(JsonNode v) {
      this.live = v;
      return this;
    }

    /** The merged target the live object will match. */
    public Builder target(JsonNode v) {
      this.target = v;
      return this;
    }

    /** RFC 6902 operations turning the live document into the target. */
    public Builder patch(List<PatchOp> v) {
      this.patch = Objects.requireNonNull(v, "patch");
      return this;
    }

    /** The changed leaves. */
    public Builder fields(List<FieldChange> v) {
      this.fields = Objects.requireNonNull(v, "fields");
      return this;
    }

    /** The flags (replacing any set before). */
    public Builder flags(Set<Flag> v) {
      this.flags = Objects.requireNonNull(v, "flags");
      return this;
    }

    /** A one-line explanation; required. */
    public Builder reason(String v) {
      this.reason = Objects.requireNonNull(v, "reason");
      return this;
    }

    /** Key-addressed paths whose values are secret. */
    public Builder sensitive(Set<FieldPath> v) {
      this.sensitive = Objects.requireNonNull(v, "sensitive");
      return this;
    }

    /** Key-addressed paths whose values are known only after apply. */
    public Builder unknown(Set<FieldPath> v) {
      this.unknown = Objects.requireNonNull(v, "unknown");
      return this;
    }

    /** The change. */
    public Change build() {
      if (reason == null) {
        throw new IllegalStateException("Change " + action + " of " + key + " needs a reason: call .reason(...)");
      }
      return new Change(key, previousKey, action, resource, live, desired, target, patch, fields, flags, reason,
          sensitive, unknown);
    }
  }
}
