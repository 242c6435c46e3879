package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * How the three-way merge treats lists, maps, nulls, ignored and sensitive paths. Rules are
 * immutable; a provider supplies its own and the user may add more with {@link #plus}.
 *
 * <pre>{@code
 * MergeRules rules = MergeRules.builder()
 *     .keyedList("/spec/template/spec/containers", KeyField.of("name"))
 *     .keyedList("/spec/template/spec/containers/*}{@code /ports",
 *         KeyField.of("containerPort"), KeyField.withDefault("protocol", TextNode.valueOf("TCP")))
 *     .setList("/metadata/finalizers")
 *     .atomicMap("/data")
 *     .ignore("/spec/replicas", KeySelector.type("k8s", "apps/Deployment"))
 *     .sensitive("/data/*", KeySelector.type("k8s", "v1/Secret"))
 *     .nullMode(NullMode.ABSENT)
 *     .build();
 * }</pre>
 *
 * <p>Where several rules match one path the one added last wins, so user rules added with
 * {@link #plus} override the provider's.
 *
 * <p>Rules are values: {@link #equals} holds when two rule sets behave the same for every path
 * and key because they hold the same rules, whatever order they were added in — atomic maps,
 * ignore and sensitive rules form sets, and list rules keep their order only where it matters
 * (between patterns that can match the same path, where the later one wins). A list rule whose
 * exact pattern is added again later is shadowed and does not count.
 *
 * <pre>{@code
 * MergeRules a = MergeRules.builder().atomicMap("/data").setList("/finalizers").build();
 * MergeRules b = MergeRules.builder().setList("/finalizers").atomicMap("/data").build();
 * a.equals(b);                      // true, and a.hashCode() == b.hashCode()
 * }</pre>
 */
public final class MergeRules {

  /** What a JSON null in the desired document means. */
  public enum NullMode {
    /** Null is a value like any other (JSON config files, Ansible, Terraform). */
    VALUE,
    /** Null means "ensure absent" (Kubernetes, RFC 7386). */
    ABSENT
  }

  /** How a list at a path merges. */
  public enum ListKind {
    /** The desired list replaces the live one (unless they agree element by element). */
    ATOMIC,
    /** Elements match by key fields and merge recursively. */
    KEYED,
    /** A list of scalars with union semantics by value. */
    SET
  }

  /** One key field of a keyed list, with the value assumed when an element leaves it out. */
  public record KeyField(String name, JsonNode defaultValue) {
    /** Validates the name; {@code defaultValue} may be null (no default). */
    public KeyField {
      Objects.requireNonNull(name, "name");
      if (defaultValue != null) {
        defaultValue = Documents.freeze(defaultValue);
      }
    }

    /** A key field with no default: elements must carry it. */
    public static KeyField of(String name) {
      return new KeyField(name, null);
    }

    /** A key field with a default value. */
    public static KeyField withDefault(String name, JsonNode defaultValue) {
      return new KeyField(name, Objects.requireNonNull(defaultValue, "defaultValue"));
    }
  }

  /** The rule for a list at a path. */
  public record ListRule(PathPattern pattern, ListKind kind, List<KeyField> keys, boolean ordered) {
    /** The default list rule: atomic. */
    public static final ListRule ATOMIC = new ListRule(PathPattern.of("/**"), ListKind.ATOMIC, List.of(), false);

    /** Validates that keyed lists have keys. */
    public ListRule {
      Objects.requireNonNull(pattern, "pattern");
      Objects.requireNonNull(kind, "kind");
      keys = List.copyOf(keys);
      if (kind == ListKind.KEYED && keys.isEmpty()) {
        throw new IllegalArgumentException("keyed list rule at " + pattern + " needs at least one key field");
      }
    }
  }

  /** A path pattern restricted to the keys a selector picks. */
  public record PathRule(PathPattern pattern, KeySelector selector) {
    /** Validates the parts. */
    public PathRule {
      Objects.requireNonNull(pattern, "pattern");
      Objects.requireNonNull(selector, "selector");
    }

    /** Whether this rule applies to {@code path} of the resource {@code key}. */
    public boolean applies(ResourceKey key, FieldPath path) {
      return (key == null || selector.matches(key)) && pattern.matches(path);
    }
  }

  private static final MergeRules DEFAULTS = new MergeRules(List.of(), List.of(), List.of(), List.of(), NullMode.VALUE);

  private final List<ListRule> lists;
  private final List<PathPattern> atomicMaps;
  private final List<PathRule> ignores;
  private final List<PathRule> sensitive;
  private final NullMode nullMode;
  /** Lazily computed; rules are immutable. */
  private volatile String fingerprint;
  /** The order-independent form equality and hashing use; lazily computed. */
  private volatile Canonical canonical;

  /** The rules with order removed where it cannot change a lookup. */
  private record Canonical(List<ListRule> lists, Set<PathPattern> atomicMaps, Set<PathRule> ignores,
      Set<PathRule> sensitive, NullMode nullMode) {
    // equals and hashCode written out, as a record's generated ones are linked through
    // invokedynamic at their first call (~10 ms of a one-shot command: benchmarks/README.md)
    @Override
    public boolean equals(Object o) {
      return o instanceof Canonical c && lists.equals(c.lists) && atomicMaps.equals(c.atomicMaps)
          && ignores.equals(c.ignores) && sensitive.equals(c.sensitive) && nullMode == c.nullMode;
    }

    @Override
    public int hashCode() {
      return (((lists.hashCode() * 31 + atomicMaps.hashCode()) * 31 + ignores.hashCode()) * 31
          + sensitive.hashCode()) * 31 + Objects.hashCode(nullMode);
    }
  }

  private MergeRules(List<ListRule> lists, List<PathPattern> atomicMaps, List<PathRule> ignores,
      List<PathRule> sensitive, NullMode nullMode) {
    this.lists = List.copyOf(lists);
    this.atomicMaps = List.copyOf(atomicMaps);
    this.ignores = List.copyOf(ignores);
    this.sensitive = List.copyOf(sensitive);
    this.nullMode = nullMode;
  }

  /** No special rules: atomic lists, recursive maps, null as a value. */
  public static MergeRules defaults() {
    return DEFAULTS;
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder(DEFAULTS);
  }

  /** A builder starting from these rules. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** These rules followed by {@code more}; {@code more}'s null mode wins when it is not the default. */
  public MergeRules plus(MergeRules more) {
    Objects.requireNonNull(more, "more");
    if (more == DEFAULTS) {
      return this;
    }
    if (this == DEFAULTS) {
      return more;
    }
    List<ListRule> l = new ArrayList<>(lists);
    l.addAll(more.lists);
    List<PathPattern> m = new ArrayList<>(atomicMaps);
    m.addAll(more.atomicMaps);
    List<PathRule> i = new ArrayList<>(ignores);
    i.addAll(more.ignores);
    List<PathRule> s = new ArrayList<>(sensitive);
    s.addAll(more.sensitive);
    return new MergeRules(l, m, i, s, more.nullMode == NullMode.VALUE ? nullMode : more.nullMode);
  }

  /** The rule for the list at {@code path}; {@link ListRule#ATOMIC} when none matches. */
  public ListRule listRule(FieldPath path) {
    Objects.requireNonNull(path, "path");
    for (int i = lists.size() - 1; i >= 0; i--) {
      if (lists.get(i).pattern().matches(path)) {
        return lists.get(i);
      }
    }
    return ListRule.ATOMIC;
  }

  /** Whether the object at {@code path} is replaced whole rather than merged key by key. */
  public boolean isAtomicMap(FieldPath path) {
    Objects.requireNonNull(path, "path");
    for (PathPattern p : atomicMaps) {
      if (p.matches(path)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code path} of resource {@code key} is ignored: live wins, never owned, never drift. */
  public boolean isIgnored(ResourceKey key, FieldPath path) {
    Objects.requireNonNull(path, "path");
    for (PathRule r : ignores) {
      if (r.applies(key, path)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the value at {@code path} of resource {@code key} is sensitive (redacted everywhere). */
  public boolean isSensitive(ResourceKey key, FieldPath path) {
    Objects.requireNonNull(path, "path");
    for (PathRule r : sensitive) {
      if (r.applies(key, path)) {
        return true;
      }
    }
    return false;
  }

  /** Whether any ignore rule could apply to resource {@code key}. */
  public boolean hasIgnoresFor(ResourceKey key) {
    for (PathRule r : ignores) {
      if (key == null || r.selector().matches(key)) {
        return true;
      }
    }
    return false;
  }

  /** Whether any sensitive rule could apply to resource {@code key}. */
  public boolean hasSensitiveFor(ResourceKey key) {
    for (PathRule r : sensitive) {
      if (key == null || r.selector().matches(key)) {
        return true;
      }
    }
    return false;
  }

  /** The null mode. */
  public NullMode nullMode() {
    return nullMode;
  }

  /** The list rules, in the order added. */
  public List<ListRule> listRules() {
    return lists;
  }

  /** The atomic-map patterns. */
  public List<PathPattern> atomicMaps() {
    return atomicMaps;
  }

  /** The ignore rules. */
  public List<PathRule> ignoreRules() {
    return ignores;
  }

  /** The sensitive-path rules. */
  public List<PathRule> sensitiveRules() {
    return sensitive;
  }

  /**
   * A digest of the rules (SHA-256 of their canonical form, 128 bits as hex), equal for {@linkplain
   * #equals equal} rules, for cache keys.
   */
  public String fingerprint() {
    String f = fingerprint;
    if (f == null) {
      byte[] digest = Documents.sha256().digest(canonicalText().getBytes(StandardCharsets.UTF_8));
      f = HexFormat.of().formatHex(digest, 0, 16);
      fingerprint = f;
    }
    return f;
  }

  /**
   * Whether {@code o} holds the same rules: the same null mode, the same sets of atomic maps,
   * ignore rules and sensitive rules, and the same list rules where their order can matter (see
   * the class comment). Equal rules give the same answer to every lookup.
   */
  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    return o instanceof MergeRules other && canonical().equals(other.canonical());
  }

  @Override
  public int hashCode() {
    return canonical().hashCode();
  }

  /** The canonical form as text: list rules in normal order, the sets sorted, key defaults as canonical JSON. */
  private String canonicalText() {
    Canonical c = canonical();
    StringBuilder sb = new StringBuilder("lists=");
    for (ListRule r : c.lists()) {
      sb.append(r.pattern()).append(' ').append(r.kind()).append(r.ordered() ? " ordered" : "").append(" keys=");
      for (KeyField k : r.keys()) {
        sb.append(k.name()).append('=').append(k.defaultValue() == null ? "-" : Documents.canonicalJson(k.defaultValue()))
            .append(',');
      }
      sb.append(';');
    }
    sb.append("|atomicMaps=").append(new TreeSet<>(c.atomicMaps().stream().map(PathPattern::toString).toList()))
        .append("|ignores=").append(new TreeSet<>(c.ignores().stream().map(PathRule::toString).toList()))
        .append("|sensitive=").append(new TreeSet<>(c.sensitive().stream().map(PathRule::toString).toList()))
        .append("|nullMode=").append(c.nullMode());
    return sb.toString();
  }

  private Canonical canonical() {
    Canonical c = canonical;
    if (c == null) {
      c = new Canonical(canonicalLists(lists), Set.copyOf(atomicMaps), Set.copyOf(ignores), Set.copyOf(sensitive),
          nullMode);
      canonical = c;
    }
    return c;
  }

  /**
   * List rules in a normal form: a rule shadowed by a later rule with the same pattern is dropped;
   * then, repeatedly, the smallest rule (by pattern text) that no remaining earlier rule could
   * compete with is taken. Two rules compete when some path matches both patterns, and only their
   * relative order decides which wins there, so two sequences that differ only in the order of
   * non-competing rules get the same form, and sequences that order competing rules differently
   * do not.
   */
  private static List<ListRule> canonicalLists(List<ListRule> rules) {
    Map<String, ListRule> lastByPattern = new LinkedHashMap<>();
    for (ListRule r : rules) {
      lastByPattern.remove(r.pattern().toString());
      lastByPattern.put(r.pattern().toString(), r);
    }
    List<ListRule> live = new ArrayList<>(lastByPattern.values());
    int n = live.size();
    int[] waitingFor = new int[n];
    List<List<Integer>> later = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      later.add(new ArrayList<>());
    }
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < j; i++) {
        if (overlap(live.get(i).pattern(), live.get(j).pattern())) {
          later.get(i).add(j);
          waitingFor[j]++;
        }
      }
    }
    Comparator<Integer> byPattern = Comparator.comparing(i -> live.get(i).pattern().toString());
    TreeSet<Integer> ready = new TreeSet<>(byPattern);
    for (int i = 0; i < n; i++) {
      if (waitingFor[i] == 0) {
        ready.add(i);
      }
    }
    List<ListRule> out = new ArrayList<>(n);
    while (!ready.isEmpty()) {
      int i = ready.pollFirst();
      out.add(live.get(i));
      for (int j : later.get(i)) {
        if (--waitingFor[j] == 0) {
          ready.add(j);
        }
      }
    }
    return List.copyOf(out);
  }

  /**
   * Whether some path matches both patterns: a search over pairs of positions in the two
   * patterns, stepping both over one segment (a literal of either pattern, or a segment neither
   * names) and letting {@code **} match nothing.
   */
  static boolean overlap(PathPattern a, PathPattern b) {
    String[] p = parts(a);
    String[] q = parts(b);
    Deque<int[]> todo = new ArrayDeque<>();
    Set<Long> seen = new HashSet<>();
    todo.add(new int[] {0, 0});
    while (!todo.isEmpty()) {
      int[] s = todo.poll();
      int i = s[0];
      int j = s[1];
      if (!seen.add(((long) i << 32) | j)) {
        continue;
      }
      if (i == p.length && j == q.length) {
        return true;
      }
      if (i < p.length && p[i].equals("**")) {
        todo.add(new int[] {i + 1, j});
      }
      if (j < q.length && q[j].equals("**")) {
        todo.add(new int[] {i, j + 1});
      }
      if (i < p.length && j < q.length && stepTogether(p[i], q[j])) {
        todo.add(new int[] {p[i].equals("**") ? i : i + 1, q[j].equals("**") ? j : j + 1});
      }
    }
    return false;
  }

  /** Whether one segment can be matched by pattern part {@code x} and by {@code y} at once. */
  private static boolean stepTogether(String x, String y) {
    boolean anyX = x.equals("*") || x.equals("**");
    boolean anyY = y.equals("*") || y.equals("**");
    return anyX || anyY || x.equals(y);
  }

  private static String[] parts(PathPattern pattern) {
    String text = pattern.toString();
    return text.isEmpty() ? new String[0] : text.substring(1).split("/", -1);
  }

  @Override
  public String toString() {
    return "MergeRules{lists=" + lists + ", atomicMaps=" + atomicMaps + ", ignores=" + ignores
        + ", sensitive=" + sensitive + ", nullMode=" + nullMode + "}";
  }

  /** Builds {@link MergeRules}. */
  public static final class Builder {
    private final List<ListRule> lists;
    private final List<PathPattern> atomicMaps;
    private final List<PathRule> ignores;
    private final List<PathRule> sensitive;
    private NullMode nullMode;

    private Builder(MergeRules from) {
      lists = new ArrayList<>(from.lists);
      atomicMaps = new ArrayList<>(from.atomicMaps);
      ignores = new ArrayList<>(from.ignores);
      sensitive = new ArrayList<>(from.sensitive);
      nullMode = from.nullMode;
    }

    /** The list at {@code pattern} is replaced whole (the default for every list). */
    public Builder atomicList(String pattern) {
      lists.add(new ListRule(PathPattern.of(pattern), ListKind.ATOMIC, List.of(), false));
      return this;
    }

    /** The list at {@code pattern} merges element by element, matched by {@code keys}, order ignored. */
    public Builder keyedList(String pattern, KeyField... keys) {
      lists.add(new ListRule(PathPattern.of(pattern), ListKind.KEYED, Arrays.asList(keys), false));
      return this;
    }

    /** Like {@link #keyedList} but the desired order wins and live-only elements keep their place. */
    public Builder orderedKeyedList(String pattern, KeyField... keys) {
      lists.add(new ListRule(PathPattern.of(pattern), ListKind.KEYED, Arrays.asList(keys), true));
      return this;
    }

    /** The list of scalars at {@code pattern} merges as a set. */
    public Builder setList(String pattern) {
      lists.add(new ListRule(PathPattern.of(pattern), ListKind.SET, List.of(), false));
      return this;
    }

    /** The object at {@code pattern} is replaced whole: keys added by hand are removed. */
    public Builder atomicMap(String pattern) {
      atomicMaps.add(PathPattern.of(pattern));
      return this;
    }

    /** The value at {@code pattern} is left to the live system for every resource. */
    public Builder ignore(String pattern) {
      return ignore(pattern, KeySelector.ANY);
    }

    /** The value at {@code pattern} is left to the live system for the selected resources. */
    public Builder ignore(String pattern, KeySelector selector) {
      ignores.add(new PathRule(PathPattern.of(pattern), selector));
      return this;
    }

    /** Values at {@code pattern} of the selected resources are sensitive. */
    public Builder sensitive(String pattern, KeySelector selector) {
      sensitive.add(new PathRule(PathPattern.of(pattern), selector));
      return this;
    }

    /** What null in the desired document means. */
    public Builder nullMode(NullMode mode) {
      this.nullMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** The rules. */
    public MergeRules build() {
      return new MergeRules(lists, atomicMaps, ignores, sensitive, nullMode);
    }
  }
}
