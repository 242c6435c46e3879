package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.PathRule;
import dev.gitops.api.PatchOp;
import dev.gitops.api.PathPattern;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.internal.redact.SensitiveValues;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The three-way merge of last-applied (L), desired (D) and live (V) documents of one resource.
 *
 * <p>The target keeps D's value wherever D sets one, drops fields that left Git since L, keeps
 * V's value for fields neither D nor L mention (server defaults, other owners), merges objects
 * recursively and lists by the {@link MergeRules} (atomic, keyed, set), replaces atomic maps,
 * keeps V at ignored paths and treats a null in D as "absent" in {@link MergeRules.NullMode#ABSENT}
 * mode. The result also carries the structural patch from V to the target, the changed leaves,
 * ownership, drift, conflicts and takeovers, all key-addressed.
 *
 * <pre>{@code
 * ThreeWayMerge merge = new ThreeWayMerge(provider.mergeRules(), store.secretKey());
 * MergeResult r = merge.merge(key, lastApplied, desired, live);
 * if (!r.isNoop()) {
 *   JsonNode target = r.target();     // what the live object must become
 *   List<PatchOp> patch = r.patch();  // the operations that take it there from live
 * }
 * r.drift().forEach(p -> log.info("{} drifted at {}", key, p));
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ThreeWayMerge {

  private final MergeRules rules;
  private final byte[] secretKey;
  private final ConcurrentHashMap<BitSet, RuleCursor.Compiled> compiled = new ConcurrentHashMap<>();
  /** Compiled patterns with a resource's own sensitive marks, by the rules selected and the marks. */
  private final ConcurrentHashMap<List<Object>, RuleCursor.Compiled> marked = new ConcurrentHashMap<>();
  /** Beyond this many distinct sets of marks, patterns with marks are compiled per merge, not kept. */
  private static final int MARKED_KEPT = 1024;
  /** The compiled patterns every key shares when no ignore or sensitive rule selects by key, else null. */
  private volatile RuleCursor.Compiled unselected;

  /**
   * A merge under {@code rules} whose reports name elements that would show a sensitive value by
   * keyed hashes under {@code secretKey} (the state store's key, so paths are the same in every
   * process; see {@link FieldPath.Hashed}).
   */
  public ThreeWayMerge(MergeRules rules, byte[] secretKey) {
    this.rules = Objects.requireNonNull(rules, "rules");
    this.secretKey = Objects.requireNonNull(secretKey, "secretKey").clone();
  }

  /** A merge under {@code rules}; hashed element segments use a random per-process key. */
  public ThreeWayMerge(MergeRules rules) {
    this.rules = Objects.requireNonNull(rules, "rules");
    this.secretKey = SensitiveValues.processKey();
  }

  /**
   * The key-addressed paths in {@code doc} whose values are sensitive under {@code rules} for
   * {@code key}, or match one of {@code extra} (for example paths a decoder marked): what to hide
   * when showing {@code doc} or a diff of it. Elements whose segment would show a secret are named
   * by a keyed hash under {@code secretKey} (see {@link FieldPath.Hashed}), as a merge made with
   * the same key names them in its reports.
   */
  public static Set<FieldPath> sensitivePaths(ResourceKey key, JsonNode doc, MergeRules rules,
      Set<PathPattern> extra, byte[] secretKey) {
    Objects.requireNonNull(rules, "rules");
    Objects.requireNonNull(secretKey, "secretKey");
    if (doc == null || (extra.isEmpty() && !rules.hasSensitiveFor(key))) {
      return Set.of();
    }
    RuleCursor.Compiled c = new RuleCursor.Compiled(rules, key, extra, secretKey);
    return SensitivePaths.find(Documents.freeze(doc), RuleCursor.root(c), Trail.ROOT);
  }

  /** Whether this merge hashes element segments under {@code key}. */
  public boolean hashesUnder(byte[] key) {
    return java.util.Arrays.equals(secretKey, key);
  }

  /** The rules this merge applies. */
  public MergeRules rules() {
    return rules;
  }

  /**
   * Merges one resource's documents.
   *
   * @param key the resource, for key-selected ignore and sensitive rules and for error messages
   * @param lastApplied L, or null when never applied
   * @param desired D, required
   * @param live V, or null when the object is absent: then the target is D (ABSENT-mode nulls
   *     dropped) and the patch a single {@code add} of it at {@code ""}
   * @throws dev.gitops.api.MergeException when D breaks a keyed-list rule (an element without its
   *     key, or a repeated key), naming the path
   */
  public MergeResult merge(ResourceKey key, JsonNode lastApplied, JsonNode desired, JsonNode live) {
    return merge(key, lastApplied, desired, live, Set.of());
  }

  /**
   * Checks that {@code desired} keeps the keyed-list rules (each element has its key, no key
   * twice), as every merge of it does first, without merging: for a decoder that refuses such a
   * document where it is declared.
   *
   * @throws dev.gitops.api.MergeException naming the path, as {@link #merge} would
   */
  public void check(ResourceKey key, JsonNode desired) {
    Objects.requireNonNull(desired, "desired");
    new Merger(key, rules.nullMode() == MergeRules.NullMode.ABSENT).validate(RuleCursor.root(compile(key)), desired);
  }

  /**
   * {@link #merge(ResourceKey, JsonNode, JsonNode, JsonNode)} of a resource that marks paths of its
   * own sensitive ({@link dev.gitops.api.Resource#sensitive()}: a decoder's or the user's marks):
   * its reports name the elements those paths would show by keyed hashes too, so the paths of the
   * plan are the ones its mask ({@link #sensitivePaths}) names. The merge itself is the same.
   */
  public MergeResult merge(ResourceKey key, JsonNode lastApplied, JsonNode desired, JsonNode live,
      Set<PathPattern> extraSensitive) {
    Objects.requireNonNull(desired, "desired");
    Objects.requireNonNull(extraSensitive, "extraSensitive");
    JsonNode l = lastApplied == null ? null : Documents.freeze(lastApplied);
    JsonNode d = Documents.freeze(desired);
    JsonNode v = live == null ? null : Documents.freeze(live);
    RuleCursor root = RuleCursor.root(extraSensitive.isEmpty() ? compile(key) : compile(key, extraSensitive));
    boolean absentNulls = rules.nullMode() == MergeRules.NullMode.ABSENT;
    Merger merger = new Merger(key, absentNulls);
    JsonNode target;
    if (v == null) {
      merger.validate(root, d);
      target = absentNulls ? Nodes.clean(d) : d;
    } else {
      target = merger.mergeRoot(root, l, d, v);
    }
    List<PatchOp> patch = Differ.diff(v, target, root);
    Reports reports = new Reports(root, absentNulls, l, d, v, target);
    return new MergeResult(target, patch,
        Lazy.list(reports::fields),
        Lazy.list(reports::drift),
        Lazy.list(reports::conflicts),
        Lazy.list(reports::takeovers),
        Lazy.set(reports.owned));
  }

  /** The compiled patterns for {@code key} with its own sensitive marks {@code extra}. */
  private RuleCursor.Compiled compile(ResourceKey key, Set<PathPattern> extra) {
    List<Object> id = List.of(selected(key), extra);
    RuleCursor.Compiled c = marked.get(id);
    if (c == null) {
      c = new RuleCursor.Compiled(rules, key, extra, secretKey);
      if (marked.size() < MARKED_KEPT) {
        marked.putIfAbsent(id, c);
      }
    }
    return c;
  }

  /** The compiled patterns for {@code key}; keys selecting the same rules share them. */
  RuleCursor.Compiled compile(ResourceKey key) {
    if (rules.ignoreRules().isEmpty() && rules.sensitiveRules().isEmpty()) {
      RuleCursor.Compiled c = unselected;
      if (c == null) {
        c = compiled.computeIfAbsent(new BitSet(), s -> new RuleCursor.Compiled(rules, key, Set.of(), secretKey));
        unselected = c;
      }
      return c;
    }
    return compiled.computeIfAbsent(selected(key), s -> new RuleCursor.Compiled(rules, key, Set.of(), secretKey));
  }

  /** Which ignore and sensitive rules select {@code key}: keys with the same selection compile alike. */
  private BitSet selected(ResourceKey key) {
    BitSet selected = new BitSet();
    int i = 0;
    for (PathRule r : rules.ignoreRules()) {
      if (key == null || r.selector().matches(key)) {
        selected.set(i);
      }
      i++;
    }
    for (PathRule r : rules.sensitiveRules()) {
      if (key == null || r.selector().matches(key)) {
        selected.set(i);
      }
      i++;
    }
    return selected;
  }
}
