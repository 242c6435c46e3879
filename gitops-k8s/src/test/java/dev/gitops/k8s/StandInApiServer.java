package dev.gitops.k8s;

import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.CustomResourceAware;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.server.mock.Resetable;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.Set;

/**
 * fabric8's mock API server, the stand-in for a Kubernetes API server in this project's tests,
 * started on loopback, with watches that end without stalling it, and a missing object's 404
 * naming the object as a real server's does.
 *
 * <p>Why not the mock as it comes: when a client closes a watch (a provider or an informer closed),
 * the mock (7.9) ends it on the server's only event loop by waiting up to a minute for the watch's
 * sender thread to finish, and that thread may be waiting up to 30 s for a write that only the
 * event loop completes. Every request of the test then waits that long: an informer's first list
 * timed out so in CI, and a Lease watch took 10 s to start. Here a closed or failed watch is taken
 * out of the dispatcher's watches on the event loop, so no event is sent to it any more, and the
 * mock's own ending runs on another thread.
 *
 * <p>The mock in CRUD mode (7.9) answers the read, patch, update or delete of a missing object 404
 * with no body. A real API server sends a Status naming the object ({@link #notFound}), and a 404
 * naming nothing only for a kind it does not serve (a CRD not Established yet, a version removed):
 * the provider tells those apart by that, so a body-less 404 for an object is answered as a real
 * server's here. A 404 with a body (an expectation's) is sent as it is.
 *
 * <pre>{@code
 * KubernetesMockServer server = StandInApiServer.crud();
 * try (KubernetesClient client = server.createClient()) {
 *   // ...
 * } finally {
 *   server.destroy();
 * }
 * }</pre>
 */
