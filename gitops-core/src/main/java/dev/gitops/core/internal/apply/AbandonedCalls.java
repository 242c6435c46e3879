package dev.gitops.core.internal.apply;

import dev.gitops.api.ResourceKey;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Provider calls that changed (or may have changed) an object and were abandoned — cut off at
 * their deadline or by a cancellation — while their thread was still inside the provider. Such a
 * call may still land at any time, also during a later sync, so its keys must not be called again
 * and must not be planned from an observation made before it ended. An {@code Executor} keeps
 * one registry for its whole life; the {@code Reconciler} asks it before it plans. Internal: shared
 * by the executor ({@code dev.gitops.core.apply}) and the reconciler, no compatibility promise.
 *
 * <pre>{@code
 * Map<ResourceKey, AbandonedCalls.Entry> before = executor.abandoned().snapshot();
 * Map<ResourceKey, Observation> seen = provider.observe(keys, ctx);
 * for (AbandonedCalls.Entry e : before.values()) {
 *   if (e.ended()) executor.abandoned().observedAgain(e);   // ended before this observation
 *   else seen.put(e.key(), Observation.unknown(e.key(), e.describe()));
 * }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class AbandonedCalls {

  /**
   * One abandoned call for one key, as seen at one moment.
   *
   * @param key the key the call was changing
   * @param id identifies the abandonment (a later one for the same key gets another id)
   * @param action what the call was doing, for example {@code UPDATE}
   * @param reason why it was abandoned, for example {@code timed out after 2 min}
   * @param abandonedAt when it was abandoned
   * @param ended whether the provider call has returned since
   */
  public record Entry(ResourceKey key, long id, String action, String reason, Instant abandonedAt, boolean ended) {

    /** One line for a SKIP or an outcome of this key. */
    public String describe() {
      return "an earlier " + action + " call was abandoned (" + reason + ") at " + abandonedAt
          + (ended ? " and returned only after the last observation began: the key is observed again first"
              : " and has not returned: it may still land");
    }
  }

  /** Shared by every key of one call: the call returns once for all of them. */
  public static final class Call {
    private volatile boolean ended;

    /** Whether the provider call has returned. */
    public boolean ended() {
      return ended;
    }
  }

  private record Tracked(long id, String action, String reason, Instant at, Call call) {}

  private final Map<ResourceKey, Tracked> byKey = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();

  /** An empty registry; an executor keeps one for its whole life. */
  public AbandonedCalls() {}

  /** Records that {@code call} was abandoned while changing {@code keys}. */
  public void abandon(Call call, Collection<ResourceKey> keys, String action, String reason) {
    Instant now = Instant.now();
    for (ResourceKey k : keys) {
      byKey.put(k, new Tracked(ids.incrementAndGet(), action, reason, now, call));
    }
  }

  /** Called from the worker thread when the provider call returns (or throws). */
  public static void ended(Call call) {
    call.ended = true;
  }

  /** Whether a call for {@code key} was abandoned and has not returned: it may still land. */
  public boolean mayStillLand(ResourceKey key) {
    Tracked t = byKey.get(key);
    return t != null && !t.call().ended();
  }

  /** The entry for {@code key}, or null. */
  public Entry get(ResourceKey key) {
    Tracked t = byKey.get(key);
    return t == null ? null : entry(key, t);
  }

  /**
   * Every key with an abandoned call that has not been observed since it ended. Take it
   * <em>before</em> observing: an entry that had ended by then is safe to forget once its key
   * is observed; one that had not must stay UNKNOWN.
   */
  public Map<ResourceKey, Entry> snapshot() {
    Map<ResourceKey, Entry> out = new TreeMap<>();
    byKey.forEach((k, t) -> out.put(k, entry(k, t)));
    return out;
  }

  /**
   * Forgets {@code e} if it had ended when it was taken and is still the latest abandonment of its
   * key: its key was observed after the call returned.
   */
  public void observedAgain(Entry e) {
    if (!e.ended()) {
      throw new IllegalArgumentException(e.key() + ": a call that had not returned cannot have been observed since");
    }
    byKey.computeIfPresent(e.key(), (k, t) -> t.id() == e.id() ? null : t);
  }

  /** The keys with an entry. */
  public Set<ResourceKey> keys() {
    return Set.copyOf(byKey.keySet());
  }

  private static Entry entry(ResourceKey key, Tracked t) {
    return new Entry(key, t.id(), t.action(), t.reason(), t.at(), t.call().ended());
  }
}
