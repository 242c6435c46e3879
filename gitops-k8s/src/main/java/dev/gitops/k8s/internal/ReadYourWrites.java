package dev.gitops.k8s.internal;

import dev.gitops.api.ResourceKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Which copy of an object the provider reads: the informer's, or the server's while the informer
 * has not shown a write of ours yet, so that a plan made right after a sync sees what it wrote.
 * A read never goes back in time: once the server has answered with a version newer than our write
 * (another writer's, a controller's status), the informer's copy is used again only when it shows
 * that version, not when it catches up with our older write. An informer that never catches up is
 * trusted again after {@code window}.
 *
 * <p>Versions are compared for equality only: a {@code resourceVersion} is opaque.
 */
public final class ReadYourWrites {

  /**
   * What the informer must show before its copy is read again: an object at {@code resourceVersion},
   * or, after a delete ({@code deletedUid} set), no object of that uid.
   */
  private record Awaited(String resourceVersion, String deletedUid, long since) {

    boolean shownBy(GenericKubernetesResource cached) {
      if (deletedUid != null) {
        return cached == null || !deletedUid.equals(cached.getMetadata().getUid());
      }
      return cached != null && resourceVersion.equals(cached.getMetadata().getResourceVersion());
    }

    /** What to await after the server answered {@code read}, {@code cached} being the informer's copy. */
    Awaited after(GenericKubernetesResource read, GenericKubernetesResource cached) {
      if (read != null) {
        String version = read.getMetadata().getResourceVersion();
        return version == null || deletedUid == null && version.equals(resourceVersion) ? this
            : new Awaited(version, null, since);
      }
      // gone on the server: the informer's copy, if any, must go too
      return deletedUid != null || cached == null ? this : new Awaited("", cached.getMetadata().getUid(), since);
    }
  }

  private final Map<ResourceKey, Awaited> awaited = new ConcurrentHashMap<>();
  private final long windowNanos;
  private final LongSupplier nanoTime;
  /** Records made: every {@value #SWEEP_EVERY}th drops the ones past their window, so keys never read again do not pile up. */
  private final java.util.concurrent.atomic.AtomicLong recorded = new java.util.concurrent.atomic.AtomicLong();
  private static final int SWEEP_EVERY = 256;

  /** Reads directly for at most {@code window} after a write the informer does not show. */
  public ReadYourWrites(Duration window) {
    this(window, System::nanoTime);
  }

  ReadYourWrites(Duration window, LongSupplier nanoTime) {
    this.windowNanos = window.toNanos();
    this.nanoTime = nanoTime;
  }

  /** Records a write of ours (or an object read from the server after a conflict): {@code made} as it returned. */
  public void wrote(ResourceKey key, GenericKubernetesResource made) {
    if (made != null && made.getMetadata() != null && made.getMetadata().getResourceVersion() != null) {
      record(key, new Awaited(made.getMetadata().getResourceVersion(), null, nanoTime.getAsLong()));
    }
  }

  /** Records a delete of ours of the object with {@code uid}. */
  public void deleted(ResourceKey key, String uid) {
    record(key, new Awaited("", uid, nanoTime.getAsLong()));
  }

  private void record(ResourceKey key, Awaited a) {
    awaited.put(key, a);
    if (recorded.incrementAndGet() % SWEEP_EVERY == 0) {
      // a key deleted and never observed again would otherwise stay here for the process's life
      long now = nanoTime.getAsLong();
      awaited.values().removeIf(old -> now - old.since() > windowNanos);
    }
  }

  /** How many keys are read from the server while their informer catches up. */
  int awaitedCount() {
    return awaited.size();
  }

  /** Whether a read of {@code key} may go to the server (the informer has not shown all we know of it). */
  public boolean isAwaited(ResourceKey key) {
    return awaited.containsKey(key);
  }

  /**
   * The object as the cluster has it now: {@code cached} (the informer's copy) when nothing is
   * awaited for {@code key} or the informer shows it, else what {@code server} answers.
   */
  public GenericKubernetesResource current(ResourceKey key, GenericKubernetesResource cached,
      Supplier<GenericKubernetesResource> server) {
    Awaited a = awaited.get(key);
    if (a == null) {
      return cached;
    }
    if (a.shownBy(cached)) {
      awaited.remove(key, a);
      return cached;
    }
    if (nanoTime.getAsLong() - a.since() > windowNanos) {
      awaited.remove(key, a);
      return server.get();
    }
    GenericKubernetesResource read = server.get();
    Awaited next = a.after(read, cached);
    if (next != a) {
      awaited.replace(key, a, next);
    }
    return read;
  }
}
