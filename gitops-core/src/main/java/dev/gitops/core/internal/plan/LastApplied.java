package dev.gitops.core.internal.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.MergeRules.ListKind;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.internal.redact.SensitiveValues;
import dev.gitops.core.merge.ThreeWayMerge;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The form in which a desired resource is recorded as last-applied: ignored paths removed (they
 * are never owned) and sensitive values replaced by keyed hashes (never at rest in plain text).
 */
public final class LastApplied {

  private LastApplied() {}

  /** The last-applied form of {@code desired} under {@code rules}. */
  public static Resource of(Resource desired, MergeRules rules, byte[] secretKey) {
    JsonNode doc = strip(desired.key(), desired.document(), rules);
    Set<FieldPath> sensitive = ThreeWayMerge.sensitivePaths(desired.key(), doc, rules, desired.sensitive(), secretKey);
    if (!sensitive.isEmpty()) {
      doc = SensitiveValues.hash(doc, sensitive, secretKey);
    }
    return doc == desired.document() ? desired : desired.withDocument(doc);
  }

  /** Whether two resources agree on the metadata that shapes decisions (not document, not origin). */
  public static boolean sameMetadata(Resource a, Resource b) {
    return a.dependsOn().equals(b.dependsOn()) && a.wave() == b.wave() && a.policy().equals(b.policy())
        && a.sensitive().equals(b.sensitive());
  }

  /** Whether two recorded forms agree on everything but their origin. */
  public static boolean sameDesired(Resource a, Resource b) {
    return a.document().equals(b.document()) && a.dependsOn().equals(b.dependsOn()) && a.wave() == b.wave()
        && a.policy().equals(b.policy()) && a.sensitive().equals(b.sensitive());
  }

  /** {@code doc} without the paths {@code rules} ignore for {@code key}; {@code doc} itself when none apply. */
  public static JsonNode strip(ResourceKey key, JsonNode doc, MergeRules rules) {
    if (rules == null || doc == null || !rules.hasIgnoresFor(key)) {
      return doc;
    }
    return strip(key, doc, FieldPath.root(), rules, List.of());
  }

  /**
   * {@code doc} (at the root) without the ignored paths. The objects and lists the walk is inside
   * wait on a stack of its own ({@link Stripping}), not the thread's, so a document nested to
   * {@link Documents#MAX_DEPTH} needs no more thread stack than a flat one.
   */
  private static JsonNode strip(ResourceKey key, JsonNode doc, FieldPath root, MergeRules rules, List<KeyField> rootKeys) {
    Stripping s = Stripping.of(key, doc, root, rules, rootKeys);
    if (s == null) {
      return doc;
    }
    java.util.ArrayDeque<Stripping> above = new java.util.ArrayDeque<>();
    while (true) {
      Stripping open = s.advance(key, rules);
      if (open != null) {
        above.push(s);
        s = open;
        continue;
      }
      JsonNode done = s.result();
      if (above.isEmpty()) {
        return done;
      }
      s = above.pop();
      s.put(done);
    }
  }

  /** An object or list {@link #strip} is inside: its fields or elements kept so far. */
  private static final class Stripping {
    final JsonNode node;
    final FieldPath path;
    /** When {@code node} is an element of a keyed list, its key fields, which name it and stay. */
    final List<KeyField> keys;
    final ListRule rule;
    final Iterator<Map.Entry<String, JsonNode>> fields;
    final Map<String, JsonNode> outFields;
    final List<JsonNode> outElements;
    int i;
    String name;
    JsonNode kid;
    boolean changed;

    private Stripping(JsonNode node, FieldPath path, List<KeyField> keys, ListRule rule) {
      this.node = node;
      this.path = path;
      this.keys = keys;
      this.rule = rule;
      boolean object = rule == null;
      this.fields = object ? node.fields() : null;
      this.outFields = object ? new LinkedHashMap<>() : null;
      this.outElements = object ? null : new ArrayList<>(node.size());
    }

    /** The walk of {@code node} at {@code path}, or null when it keeps {@code node} as it is without a walk. */
    static Stripping of(ResourceKey key, JsonNode node, FieldPath path, MergeRules rules, List<KeyField> keys) {
      if (node.isObject()) {
        return rules.isAtomicMap(path) && !path.isRoot() ? null : new Stripping(node, path, keys, null);
      }
      if (node.isArray()) {
        ListRule rule = rules.listRule(path);
        return rule.kind() == ListKind.ATOMIC ? null : new Stripping(node, path, keys, rule);
      }
      return null;
    }

    /** Goes on with the next children: the walk of one to do first, or null when all are done. */
    Stripping advance(ResourceKey key, MergeRules rules) {
      if (rule == null) {
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> e = fields.next();
          name = e.getKey();
          kid = e.getValue();
          FieldPath child = path.field(name);
          if (rules.isIgnored(key, child) && keys.stream().noneMatch(k -> k.name().equals(e.getKey()))) {
            changed = true;
            continue;
          }
          Stripping below = of(key, kid, child, rules, List.of());
          if (below != null) {
            return below;
          }
          put(kid);
        }
        return null;
      }
      // Elements at ignored paths go whole, as ignored object fields do: never owned, never removed.
      for (; i < node.size(); i++) {
        JsonNode el = node.get(i);
        kid = el;
        if (rule.kind() == ListKind.SET) {
          if (rules.isIgnored(key, path.element(el))) {
            changed = true;
          } else {
            outElements.add(el);
          }
          continue;
        }
        if (!el.isObject()) {
          outElements.add(el);
          continue;
        }
        Map<String, JsonNode> keyFields = new LinkedHashMap<>();
        for (KeyField kf : rule.keys()) {
          JsonNode kv = el.get(kf.name());
          keyFields.put(kf.name(), kv == null || kv.isNull()
              ? (kf.defaultValue() == null ? Documents.nodes().nullNode() : kf.defaultValue()) : kv);
        }
        FieldPath at = path.key(keyFields);
        if (rules.isIgnored(key, at)) {
          changed = true;
          continue;
        }
        Stripping below = of(key, el, at, rules, rule.keys());
        if (below != null) {
          i++;
          return below;
        }
        outElements.add(el);
      }
      return null;
    }

    /** The current child stripped to {@code v}. */
    void put(JsonNode v) {
      changed |= v != kid;
      if (rule == null) {
        outFields.put(name, v);
      } else {
        outElements.add(v);
      }
    }

    JsonNode result() {
      if (!changed) {
        return node;
      }
      return rule == null ? Documents.object(outFields) : Documents.array(outElements);
    }
  }
}
