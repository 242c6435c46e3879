package dev.gitops.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** A map-backed provider for core tests (gitops-testkit's InMemoryProvider cannot be used from core). */
public final class MapProvider implements Provider {
  final String id;
  final boolean marks;
  final Map<ResourceKey, JsonNode> live = new ConcurrentHashMap<>();
  final Map<ResourceKey, OwnerMark> markOf = new ConcurrentHashMap<>();
  final Map<ResourceKey, String> versions = new ConcurrentHashMap<>();
  /** Last-applied records kept on the objects themselves (as kubectl's annotation), returned with each observation. */
  final Map<ResourceKey, JsonNode> liveRecords = new ConcurrentHashMap<>();
  final Set<ResourceKey> unobservable = ConcurrentHashMap.newKeySet();
  final Set<ResourceKey> failing = ConcurrentHashMap.newKeySet();
  /** Keys whose normalizer throws. */
  final Set<ResourceKey> unnormalizable = ConcurrentHashMap.newKeySet();
  /** Keys a delete leaves in place (a finalizer that never finishes). */
  final Set<ResourceKey> lingering = ConcurrentHashMap.newKeySet();
  /** Top-level fields that cannot change in place. */
  final Set<String> replaceFields = ConcurrentHashMap.newKeySet();
  /** When set, listMarked throws it. */
  volatile RuntimeException listMarkedFailure;
  /** When set, apply lays the target over the live object, so fields the target removed stay (a buggy provider). */
  volatile boolean keepsRemovedFields;
  /**
   * When set, a write refuses (as a conflict, nothing written) a change whose live document is not
   * what the object holds now, as Kubernetes refuses a stale resourceVersion; THROW throws it.
   */
  volatile Optimism optimistic = Optimism.NONE;

  enum Optimism { NONE, RETURN, THROW }

  final List<Change> applied = new ArrayList<>();
  final AtomicLong counter = new AtomicLong();
  volatile Consumer<Change> beforeApply = c -> { };
  volatile Consumer<Collection<ResourceKey>> beforeObserve = keys -> { };
  /** Sees the context of every observe and apply call. */
  volatile Consumer<CallContext> onCall = ctx -> { };

  public MapProvider(String id, boolean marks) {
    this.id = id;
    this.marks = marks;
  }

  @Override
  public String id() {
    return id;
  }

  void put(ResourceKey k, JsonNode doc) {
    live.put(k, doc);
    versions.put(k, "v" + counter.incrementAndGet());
  }

  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    onCall.accept(ctx);
    beforeObserve.accept(keys);
    Map<ResourceKey, Observation> out = new LinkedHashMap<>();
    for (ResourceKey k : keys) {
      if (unobservable.contains(k)) {
        out.put(k, Observation.unknown(k, "forbidden"));
      } else if (live.containsKey(k)) {
        out.put(k, Observation.present(k, live.get(k), versions.get(k), markOf.get(k)).withLastApplied(liveRecords.get(k)));
      } else {
        out.put(k, Observation.absent(k));
      }
    }
    return out;
  }

  @Override
  public synchronized Outcome apply(Change change, CallContext ctx) {
    onCall.accept(ctx);
    beforeApply.accept(change);
    applied.add(change);
    if (failing.contains(change.key())) {
      return Outcome.permanentFailure("injected failure", null);
    }
    if (optimistic != Optimism.NONE && !dev.gitops.api.Documents.equal(change.live(), live.get(change.key()))) {
      if (optimistic == Optimism.THROW) {
        throw new dev.gitops.api.ConflictException(change.key(), "the object has been modified");
      }
      return Outcome.conflict(change.key() + ": the object has been modified");
    }
    if (change.action() == Action.DELETE) {
      if (!lingering.contains(change.key())) {
        live.remove(change.key());
        markOf.remove(change.key());
      }
      return Outcome.deleted();
    }
    boolean existed = live.containsKey(change.key());
    JsonNode target = change.target();
    if (keepsRemovedFields && existed) {
      Map<String, JsonNode> merged = new LinkedHashMap<>();
      live.get(change.key()).fields().forEachRemaining(e -> merged.put(e.getKey(), e.getValue()));
      target.fields().forEachRemaining(e -> merged.put(e.getKey(), e.getValue()));
      target = dev.gitops.api.Documents.object(merged);
    }
    put(change.key(), target);
    if (marks) {
      markOf.put(change.key(), new OwnerMark(ctx.owner(), change.key()));
    }
    return existed ? Outcome.configured() : Outcome.created();
  }

  @Override
  public boolean marksObjects() {
    return marks;
  }

  @Override
  public JsonNode normalize(ResourceKey key, JsonNode doc) {
    if (unnormalizable.contains(key)) {
      throw new IllegalStateException("cannot normalize " + key.name() + ": unexpected shape");
    }
    return doc;
  }

  @Override
  public boolean requiresReplace(ResourceKey key, dev.gitops.api.FieldPath path) {
    return path.size() == 1 && path.last() instanceof dev.gitops.api.FieldPath.Field f && replaceFields.contains(f.name());
  }

  /** Keys whose unmark throws. */
  final Set<ResourceKey> unmarkFailing = ConcurrentHashMap.newKeySet();
  /** Sees each key unmark is called for, before it removes the mark. */
  volatile Consumer<ResourceKey> beforeUnmark = k -> { };

  @Override
  public void unmark(ResourceKey key, String owner, CallContext ctx) {
    beforeUnmark.accept(key);
    if (unmarkFailing.contains(key)) {
      throw new IllegalStateException("cannot remove the mark of " + key.name() + ": permission denied");
    }
    markOf.computeIfPresent(key, (k, m) -> m.owner().equals(owner) ? null : m);
  }

  @Override
  public Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
    RuntimeException failure = listMarkedFailure;
    if (failure != null) {
      throw failure;
    }
    Set<ResourceKey> out = new HashSet<>();
    markOf.forEach((k, m) -> {
      if (m.owner().equals(owner)) {
        out.add(k);
      }
    });
    return out;
  }
}
