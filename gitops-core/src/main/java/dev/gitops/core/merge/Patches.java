package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.github.fge.jsonpatch.JsonPatch;
import com.github.fge.jsonpatch.JsonPatchException;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.PatchOp;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.internal.redact.SensitiveValues;
import java.io.IOException;
import java.util.List;
import java.util.Set;

/**
 * RFC 6902 patches and key-addressed leaves of documents. Elements whose segment would show a
 * sensitive value are named by keyed hashes under a per-process key here (a merge built with the
 * store's key names them under that key).
 *
 * <pre>{@code
 * List<PatchOp> ops = Patches.diff(live, merged, rules, key);
 * Patches.apply(live, ops).equals(merged);           // true
 * Set<FieldPath> owned = Patches.leaves(lastApplied, rules, key);
 * }</pre>
 */
public final class Patches {

  private Patches() {}

  /**
   * Applies {@code patch} to {@code doc} (null stands for "no document": only an {@code add} at
   * {@code ""} makes sense then) and returns the frozen result.
   *
   * @throws IllegalArgumentException when an operation does not fit the document
   */
  public static JsonNode apply(JsonNode doc, List<PatchOp> patch) {
    ArrayNode ops = Documents.nodes().arrayNode(patch.size());
    for (PatchOp op : patch) {
      ops.add(op.toJson());
    }
    try {
      JsonNode start = doc == null ? Documents.nodes().nullNode() : Documents.mutableCopy(doc);
      return Documents.freeze(JsonPatch.fromJson(ops).apply(start));
    } catch (IOException | JsonPatchException e) {
      throw new IllegalArgumentException("patch does not apply: " + e.getMessage(), e);
    }
  }

  /**
   * The structural patch from {@code from} to {@code to}: objects field by field, arrays aligned
   * (keyed lists by key, others by value) so an inserted element is one {@code add}.
   * {@code from} may be null: then one {@code add} of {@code to} at {@code ""}.
   */
  public static List<PatchOp> diff(JsonNode from, JsonNode to, MergeRules rules, ResourceKey key) {
    RuleCursor root = RuleCursor.root(new RuleCursor.Compiled(rules, key, Set.of(), SensitiveValues.processKey()));
    return List.copyOf(Differ.diff(from == null ? null : Documents.freeze(from), Documents.freeze(to), root));
  }

  /**
   * The key-addressed leaves of {@code doc}: scalars, nulls, atomic lists and maps, empty objects
   * and lists, elements of set lists; ignored paths (for {@code key}) excluded.
   */
  public static Set<FieldPath> leaves(JsonNode doc, MergeRules rules, ResourceKey key) {
    if (doc == null) {
      return Set.of();
    }
    RuleCursor root = RuleCursor.root(new RuleCursor.Compiled(rules, key, Set.of(), SensitiveValues.processKey()));
    return java.util.Collections.unmodifiableSet(Reports.leafPaths(Documents.freeze(doc), root));
  }

  /** The value at key-addressed {@code path} of {@code doc} under {@code rules}, or null when absent. */
  public static JsonNode get(JsonNode doc, FieldPath path, MergeRules rules, ResourceKey key) {
    if (doc == null) {
      return null;
    }
    RuleCursor root = RuleCursor.root(new RuleCursor.Compiled(rules, key, Set.of(), SensitiveValues.processKey()));
    return KeyedPaths.resolve(Documents.freeze(doc), path, root);
  }
}
