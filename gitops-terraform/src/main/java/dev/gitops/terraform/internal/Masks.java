package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.core.internal.redact.SensitiveValues;
import dev.gitops.core.redact.Redactor;
import dev.gitops.core.redact.Scrubber;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Terraform's value masks and what is done with them. A mask ({@code after_unknown}, {@code
 * before_sensitive}, {@code after_sensitive}, {@code sensitive_values}) mirrors a value's shape
 * with {@code true} at every leaf (or whole value) it marks; here it becomes a set of
 * key-addressed paths. Values under a sensitive mask are replaced by {@value
 * SensitiveValues#REDACTED} before anything leaves the provider, and every plain string under one
 * is collected, so that messages can be scrubbed of it.
 */
public final class Masks {

  /** What a field known only after apply shows in a plan's field entries. */
  public static final String KNOWN_AFTER_APPLY = "(known after apply)";

  private Masks() {}

  /**
   * The paths {@code mask} marks (a {@code true} at the root marks the whole value; so does a leaf
   * that is neither a bool nor null, which Terraform never writes: a mask read otherwise would
   * show what it may mark sensitive).
   */
  public static Set<FieldPath> paths(JsonNode mask) {
    Set<FieldPath> out = new TreeSet<>();
    collect(mask, FieldPath.root(), out);
    return out;
  }

  /** The paths {@code mask} marks, under {@code prefix}. */
  public static Set<FieldPath> paths(JsonNode mask, FieldPath prefix) {
    Set<FieldPath> out = new TreeSet<>();
    collect(mask, prefix, out);
    return out;
  }

  private static void collect(JsonNode mask, FieldPath at, Set<FieldPath> out) {
    if (mask == null || mask.isNull() || mask.isMissingNode()) {
      return;
    }
    if (mask.isBoolean()) {
      if (mask.booleanValue()) {
        out.add(at);
      }
      return;
    }
    if (mask.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = mask.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        collect(e.getValue(), at.field(e.getKey()), out);
      }
    } else if (mask.isArray()) {
      for (int i = 0; i < mask.size(); i++) {
        collect(mask.get(i), at.index(i), out);
      }
    } else {
      // a mask Terraform does not write (a string "true", a number): it marks the whole value, so a sensitive
      // value under a mask a wrapper or another version spells otherwise is hidden, not shown
      out.add(at);
    }
  }

  /** {@code doc} with every value at {@code sensitive} replaced by the redaction marker (null stays null). */
  public static JsonNode redact(JsonNode doc, Set<FieldPath> sensitive) {
    if (doc == null || doc.isNull() || sensitive.isEmpty()) {
      return doc == null || doc.isNull() ? null : Documents.freeze(doc);
    }
    return Redactor.marking().document(doc, sensitive);
  }

  /** Adds every string (and number's text) found at or below {@code sensitive} in {@code doc} to {@code out}. */
  public static void secrets(JsonNode doc, Set<FieldPath> sensitive, Set<String> out) {
    if (doc == null) {
      return;
    }
    for (FieldPath p : sensitive) {
      JsonNode v = at(doc, p);
      if (v != null) {
        strings(v, out);
      }
    }
  }

  /**
   * Secrets shorter than this hide only a value that is exactly the secret, not every text that
   * holds it: a sensitive port {@code 5432} must not hide, and withhold from dependents, an
   * endpoint {@code db.example.com:5432}.
   */
  static final int SHORTEST_INSIDE = 8;

  /**
   * The paths of the values in {@code doc} that hold a secret {@code known} hides: a string that is
   * one or contains one of at least {@value #SHORTEST_INSIDE} characters, a number whose text is
   * one. Terraform marks a value sensitive where the configuration's data flow makes it so, but a
   * provider's computed attribute that copies a sensitive input ({@code terraform_data}'s {@code
   * output}, a connection string built around a password) comes back unmarked, in plain text; such
   * a value is hidden like a marked one.
   */
  public static Set<FieldPath> holding(JsonNode doc, Scrubber known) {
    Set<FieldPath> out = new TreeSet<>();
    if (doc != null && !known.isEmpty()) {
      holding(doc, FieldPath.root(), known, out);
    }
    return out;
  }

  private static void holding(JsonNode v, FieldPath at, Scrubber known, Set<FieldPath> out) {
    if (v.isTextual() && known.hides(v.textValue(), SHORTEST_INSIDE)
        || v.isNumber() && known.hides(v.asText(), Integer.MAX_VALUE)) {
      out.add(at);
    } else if (v.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        holding(e.getValue(), at.field(e.getKey()), known, out);
      }
    } else if (v.isArray()) {
      for (int i = 0; i < v.size(); i++) {
        holding(v.get(i), at.index(i), known, out);
      }
    }
  }

  /** Every string (and number's text) in {@code v}. */
  public static void strings(JsonNode v, Set<String> out) {
    if (v.isTextual() || v.isNumber()) {
      String s = v.asText();
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    for (JsonNode child : v) {
      strings(child, out);
    }
  }

  /** The value at {@code path} of {@code doc} (fields and indexes), or null. */
  public static JsonNode at(JsonNode doc, FieldPath path) {
    JsonNode n = doc;
    for (FieldPath.Segment s : path.segments()) {
      if (n == null) {
        return null;
      }
      if (s instanceof FieldPath.Field f) {
        n = n.isObject() ? n.get(f.name()) : null;
      } else if (s instanceof FieldPath.Index i) {
        n = n.isArray() && i.index() < n.size() ? n.get(i.index()) : null;
      } else {
        return null;
      }
    }
    return n;
  }

  /**
   * The changed leaves between {@code before} and {@code after} (objects by field, lists by
   * position), with values at or below {@code sensitive} hidden and flagged, and a {@value
   * #KNOWN_AFTER_APPLY} entry for each path of {@code unknown}.
   */
  public static List<FieldChange> fields(JsonNode before, JsonNode after, Set<FieldPath> sensitive,
      Set<FieldPath> unknown) {
    List<FieldChange> out = new ArrayList<>();
    diff(nullToMissing(before), nullToMissing(after), FieldPath.root(), unknown, out);
    for (FieldPath u : unknown) {
      JsonNode b = before == null ? null : at(before, u);
      out.add(new FieldChange(u, b == null || b.isNull() ? null : b, Documents.nodes().textNode(KNOWN_AFTER_APPLY),
          false));
    }
    // Flagged and hidden by the one redaction path; "(known after apply)" is no value, so it stays.
    Redactor marking = Redactor.marking();
    List<FieldChange> masked = new ArrayList<>(out.size());
    for (FieldChange f : Redactor.flag(out, sensitive)) {
      masked.add(!f.sensitive() ? f : new FieldChange(f.path(), f.before() == null ? null : marking.value(f.before()),
          f.after() == null ? null : f.after().isTextual() && KNOWN_AFTER_APPLY.equals(f.after().textValue())
              ? f.after() : marking.value(f.after()), true));
    }
    masked.sort((a, b) -> a.path().compareTo(b.path()));
    return masked;
  }

  private static JsonNode nullToMissing(JsonNode n) {
    return n == null || n.isNull() ? null : n;
  }

  private static void diff(JsonNode b, JsonNode a, FieldPath at, Set<FieldPath> unknown, List<FieldChange> out) {
    for (FieldPath u : unknown) {
      if (u.isPrefixOf(at)) {
        return;
      }
    }
    if (b == null && a == null) {
      return;
    }
    if (b != null && a != null && b.isObject() && a.isObject() && (b.size() > 0 || a.size() > 0)) {
      Set<String> names = new TreeSet<>();
      b.fieldNames().forEachRemaining(names::add);
      a.fieldNames().forEachRemaining(names::add);
      for (String n : names) {
        diff(nullToMissing(b.get(n)), nullToMissing(a.get(n)), at.field(n), unknown, out);
      }
      return;
    }
    if (b != null && a != null && b.isArray() && a.isArray() && b.size() == a.size() && b.size() > 0) {
      for (int i = 0; i < b.size(); i++) {
        diff(nullToMissing(b.get(i)), nullToMissing(a.get(i)), at.index(i), unknown, out);
      }
      return;
    }
    if (b == null && a.isObject() && a.size() > 0) {
      for (Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
        String n = it.next();
        diff(null, nullToMissing(a.get(n)), at.field(n), unknown, out);
      }
      return;
    }
    if (a == null && b.isObject() && b.size() > 0) {
      for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
        String n = it.next();
        diff(nullToMissing(b.get(n)), null, at.field(n), unknown, out);
      }
      return;
    }
    if (b == null || a == null || !Documents.equal(b, a)) {
      out.add(new FieldChange(at, b, a, false));
    }
  }
}
