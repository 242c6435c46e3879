package dev.gitops.core.internal.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Outcome;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.core.merge.MergeResult;
import dev.gitops.core.internal.redact.SensitiveValues;
import dev.gitops.core.merge.ThreeWayMerge;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Output references: a desired document of any provider may use a value a planning provider
 * (Terraform) produces, written {@code ${outputs:<key>:<name>}} inside a string value, where
 * {@code <key>} is the canonical key of the planning provider's resource or output
 * ({@code provider:type:scope:name}) and {@code <name>} a top-level field of it. A Terraform root
 * output {@code db_url} is {@code ${outputs:tf:output::db_url:value}}; the {@code id} attribute of
 * {@code aws_instance.web} is {@code ${outputs:tf:aws_instance::web:id}}.
 *
 * <p>References are resolved only while a planning provider is registered; without one the text is
 * left as written. A string that is exactly one reference becomes the referenced value (of any JSON type);
 * references inside a longer string are replaced by the value's text. <code>$${outputs:</code> is the
 * escape for a literal <code>${outputs:</code>. A reference makes its resource depend on the referenced
 * key (so on the whole planning unit).
 *
 * <p>When the plan is made, a reference is resolved from the planned change of its key: the
 * value the change will leave in place (its target, or for an unchanged key its live document).
 * A value the provider knows only after apply ({@link Change#unknown()}) stays a reference: the
 * field is shown in the plan as unknown until apply, and resolved just before the dependent is
 * applied from the referenced key's {@link Outcome#outputs()}. A reference to a sensitive value,
 * to a key no planning provider planned, or to a field the key does not have is an error naming
 * the resource, its origin and the reference.
 *
 * <pre class="language-yaml">{@code
 * # config/app.json, a file of the local-files provider (JSON, so YAML too)
 * {"database": "${outputs:tf:output::db_url:value}", "port": 5432}
 * }</pre>
 */
public final class OutputReferences {

  /** What starts a reference. */
  public static final String PREFIX = "${outputs:";

  private OutputReferences() {}

  /** One reference: where it sits, the key it names and the field of that key. */
  record Ref(FieldPath at, ResourceKey key, String output, String text) {}

  /** The result of resolving the references of the desired resources when planning. */
  static final class Resolved {
    /** Per resource, the paths still unknown (resolved at apply time). */
    final Map<ResourceKey, SortedSet<FieldPath>> unknown = new TreeMap<>();
    /** Per resource, the keys its references name. */
    final Map<ResourceKey, Set<ResourceKey>> dependencies = new TreeMap<>();

    /** {@code c} with the unknown paths of its resource added to its unknown mask. */
    Change mark(Change c) {
      SortedSet<FieldPath> paths = unknown.get(c.key());
      if (paths == null || c.desired() == null) {
        return c;
      }
      Set<FieldPath> all = new TreeSet<>(c.unknown());
      all.addAll(paths);
      return c.toBuilder().reason(c.reason() + "; " + paths.size() + " value" + (paths.size() == 1 ? "" : "s")
          + " known after apply of " + dependencies.get(c.key())).unknown(all).build();
    }

    /** Adds an edge from each referencing resource to each key it references. */
    void addEdges(Map<ResourceKey, SortedSet<ResourceKey>> deps) {
      dependencies.forEach((k, refs) -> deps.computeIfAbsent(k, x -> new TreeSet<>()).addAll(refs));
    }
  }

  /**
   * Resolves, in place in {@code desired}, every reference of every resource that is not a
   * planning provider's, from what {@code units} planned.
   *
   * @throws DecodeException naming the resource, its origin and the reference when it is malformed,
   *     names no planned key, names a sensitive value, or a field the key does not have
   */
  static Resolved resolve(Map<ResourceKey, Resource> desired, PlanningUnits units) {
    Resolved out = new Resolved();
    if (units.isEmpty()) {
      // Without a planning provider nothing produces outputs: documents are not searched, so a
      // plan without one costs nothing here (and its text reaches the live system as written).
      return out;
    }
    for (Map.Entry<ResourceKey, Resource> e : desired.entrySet()) {
      Resource r = e.getValue();
      if (units.covers(r.key()) || !mentions(r.document())) {
        continue;
      }
      List<Ref> refs = find(r);
      if (refs.isEmpty()) {
        // Only escapes: the literal text goes to the live system.
        e.setValue(r.withDocument(substitute(r, ref -> null)));
        continue;
      }
      Set<ResourceKey> keys = new TreeSet<>();
      for (Ref ref : refs) {
        keys.add(ref.key());
      }
      out.dependencies.put(r.key(), keys);
      SortedSet<FieldPath> unknown = new TreeSet<>();
      JsonNode doc = substitute(r, ref -> {
        Optional<JsonNode> v = planned(r, ref, units);
        if (v.isEmpty()) {
          unknown.add(ref.at());
        }
        return v.orElse(null);
      });
      if (!unknown.isEmpty()) {
        out.unknown.put(r.key(), unknown);
      }
      e.setValue(r.withDocument(doc));
    }
    return out;
  }

  /** The value {@code ref} has once the plan ran, or empty when it is known only after apply. */
  private static Optional<JsonNode> planned(Resource r, Ref ref, PlanningUnits units) {
    Optional<PlanningUnit> unit = units.unitOf(ref.key());
    if (unit.isEmpty()) {
      throw bad(r, ref, ref.key() + " is not a key of a planning provider (planning providers: "
          + units.units().keySet() + ")");
    }
    if (unit.get().failure().isPresent()) {
      return Optional.empty();
    }
    Change c = unit.get().change(ref.key()).orElseThrow(() -> bad(r, ref, "planning provider '"
        + ref.key().provider() + "' planned no " + ref.key()));
    FieldPath field = FieldPath.root().field(ref.output());
    for (FieldPath s : c.sensitive()) {
      if (s.isPrefixOf(field) || field.isPrefixOf(s)) {
        throw bad(r, ref, "the value is sensitive; sensitive values are never handed out of a planning provider"
            + " (declassify it there, for Terraform with nonsensitive())");
      }
    }
    for (FieldPath u : c.unknown()) {
      if (u.isPrefixOf(field) || field.isPrefixOf(u)) {
        return Optional.empty();
      }
    }
    JsonNode doc = c.target() != null ? c.target() : c.live();
    JsonNode v = doc == null ? null : doc.get(ref.output());
    if (v != null) {
      return Optional.of(v);
    }
    if (c.action().mutates()) {
      // A field the provider does not plan (a computed attribute it did not mark): the apply tells.
      return Optional.empty();
    }
    throw bad(r, ref, ref.key() + " has no field '" + ref.output() + "'"
        + (doc == null ? " (it has no value: " + c.action() + ")" : " (fields: " + names(doc) + ")"));
  }

  /**
   * {@code resource} with every reference replaced by the output of its key's outcome: for a
   * dependent about to be applied, whose references were unknown when the plan was made.
   *
   * @throws ProviderException naming the resource and the reference when the referenced key did
   *     not succeed or did not report that output
   */
  public static Resource resolveAtApply(Resource resource, Function<ResourceKey, Outcome> outcomes) {
    if (!mentions(resource.document())) {
      return resource;
    }
    JsonNode doc = substitute(resource, ref -> {
      Outcome o = outcomes.apply(ref.key());
      if (o == null || !o.isOk()) {
        throw new ProviderException(resource.key(), "cannot resolve " + ref.text() + ": " + ref.key()
            + (o == null ? " has not run" : " failed: " + o.message()), false, null);
      }
      JsonNode v = o.outputs().get(ref.output());
      if (v == null) {
        throw new ProviderException(resource.key(), "cannot resolve " + ref.text() + ": " + ref.key()
            + " reported no output '" + ref.output() + "' (outputs: " + new TreeSet<>(o.outputs().keySet()) + ")",
            false, null);
      }
      return v;
    });
    return resource.withDocument(doc);
  }

  /**
   * {@code c}, whose desired document held references unknown when it was planned, merged again
   * with {@code resolved} (its resource with the outputs in place) against the same stored state
   * and live document: the target, patch and fields it is applied with. Action, flags and the
   * sensitive mask are kept; the resolved paths leave the unknown mask.
   */
  public static Change remerge(Change c, Resource resolved, StoredResource l, Resource pending, MergeRules rules,
      byte[] secretKey) {
    JsonNode stored = Planner.ownedDocument(l, pending);
    JsonNode last = stored == null ? null : SensitiveValues.reveal(stored, resolved.document(), c.live(), secretKey);
    // under the store's key, as the planner's merge: hashed element paths then match the change's mask
    MergeResult r = new ThreeWayMerge(rules, secretKey).merge(c.key(), last, resolved.document(), c.live(),
        resolved.sensitive());
    return c.toBuilder().desired(resolved).target(r.target()).patch(r.patch()).fields(r.fields()).unknown(Set.of())
        .build();
  }

  /** Whether {@code r}'s document holds a reference (so it must be resolved before applying). */
  public static boolean refers(Resource r) {
    return r != null && mentions(r.document()) && !find(r).isEmpty();
  }

  // ---------------------------------------------------------------------------------- parsing

  private static boolean mentions(JsonNode doc) {
    if (doc == null) {
      return false;
    }
    if (doc.isTextual()) {
      return doc.textValue().contains(PREFIX);
    }
    for (JsonNode child : doc) {
      if (mentions(child)) {
        return true;
      }
    }
    return false;
  }

  /** Every reference in {@code r}'s document, in document order. */
  static List<Ref> find(Resource r) {
    List<Ref> out = new ArrayList<>();
    walk(r, r.document(), FieldPath.root(), out);
    return out;
  }

  private static void walk(Resource r, JsonNode node, FieldPath at, List<Ref> out) {
    if (node.isTextual()) {
      scan(r, node.textValue(), at, out);
    } else if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        walk(r, e.getValue(), at.field(e.getKey()), out);
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        walk(r, node.get(i), at.index(i), out);
      }
    }
  }

  /**
   * The parts of {@code text}: literal strings (escapes already turned into literals) and
   * references, in order; every reference is also added to {@code found}.
   */
  private static List<Object> scan(Resource r, String text, FieldPath at, List<Ref> found) {
    List<Object> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    int i = 0;
    while (i < text.length()) {
      int start = text.indexOf(PREFIX, i);
      if (start < 0) {
        literal.append(text, i, text.length());
        break;
      }
      if (start > 0 && text.charAt(start - 1) == '$') {
        literal.append(text, i, start - 1).append(PREFIX);
        i = start + PREFIX.length();
        continue;
      }
      int close = text.indexOf('}', start);
      if (close < 0) {
        throw new DecodeException(r.origin(), r.key() + " at " + at + ": unterminated output reference '"
            + text.substring(start) + "' (want ${outputs:<provider>:<type>:<scope>:<name>:<field>})");
      }
      String whole = text.substring(start, close + 1);
      String[] keyParts = text.substring(start + PREFIX.length(), close).split(":", -1);
      if (keyParts.length != 5 || keyParts[4].isEmpty()) {
        throw new DecodeException(r.origin(), r.key() + " at " + at + ": malformed output reference '" + whole
            + "' (want ${outputs:<provider>:<type>:<scope>:<name>:<field>}, ':' inside a key part written %3A)");
      }
      ResourceKey key;
      try {
        key = ResourceKey.parse(String.join(":", keyParts[0], keyParts[1], keyParts[2], keyParts[3]));
      } catch (IllegalArgumentException e) {
        throw new DecodeException(r.origin(), r.key() + " at " + at + ": malformed output reference '" + whole + "': "
            + e.getMessage());
      }
      literal.append(text, i, start);
      if (literal.length() > 0) {
        parts.add(literal.toString());
        literal.setLength(0);
      }
      Ref ref = new Ref(at, key, keyParts[4], whole);
      found.add(ref);
      parts.add(ref);
      i = close + 1;
    }
    if (literal.length() > 0) {
      parts.add(literal.toString());
    }
    return parts;
  }

  /**
   * {@code r}'s document with each reference replaced by {@code value.apply(ref)}; a reference
   * whose value is null (unknown) stays as written.
   */
  private static JsonNode substitute(Resource r, Function<Ref, JsonNode> value) {
    return substitute(r, r.document(), FieldPath.root(), value);
  }

  private static JsonNode substitute(Resource r, JsonNode node, FieldPath at, Function<Ref, JsonNode> value) {
    if (node.isTextual()) {
      String text = node.textValue();
      if (!text.contains(PREFIX)) {
        return node;
      }
      List<Object> parts = scan(r, text, at, new ArrayList<>());
      List<JsonNode> values = new ArrayList<>(parts.size());
      boolean known = true;
      boolean any = false;
      for (Object part : parts) {
        JsonNode v = part instanceof Ref ref ? value.apply(ref) : null;
        known &= !(part instanceof Ref) || v != null;
        any |= v != null;
        values.add(v);
      }
      if (!any && !known) {
        return node;
      }
      if (known && parts.size() == 1 && parts.get(0) instanceof Ref) {
        return values.get(0);
      }
      // Known values go in; a reference still unknown stays as written (and literal text keeps its
      // escape), to be resolved when the dependent is applied.
      StringBuilder sb = new StringBuilder(text.length() + 32);
      for (int i = 0; i < parts.size(); i++) {
        Object part = parts.get(i);
        JsonNode v = values.get(i);
        if (part instanceof String literal) {
          sb.append(known ? literal : literal.replace(PREFIX, "$" + PREFIX));
        } else if (v == null) {
          sb.append(((Ref) part).text());
        } else {
          sb.append(v.isTextual() ? v.textValue() : Documents.canonicalJson(v));
        }
      }
      return Documents.nodes().textNode(sb.toString());
    }
    if (node.isObject()) {
      Map<String, JsonNode> out = new LinkedHashMap<>();
      boolean changed = false;
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode v = substitute(r, e.getValue(), at.field(e.getKey()), value);
        changed |= v != e.getValue();
        out.put(e.getKey(), v);
      }
      return changed ? Documents.object(out) : node;
    }
    if (node.isArray()) {
      List<JsonNode> out = new ArrayList<>(node.size());
      boolean changed = false;
      for (int i = 0; i < node.size(); i++) {
        JsonNode v = substitute(r, node.get(i), at.index(i), value);
        changed |= v != node.get(i);
        out.add(v);
      }
      return changed ? Documents.array(out) : node;
    }
    return node;
  }

  private static DecodeException bad(Resource r, Ref ref, String why) {
    return new DecodeException(r.origin(), r.key() + " at " + ref.at() + ": cannot use " + ref.text() + ": " + why);
  }

  private static String names(JsonNode doc) {
    Set<String> out = new TreeSet<>();
    if (doc.isObject()) {
      doc.fieldNames().forEachRemaining(out::add);
    }
    return out.toString();
  }
}
