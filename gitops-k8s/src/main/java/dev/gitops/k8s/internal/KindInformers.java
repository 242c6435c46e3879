package dev.gitops.k8s.internal;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One informer per kind in play, started on first use and kept in sync by its watch, so that
 * reading an object costs no request. A kind whose informer cannot list (no permission, no such
 * resource) is reported with the server's message and tried again on the next use. A namespaced
 * kind the credentials may list only in some namespaces has one informer per namespace instead
 * ({@link #syncedIn}); a kind's cluster-wide informer, once synced, replaces them.
 *
 * <p>A synced informer's cache is only as current as its watch: once the watch ends (the kind no
 * longer served after an upgrade, a CRD version dropped, an APIService gone, the server
 * unreachable), fabric8 keeps the cache and retries the list and watch in the background, so the
 * cache shows neither what was made nor what went since. {@link #isWatching} tells whether it is
 * current; the callers read from the server while it is not.
 */
public final class KindInformers implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KindInformers.class);

  private final KubernetesClient client;
  private final Duration unreachableFor;
  private final Map<String, Running> byType = new ConcurrentHashMap<>();
  /** Per key type, the informers that watch one namespace each (the kind's cluster-wide list being forbidden). */
  private final Map<String, Map<String, Running>> byNamespace = new ConcurrentHashMap<>();
  /** Notified on every event of every informer, so waits for a change are woken by the watch, not by a timer. */
  private final Object events = new Object();
  /**
   * The last first list the API server did not answer (refused, unresolved, TLS), or null. Heeded
   * for {@link #UNREACHABLE_FOR} only: a synced informer answering from its cache says nothing of
   * the server now, so no success clears it earlier.
   */
  private volatile Unreachable unreachable;
  /** Set by {@link #close}: no informer is started after it, so none outlives its owner, still watching. */
  private volatile boolean closed;

  /**
   * How long a first list the API server did not answer answers for the informers started after
   * it: the client retries a refused connection for ~20 s per request, so a server that is down
   * would otherwise cost that much for each kind a sync reads, one after another.
   */
  static final Duration UNREACHABLE_FOR = Duration.ofSeconds(10);

  private record Unreachable(String why, String type, long since) {}

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

    /** The server's answer (its status and Status body), or null when it did not answer; see {@link KindInformers#answer}. */
    public KubernetesClientException answer() {
      return KindInformers.answer(getCause());
    }

    /**
     * Whether the thread was interrupted while it waited for the first list (its interrupt flag is
     * set again): the list proves nothing, neither way.
     */
    public boolean interrupted() {
      return getCause() instanceof InterruptedException;
    }
  }

  /**
   * An informer, its first list, and whether it was last found not watching (for logging the
   * change once, not on every read).
   */
  private record Running(KindInfo kind, SharedIndexInformer<GenericKubernetesResource> informer,
      CompletableFuture<Void> started, AtomicBoolean unwatched) {}

  /** Informers over {@code client}. */
  public KindInformers(KubernetesClient client) {
    this(client, UNREACHABLE_FOR);
  }

  /** Informers over {@code client}, a first list the server did not answer standing for the others for {@code unreachableFor}. */
  KindInformers(KubernetesClient client, Duration unreachableFor) {
    this.client = client;
    this.unreachableFor = unreachableFor;
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
    if (!reusable(byType.get(kind.type()), kind)) {
      failFastWhileUnreachable(kind);
    }
    Running r = byType.compute(kind.type(), (t, old) -> reusable(old, kind) ? old : start(kind, null, old));
    stopIfClosed(r, () -> byType.remove(kind.type(), r));
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
    Map<String, Unavailable> out = new TreeMap<>();
    for (String ns : new TreeSet<>(namespaces)) {
      if (!reusable(mine.get(ns), kind)) {
        try {
          failFastWhileUnreachable(kind);
        } catch (Unavailable u) {
          out.put(ns, u);
          continue;
        }
      }
      try {
        Running r = mine.compute(ns, (n, old) -> reusable(old, kind) ? old : start(kind, n, old));
        stopIfClosed(r, () -> mine.remove(ns, r));
        started.put(ns, r);
      } catch (Unavailable u) {
        out.put(ns, u);  // closed
      }
    }
    long deadline = System.nanoTime() + wait.toNanos();
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

  private static boolean reusable(Running r, KindInfo kind) {
    return r != null && r.kind().equals(kind) && !r.started().isCompletedExceptionally();
  }

  /**
   * Throws, without asking the server, when a first list got no answer from it less than {@link
   * #UNREACHABLE_FOR} (as constructed) ago: each kind's list would be retried as long again, for the same answer.
   */
  private void failFastWhileUnreachable(KindInfo kind) {
    Unreachable u = unreachable;
    if (u == null) {
      return;
    }
    long ago = System.nanoTime() - u.since();
    if (ago >= unreachableFor.toNanos()) {
      return;
    }
    throw new Unavailable(u.why() + " (the first list of " + u.type() + " got no answer from the API server "
        + seconds(ago) + " ago, after the client's retries: " + kind.type() + " is not listed within "
        + seconds(unreachableFor.toNanos()) + " of that)", null);
  }

  private static String seconds(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
  }

  /** The informer of {@code r} once its first list is in, waiting at most {@code wait}; {@code forget} drops a failed one. */
  private SharedIndexInformer<GenericKubernetesResource> await(Running r, Duration wait, Runnable forget) {
    KindInfo kind = r.kind();
    try {
      r.started().get(Math.max(1, wait.toMillis()), TimeUnit.MILLISECONDS);
      return r.informer();
    } catch (ExecutionException e) {
      forget.run();
      r.informer().stop();
      String why = message(e.getCause());
      if (isUnanswered(e.getCause())) {
        unreachable = new Unreachable(why, kind.type(), System.nanoTime());
      }
      throw new Unavailable(why, e.getCause());
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

  /**
   * Starts the informer of {@code kind} across all namespaces, or in {@code namespace} only when not null.
   *
   * @throws Unavailable once these informers are closed
   */
  private Running start(KindInfo kind, String namespace, Running old) {
    if (old != null) {
      old.informer().stop();
    }
    if (closed) {
      throw closed(kind);
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
    return new Running(kind, informer, informer.start().toCompletableFuture(), new AtomicBoolean());
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

  /**
   * Whether the synced informer that sees {@code type}'s objects in {@code namespace} is watching
   * now, so that its cache shows the objects as the server has them, give or take the watch's
   * delay: false when there is none, and while its watch is down (ended and not established
   * again, or its list after that not succeeded: fabric8 watches only after a list succeeds, so a
   * watching informer's last list succeeded). A field read, no request. A watch also drops for a
   * moment when the server ends it (every few minutes) and the informer reconnects.
   */
  public boolean isWatching(String type, String namespace) {
    Running r = watching(type, namespace);
    if (r == null) {
      return false;
    }
    boolean now = r.informer().isWatching();
    if (r.unwatched().compareAndSet(now, !now)) {
      if (now) {
        LOG.info("the informer of {} ({}) is watching again: its cache is read again", type, r.kind().apiVersion());
      } else {
        LOG.info("the informer of {} ({}) is not watching (its watch ended and fabric8 is listing and watching it"
            + " again: the kind may no longer be served, or the API server not be reachable): its cache may be stale,"
            + " its objects are read from the server until it watches again", type, r.kind().apiVersion());
      }
    }
    return now;
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
   * {@link #list}, but reading only the caches of informers that are watching ({@link
   * #isWatching}): the scope of each that is not ({@code ""} for the kind's informer across all
   * namespaces, else its namespace) is added to {@code notWatching} and its cache, which may be
   * stale, is not read; the caller reads those scopes from the server.
   */
  public List<GenericKubernetesResource> listWatching(String type, Predicate<GenericKubernetesResource> filter,
      Set<String> notWatching) {
    Running r = byType.get(type);
    Map<String, Running> namespaced = byNamespace.getOrDefault(type, Map.of());
    if (r != null && (isSynced(r) || namespaced.isEmpty())) {
      if (!isWatching(type, "")) {
        notWatching.add("");
        return List.of();
      }
      return r.informer().getStore().list().stream().filter(filter).toList();
    }
    List<GenericKubernetesResource> out = new ArrayList<>();
    new TreeMap<>(namespaced).forEach((ns, n) -> {
      if (!isSynced(n)) {
        return;
      }
      if (!isWatching(type, ns)) {
        notWatching.add(ns);
      } else {
        n.informer().getStore().list().stream().filter(filter).forEach(out::add);
      }
    });
    return out;
  }

  /**
   * The server's answer ({@code 403 configmaps is forbidden: ...}) when there was one; otherwise
   * what kept the request from being answered ({@code cannot connect: connection refused},
   * {@code SSLHandshakeException: ...}), found beneath the client's wrappers, whose own messages
   * are often just a class name.
   */
  public static String message(Throwable t) {
    Throwable root = t;
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof KubernetesClientException k && k.getStatus() != null && k.getStatus().getMessage() != null) {
        return k.getCode() + " " + k.getStatus().getMessage();
      }
      root = c;
    }
    ConnectException connect = connectFailure(t);
    Throwable deepest = connect != null ? connect : root;
    String what = connect != null ? connectDetail(connect)
        : root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    return deepest == t || !saysMore(t) ? what : t.getMessage() + " (" + what + ")";
  }

  /** Whether {@code t}'s message says more than the name of a failure beneath it (as a CompletionException's does not). */
  private static boolean saysMore(Throwable t) {
    if (t.getMessage() == null) {
      return false;
    }
    for (Throwable c = t.getCause(); c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (t.getMessage().equals(c.toString()) || t.getMessage().equals(c.getClass().getName())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code t} is a request the API server never answered (refused, unresolved, a failed
   * TLS handshake): an I/O failure without an HTTP status, which the client retries by itself.
   */
  private static boolean isUnanswered(Throwable t) {
    if (code(t) != 0) {
      return false;
    }
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.io.IOException) {
        return true;
      }
    }
    return false;
  }

  /** The {@link ConnectException} beneath the client's wrappers, or null. */
  private static ConnectException connectFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof ConnectException ce) {
        return ce;
      }
    }
    return null;
  }

  /**
   * {@code cannot connect: <why>}: the JDK's HTTP client throws a {@link ConnectException} without
   * a message over the channel's own exception (a refused connection closes the channel; a host
   * name that does not resolve leaves the address unresolved), so the why is read from that.
   */
  private static String connectDetail(ConnectException e) {
    Throwable under = e.getCause();
    String why = e.getMessage() != null ? e.getMessage()
        : under instanceof ClosedChannelException ? "connection refused"
        : under instanceof UnresolvedAddressException ? "the host name does not resolve"
        : under == null ? null
        : under.getClass().getSimpleName() + (under.getMessage() == null ? "" : ": " + under.getMessage());
    return why == null ? "cannot connect" : "cannot connect: " + why;
  }

  /** The HTTP status of the server's answer beneath the client's wrappers, or 0 when there was none. */
  public static int code(Throwable t) {
    KubernetesClientException answer = answer(t);
    return answer == null ? 0 : answer.getCode();
  }

  /**
   * The API server's answer beneath {@code t} (a failed list's, a request's): the first client
   * failure in its causes that has an HTTP status, with the {@code Status} the server sent when it
   * sent one; null when the server did not answer.
   */
  public static KubernetesClientException answer(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof KubernetesClientException k && k.getCode() > 0) {
        return k;
      }
    }
    return null;
  }

  /**
   * Stops {@code r} and throws when these informers were closed while it was started ({@link
   * #close} may have stopped the others before {@code forget} could have it found).
   */
  private void stopIfClosed(Running r, Runnable forget) {
    if (closed) {
      forget.run();
      r.informer().stop();
      throw closed(r.kind());
    }
  }

  private static Unavailable closed(KindInfo kind) {
    return new Unavailable("the provider is closed: " + kind.type() + " is not listed, nor watched, any more", null);
  }

  /**
   * Stops every informer; none is started after it: {@link #synced} throws {@link Unavailable}, and
   * {@link #syncedIn} answers it for each namespace.
   */
  @Override
  public void close() {
    closed = true;
    byType.values().forEach(r -> r.informer().stop());
    byType.clear();
    byNamespace.values().forEach(m -> m.values().forEach(r -> r.informer().stop()));
    byNamespace.clear();
  }
}
