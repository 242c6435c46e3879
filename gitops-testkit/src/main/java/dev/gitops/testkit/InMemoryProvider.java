package dev.gitops.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.ProviderException;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;

/**
 * A thread-safe in-memory live system: a map from key to document. Every write bumps a global
 * counter that serves as the version token. Optional ownership marks, per-key health, unobservable
 * keys, merge rules, a normalizer and a decoder make it stand in for a real provider in engine
 * tests and benchmarks.
 *
 * <pre>{@code
 * InMemoryProvider live = InMemoryProvider.builder().id("mem").marks(true).build();
 * live.put(key, Documents.object(Map.of("replicas", IntNode.valueOf(3))));   // out of band
 * live.setHealth(key, Health.degraded("crash loop"));
 * live.makeUnobservable(key);                                               // observe says UNKNOWN
 * assertThat(live.get(key)).contains(expected);
 * }</pre>
 *
 * <p>Marks are kept beside the document (not inside it): an apply writes the calling context's
 * owner and the key; {@link #put(ResourceKey, JsonNode, OwnerMark)} plants any mark, for tests of
 * foreign and copied marks.
 */
public final class InMemoryProvider implements Provider {

  /** A live object; its version token is made once, at the write, not at every observe. */
  private record Entry(JsonNode document, String version, OwnerMark mark) {
    Entry(JsonNode document, long version, OwnerMark mark) {
      this(document, Long.toString(version), mark);
    }
  }

  private final String id;
  private final boolean marks;
  private final MergeRules mergeRules;
  private final BiFunction<ResourceKey, JsonNode, JsonNode> normalizer;
  private final BiPredicate<ResourceKey, FieldPath> requiresReplace;
  private final Decoder decoder;
  private final ConcurrentHashMap<ResourceKey, Entry> objects = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<ResourceKey, Health> health = new ConcurrentHashMap<>();
  private final Set<ResourceKey> unobservable = ConcurrentHashMap.newKeySet();
  private final AtomicLong versions = new AtomicLong();
  private final AtomicLong writes = new AtomicLong();

  private InMemoryProvider(Builder b) {
    this.id = b.id;
    this.marks = b.marks;
    this.mergeRules = b.mergeRules;
    this.normalizer = b.normalizer;
    this.requiresReplace = b.requiresReplace;
    this.decoder = b.decoder;
  }

