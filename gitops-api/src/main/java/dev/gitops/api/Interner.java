package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * Bounded, lock-free pools that let frozen documents share equal field names, short strings,
 * ints and key orders ({@link FrozenMap.Shape}s), and resource keys their provider, type and scope.
 * Kubernetes-like documents repeat the
 * same keys and many values, so sharing them is most of what makes frozen trees small.
 *
 * <p>Each pool is a direct-mapped cache: a fixed array indexed by hash, where a miss replaces
 * whatever sat in the slot. So the pools never grow, hold at most a few hundred kilobytes, and
 * need no locking: slots hold immutable objects whose fields are final, so a racing thread sees
 * either a complete object or a stale or empty slot, which is only a miss. Identity is never
 * promised: callers compare by value as before, sharing only saves memory.
 */
final class Interner {

  /** Field names and string values longer than this are not pooled. */
  static final int MAX_LENGTH = 48;
  /** Key orders with more fields than this are not pooled. */
  static final int MAX_SHAPE = 32;

  private static final int SIZE = 4096;
  private static final int MASK = SIZE - 1;
  private static final int SHAPES = 2048;
  private static final int INT_SLOTS = 1024;

  private static final String[] KEYS = new String[SIZE];
  private static final TextNode[] TEXTS = new TextNode[SIZE];
  /** Doorkeeper: the hash of the last text that missed in each slot, so only repeated texts get pooled. */
  private static final int[] SEEN = new int[SIZE];
  private static final IntNode[] INTS = new IntNode[INT_SLOTS];
  private static final int[] SEEN_INTS = new int[INT_SLOTS];
  private static final FrozenMap.Shape[] SHAPE_POOL = new FrozenMap.Shape[SHAPES];

  private Interner() {}

  private static int slot(int h) {
    return (h ^ (h >>> 16)) & MASK;
  }

  /** An equal field name, shared when it is short. */
  static String key(String s) {
    if (s.length() > MAX_LENGTH) {
      return s;
    }
    int i = slot(s.hashCode());
    String cached = KEYS[i];
    if (cached != null && cached.hashCode() == s.hashCode() && cached.equals(s)) {
      return cached;
    }
    KEYS[i] = s;
    return s;
  }

  /** An equal text node, shared when its text is short; {@code node} must be a plain {@link TextNode}. */
  static TextNode text(TextNode node) {
    String s = node.textValue();
    if (s.length() > MAX_LENGTH) {
      return node;
    }
    int i = slot(s.hashCode());
    int h = s.hashCode();
    TextNode cached = TEXTS[i];
    if (cached != null && cached.textValue().hashCode() == h && cached.textValue().equals(s)) {
      return cached;
    }
    if (SEEN[i] == h) {
      TEXTS[i] = node;  // second sighting: worth sharing
    } else {
      SEEN[i] = h;  // first sighting: most texts are unique, so pooling them would only churn the pool
    }
    return node;
  }

  /** An int node equal to {@code node}, shared once its value has been seen twice. */
  static IntNode integer(IntNode node) {
    int v = node.intValue();
    int i = (v ^ (v >>> 10) ^ (v >>> 20)) & (INT_SLOTS - 1);
    IntNode cached = INTS[i];
    if (cached != null && cached.intValue() == v) {
      return cached;
    }
    if (SEEN_INTS[i] == v) {
      INTS[i] = node;
    } else {
      SEEN_INTS[i] = v;
    }
    return node;
  }

  /**
   * A shape with exactly {@code keys} (distinct, in order); {@code keys} may become the shape's
   * array. A pooled shape shares its key strings with every object of that shape; the keys of a
   * shape too large to pool are pooled one by one instead.
   */
  static FrozenMap.Shape shape(String[] keys) {
    int h = FrozenMap.Shape.hashOf(keys);
    if (keys.length > MAX_SHAPE) {
      for (int k = 0; k < keys.length; k++) {
        keys[k] = key(keys[k]);
      }
      return new FrozenMap.Shape(keys, h);
    }
    int i = (h ^ (h >>> 16)) & (SHAPES - 1);
    FrozenMap.Shape cached = SHAPE_POOL[i];
    if (cached != null && cached.sameKeys(keys, h)) {
      return cached;
    }
    FrozenMap.Shape s = new FrozenMap.Shape(keys, h);
    SHAPE_POOL[i] = s;
    return s;
  }

  /** {@code node} or an equal shared one, for scalars that are already canonical and frozen. */
  static JsonNode scalar(JsonNode node) {
    Class<?> c = node.getClass();
    if (c == TextNode.class) {
      return text((TextNode) node);
    }
    if (c == IntNode.class) {
      return integer((IntNode) node);
    }
    return node;
  }
}
