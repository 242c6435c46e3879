package dev.gitops.k8s.internal;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One informer per kind in play, started on first use and kept in sync by its watch, so that
 * reading an object costs no request. A kind whose informer cannot list (no permission, no such
 * resource) is reported with the server's message and tried again on the next use.
 */
public final class KindInformers implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KindInformers.class);

  private final KubernetesClient client;
  private final Map<String, Running> byType = new ConcurrentHashMap<>();
  /** Notified on every event of every informer, so waits for a change are woken by the watch, not by a timer. */
  private final Object events = new Object();

  /** Thrown when a kind's objects cannot be listed; the message is the server's. */
  public static final class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unavailable(String message, Throwable cause) {
      super(message, cause);
    }

    /** The HTTP status the server answered with (403, 404, ...), or 0 when it did not answer. */
    public int code() {
      return KindInformers.code(getCause());
    }
  }

  private record Running(KindInfo kind, SharedIndexInformer<GenericKubernetesResource> informer,
      CompletableFuture<Void> started) {}

  /** Informers over {@code client}. */
  public KindInformers(KubernetesClient client) {
    this.client = client;
  }

  /** The address of a kind's objects for the client. */
  public static ResourceDefinitionContext context(KindInfo k) {
    return new ResourceDefinitionContext.Builder().withGroup(k.group()).withVersion(k.version()).withKind(k.kind())
        .withPlural(k.plural()).withNamespaced(k.namespaced()).build();
  }

  /**
   * The synced informer of {@code kind}, started if it is not running, waiting at most {@code wait}
   * for its first list.
   *
   * @throws Unavailable with the server's message when the list fails or does not finish in time
   */
  public SharedIndexInformer<GenericKubernetesResource> synced(KindInfo kind, Duration wait) {
    Running r = byType.compute(kind.type(), (t, old) -> old != null && old.kind().equals(kind)
        && !old.started().isCompletedExceptionally() ? old : start(kind, old));
    try {
      r.started().get(Math.max(1, wait.toMillis()), TimeUnit.MILLISECONDS);
      return r.informer();
    } catch (ExecutionException e) {
      byType.remove(kind.type(), r);
      r.informer().stop();
      throw new Unavailable(message(e.getCause()), e.getCause());
    } catch (TimeoutException e) {
      throw new Unavailable(notListed(kind, wait), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unavailable("interrupted while waiting for the informer of " + kind.type(), e);
    }
  }

  /**
   * Why a kind's first list is not there: the API server did not answer within {@code wait} (the
   * client retries a refused or reset connection by itself until then), or the call had no time
   * left for it (earlier requests of the same call used it up).
   */
  static String notListed(KindInfo kind, Duration wait) {
    long ms = wait.toMillis();
    if (ms <= 0) {
      return "the informer for " + kind.type() + " could not wait for its first list: the call had no time left"
          + " (its earlier requests used it up)";
    }
    String took = ms < 1000 ? ms + " ms" : String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    return "the informer for " + kind.type() + " did not finish its first list within " + took
        + ": the API server did not answer in time (a refused or reset connection is retried until then)";
  }

  private Running start(KindInfo kind, Running old) {
    if (old != null) {
      old.informer().stop();
    }
    SharedIndexInformer<GenericKubernetesResource> informer =
        client.genericKubernetesResources(context(kind)).inAnyNamespace().runnableInformer(0);
    // before the first list succeeds a failure is the answer (UNKNOWN keys); afterwards the watch reconnects by itself
    informer.exceptionHandler((isStarted, t) -> isStarted);
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(GenericKubernetesResource obj) {
        changed();
      }

      @Override
      public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
        changed();
      }

      @Override
      public void onDelete(GenericKubernetesResource obj, boolean deletedFinalStateUnknown) {
        changed();
      }
    });
    LOG.debug("starting the informer of {} ({})", kind.type(), kind.apiVersion());
    return new Running(kind, informer, informer.start().toCompletableFuture());
  }

  private void changed() {
    synchronized (events) {
      events.notifyAll();
    }
  }

  /**
   * Waits until {@code done} holds, checking again after every informer event, at most until
   * {@code deadlineNanos} (System.nanoTime). Returns whether it holds.
   */
  public boolean awaitEvent(java.util.function.BooleanSupplier done, long deadlineNanos) throws InterruptedException {
    synchronized (events) {
      while (!done.getAsBoolean()) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        events.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
      return true;
    }
  }

  /** The cached object of a running informer, or null. */
  public GenericKubernetesResource cached(String type, String namespace, String name) {
    Running r = byType.get(type);
    if (r == null || !r.started().isDone() || r.started().isCompletedExceptionally()) {
      return null;
    }
    return r.informer().getStore().getByKey(namespace.isEmpty() ? name : Cache.namespaceKeyFunc(namespace, name));
  }

  /** Whether the informer of {@code type} is running and synced. */
  public boolean isSynced(String type) {
    Running r = byType.get(type);
    return r != null && r.started().isDone() && !r.started().isCompletedExceptionally();
  }

  /** The key types with an informer (running or starting). */
  public Set<String> types() {
    return Set.copyOf(byType.keySet());
  }

  /** The cached objects of a synced informer that {@code filter} selects. */
  public List<GenericKubernetesResource> list(String type, Predicate<GenericKubernetesResource> filter) {
    Running r = byType.get(type);
    if (r == null) {
      return List.of();
    }
    return r.informer().getStore().list().stream().filter(filter).toList();
  }

  /**
   * The server's answer ({@code 403 configmaps is forbidden: ...}) when there was one; otherwise
   * what kept the request from being answered ({@code ConnectException: Connection refused}),
   * found beneath the client's wrappers, whose own messages are often just a class name.
   */
  public static String message(Throwable t) {
    Throwable root = t;
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof KubernetesClientException k && k.getStatus() != null && k.getStatus().getMessage() != null) {
        return k.getCode() + " " + k.getStatus().getMessage();
      }
      root = c;
    }
    String what = root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    return root == t || t.getMessage() == null || t.getMessage().equals(root.toString()) ? what
        : t.getMessage() + " (" + what + ")";
  }

  /** The HTTP status of the server's answer beneath the client's wrappers, or 0 when there was none. */
  public static int code(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof KubernetesClientException k && k.getCode() > 0) {
        return k.getCode();
      }
    }
    return 0;
  }

  /** Stops every informer. */
  @Override
  public void close() {
    byType.values().forEach(r -> r.informer().stop());
    byType.clear();
  }
}
