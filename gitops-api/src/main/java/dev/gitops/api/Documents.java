package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Immutable JSON documents: freezing, value equality and canonical digests.
 *
 * <p>Every document that enters the engine is frozen: a deep copy whose objects and arrays throw
 * {@link UnsupportedOperationException} on mutation, with numbers in one canonical form so that
 * {@code 1}, {@code 1L} and {@code 1.0} are equal under {@link JsonNode#equals(Object)}. Object
 * key order never matters for equality. Digests are SHA-256 over canonical JSON (sorted keys,
 * canonical numbers: an integral value as the integer, another double as its shortest decimal,
 * computed from its exact value so that the text is the same on every JDK).
 *
 * <pre>{@code
 * JsonNode doc = Documents.freeze(new ObjectMapper().readTree("{\"b\":1.0,\"a\":[1]}"));
 * Documents.digest(doc);          // same as for {"a":[1],"b":1}
 * ((ObjectNode) doc).put("c", 1); // throws UnsupportedOperationException
 * }</pre>
 */
public final class Documents {

  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);
  private static final JsonNode EMPTY_OBJECT = new FrozenObject(Map.of());
  private static final JsonNode EMPTY_ARRAY = new FrozenArray(List.of());

  /**
   * The deepest nesting of objects and arrays a resource's document may have, counted as the YAML
   * decoder counts it: the root object is level 1 and each object or array inside adds one (a
   * scalar adds none). It is the highest {@code maxDepth} the YAML decoder can be set to, so what a
   * decoder accepts the engine takes. A deeper document is refused where it enters: a {@link
   * Resource} is not made ({@link IllegalArgumentException} naming its key and the path), an
   * {@link Observation} of it is UNKNOWN (naming the path), and {@link #freeze} refuses trees deeper
   * than this plus {@link #ENVELOPE} levels. Every walker of the engine (the merge, digests, the
   * plan and store codecs) relies on it: none of them meets a deeper document.
   */
  public static final int MAX_DEPTH = 1_000;

  /**
   * The levels the engine's own trees add around a document (a plan's content, a store record):
   * {@link #freeze} takes trees up to {@link #MAX_DEPTH} plus this many levels.
   */
  public static final int ENVELOPE = 32;

  private Documents() {}

  /**
   * How many levels of objects and arrays {@code node} nests (as {@link #MAX_DEPTH} counts them: 0
   * for a scalar or null, 1 for an object of scalars). Known without a walk for a frozen document; a
   * document not frozen is walked without recursion, however deep. A {@link #lazyObject} not read
   * yet counts as one level (a store's own record, within the limit when it was written).
   */
  public static int depth(JsonNode node) {
    if (node == null || !node.isContainerNode()) {
      return 0;
    }
    int frozen = frozenDepth(node);
    if (frozen >= 0) {
      return frozen;
    }
    int deepest = 0;
    java.util.ArrayDeque<JsonNode> nodes = new java.util.ArrayDeque<>();
    java.util.ArrayDeque<Integer> levels = new java.util.ArrayDeque<>();
    nodes.push(node);
    levels.push(1);
    while (!nodes.isEmpty()) {
      JsonNode n = nodes.pop();
      int level = levels.pop();
      int known = frozenDepth(n);
      if (known >= 0) {
        deepest = Math.max(deepest, level - 1 + known);
        continue;
      }
      deepest = Math.max(deepest, level);
      for (JsonNode kid : n) {
        if (kid != null && kid.isContainerNode()) {
          nodes.push(kid);
          levels.push(level + 1);
        }
      }
    }
    return deepest;
  }

  /**
   * Null when {@code node} nests at most {@link #MAX_DEPTH} levels (or is null: no document);
   * else what is too deep, for an error message: {@code "nests 1203 levels deep, more than the 1000
   * the engine takes (Documents.MAX_DEPTH): level 1001 is at /spec/0/0/…/0"}. A frozen document
   * within the limit is not walked; another is walked without recursion, however deep.
   */
  public static String tooDeep(JsonNode node) {
    return tooDeep(node, MAX_DEPTH);
  }

  private static String tooDeep(JsonNode node, int limit) {
    int depth = depth(node);
    if (depth <= limit) {
      return null;
    }
    return "nests " + depth + " levels deep, more than the " + limit + " the engine takes (Documents.MAX_DEPTH"
        + (limit == MAX_DEPTH ? "" : " and " + (limit - MAX_DEPTH) + " for its own levels around a document")
        + "): level " + (limit + 1) + " is at " + pathToLevel(node, limit + 1);
  }

  /** One step of {@link #pathToLevel}'s walk: a container, the token that reaches it and its level. */
  private record Step(Step parent, String token, JsonNode node, int level) {}

  /**
   * The RFC 6901 pointer of the first container at {@code level} (in document order), its middle
   * elided when long; found by a walk without recursion that skips frozen parts too shallow.
   */
  private static String pathToLevel(JsonNode node, int level) {
    java.util.ArrayDeque<Step> todo = new java.util.ArrayDeque<>();
    todo.push(new Step(null, null, node, 1));
    Step found = null;
    while (!todo.isEmpty() && found == null) {
      Step s = todo.pop();
      int known = frozenDepth(s.node());
      if (known >= 0 && s.level() - 1 + known < level) {
        continue;  // a frozen part that does not reach the level
      }
      if (s.level() == level) {
        found = s;
        break;
      }
      List<Step> kids = new ArrayList<>();
      if (s.node().isObject()) {
        for (Iterator<Map.Entry<String, JsonNode>> it = s.node().fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          if (e.getValue() != null && e.getValue().isContainerNode()) {
            kids.add(new Step(s, e.getKey().replace("~", "~0").replace("/", "~1"), e.getValue(), s.level() + 1));
          }
        }
      } else {
        for (int i = 0; i < s.node().size(); i++) {
          if (s.node().get(i) != null && s.node().get(i).isContainerNode()) {
            kids.add(new Step(s, Integer.toString(i), s.node().get(i), s.level() + 1));
          }
        }
      }
      for (int i = kids.size() - 1; i >= 0; i--) {
        todo.push(kids.get(i));  // the first child is walked first
      }
    }
    List<String> tokens = new ArrayList<>();
    for (Step s = found; s != null && s.token() != null; s = s.parent()) {
      tokens.add(s.token());
    }
    Collections.reverse(tokens);
    StringBuilder sb = new StringBuilder();
    int n = tokens.size();
    for (int i = 0; i < n; i++) {
      if (n > 16 && i == 8) {
        sb.append("/…(").append(n - 12).append(" more)…");
        i = n - 4;
      }
      sb.append('/').append(tokens.get(i));
    }
    return sb.length() == 0 ? "the root" : sb.toString();
  }

  /** The depth a frozen container records, or -1 for a node that is not one. */
  private static int frozenDepth(JsonNode node) {
    if (node instanceof FrozenObject f) {
      return f.depth;
    }
    if (node instanceof FrozenArray a) {
      return a.depth;
    }
    if (node instanceof LazyObject) {
      return 1;
    }
    return node.isContainerNode() ? -1 : 0;
  }

  /** 1 + the deepest of {@code kids} (frozen or scalar). */
  private static int levelAbove(Iterable<JsonNode> kids) {
    int deepest = 0;
    for (JsonNode kid : kids) {
      int d = kid == null ? 0 : frozenDepth(kid);
      if (d < 0) {
        d = depth(kid);
      }
      if (d > deepest) {
        deepest = d;
      }
    }
    return deepest + 1;
  }

  /** The shared node factory the engine builds documents with. */
  public static JsonNodeFactory nodes() {
    return NODES;
  }

  /** The frozen empty object {@code {}}. */
  public static JsonNode emptyObject() {
    return EMPTY_OBJECT;
  }

  /** The frozen empty array {@code []}. */
  public static JsonNode emptyArray() {
    return EMPTY_ARRAY;
  }

  /**
   * A frozen object whose fields are read from {@code source} the first time anything about it is
   * asked (a field, its size, its hash, its text, equality): a store loads every record's document
   * this way, so a sync that never looks at a document does not parse it. Once read it is the
   * frozen document {@code source} gave, and equal to it in every way ({@code equals}, {@code
   * hashCode}, {@code toString}, every field); {@link #freeze} keeps it lazy. {@code source} is
   * called at most once (under a lock), must give a JSON object, and may throw an unchecked
   * exception naming where the document came from: every read of the object then throws it.
   *
   * <pre>{@code
   * JsonNode doc = Documents.lazyObject(() -> Documents.object(Map.of("a", IntNode.valueOf(1))));
   * doc.get("a");   // built now: 1
   * }</pre>
   */
  public static JsonNode lazyObject(java.util.function.Supplier<JsonNode> source) {
    return new LazyObject(new LazyFields(Objects.requireNonNull(source, "source")));
  }

  /** Whether {@code node} is already frozen (scalars always are, and so is {@code null}, which {@link #freeze} maps to JSON null). */
  public static boolean isFrozen(JsonNode node) {
    if (node == null || node instanceof FrozenObject || node instanceof FrozenArray || node instanceof LazyObject) {
      return true;
    }
    if (node instanceof ContainerNode) {
      return false;  // an object or array that is not frozen
    }
    return !node.isNumber() || isCanonicalNumber(node);
  }

  /**
   * Returns a frozen deep copy of {@code node}, or {@code node} itself if it is already frozen.
   * {@code null} and missing nodes become JSON null.
   *
   * @throws IllegalArgumentException when {@code node} nests deeper than {@link #MAX_DEPTH} plus
   *     {@link #ENVELOPE} levels, naming the path to the first level too deep
   */
  public static JsonNode freeze(JsonNode node) {
    JsonNode f = freeze(node, MAX_DEPTH + ENVELOPE);
    if (f == null) {
      throw new IllegalArgumentException("a document that " + tooDeep(node, MAX_DEPTH + ENVELOPE));
    }
    return f;
  }

  /**
   * {@link #freeze(JsonNode)}, or null when {@code node} nests deeper than {@code limit} levels: the
   * walk stops there, so no depth overflows the stack.
   */
  static JsonNode freeze(JsonNode node, int limit) {
    return freezeAt(node, 1, limit);
  }

  /** {@code node} frozen, at {@code level} (1 for a root container); null when too deep. */
  private static JsonNode freezeAt(JsonNode node, int level, int limit) {
    if (node == null || node.isMissingNode()) {
      return NODES.nullNode();
    }
    if (node instanceof FrozenObject || node instanceof FrozenArray || node instanceof LazyObject) {
      // a lazy object stays lazy: it is frozen when it is read
      return level - 1 + frozenDepth(node) > limit ? null : node;
    }
    if (node.isContainerNode() && level > limit) {
      return null;
    }
    switch (node.getNodeType()) {
      case OBJECT: {
        int n = node.size();
        if (n == 0) {
          return EMPTY_OBJECT;
        }
        String[] keys = new String[n];
        JsonNode[] values = new JsonNode[n];
        int i = 0;
        int hash = 0;  // Map.hashCode, computed on the way
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); i++) {
          Map.Entry<String, JsonNode> e = it.next();
          String key = e.getKey();
          JsonNode value = freezeAt(e.getValue(), level + 1, limit);
          if (value == null) {
            return null;
          }
          keys[i] = key;
          values[i] = value;
          hash += key.hashCode() ^ value.hashCode();
        }
        return new FrozenObject(FrozenMap.of(Interner.shape(keys), values), hash);
      }
      case ARRAY: {
        int n = node.size();
        if (n == 0) {
          return EMPTY_ARRAY;
        }
        JsonNode[] kids = new JsonNode[n];
        int hash = 1;  // List.hashCode, computed on the way
        for (int i = 0; i < n; i++) {
          JsonNode kid = freezeAt(node.get(i), level + 1, limit);
          if (kid == null) {
            return null;
          }
          kids[i] = kid;
          hash = 31 * hash + kid.hashCode();
        }
        return new FrozenArray(List.of(kids), hash);
      }
      case NUMBER:
        return Interner.scalar(canonicalNumber(node));
      case STRING:
        return Interner.scalar(node);
      case BINARY:
        return Interner.scalar(NODES.textNode(node.asText()));
      case POJO:
        throw new IllegalArgumentException("documents hold JSON values only, not " + node.getClass().getName());
      default:
        return node;
    }
  }

  /** Builds a frozen object from already frozen (or freezable) values, keeping the map's order. */
  public static JsonNode object(Map<String, JsonNode> fields) {
    if (Objects.requireNonNull(fields, "fields").isEmpty()) {
      return EMPTY_OBJECT;
    }
    int n = fields.size();
    String[] keys = new String[n];
    JsonNode[] values = new JsonNode[n];
    int i = 0;
    for (Map.Entry<String, JsonNode> e : fields.entrySet()) {
      if (i == n) {
        throw new java.util.ConcurrentModificationException("the map grew while it was frozen");
      }
      keys[i] = Objects.requireNonNull(e.getKey(), "field name");
      values[i] = freeze(e.getValue());
      i++;
    }
    if (i != n) {
      throw new java.util.ConcurrentModificationException("the map shrank while it was frozen");
    }
    return new FrozenObject(FrozenMap.of(Interner.shape(keys), values));
  }

  /** Builds a frozen array from already frozen (or freezable) values. */
  public static JsonNode array(List<JsonNode> elements) {
    if (Objects.requireNonNull(elements, "elements").isEmpty()) {
      return EMPTY_ARRAY;
    }
    JsonNode[] kids = new JsonNode[elements.size()];
    int i = 0;
    for (JsonNode e : elements) {
      kids[i++] = freeze(e);
    }
    return new FrozenArray(List.of(kids));
  }

  /**
   * A frozen object of the first {@code n} of {@code names} (distinct) and {@code values} (frozen
   * or freezable), in that order: {@link #object(Map)} without a map to build and walk. Neither
   * array is kept. For the project's own modules, such as the three-way merge.
   *
   * <pre>{@code
   * JsonNode o = Documents.object(new String[] {"a", "b"}, new JsonNode[] {IntNode.valueOf(1), IntNode.valueOf(2)}, 2);
   * }</pre>
   *
   * @throws IllegalArgumentException when a name repeats
   */
  public static JsonNode object(String[] names, JsonNode[] values, int n) {
    Objects.requireNonNull(names, "names");
    Objects.requireNonNull(values, "values");
    if (n == 0) {
      return EMPTY_OBJECT;
    }
    String[] keys = new String[n];
    JsonNode[] vals = new JsonNode[n];
    int hash = 0;  // Map.hashCode, computed on the way
    Set<String> seen = n > 16 ? new HashSet<>(n * 2) : null;
    for (int i = 0; i < n; i++) {
      String key = Objects.requireNonNull(names[i], "field name");
      boolean repeat = false;
      if (seen != null) {
        repeat = !seen.add(key);
      } else {
        for (int j = 0; j < i && !repeat; j++) {
          repeat = keys[j].equals(key);
        }
      }
      if (repeat) {
        throw new IllegalArgumentException("field " + key + " repeats");
      }
      JsonNode value = freeze(values[i]);
      keys[i] = key;
      vals[i] = value;
      hash += key.hashCode() ^ value.hashCode();
    }
    return new FrozenObject(FrozenMap.of(Interner.shape(keys), vals), hash);
  }

  /**
   * Frozen object {@code object} with field {@code positions[c]} holding {@code values[c]} (frozen
   * or freezable) for every {@code c < n}: the same field names in the same order, sharing the
   * object's key order instead of looking it up again, its hash updated rather than recomputed.
   * For the project's own modules, such as the three-way merge replacing one field of a large object.
   *
   * <pre>{@code
   * JsonNode o = Documents.freeze(new ObjectMapper().readTree("{\"a\":1,\"b\":2}"));
   * Documents.withFieldValues(o, new int[] {1}, new JsonNode[] {IntNode.valueOf(3)}, 1);   // {"a":1,"b":3}
   * }</pre>
   *
   * @throws IllegalArgumentException when {@code object} is not a non-empty frozen object
   * @throws IndexOutOfBoundsException when a position is not below {@code object.size()}
   */
  public static JsonNode withFieldValues(JsonNode object, int[] positions, JsonNode[] values, int n) {
    Objects.requireNonNull(object, "object");
    Objects.requireNonNull(positions, "positions");
    Objects.requireNonNull(values, "values");
    if (object instanceof LazyObject l) {
      return withFieldValues(l.frozen(), positions, values, n);
    }
    if (!(object instanceof FrozenObject f && f.children() instanceof FrozenMap m)) {
      throw notFrozenObject(object);
    }
    int size = m.size();
    JsonNode[] vals = new JsonNode[size];
    for (int i = 0; i < size; i++) {
      vals[i] = m.valueAt(i);
    }
    int hash = f.hashCode();
    String[] keys = m.shape.keys;
    for (int c = 0; c < n; c++) {
      int i = Objects.checkIndex(positions[c], size);
      JsonNode value = freeze(values[c]);
      int kh = keys[i].hashCode();
      hash += (kh ^ value.hashCode()) - (kh ^ vals[i].hashCode());
      vals[i] = value;
    }
    return new FrozenObject(FrozenMap.of(m.shape, vals), hash);
  }

  /**
   * A frozen array of the first {@code n} of {@code elements} (frozen or freezable): {@link
   * #array(List)} without a list to build. The array is not kept. For the project's own modules.
   *
   * <pre>{@code
   * JsonNode a = Documents.array(new JsonNode[] {IntNode.valueOf(1), IntNode.valueOf(2)}, 2);
   * }</pre>
   */
  public static JsonNode array(JsonNode[] elements, int n) {
    Objects.requireNonNull(elements, "elements");
    if (n == 0) {
      return EMPTY_ARRAY;
    }
    JsonNode[] kids = new JsonNode[n];
    int hash = 1;  // List.hashCode, computed on the way
    for (int i = 0; i < n; i++) {
      JsonNode kid = freeze(elements[i]);
      kids[i] = kid;
      hash = 31 * hash + kid.hashCode();
    }
    return new FrozenArray(List.of(kids), hash);
  }

  /**
   * The name of field {@code index} of a frozen object, in the object's field order: with
   * {@link #fieldValue} a walk over an object's fields that allocates nothing (its iterators and
   * entries would), for code that visits many small objects, such as the three-way merge.
   *
   * <pre>{@code
   * JsonNode o = Documents.freeze(new ObjectMapper().readTree("{\"a\":1,\"b\":2}"));
   * for (int i = 0; i < o.size(); i++) {
   *   log.info("{} = {}", Documents.fieldName(o, i), Documents.fieldValue(o, i));
   * }
   * }</pre>
   *
   * @throws IllegalArgumentException when {@code object} is not a non-empty frozen object
   * @throws IndexOutOfBoundsException when {@code index} is not below {@code object.size()}
   */
  public static String fieldName(JsonNode object, int index) {
    // The map's own size, not object.size(): that goes through the Map interface, whose call site
    // sees every FrozenMap class and so cannot be inlined.
    if (object instanceof FrozenObject f && f.children() instanceof FrozenMap m) {
      return m.keyAt(Objects.checkIndex(index, m.size()));
    }
    if (object instanceof LazyObject l) {
      return fieldName(l.frozen(), index);
    }
    Objects.checkIndex(index, Objects.requireNonNull(object, "object").size());
    throw notFrozenObject(object);
  }

  /**
   * The value of field {@code index} of a frozen object (see {@link #fieldName}).
   *
   * <pre>{@code
   * JsonNode first = Documents.fieldValue(Documents.freeze(document), 0);
   * }</pre>
   *
   * @throws IllegalArgumentException when {@code object} is not a non-empty frozen object
   * @throws IndexOutOfBoundsException when {@code index} is not below {@code object.size()}
   */
  public static JsonNode fieldValue(JsonNode object, int index) {
    if (object instanceof FrozenObject f && f.children() instanceof FrozenMap m) {
      return m.valueAt(Objects.checkIndex(index, m.size()));
    }
    if (object instanceof LazyObject l) {
      return fieldValue(l.frozen(), index);
    }
    Objects.checkIndex(index, Objects.requireNonNull(object, "object").size());
    throw notFrozenObject(object);
  }

  /**
   * The position of field {@code name} in a frozen object, or -1 when it has none: searched from
   * position {@code from} to the end, then from the start. A caller walking two objects whose
   * fields mostly come in the same order passes the position after its last hit, so a lookup is
   * usually one compare, by identity when the names are shared (frozen documents share field
   * names). Like {@link #fieldName}, for the project's own modules.
   *
   * <pre>{@code
   * JsonNode o = Documents.freeze(new ObjectMapper().readTree("{\"a\":1,\"b\":2}"));
   * Documents.fieldIndex(o, "b", 0);   // 1
   * Documents.fieldIndex(o, "a", 1);   // 0 (wrapped around)
   * }</pre>
   *
   * @throws IllegalArgumentException when {@code object} is not a frozen object
   */
  public static int fieldIndex(JsonNode object, String name, int from) {
    Objects.requireNonNull(name, "name");
    if (object instanceof FrozenObject f) {
      if (!(f.children() instanceof FrozenMap m)) {
        return -1;  // the empty object
      }
      String[] keys = m.shape.keys;
      int n = keys.length;
      for (int i = Math.max(from, 0); i < n; i++) {
        String x = keys[i];
        if (x == name || x.equals(name)) {
          return i;
        }
      }
      for (int i = 0; i < from && i < n; i++) {
        String x = keys[i];
        if (x == name || x.equals(name)) {
          return i;
        }
      }
      return -1;
    }
    if (object instanceof LazyObject l) {
      return fieldIndex(l.frozen(), name, from);
    }
    throw notFrozenObject(Objects.requireNonNull(object, "object"));
  }

  /**
   * Whether {@code a} and {@code b} are frozen objects with the same field names in the same order
   * (then field {@code i} of one pairs with field {@code i} of the other). Usually a reference
   * compare: frozen objects share their list of names when it is short. For the project's own modules.
   *
   * <pre>{@code
   * JsonNode a = Documents.freeze(new ObjectMapper().readTree("{\"x\":1,\"y\":2}"));
   * JsonNode b = Documents.freeze(new ObjectMapper().readTree("{\"x\":3,\"y\":4}"));
   * Documents.sameFieldNames(a, b);   // true
   * }</pre>
   */
  public static boolean sameFieldNames(JsonNode a, JsonNode b) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    if (a instanceof LazyObject la) {
      a = la.frozen();
    }
    if (b instanceof LazyObject lb) {
      b = lb.frozen();
    }
    if (a instanceof FrozenObject fa && b instanceof FrozenObject fb) {
      Map<String, JsonNode> ca = fa.children();
      Map<String, JsonNode> cb = fb.children();
      if (ca instanceof FrozenMap ma && cb instanceof FrozenMap mb) {
        FrozenMap.Shape sa = ma.shape;
        FrozenMap.Shape sb = mb.shape;
        return sa == sb || sa.sameKeys(sb.keys, sb.hash());
      }
      return ca.isEmpty() && cb.isEmpty();
    }
    return false;
  }

  private static IllegalArgumentException notFrozenObject(JsonNode object) {
    return new IllegalArgumentException("not a non-empty frozen object: "
        + (object == null ? "null" : object.getNodeType() + " " + object.getClass().getSimpleName()));
  }

  /** A mutable deep copy, for code that wants to edit a document; {@code null} gives JSON null. */
  public static JsonNode mutableCopy(JsonNode node) {
    if (node == null) {
      return NODES.nullNode();
    }
    if (node.isObject()) {
      ObjectNode copy = NODES.objectNode();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        copy.set(e.getKey(), mutableCopy(e.getValue()));
      }
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = NODES.arrayNode(node.size());
      for (JsonNode kid : node) {
        copy.add(mutableCopy(kid));
      }
      return copy;
    }
    return node;
  }

  /**
   * Value equality: frozen or not, numbers compare numerically and key order is ignored. {@code
   * null} (no document) equals only {@code null}.
   */
  public static boolean equal(JsonNode a, JsonNode b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null) {
      return false;
    }
    if (isFrozen(a) && isFrozen(b)) {
      return a.equals(b);
    }
    return freeze(a).equals(freeze(b));
  }

  /** SHA-256 of the canonical JSON of {@code node}, as lower-case hex; {@code null} digests as JSON null. */
  public static String digest(JsonNode node) {
    MessageDigest md = sha256();
    // The text is written into this thread's builder (kept while small), not a new one grown by
    // doubling for every document: a sync digests each resource's documents several times.
    StringBuilder sb = DIGEST_TEXT.get();
    sb.setLength(0);
    writeCanonical(node == null ? NODES.nullNode() : node, sb);
    boolean ascii = update(md, sb);
    // A builder that held a character beyond Latin-1 stays UTF-16 for good, twice the bytes and a
    // slower read for every later document of the thread: it is dropped like a large one.
    if (!ascii || sb.capacity() > DIGEST_TEXT_KEPT) {
      DIGEST_TEXT.set(new StringBuilder(1024));
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * SHA-256 of the UTF-8 bytes of {@code text}, as lower-case hex: the same as hashing {@code
   * text.toString().getBytes(UTF_8)}, through this thread's digest and buffer (no digest clone, no
   * String or byte array per call). For short texts hashed often ({@link Resource#digestWith}).
   */
  static String sha256Hex(CharSequence text) {
    MessageDigest md = THREAD_SHA256.get();
    md.reset();
    update(md, text);
    return HexFormat.of().formatHex(md.digest());
  }

  private static final ThreadLocal<MessageDigest> THREAD_SHA256 = ThreadLocal.withInitial(Documents::sha256);

  /** The largest builder {@link #digest} keeps for its thread; a larger one is dropped after use. */
  private static final int DIGEST_TEXT_KEPT = 64 * 1024;

  /** This thread's buffer for the UTF-8 bytes of a digested text, hashed in chunks. */
  private static final ThreadLocal<byte[]> DIGEST_BYTES = ThreadLocal.withInitial(() -> new byte[8192]);

  /** This thread's buffer for the characters of a digested text, copied out a chunk at a time. */
  private static final ThreadLocal<char[]> DIGEST_CHARS = ThreadLocal.withInitial(() -> new char[8192]);

  /**
   * Feeds the UTF-8 bytes of {@code text} to {@code md} through this thread's buffers, without the
   * String and byte array copies of the whole text ({@code toString().getBytes()} allocated twice
   * the text for every digest); from the first non-ASCII character on, the rest is encoded whole.
   * The characters of a String or a StringBuilder are copied out a chunk at a time ({@code
   * getChars}), not read one call at a time ({@code charAt} checked each index and the builder's
   * coding, which cost more than the SHA-256 itself in a process whose JIT stops at C1). Returns
   * whether the text was all ASCII.
   */
  private static boolean update(MessageDigest md, CharSequence text) {
    byte[] buf = DIGEST_BYTES.get();
    char[] chars = DIGEST_CHARS.get();
    int len = text.length();
    for (int from = 0; from < len; ) {
      int to = Math.min(len, from + chars.length);
      if (text instanceof StringBuilder sb) {
        sb.getChars(from, to, chars, 0);
      } else if (text instanceof String str) {
        str.getChars(from, to, chars, 0);
      } else {
        for (int i = from; i < to; i++) {
          chars[i - from] = text.charAt(i);
        }
      }
      int n = to - from;
      for (int k = 0; k < n; k++) {
        char c = chars[k];
        if (c >= 0x80) {
          md.update(buf, 0, k);
          // every char before from + k is ASCII, so it never splits a surrogate pair
          md.update(text.subSequence(from + k, len).toString().getBytes(StandardCharsets.UTF_8));
          return false;
        }
        buf[k] = (byte) c;
      }
      md.update(buf, 0, n);
      from = to;
    }
    return true;
  }
  private static final ThreadLocal<StringBuilder> DIGEST_TEXT = ThreadLocal.withInitial(() -> new StringBuilder(1024));

  /**
   * The canonical JSON text of {@code node}: sorted keys, canonical numbers, no white space. The
   * same for a tree and its frozen copy; a tree that is not frozen is written without copying it.
   * {@code null} is written as JSON null.
   */
  public static String canonicalJson(JsonNode node) {
    StringBuilder sb = new StringBuilder(256);
    writeCanonical(node == null ? NODES.nullNode() : node, sb);
    return sb.toString();
  }

  /** A new SHA-256 digest. */
  public static MessageDigest sha256() {
    if (SHA256 != null) {
      try {
        // a clone of an unused prototype: no provider look-up per digest
        return (MessageDigest) SHA256.clone();
      } catch (CloneNotSupportedException e) {
        // a provider whose digest cannot be cloned: look it up each time
      }
    }
    return newSha256();
  }

  /** Never updated, only cloned; null until the class is initialised. */
  private static final MessageDigest SHA256 = newSha256();

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static void writeCanonical(JsonNode node, StringBuilder sb) {
    switch (node.getNodeType()) {
      case OBJECT: {
        List<String> names = new ArrayList<>(node.size());
        node.fieldNames().forEachRemaining(names::add);
        Collections.sort(names);
        sb.append('{');
        boolean first = true;
        for (String name : names) {
          if (!first) {
            sb.append(',');
          }
          first = false;
          quote(name, sb);
          sb.append(':');
          writeCanonical(node.get(name), sb);
        }
        sb.append('}');
        return;
      }
      case ARRAY: {
        sb.append('[');
        boolean first = true;
        for (JsonNode kid : node) {
          if (!first) {
            sb.append(',');
          }
          first = false;
          writeCanonical(kid, sb);
        }
        sb.append(']');
        return;
      }
      case STRING:
        quote(node.textValue(), sb);
        return;
      case NUMBER: {
        JsonNode n = canonicalNumber(node);
        sb.append(n.isBigDecimal() ? n.decimalValue().toPlainString()
            : n.isDouble() ? doubleText(n.doubleValue()) : n.asText());
        return;
      }
      case BOOLEAN:
        sb.append(node.booleanValue());
        return;
      case NULL:
      case MISSING:
        sb.append("null");
        return;
      case POJO:
        throw new IllegalArgumentException("documents hold JSON values only, not " + node.getClass().getName());
      default:
        quote(node.asText(), sb);
    }
  }

  private static void quote(String s, StringBuilder sb) {
    sb.append('"');
    // Most text needs no escape: copy each run between escapes at once rather than char by char.
    int run = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') {
        continue;
      }
      sb.append(s, run, i);
      run = i + 1;
      switch (c) {
        case '"': sb.append("\\\""); break;
        case '\\': sb.append("\\\\"); break;
        case '\n': sb.append("\\n"); break;
        case '\r': sb.append("\\r"); break;
        case '\t': sb.append("\\t"); break;
        default:
          sb.append(String.format("\\u%04x", (int) c));
      }
    }
    sb.append(s, run, s.length());
    sb.append('"');
  }

  private static boolean isCanonicalNumber(JsonNode n) {
    return canonicalNumber(n) == n;
  }

  /** Integral values become int, long or big-integer nodes; others double or exact decimal. */
  private static JsonNode canonicalNumber(JsonNode n) {
    if (n.isInt()) {
      return n;
    }
    if (n.isLong()) {
      long v = n.longValue();
      return v == (int) v ? NODES.numberNode((int) v) : n;
    }
    if (n.isBigInteger()) {
      return integral(n.bigIntegerValue(), n);
    }
    if (n.isDouble() || n.isFloat()) {
      // A float that is not integral is the double of its shortest decimal (0.1f is 0.1), found
      // without Float.toString, whose text differs between JDKs as Double.toString's does (see
      // doubleText; JDK 17 wrote 4.76666528E8f in full, later JDKs as 4.7666653E8); an integral
      // float is its exact value, the integer it equals.
      float f = n.floatValue();
      double d = !n.isFloat() ? n.doubleValue()
          : Float.isNaN(f) || Float.isInfinite(f) || f == Math.rint(f) ? f : shortest(new BigDecimal(f), f, true).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        return n.isDouble() ? n : NODES.numberNode(d);
      }
      if (d == Math.rint(d) && Math.abs(d) < 9.0e15) {
        long v = (long) d;
        return v == (int) v ? NODES.numberNode((int) v) : NODES.numberNode(v);
      }
      if (d == Math.rint(d)) {
        // past 2^53 every double is an integer: 1e16 is the long 10000000000000000, as a
        // BigDecimal 1E+16 or a JSON integer of the same value are, so they compare equal. The
        // double's exact binary value, not Double.toString's text, which differs between JDKs
        // (17 prints 1e23 as 9.999999999999999E22, 19 and later as 1.0E23): a digest must not
        return integral(new BigDecimal(d).toBigIntegerExact(), null);
      }
      if (n.isDouble()) {
        return n;
      }
      return NODES.numberNode(d);
    }
    if (n.isBigDecimal()) {
      BigDecimal bd = n.decimalValue();
      if (bd.signum() == 0) {
        return NODES.numberNode(0);
      }
      BigDecimal stripped = bd.stripTrailingZeros();
      if (stripped.scale() <= 0) {
        return integral(stripped.toBigIntegerExact(), null);
      }
      double d = stripped.doubleValue();
      if (!Double.isInfinite(d) && d != 0 && shortest(new BigDecimal(d), d, false).compareTo(stripped) == 0) {
        return NODES.numberNode(d);
      }
      return NODES.numberNode(stripped);
    }
    return n;
  }

  /** Doubles from this magnitude on and below {@link #PLAIN_BELOW} are written without an exponent. */
  private static final BigDecimal PLAIN_FROM = new BigDecimal("0.001");
  private static final BigDecimal PLAIN_BELOW = BigDecimal.TEN.pow(7);

  /**
   * The text of {@code d} as {@code Double.toString} writes it since JDK 19: its shortest decimal
   * (see {@link #shortestDecimal}), as {@code 0.001} or {@code 123.5} within [10<sup>-3</sup>,
   * 10<sup>7</sup>) and as {@code 1.0E-5} or {@code 1.23456785E7} outside it, computed from the
   * double's exact binary value. JDK 17's {@code Double.toString} gives another text, and another
   * value, for some doubles (JDK-4511638: {@code 2.0E23} is {@code 1.9999999999999998E23} there,
   * {@code 9.9E-324} is {@code 1.0E-323}, {@code 1.6E-322} is {@code 1.58E-322}); a digest, a file
   * written or a decoded value must not depend on the JDK. It is the canonical text of a double in
   * {@link #canonicalJson}. {@code NaN} and {@code Infinity}, which JSON cannot hold, are written as
   * those words; zero as {@code 0.0} or {@code -0.0}.
   *
   * <pre>{@code
   * Documents.doubleText(2.0E23);    // "2.0E23" on every JDK
   * Documents.doubleText(0.1 + 0.2); // "0.30000000000000004"
   * }</pre>
   */
  public static String doubleText(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "Infinity" : "-Infinity";
    }
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    BigDecimal v = shortest(new BigDecimal(d), d, false);
    BigDecimal abs = v.abs();
    String sign = v.signum() < 0 ? "-" : "";
    if (abs.compareTo(PLAIN_FROM) >= 0 && abs.compareTo(PLAIN_BELOW) < 0) {
      String plain = abs.toPlainString();
      return sign + (plain.indexOf('.') < 0 ? plain + ".0" : plain);
    }
    String digits = abs.unscaledValue().toString();
    int exponent = abs.precision() - abs.scale() - 1;
    return sign + digits.charAt(0) + "." + (digits.length() > 1 ? digits.substring(1) : "0") + "E" + exponent;
  }

  /**
   * The shortest decimal that reads back as {@code d}, the same on every JDK: what {@code new
   * BigDecimal(Double.toString(d))} gives since JDK 19, where {@code BigDecimal.valueOf(d)} on JDK 17
   * may give another value ({@code 1.9999999999999998E+23} for {@code 2.0E23}). Zero (either sign)
   * is {@link BigDecimal#ZERO}.
   *
   * <pre>{@code
   * Documents.shortestDecimal(2.0E23);   // 2E+23
   * Documents.shortestDecimal(0.1);      // 0.1, not 0.1000000000000000055511151231257827...
   * }</pre>
   *
   * @throws IllegalArgumentException when {@code d} is NaN or infinite
   */
  public static BigDecimal shortestDecimal(double d) {
    if (!Double.isFinite(d)) {
      throw new IllegalArgumentException("no decimal is " + d);
    }
    return d == 0 ? BigDecimal.ZERO : shortest(new BigDecimal(d), d, false);
  }

  /**
   * The shortest decimal that reads back as {@code value} (a finite non-zero double, or float when
   * {@code single}) whose exact binary value is {@code exact}, without trailing zeros: of the
   * decimals of the fewest significant digits that round to it, the closest to it (the one with an
   * even last digit when two are as close); when one digit is enough, two-digit decimals are
   * candidates too (Double.MIN_VALUE is 4.9E-324, not 5E-324). It is what {@code Double.toString}
   * and {@code Float.toString} give since JDK 19, found here by rounding the exact value, so the
   * same on every JDK.
   */
  static BigDecimal shortest(BigDecimal exact, double value, boolean single) {
    BigDecimal abs = exact.abs();
    BigDecimal best = null;
    // after p == 1 found one, p == 2 is still tried: a two-digit decimal may be closer
    for (int p = 1; p <= 17 && (best == null || p == 2); p++) {
      for (java.math.RoundingMode mode : new java.math.RoundingMode[] {java.math.RoundingMode.DOWN,
          java.math.RoundingMode.UP}) {
        BigDecimal c = abs.round(new java.math.MathContext(p, mode)).stripTrailingZeros();
        boolean reads = single ? c.floatValue() == (float) Math.abs(value) : c.doubleValue() == Math.abs(value);
        if (reads && (best == null || closer(c, best, abs))) {
          best = c;
        }
      }
    }
    if (best == null) {
      throw new IllegalStateException("no decimal of at most 17 digits reads back as " + value);
    }
    return exact.signum() < 0 ? best.negate() : best;
  }

  /** Whether {@code c} is closer to {@code exact} than {@code best}, or as close with an even last digit. */
  private static boolean closer(BigDecimal c, BigDecimal best, BigDecimal exact) {
    int cmp = c.subtract(exact).abs().compareTo(best.subtract(exact).abs());
    if (cmp != 0) {
      return cmp < 0;
    }
    return c.compareTo(best) != 0 && !c.unscaledValue().testBit(0);
  }

  private static JsonNode integral(BigInteger v, JsonNode original) {
    if (v.bitLength() < 32) {
      return NODES.numberNode(v.intValue());
    }
    if (v.bitLength() < 64) {
      return NODES.numberNode(v.longValue());
    }
    return original != null && original.isBigInteger() ? original : NODES.numberNode(v);
  }

  /**
   * Objects backed by a {@link FrozenMap} (or the empty {@code Map.of()}): every mutator of
   * ObjectNode throws because the map's do.
   */
  private static final class FrozenObject extends ObjectNode {
    private static final long serialVersionUID = 1L;
    private final int hash;
    /** The levels it nests ({@link #depth(JsonNode)}). */
    final int depth;

    FrozenObject(Map<String, JsonNode> kids) {
      this(kids, kids.hashCode());
    }

    /** {@code hash} must be {@code kids.hashCode()}. */
    FrozenObject(Map<String, JsonNode> kids, int hash) {
      super(NODES, kids);
      this.hash = hash;
      this.depth = levelAbove(kids.values());
    }

    Map<String, JsonNode> children() {
      return _children;
    }

    // size() and get(name) read the FrozenMap directly: through the Map interface, as ObjectNode
    // does, the call site sees every FrozenMap class and cannot be inlined. The only other map is
    // the empty object's.

    @Override
    public int size() {
      return _children instanceof FrozenMap m ? m.size() : 0;
    }

    @Override
    public JsonNode get(String propertyName) {
      return _children instanceof FrozenMap m ? m.get(propertyName) : null;
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      if (o == this) {
        return true;
      }
      if (o instanceof FrozenObject f && f.hash != hash) {
        return false;
      }
      return super.equals(o);
    }

    @Override
    public JsonNodeType getNodeType() {
      return JsonNodeType.OBJECT;
    }
  }

  /**
   * An object read when first needed ({@link #lazyObject}): its children are a {@link LazyFields},
   * which every method of ObjectNode reads through; the methods FrozenObject serves from its own
   * map and hash go to the frozen object once read.
   */
  private static final class LazyObject extends ObjectNode {
    private static final long serialVersionUID = 1L;

    LazyObject(LazyFields fields) {
      super(NODES, fields);
    }

    FrozenObject frozen() {
      return ((LazyFields) _children).frozen();
    }

    @Override
    public int size() {
      return frozen().size();
    }

    @Override
    public JsonNode get(String propertyName) {
      return frozen().get(propertyName);
    }

    @Override
    public int hashCode() {
      return frozen().hashCode();
    }

    @Override
    public boolean equals(Object o) {
      return o == this || frozen().equals(o instanceof LazyObject l ? l.frozen() : o);
    }

    @Override
    public JsonNodeType getNodeType() {
      return JsonNodeType.OBJECT;
    }
  }

  /** The fields of a {@link LazyObject}: the frozen object's map once {@code source} has given it. */
  private static final class LazyFields extends java.util.AbstractMap<String, JsonNode> {
    private java.util.function.Supplier<JsonNode> source;
    private volatile FrozenObject frozen;

    LazyFields(java.util.function.Supplier<JsonNode> source) {
      this.source = source;
    }

    FrozenObject frozen() {
      FrozenObject f = frozen;
      if (f == null) {
        synchronized (this) {
          f = frozen;
          if (f == null) {
            JsonNode d = freeze(source.get());
            if (!(d instanceof FrozenObject o)) {
              throw new IllegalStateException("a lazy document read as " + d.getNodeType() + ", not an object");
            }
            frozen = f = o;
            source = null;
          }
        }
      }
      return f;
    }

    private Map<String, JsonNode> map() {
      return frozen().children();
    }

    @Override
    public Set<Map.Entry<String, JsonNode>> entrySet() {
      return map().entrySet();
    }

    @Override
    public Set<String> keySet() {
      return map().keySet();
    }

    @Override
    public java.util.Collection<JsonNode> values() {
      return map().values();
    }

    @Override
    public int size() {
      return map().size();
    }

    @Override
    public boolean isEmpty() {
      return map().isEmpty();
    }

    @Override
    public JsonNode get(Object key) {
      return map().get(key);
    }

    @Override
    public boolean containsKey(Object key) {
      return map().containsKey(key);
    }

    @Override
    public JsonNode put(String key, JsonNode value) {
      return map().put(key, value);
    }

    @Override
    public JsonNode remove(Object key) {
      return map().remove(key);
    }

    @Override
    public void clear() {
      map().clear();
    }

    @Override
    public boolean equals(Object o) {
      return o == this || map().equals(o instanceof LazyFields l ? l.map() : o);
    }

    @Override
    public int hashCode() {
      return map().hashCode();
    }
  }

  /** Arrays backed by an immutable {@code List.of} list: every mutator of ArrayNode throws. */
  private static final class FrozenArray extends ArrayNode {
    private static final long serialVersionUID = 1L;
    private final int hash;
    /** The levels it nests ({@link #depth(JsonNode)}). */
    final int depth;

    FrozenArray(List<JsonNode> kids) {
      this(kids, kids.hashCode());
    }

    /** {@code hash} must be {@code kids.hashCode()}. */
    FrozenArray(List<JsonNode> kids, int hash) {
      super(NODES, kids);
      this.hash = hash;
      this.depth = levelAbove(kids);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      if (o == this) {
        return true;
      }
      if (o instanceof FrozenArray f && f.hash != hash) {
        return false;
      }
      return super.equals(o);
    }
  }

  static String requireText(String s, String what) {
    return Objects.requireNonNull(s, what);
  }
}
