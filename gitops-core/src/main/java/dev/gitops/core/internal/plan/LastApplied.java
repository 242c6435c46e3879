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

  /** {@code keys}: when {@code node} is an element of a keyed list, its key fields, which name it and stay. */
  private static JsonNode strip(ResourceKey key, JsonNode node, FieldPath path, MergeRules rules, List<KeyField> keys) {
    if (node.isObject()) {
      if (rules.isAtomicMap(path) && !path.isRoot()) {
        return node;
      }
      Map<String, JsonNode> out = new LinkedHashMap<>();
      boolean changed = false;
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        FieldPath child = path.field(e.getKey());
        if (rules.isIgnored(key, child) && keys.stream().noneMatch(k -> k.name().equals(e.getKey()))) {
          changed = true;
          continue;
        }
        JsonNode v = strip(key, e.getValue(), child, rules, List.of());
        changed |= v != e.getValue();
        out.put(e.getKey(), v);
      }
      return changed ? Documents.object(out) : node;
    }
    if (node.isArray()) {
      ListRule rule = rules.listRule(path);
      if (rule.kind() == ListKind.ATOMIC) {
        return node;
      }
      // Elements at ignored paths go whole, as ignored object fields do: never owned, never removed.
      List<JsonNode> out = new ArrayList<>(node.size());
      boolean changed = false;
      for (JsonNode el : node) {
        if (rule.kind() == ListKind.SET) {
          if (rules.isIgnored(key, path.element(el))) {
            changed = true;
          } else {
            out.add(el);
          }
          continue;
        }
        if (!el.isObject()) {
          out.add(el);
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
        JsonNode v = strip(key, el, at, rules, rule.keys());
        changed |= v != el;
        out.add(v);
      }
      return changed ? Documents.array(out) : node;
    }
    return node;
  }
}
