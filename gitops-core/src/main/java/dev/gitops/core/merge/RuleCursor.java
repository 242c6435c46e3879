package dev.gitops.core.merge;

import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.api.MergeRules.PathRule;
import dev.gitops.api.PathPattern;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.internal.redact.SensitiveValues;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The merge rules that apply at one position of a document walk, as the states of a small NFA
 * over all rule patterns. Walking a document steps the cursor segment by segment, so a rule
 * lookup costs a few string compares instead of matching every pattern against a whole path;
 * once no pattern can match any more the cursor is {@link #isEmpty() empty} and stays so.
 */
final class RuleCursor {

  private static final int LIST = 0;
  private static final int ATOMIC_MAP = 1;
  private static final int IGNORE = 2;
  private static final int SENSITIVE = 3;
  private static final int PART_BITS = 12;
  private static final int PART_MASK = (1 << PART_BITS) - 1;

  /** The patterns of one rule set for one resource key. */
  static final class Compiled {
    final String[][] parts;
    final int[] kind;
    final int[] listIndex;
    final List<ListRule> listRules;
    final MergeRules rules;
    final RuleCursor root;
    final RuleCursor empty;
    /** The key element segments that would show a secret are hashed under (see {@link FieldPath.Hashed}). */
    final byte[] pathKey;

    Compiled(MergeRules rules, ResourceKey key, Set<PathPattern> extraSensitive, byte[] pathKey) {
      this.rules = rules;
      this.pathKey = pathKey;
      this.listRules = rules.listRules();
      List<String[]> p = new ArrayList<>();
      List<Integer> k = new ArrayList<>();
      List<Integer> li = new ArrayList<>();
      for (int i = 0; i < listRules.size(); i++) {
        add(p, k, li, listRules.get(i).pattern(), LIST, i);
      }
      for (PathPattern m : rules.atomicMaps()) {
        add(p, k, li, m, ATOMIC_MAP, -1);
      }
      for (PathRule r : rules.ignoreRules()) {
        if (key == null || r.selector().matches(key)) {
          add(p, k, li, r.pattern(), IGNORE, -1);
        }
      }
      for (PathRule r : rules.sensitiveRules()) {
        if (key == null || r.selector().matches(key)) {
          add(p, k, li, r.pattern(), SENSITIVE, -1);
        }
      }
      for (PathPattern x : extraSensitive) {
        add(p, k, li, x, SENSITIVE, -1);
      }
      parts = p.toArray(new String[0][]);
      kind = k.stream().mapToInt(Integer::intValue).toArray();
      listIndex = li.stream().mapToInt(Integer::intValue).toArray();
      empty = new RuleCursor(this, new int[0]);
      int[] start = new int[parts.length];
      for (int i = 0; i < parts.length; i++) {
        start[i] = i << PART_BITS;
      }
      root = parts.length == 0 ? empty : new RuleCursor(this, closure(start, start.length));
    }

    private static void add(List<String[]> p, List<Integer> k, List<Integer> li, PathPattern pattern, int kind, int listIdx) {
      String text = pattern.toString();
      String[] split = text.isEmpty() ? new String[0] : text.substring(1).split("/", -1);
      if (split.length >= PART_MASK) {
        throw new IllegalArgumentException("path pattern too long: " + text);
      }
      p.add(split);
      k.add(kind);
      li.add(listIdx);
    }

    /** Adds the states reachable by letting a {@code **} match nothing. */
    int[] closure(int[] states, int n) {
      int[] out = Arrays.copyOf(states, Math.max(4, n * 2));
      int size = n;
      for (int i = 0; i < size; i++) {
        int s = out[i];
        int pat = s >>> PART_BITS;
        int part = s & PART_MASK;
        if (part < parts[pat].length && parts[pat][part].equals("**")) {
          int next = (pat << PART_BITS) | (part + 1);
          if (!contains(out, size, next)) {
            if (size == out.length) {
              out = Arrays.copyOf(out, size * 2);
            }
            out[size++] = next;
          }
        }
      }
      return size == out.length ? out : Arrays.copyOf(out, size);
    }
  }

  private final Compiled compiled;
  private final int[] states;
  /** At an element of a keyed list, the list's key fields: they name the element, so no ignore rule applies to them. */
  private final List<MergeRules.KeyField> elementKeys;
  private final int listRule;
  private final boolean atomicMap;
  private final boolean ignored;
  private final boolean sensitive;
  /** Whether some active pattern is a sensitive rule's: else nothing here or below is sensitive. */
  private final boolean sensitiveAhead;
  /** Whether some active pattern part names a list element literally (else every element steps alike). */
  private final boolean elementLiteral;
  /** Children by field name, and the child for any list element; filled as walks go by. */
  private final java.util.concurrent.ConcurrentHashMap<String, RuleCursor> fieldChildren;
  private volatile RuleCursor elementChild;

  private RuleCursor(Compiled compiled, int[] states) {
    this(compiled, states, null, false);
  }

  private RuleCursor(Compiled compiled, int[] states, List<MergeRules.KeyField> elementKeys, boolean keyField) {
    this.compiled = compiled;
    this.states = states;
    this.elementKeys = elementKeys;
    this.fieldChildren = states.length == 0 ? null : new java.util.concurrent.ConcurrentHashMap<>();
    boolean lit = false;
    for (int s : states) {
      String[] parts = compiled.parts[s >>> PART_BITS];
      int part = s & PART_MASK;
      if (part < parts.length && parts[part].startsWith("[")) {
        lit = true;
      }
    }
    this.elementLiteral = lit;
    boolean ahead = false;
    for (int s : states) {
      ahead |= compiled.kind[s >>> PART_BITS] == SENSITIVE;
    }
    this.sensitiveAhead = ahead;
    int list = -1;
    boolean am = false;
    boolean ig = false;
    boolean se = false;
    for (int s : states) {
      int pat = s >>> PART_BITS;
      if ((s & PART_MASK) == compiled.parts[pat].length) {
        switch (compiled.kind[pat]) {
          case LIST -> list = Math.max(list, compiled.listIndex[pat]);
          case ATOMIC_MAP -> am = true;
          case IGNORE -> ig = true;
          default -> se = true;
        }
      }
    }
    this.listRule = list;
    this.atomicMap = am;
    this.ignored = ig && !keyField;
    this.sensitive = se;
  }

  /** The cursor at the document root. */
  static RuleCursor root(Compiled compiled) {
    return compiled.root;
  }

  /** Whether no rule can match here or anywhere below. */
  boolean isEmpty() {
    return states.length == 0;
  }

  /** The cursor one object field further down. */
  RuleCursor field(String name) {
    if (states.length == 0) {
      return this;
    }
    RuleCursor c = fieldChildren.get(name);
    if (c == null) {
      c = compute(new FieldPath.Field(name), null, isKey(name));
      if (fieldChildren.size() < 4096) {
        fieldChildren.put(name, c);
      }
    }
    return c;
  }

  /** The cursor one list element further down; {@code segment} is only asked for when a rule names elements. */
  RuleCursor element(java.util.function.Supplier<FieldPath.Segment> segment) {
    if (states.length == 0) {
      return this;
    }
    if (elementLiteral) {
      return compute(segment.get(), keysOfElements(), false);
    }
    RuleCursor c = elementChild;
    if (c == null) {
      c = compute(new FieldPath.Index(0), keysOfElements(), false);
      elementChild = c;
    }
    return c;
  }

  private List<MergeRules.KeyField> keysOfElements() {
    ListRule rule = listRule();
    return rule.kind() == MergeRules.ListKind.KEYED ? rule.keys() : null;
  }

  private boolean isKey(String name) {
    if (elementKeys != null) {
      for (MergeRules.KeyField k : elementKeys) {
        if (k.name().equals(name)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * The cursor for every element of a list here, or null when some rule names elements
   * literally (then each element needs {@link #element} with its own segment).
   */
  RuleCursor anyElement() {
    if (states.length == 0) {
      return this;
    }
    if (elementLiteral) {
      return null;
    }
    RuleCursor c = elementChild;
    if (c == null) {
      c = compute(new FieldPath.Index(0), keysOfElements(), false);
      elementChild = c;
    }
    return c;
  }

  /** The cursor one segment further down. */
  RuleCursor step(FieldPath.Segment segment) {
    if (states.length == 0) {
      return this;
    }
    if (segment instanceof FieldPath.Field f) {
      return field(f.name());
    }
    return element(() -> segment);
  }

  private RuleCursor compute(FieldPath.Segment segment, List<MergeRules.KeyField> keys, boolean keyField) {
    String text = null;
    int[] next = new int[states.length + 1];
    int n = 0;
    for (int s : states) {
      int pat = s >>> PART_BITS;
      int part = s & PART_MASK;
      String[] parts = compiled.parts[pat];
      if (part >= parts.length) {
        continue;
      }
      String p = parts[part];
      int to;
      if (p.equals("**")) {
        to = s;
      } else if (p.equals("*")) {
        to = s + 1;
      } else {
        if (text == null) {
          text = segment.text();
        }
        if (!p.equals(text) && !sameElement(p, segment)) {
          continue;
        }
        to = s + 1;
      }
      if (!contains(next, n, to)) {
        if (n == next.length) {
          next = Arrays.copyOf(next, n * 2);
        }
        next[n++] = to;
      }
    }
    if (n == 0) {
      return compiled.empty;
    }
    return new RuleCursor(compiled, compiled.closure(next, n), keys, keyField);
  }

  /**
   * Whether pattern part {@code part} names the element {@code segment} names although their texts
   * differ: one of them is the keyed hash of the other ({@link FieldPath.Hashed}), so a rule written
   * with an element's value matches its hashed path, and a rule copied from a hashed path matches
   * the element.
   */
  private boolean sameElement(String part, FieldPath.Segment segment) {
    if (!part.startsWith("[")) {
      return false;
    }
    boolean hashedPart = part.startsWith("[" + FieldPath.Hashed.PREFIX);
    if (segment instanceof FieldPath.Hashed h) {
      return !hashedPart && !part.startsWith("[#") && SensitiveValues.hashedSegment(compiled.pathKey, part).equals(h);
    }
    return hashedPart && (segment instanceof FieldPath.Key || segment instanceof FieldPath.Element)
        && part.equals(hashed(segment).text());
  }

  /** The keyed-hash segment standing for the plain element segment {@code plain}. */
  FieldPath.Hashed hashed(FieldPath.Segment plain) {
    return SensitiveValues.hashedSegment(compiled.pathKey, plain.text());
  }

  /** The list rule for a list here: the last matching one, or atomic. */
  ListRule listRule() {
    return listRule < 0 ? ListRule.ATOMIC : compiled.listRules.get(listRule);
  }

  /** Whether an object here is replaced whole. */
  boolean isAtomicMap() {
    return atomicMap;
  }

  /** Whether this path is ignored (a keyed element's key field never is). */
  boolean isIgnored() {
    return ignored;
  }

  /** Whether a value here is sensitive. */
  boolean isSensitive() {
    return sensitive;
  }

  /** Whether {@code o} is in the same states: every rule applies alike here and below. */
  boolean sameStates(RuleCursor o) {
    return o == this || Arrays.equals(states, o.states);
  }

  /** Whether a value here or below may be sensitive: false when no sensitive rule's pattern is still live. */
  boolean mayBeSensitive() {
    return sensitiveAhead;
  }

  private static boolean contains(int[] a, int n, int v) {
    for (int i = 0; i < n; i++) {
      if (a[i] == v) {
        return true;
      }
    }
    return false;
  }
}