  /** A provider with id {@code memory}, no marks and default rules. */
  public static InMemoryProvider create() {
    return builder().build();
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String id() {
    return id;
  }

  /** The key {@code id:type:scope:name} of this provider. */
  public ResourceKey key(String type, String scope, String name) {
    return ResourceKey.of(id, type, scope, name);
  }

  // ---------------------------------------------------------------- test controls

  /** Puts {@code document} out of band, without a mark. Returns the new version token. */
  public String put(ResourceKey key, JsonNode document) {
    return put(key, document, null);
  }

  /** Puts {@code document} out of band with {@code mark} (may be null). Returns the new version token. */
  public String put(ResourceKey key, JsonNode document, OwnerMark mark) {
    long v = versions.incrementAndGet();
    objects.put(key, new Entry(Documents.freeze(document), v, mark));
    return Long.toString(v);
  }

  /** The live document of {@code key}; empty when the object is absent. */
  public Optional<JsonNode> get(ResourceKey key) {
    return Optional.ofNullable(objects.get(key)).map(e -> e.document);
  }

  /** The mark on {@code key}; empty when the object is absent or carries no mark. */
  public Optional<OwnerMark> markOf(ResourceKey key) {
    return Optional.ofNullable(objects.get(key)).map(e -> e.mark);
  }

  /** Removes {@code key} out of band; returns whether it was there. */
  public boolean remove(ResourceKey key) {
    return objects.remove(key) != null;
  }

  /** Whether {@code key} exists. */
  public boolean contains(ResourceKey key) {
    return objects.containsKey(key);
  }

  /** A sorted snapshot of every key and document. */
  public SortedMap<ResourceKey, JsonNode> snapshot() {
    SortedMap<ResourceKey, JsonNode> out = new TreeMap<>();
    objects.forEach((k, e) -> out.put(k, e.document));
    return out;
  }

  /** How many writes (create, update, replace, delete of an existing object) applies have made. */
  public long writeCount() {
    return writes.get();
  }

  /** Sets the health {@link #health} reports for {@code key}. */
  public void setHealth(ResourceKey key, Health h) {
    health.put(key, Objects.requireNonNull(h, "health"));
  }

  /** Makes observe report {@code key} as UNKNOWN until {@link #makeObservable}. */
  public void makeUnobservable(ResourceKey key) {
    unobservable.add(key);
  }

  /** Undoes {@link #makeUnobservable}. */
  public void makeObservable(ResourceKey key) {
    unobservable.remove(key);
  }

  /** Removes every object, health setting and unobservable key. */
  public void clear() {
    objects.clear();
    health.clear();
    unobservable.clear();
  }

  // ---------------------------------------------------------------- Provider

  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    Map<ResourceKey, Observation> out = new LinkedHashMap<>(keys.size() * 4 / 3 + 1);
    for (ResourceKey k : keys) {
      if (ctx.isDone()) {
        out.put(k, Observation.unknown(k, "observe cut off: cancelled or past the deadline"));
      } else if (unobservable.contains(k)) {
        out.put(k, Observation.unknown(k, "made unobservable by the test"));
      } else {
        Entry e = objects.get(k);
        out.put(k, e == null ? Observation.absent(k)
            : Observation.present(k, e.document, e.version, e.mark));
      }
    }
    return out;
  }

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    ResourceKey k = change.key();
    if (ctx.isDone()) {
      return Outcome.unknown(k + ": not started: cancelled or past the deadline");
    }
    Action a = change.action();
    switch (a) {
      case CREATE:
      case UPDATE:
      case REPLACE: {
        JsonNode doc = change.target() != null ? change.target() : change.desired();
        if (doc == null) {
          ProviderException e = new ProviderException(k, a + " without a target document", false, null);
          return Outcome.permanentFailure(e.getMessage(), e);
        }
        OwnerMark mark = marks ? new OwnerMark(ctx.owner(), k) : null;
        long v = versions.incrementAndGet();
        objects.put(k, new Entry(doc, v, mark));
        writes.incrementAndGet();
        return a == Action.CREATE ? Outcome.created() : Outcome.configured();
      }
      case DELETE:
        if (objects.remove(k) != null) {
          writes.incrementAndGet();
        }
        return Outcome.deleted();
      case NOOP:
        return Outcome.unchanged();
      case SKIP:
        return Outcome.skipped(change.reason());
      default: {
        ProviderException e = new ProviderException(k, a + " is not supported by the in-memory provider", false, null);
        return Outcome.permanentFailure(e.getMessage(), e);
      }
    }
  }

  @Override
  public JsonNode normalize(ResourceKey key, JsonNode live) {
    return normalizer == null ? live : Documents.freeze(normalizer.apply(key, live));
  }

  @Override
  public MergeRules mergeRules() {
    return mergeRules;
  }

  @Override
  public boolean requiresReplace(ResourceKey key, FieldPath path) {
    return requiresReplace != null && requiresReplace.test(key, path);
  }

  @Override
  public Health health(ResourceKey key, Observation observation) {
    if (observation != null && observation.isAbsent()) {
      return Health.missing(key + " does not exist");
    }
    return health.getOrDefault(key, Health.healthy());
  }

  @Override
  public Optional<Decoder> decoder() {
    return Optional.ofNullable(decoder);
  }

  @Override
  public boolean marksObjects() {
    return marks;
  }

  @Override
  public Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
    if (!marks) {
      return List.of();
    }
    List<ResourceKey> out = new ArrayList<>();
    objects.forEach((k, e) -> {
      if (e.mark != null && e.mark.owner().equals(owner)) {
        out.add(k);
      }
    });
    out.sort(null);
    return out;
  }

  /** Drops {@code owner}'s mark for {@code key} from its object, the document and version kept; any other mark stays. */
  @Override
  public void unmark(ResourceKey key, String owner, CallContext ctx) {
    objects.computeIfPresent(key, (k, e) -> e.mark() != null && e.mark().isOwnedBy(owner, k)
        ? new Entry(e.document(), e.version(), null) : e);
  }

  /** Builds {@link InMemoryProvider}. */
  public static final class Builder {
    private String id = "memory";
    private boolean marks;
    private MergeRules mergeRules = MergeRules.defaults();
    private BiFunction<ResourceKey, JsonNode, JsonNode> normalizer;
    private BiPredicate<ResourceKey, FieldPath> requiresReplace;
    private Decoder decoder;

    private Builder() {}

    /** The provider id (default {@code memory}). */
    public Builder id(String providerId) {
      this.id = Objects.requireNonNull(providerId, "id");
      return this;
    }

    /** Whether applies write ownership marks and observe reports them (default false). */
    public Builder marks(boolean writeMarks) {
      this.marks = writeMarks;
      return this;
    }

    /** The merge rules the provider reports. */
    public Builder mergeRules(MergeRules rules) {
      this.mergeRules = Objects.requireNonNull(rules, "rules");
      return this;
    }

    /** A normalizer for {@link Provider#normalize}; must not reorder anything. */
    public Builder normalizer(BiFunction<ResourceKey, JsonNode, JsonNode> fn) {
      this.normalizer = fn;
      return this;
    }

    /** Which changed paths require REPLACE. */
    public Builder requiresReplace(BiPredicate<ResourceKey, FieldPath> predicate) {
      this.requiresReplace = predicate;
      return this;
    }

    /** The decoder {@link Provider#decoder} returns. */
    public Builder decoder(Decoder d) {
      this.decoder = d;
      return this;
    }

    /** The provider. */
    public InMemoryProvider build() {
      return new InMemoryProvider(this);
    }
  }
}
