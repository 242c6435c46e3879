package dev.gitops.core.internal.redact;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.ListKind;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.api.PathPattern;
import dev.gitops.api.ResourceKey;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sensitive values: storing them as keyed hashes, getting them back for a merge, and redacting
 * them for display. Which paths are sensitive is the merge's to say ({@code
 * ThreeWayMerge.sensitivePaths}). Internal: shared by the merge, the planner and the {@code
 * Redactor}; no compatibility promise (render with {@code Redactor}).
 *
 * <p>The last-applied state is stored with every sensitive value replaced by
 * {@code "hmac-sha256:<hex>"}, an HMAC-SHA256 under a secret key of the value's canonical JSON:
 * enough to tell whether Git or the live system changed the value, useless to read it back.
 * Before the next merge {@link #reveal} puts the plain value back wherever Git or the live
 * system still holds the value that was hashed.
 *
 * <pre>{@code
 * Set<FieldPath> secret = ThreeWayMerge.sensitivePaths(key, desired, rules, Set.of(), storeKey);
 * JsonNode storedL = SensitiveValues.hash(desired, secret, storeKey);          // goes to the store
 * JsonNode l = SensitiveValues.reveal(storedL, nextDesired, live, storeKey);    // before merging
 * JsonNode shown = SensitiveValues.redact(desired, secret);                     // for plans and logs
 * }</pre>
 */
public final class SensitiveValues {

  /** The prefix of a stored keyed hash. */
  public static final String HASH_PREFIX = "hmac-sha256:";

  /** What a redacted value reads as. */
  public static final String REDACTED = "(sensitive)";

  /** Hex digits of a hashed path segment: 64 bits, ample to tell the elements of one list apart. */
  private static final int SEGMENT_HEX = 16;

  /**
   * The key paths are hashed under when the caller has no store key (a merge built without one):
   * random per process, so such paths are stable within the process and reveal nothing.
   */
  private static final byte[] PROCESS_KEY = new java.security.SecureRandom().generateSeed(32);

  private SensitiveValues() {}

  /** The key element segments are hashed under when no store key is given (random, per process). */
  public static byte[] processKey() {
    return PROCESS_KEY;
  }

  /**
   * The segment naming an element whose plain segment (its text {@code plainText}, for example
   * {@code [=hunter2]} or {@code [user=alice]}) would show a sensitive value: {@code [#hmac:<hex>]},
   * a keyed hash under {@code secretKey}, so paths never carry the value yet stay stable.
   */
  public static FieldPath.Hashed hashedSegment(byte[] secretKey, String plainText) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secretKey.length == 0 ? new byte[1] : secretKey, "HmacSHA256"));
      // A context string keeps these digests apart from the value hashes stored in last-applied.
      byte[] h = mac.doFinal(("gitops path segment\n" + plainText).getBytes(StandardCharsets.UTF_8));
      return new FieldPath.Hashed(HexFormat.of().formatHex(h).substring(0, SEGMENT_HEX));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no HmacSHA256", e);
    }
  }

  /**
   * A copy of {@code doc} with each value at {@code sensitive} replaced by
   * {@code "hmac-sha256:<hex>"} of HMAC-SHA256 under {@code secretKey} of its canonical JSON.
   * Paths that are absent are skipped.
   */
  public static JsonNode hash(JsonNode doc, Set<FieldPath> sensitive, byte[] secretKey) {
    Objects.requireNonNull(secretKey, "secretKey");
    JsonNode out = Documents.freeze(doc);
    for (FieldPath p : sensitive) {
      out = with(out, p, 0, v -> Documents.nodes().textNode(hmac(secretKey, v)), secretKey);
    }
    return out;
  }

  /**
   * A copy of {@code doc} with each value at {@code sensitive} replaced by {@value #REDACTED}. A
   * hashed element segment this process cannot match (made under a store key) redacts every
   * element of its list, so nothing secret is left by mistake.
   */
  public static JsonNode redact(JsonNode doc, Set<FieldPath> sensitive) {
    JsonNode out = Documents.freeze(doc);
    for (FieldPath p : sensitive) {
      out = with(out, p, 0, v -> Documents.nodes().textNode(REDACTED), PROCESS_KEY);
    }
    return out;
  }

  /**
   * The stored last-applied document with plain values back in place of keyed hashes: where the
   * value {@code desired} holds at the same place hashes to the stored text, that value; else
   * where the {@code live} value does; else the hash stays (it then differs from both, which
   * correctly shows a change and drift). Since equal hashes mean equal values, any match is the
   * value that was stored. Returns null when {@code storedL} is null.
   */
  public static JsonNode reveal(JsonNode storedL, JsonNode desired, JsonNode live, byte[] secretKey) {
    Objects.requireNonNull(secretKey, "secretKey");
    if (storedL == null) {
      return null;
    }
    List<JsonNode> ds = new ArrayList<>(1);
    if (desired != null) {
      ds.add(Documents.freeze(desired));
    }
    List<JsonNode> vs = new ArrayList<>(1);
    if (live != null) {
      vs.add(Documents.freeze(live));
    }
    return reveal(Documents.freeze(storedL), ds, vs, secretKey);
  }

  /**
   * {@code candidatesD}/{@code candidatesV} are the values at the same place as {@code l}; below a
   * list every element of the other side's list is a candidate, since without the rules the
   * element's key is unknown, and a matching hash proves the value anyway.
   */
  private static JsonNode reveal(JsonNode l, List<JsonNode> candidatesD, List<JsonNode> candidatesV, byte[] key) {
    if (l.isTextual() && l.textValue().startsWith(HASH_PREFIX)) {
      for (JsonNode c : candidatesD) {
        if (hmac(key, c).equals(l.textValue())) {
          return c;
        }
      }
      for (JsonNode c : candidatesV) {
        if (hmac(key, c).equals(l.textValue())) {
          return c;
        }
      }
      return l;
    }
    if (l.isObject()) {
      Map<String, JsonNode> out = null;
      int i = 0;
      for (Iterator<Map.Entry<String, JsonNode>> it = l.fields(); it.hasNext(); i++) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode kid = e.getValue();
        if (!mayHoldHash(kid)) {
          if (out != null) {
            out.put(e.getKey(), kid);
          }
          continue;
        }
        JsonNode r = reveal(kid, fields(candidatesD, e.getKey()), fields(candidatesV, e.getKey()), key);
        if (out == null && r != kid) {
          out = new LinkedHashMap<>();
          int j = 0;
          for (Iterator<Map.Entry<String, JsonNode>> it2 = l.fields(); j < i; j++) {
            Map.Entry<String, JsonNode> e2 = it2.next();
            out.put(e2.getKey(), e2.getValue());
          }
        }
        if (out != null) {
          out.put(e.getKey(), r);
        }
      }
      return out == null ? l : Documents.object(out);
    }
    if (l.isArray()) {
      List<JsonNode> cd = elements(candidatesD);
      List<JsonNode> cv = elements(candidatesV);
      List<JsonNode> out = new ArrayList<>(l.size());
      boolean changed = false;
      for (JsonNode e : l) {
        JsonNode r = mayHoldHash(e) ? reveal(e, cd, cv, key) : e;
        changed |= r != e;
        out.add(r);
      }
      return changed ? Documents.array(out) : l;
    }
    return l;
  }

  private static boolean mayHoldHash(JsonNode n) {
    return n.isContainerNode() || (n.isTextual() && n.textValue().startsWith(HASH_PREFIX));
  }

  private static List<JsonNode> fields(List<JsonNode> nodes, String name) {
    List<JsonNode> out = new ArrayList<>(nodes.size());
    for (JsonNode n : nodes) {
      JsonNode f = n.isObject() ? n.get(name) : null;
      if (f != null) {
        out.add(f);
      }
    }
    return out;
  }

  private static List<JsonNode> elements(List<JsonNode> nodes) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode n : nodes) {
      if (n.isArray()) {
        n.forEach(out::add);
      }
    }
    return out;
  }

  /** {@code "hmac-sha256:<hex>"} of the canonical JSON of {@code value}. */
  static String hmac(byte[] key, JsonNode value) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, "HmacSHA256"));
      byte[] h = mac.doFinal(Documents.canonicalJson(value).getBytes(StandardCharsets.UTF_8));
      return HASH_PREFIX + HexFormat.of().formatHex(h);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no HmacSHA256", e);
    }
  }

  /**
   * {@code doc} with the value at {@code path} (from segment {@code i}) replaced by {@code fn} of it.
   * A {@link FieldPath.Hashed} segment is matched against the list's elements as set elements under
   * {@code key}; when none matches (a keyed element, or a path hashed under another key) the rest of
   * the path applies to every element: over-hashing is harmless ({@link #reveal} restores values by
   * hash), leaving a secret in place is not.
   */
  private static JsonNode with(JsonNode doc, FieldPath path, int i, UnaryOperator<JsonNode> fn, byte[] key) {
    if (i == path.size()) {
      return fn.apply(doc);
    }
    FieldPath.Segment s = path.segments().get(i);
    if (s instanceof FieldPath.Field f) {
      if (!doc.isObject() || !doc.has(f.name())) {
        return doc;
      }
      Map<String, JsonNode> out = new LinkedHashMap<>();
      doc.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue()));
      out.put(f.name(), with(doc.get(f.name()), path, i + 1, fn, key));
      return Documents.object(out);
    }
    if (!doc.isArray()) {
      return doc;
    }
    int at = -1;
    if (s instanceof FieldPath.Hashed h) {
      for (int k = 0; k < doc.size() && at < 0; k++) {
        if (hashedSegment(key, new FieldPath.Element(doc.get(k)).text()).equals(h)) {
          at = k;
        }
      }
      if (at < 0) {
        List<JsonNode> all = new ArrayList<>(doc.size());
        doc.forEach(e -> all.add(with(e, path, i + 1, fn, key)));
        return Documents.array(all);
      }
    } else if (s instanceof FieldPath.Index ix) {
      at = ix.index() < doc.size() ? ix.index() : -1;
    } else if (s instanceof FieldPath.Element el) {
      for (int k = 0; k < doc.size() && at < 0; k++) {
        if (looselyEqual(doc.get(k), el.value())) {
          at = k;
        }
      }
    } else {
      JsonNode found = matchWithoutRule(doc, (FieldPath.Key) s);
      for (int k = 0; k < doc.size() && at < 0; k++) {
        if (doc.get(k) == found) {
          at = k;
        }
      }
    }
    if (at < 0) {
      return doc;
    }
    List<JsonNode> out = new ArrayList<>(doc.size());
    doc.forEach(out::add);
    out.set(at, with(doc.get(at), path, i + 1, fn, key));
    return Documents.array(out);
  }

  /**
   * Value equality, or equal text forms (a parsed path holds every key value as text). Shared with
   * the merge, which finds elements by path the same way.
   */
  public static boolean looselyEqual(JsonNode a, JsonNode b) {
    if (a.equals(b)) {
      return true;
    }
    if (b.isTextual() && !a.isContainerNode()) {
      return (a.isTextual() ? a.textValue() : a.toString()).equals(b.textValue());
    }
    return false;
  }

  /**
   * Finds a keyed element when no rule says how keys default: explicit fields must match. Shared
   * with the merge, which finds elements by path the same way.
   */
  public static JsonNode matchWithoutRule(JsonNode array, FieldPath.Key key) {
    JsonNode loose = null;
    for (JsonNode e : array) {
      if (!e.isObject()) {
        continue;
      }
      boolean exact = true;
      boolean ok = true;
      boolean any = false;
      for (Map.Entry<String, JsonNode> f : key.fields().entrySet()) {
        JsonNode ev = e.get(f.getKey());
        if (ev == null || ev.isNull()) {
          exact = false;
        } else if (!looselyEqual(ev, f.getValue())) {
          ok = false;
          break;
        } else {
          any = true;
        }
      }
      if (ok && exact) {
        return e;
      }
      if (ok && any && loose == null) {
        loose = e;
      }
    }
    return loose;
  }
}
