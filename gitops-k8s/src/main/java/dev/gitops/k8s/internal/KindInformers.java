package dev.gitops.k8s.internal;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
 * resource) is reported with the server's message and tried again on the next use. A namespaced
 * kind the credentials may list only in some namespaces has one informer per namespace instead
 * ({@link #syncedIn}); a kind's cluster-wide informer, once synced, replaces them.
 */
public final class KindInformers implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KindInformers.class);

  private final KubernetesClient client;
  private final Map<String, Running> byType = new ConcurrentHashMap<>();
  /** Per key type, the informers that watch one namespace each (the kind's cluster-wide list being forbidden). */
  private final Map<String, Map<String, Running>> byNamespace = new ConcurrentHashMap<>();
  /** Notified on every event of every informer, so waits for a change are woken by the watch, not by a timer. */
  private final Object events = new Object();

  /** Thrown when a kind's objects cannot be listed; the message is the server's. */
  public static final class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** {@code message} says why, naming the kind (and namespace); {@code cause} is the client's failure, or null. */
    public Unavailable(String message, Throwable cause) {
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
        && !old.started().isCompletedExceptionally() ? old : start(kind, null, old));
    SharedIndexInformer<GenericKubernetesResource> informer = await(r, wait, () -> byType.remove(kind.type(), r));
    // the whole kind is watched now: informers of single namespaces (its list was forbidden before) are not needed
    Map<String, Running> namespaced = byNamespace.remove(kind.type());
    if (namespaced != null) {
      LOG.debug("{} is listed cluster-wide now: stopping its informers in namespaces {}", kind.type(), namespaced.keySet());
      namespaced.values().forEach(n -> n.informer().stop());
    }
    return informer;
  }

  /**
   * Starts, where not running, the informer of {@code kind} in each of {@code namespaces} (for a
   * namespaced kind whose cluster-wide list is forbidden), then waits for each one's first list,
   * all together at most {@code wait}.
   *
   * @return the namespaces whose objects cannot be listed, each with why (the server's message and status)
   */
  public Map<String, Unavailable> syncedIn(KindInfo kind, Collection<String> namespaces, Duration wait) {
    if (!kind.namespaced()) {
      throw new IllegalArgumentException(kind.type() + " is cluster-scoped: it has no informers per namespace");
    }
    Map<String, Running> mine = byNamespace.computeIfAbsent(kind.type(), t -> new ConcurrentHashMap<>());
    Map<String, Running> started = new LinkedHashMap<>();
    for (String ns : new TreeSet<>(namespaces)) {
      started.put(ns, mine.compute(ns, (n, old) -> old != null && old.kind().equals(kind)
          && !old.started().isCompletedExceptionally() ? old : start(kind, n, old)));
    }
    long deadline = System.nanoTime() + wait.toNanos();
    Map<String, Unavailable> out = new TreeMap<>();
    for (Map.Entry<String, Running> e : started.entrySet()) {
      Running r = e.getValue();
      try {
        await(r, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())), () -> mine.remove(e.getKey(), r));
      } catch (Unavailable u) {
        out.put(e.getKey(), u);
      }
    }
    return out;
  }

  /** The informer of {@code r} once its first list is in, waiting at most {@code wait}; {@code forget} drops a failed one. */
  private static SharedIndexInformer<GenericKubernetesResource> await(Running r, Duration wait, Runnable forget) {
    KindInfo kind = r.kind();
    try {
      r.started().get(Math.max(1, wait.toMillis()), TimeUnit.MILLISECONDS);
      return r.informer();
    } catch (ExecutionException e) {
      forget.run();
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

  /** Starts the informer of {@code kind} across all namespaces, or in {@code namespace} only when not null. */
  private Running start(KindInfo kind, String namespace, Running old) {
    if (old != null) {
      old.informer().stop();
    }
    var all = client.genericKubernetesResources(context(kind));
    SharedIndexInformer<GenericKubernetesResource> informer =
        (namespace == null ? all.inAnyNamespace() : all.inNamespace(namespace)).runnableInformer(0);
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
    LOG.debug("starting the informer of {} ({}){}", kind.type(), kind.apiVersion(),
        namespace == null ? "" : " in namespace " + namespace);
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

  /**
   * The cached object of a running informer that watches {@code namespace} (the kind's
   * cluster-wide one, else the namespace's own), or null.
   */
  public GenericKubernetesResource cached(String type, String namespace, String name) {
    Running r = watching(type, namespace);
    if (r == null) {
      return null;
    }
    return r.informer().getStore().getByKey(namespace.isEmpty() ? name : Cache.namespaceKeyFunc(namespace, name));
  }

  /** The synced informer that sees {@code type}'s objects in {@code namespace}, or null. */
  private Running watching(String type, String namespace) {
    Running r = byType.get(type);
    if (isSynced(r)) {
      return r;
    }
    Map<String, Running> namespaced = byNamespace.get(type);
    Running n = namespaced == null || namespace.isEmpty() ? null : namespaced.get(namespace);
    return isSynced(n) ? n : null;
  }

  private static boolean isSynced(Running r) {
    return r != null && r.started().isDone() && !r.started().isCompletedExceptionally();
  }

  /** Whether the informer of {@code type} across all namespaces is running and synced. */
  public boolean isSynced(String type) {
    return isSynced(byType.get(type));
  }

  /** Whether an informer that sees {@code type}'s objects in {@code namespace} is running and synced. */
  public boolean isSynced(String type, String namespace) {
    return watching(type, namespace) != null;
  }

  /** The key types with an informer (running or starting), across all namespaces or in some. */
  public Set<String> types() {
    Set<String> out = new HashSet<>(byType.keySet());
    byNamespace.forEach((type, namespaces) -> {
      if (!namespaces.isEmpty()) {
        out.add(type);
      }
    });
    return Set.copyOf(out);
  }

  /**
   * The cached objects that {@code filter} selects, of the kind's informer across all namespaces;
   * without one, of its synced informers of single namespaces.
   */
  public List<GenericKubernetesResource> list(String type, Predicate<GenericKubernetesResource> filter) {
    Running r = byType.get(type);
    Map<String, Running> namespaced = byNamespace.getOrDefault(type, Map.of());
    if (r != null && (isSynced(r) || namespaced.isEmpty())) {
      return r.informer().getStore().list().stream().filter(filter).toList();
    }
    List<GenericKubernetesResource> out = new ArrayList<>();
    new TreeMap<>(namespaced).values().stream().filter(KindInformers::isSynced)
        .forEach(n -> n.informer().getStore().list().stream().filter(filter).forEach(out::add));
    return out;
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
    byNamespace.values().forEach(m -> m.values().forEach(r -> r.informer().stop()));
    byNamespace.clear();
  }
}