public final class StandInApiServer {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StandInApiServer.class);

  private StandInApiServer() {}

  /** A started server in CRUD mode: it stores what is written and serves it back, watches included. */
  public static KubernetesMockServer crud() {
    return start(new HashMap<>(), new KubernetesCrudDispatcher());
  }

  /**
   * A started server in CRUD mode whose expectations ({@code server.expect()}) are answered first,
   * for what CRUD mode cannot do (a refusal, a discovery document).
   */
  public static KubernetesMockServer withExpectations() {
    return withExpectations(d -> {});
  }

  /**
   * {@link #withExpectations()}, handing its dispatcher to {@code dispatcher}, to stop serving
   * requests later ({@link StandInDispatcher#refuse}).
   */
  static KubernetesMockServer withExpectations(java.util.function.Consumer<StandInDispatcher> dispatcher) {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    StandInDispatcher d = new StandInDispatcher(new KubernetesMixedDispatcher(responses));
    dispatcher.accept(d);
    return start(responses, d);
  }

  private static KubernetesMockServer start(Map<ServerRequest, Queue<ServerResponse>> responses, Dispatcher d) {
    KubernetesMockServer server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(),
        responses, d instanceof StandInDispatcher s ? s : new StandInDispatcher(d), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    return server;
  }

  /**
   * The Status a real API server answers the request of {@code path} with when the object it
   * names is missing ({@code apierrors.NewNotFound}): reason NotFound, details naming the object
   * ({@code name}, the resource as {@code kind}, its {@code group}) and the message {@code
   * configmaps "cfg" not found} or {@code widgets.example.com "banner" not found}. Null when {@code
   * path} names no object (a list, a discovery document).
   */
  static String notFound(String path) {
    int query = path.indexOf('?');
    String[] s = (query < 0 ? path : path.substring(0, query)).replaceFirst("^/", "").split("/");
    int rest;
    String group;
    if (s.length >= 2 && s[0].equals("api")) {
      group = "";
      rest = 2;
    } else if (s.length >= 3 && s[0].equals("apis")) {
      group = s[1];
      rest = 3;
    } else {
      return null;
    }
    int n = s.length - rest;
    // /namespaces/<ns>/<resource>/<name>[/<subresource>] or /<resource>/<name>[/<subresource>] (a namespace too)
    boolean inNamespace = n >= 3 && s[rest].equals("namespaces");
    int at = inNamespace ? rest + 2 : rest;
    if (s.length < at + 2 || inNamespace && n == 3) {
      return null;
    }
    String resource = s[at];
    String name = s[at + 1];
    var mapper = Serialization.jsonMapper();
    var details = mapper.createObjectNode().put("name", name);
    if (!group.isEmpty()) {
      details.put("group", group);
    }
    details.put("kind", resource);
    var status = mapper.createObjectNode().put("kind", "Status").put("apiVersion", "v1");
    status.putObject("metadata");
    status.put("status", "Failure").put("message", (group.isEmpty() ? resource : resource + "." + group) + " \""
        + name + "\" not found").put("reason", "NotFound").set("details", details);
    status.put("code", 404);
    return status.toString();
  }

  /**
   * The mock's dispatcher, with each watch it upgrades to a web socket ended as the class says,
   * and its body-less 404 for an object given the body a real server sends ({@link #notFound}).
   */
  static final class StandInDispatcher extends Dispatcher implements Resetable, CustomResourceAware {

    private final Dispatcher delegate;
    /** The GET requests answered otherwise ({@link #refuse}), by their whole path, or null. */
    private volatile Refusal refusal;
    /** The watches open now, with the web socket each is sent on. */
    private final Map<EndedOffTheEventLoop, WebSocket> open = new java.util.concurrent.ConcurrentHashMap<>();

    /** How many requests were answered as {@link #refuse} says. */
    private final java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();

    private record Refusal(java.util.function.Predicate<String> paths, int code, String body) {}

    /** How many requests were refused ({@link #refuse}) so far. */
    int refused() {
      return refused.get();
    }

    StandInDispatcher(Dispatcher delegate) {
      this.delegate = delegate;
    }

    /**
     * From now on answers each GET (list, watch, read) whose path, without its query, {@code
     * paths} selects with {@code code} and {@code body}, and ends the watches open on such a path,
     * as a real API server ends the watches of a kind it stops serving (a version removed by an
     * upgrade, a CRD version dropped, an APIService gone) and answers their informers' lists and
     * watches after that: the informers keep their caches and list and watch again, refused.
     * Other requests (writes) are served as before.
     */
    void refuse(java.util.function.Predicate<String> paths, int code, String body) {
      refuseRequests(path -> paths.test(pathOf(path)), code, body);
    }

    /**
     * {@link #refuse}, {@code requests} selecting by the whole request path, its query included
     * ({@code /api/v1/configmaps?watch=true&...}), so that only some of the GETs of a path are
     * refused (an informer's lists and watches, not a list by label).
     */
    void refuseRequests(java.util.function.Predicate<String> requests, int code, String body) {
      refusal = new Refusal(requests, code, body);
      open.forEach((watch, ws) -> {
        if (requests.test(ws.request().getPath())) {
          watch.forget();  // no event for it any more, before the client has even read the close
          ws.close(1000, "");
        }
      });
    }

    /** Whether a request of {@code path} (its query included) would be refused now. */
    private boolean refusedNow(String path) {
      Refusal r = refusal;
      return r != null && r.paths().test(path);
    }

    private static String pathOf(String path) {
      int query = path.indexOf('?');
      return query < 0 ? path : path.substring(0, query);
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      Refusal r = refusal;
      if (r != null && "GET".equals(request.getMethod()) && r.paths().test(request.getPath())) {
        refused.incrementAndGet();
        return new MockResponse().setResponseCode(r.code()).setHeader("Content-Type", "application/json")
            .setBody(r.body());
      }
      MockResponse response = delegate.dispatch(request);
      WebSocketListener l = response.getWebSocketListener();
      if (l != null && !(l instanceof EndedOffTheEventLoop)) {
        response.withWebSocketUpgrade(new EndedOffTheEventLoop(l, open, this::refusedNow));
      }
      if (response.code() == 404 && (response.getBody() == null || response.getBody().size() == 0)) {
        String status = notFound(request.getPath());
        if (status != null) {
          response.setHeader("Content-Type", "application/json").setBody(status);
        }
      }
      return response;
    }

    @Override
    public void shutdown() {
      delegate.shutdown();
    }

    @Override
    public void releaseResources() {
      delegate.releaseResources();
    }

    @Override
    public void reset() {
      if (delegate instanceof Resetable r) {
        r.reset();
      }
    }

    @Override
    public void expectCustomResource(CustomResourceDefinitionContext context) {
      if (delegate instanceof CustomResourceAware c) {
        c.expectCustomResource(context);
      }
    }
  }

  /** A web socket's listener whose end (close or failure) runs on its own thread. */
  static final class EndedOffTheEventLoop extends WebSocketListener {

    /** {@code WatchEventsListener}'s set of the dispatcher's watches, which events are sent to. */
    private static final Field WATCHES;

    static {
      try {
        Class<?> watch = Class.forName("io.fabric8.kubernetes.client.server.mock.WatchEventsListener");
        WATCHES = watch.getDeclaredField("watchEventListenerList");
        WATCHES.setAccessible(true);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError("fabric8's mock server changed: " + e + "; see StandInApiServer's javadoc");
      }
    }

    private final WebSocketListener delegate;
    /** The dispatcher's open watches: this one is there while its web socket is open. */
    private final Map<EndedOffTheEventLoop, WebSocket> open;
    /** Whether the dispatcher refuses a watch of a path now ({@link StandInDispatcher#refuse}). */
    private final java.util.function.Predicate<String> refused;

    EndedOffTheEventLoop(WebSocketListener delegate) {
      this(delegate, new java.util.concurrent.ConcurrentHashMap<>(), path -> false);
    }

    EndedOffTheEventLoop(WebSocketListener delegate, Map<EndedOffTheEventLoop, WebSocket> open,
        java.util.function.Predicate<String> refused) {
      this.delegate = delegate;
      this.open = open;
      this.refused = refused;
    }

    /** Takes the watch out of the dispatcher's set (on the event loop, where events are dispatched too). */
    private void forget() {
      if (WATCHES.getDeclaringClass().isInstance(delegate)) {
        try {
          ((Set<?>) WATCHES.get(delegate)).remove(delegate);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }

    private static void offTheEventLoop(String what, Runnable end) {
      Thread t = new Thread(() -> {
        try {
          end.run();
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // the server was destroyed meanwhile: its event loop takes no more work, the watch is gone with it
          LOG.debug("stand-in watch {} after the server stopped: {}", what, e.getMessage());
        } catch (RuntimeException e) {
          LOG.warn("stand-in watch {}: the mock's own ending failed", what, e);
        }
      }, "stand-in watch " + what);
      t.setDaemon(true);
      t.start();
    }

    @Override
    public void onBeforeAccept(WebSocket ws, Response response) {
      delegate.onBeforeAccept(ws, response);
    }

    @Override
    public void onOpen(WebSocket ws, Response response) {
      open.put(this, ws);
      delegate.onOpen(ws, response);
      // a watch let through just before a refusal, and opened after the refusal ended the watches open then:
      // ended here (the refusal is set before those are ended, so one of the two ends it)
      if (refused.test(ws.request().getPath())) {
        forget();
        ws.close(1000, "");
      }
    }

    @Override
    public void onMessage(WebSocket ws, String text) {
      delegate.onMessage(ws, text);
    }

    @Override
    public void onMessage(WebSocket ws, ByteString bytes) {
      delegate.onMessage(ws, bytes);
    }

    @Override
    public void onMessage(WebSocket ws, byte[] bytes) {
      delegate.onMessage(ws, bytes);
    }

    @Override
    public void onClosing(WebSocket ws, int code, String reason) {
      delegate.onClosing(ws, code, reason);
    }

    @Override
    public void onClosed(WebSocket ws, int code, String reason) {
      open.remove(this);
      forget();
      offTheEventLoop("closed", () -> delegate.onClosed(ws, code, reason));
    }

    @Override
    public void onFailure(WebSocket ws, Throwable t, Response response) {
      open.remove(this);
      forget();
      offTheEventLoop("failed", () -> delegate.onFailure(ws, t, response));
    }
  }
}
