package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

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
    for (int i = lists.size() - 1; i >= 0; i--) {
      if (lists.get(i).pattern().matches(path)) {
        return lists.get(i);
      }
    }
    return ListRule.ATOMIC;
  }

  /** Whether the object at {@code path} is replaced whole rather than merged key by key. */
  public boolean isAtomicMap(FieldPath path) {
    for (PathPattern p : atomicMaps) {
      if (p.matches(path)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code path} of resource {@code key} is ignored: live wins, never owned, never drift. */
  public boolean isIgnored(ResourceKey key, FieldPath path) {
    for (PathRule r : ignores) {
      if (r.applies(key, path)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the value at {@code path} of resource {@code key} is sensitive (redacted everywhere). */
  public boolean isSensitive(ResourceKey key, FieldPath path) {
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

  /** A digest of the rules, for cache keys. */
  public String fingerprint() {
    String f = fingerprint;
    if (f == null) {
      f = Integer.toHexString(toString().hashCode());
      fingerprint = f;
    }
    return f;
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
