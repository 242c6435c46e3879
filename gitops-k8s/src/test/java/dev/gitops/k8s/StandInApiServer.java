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
 * started on loopback, with watches that end without stalling it.
 *
 * <p>Why not the mock as it comes: when a client closes a watch (a provider or an informer closed),
 * the mock (7.9) ends it on the server's only event loop by waiting up to a minute for the watch's
 * sender thread to finish, and that thread may be waiting up to 30 s for a write that only the
 * event loop completes. Every request of the test then waits that long: an informer's first list
 * timed out so in CI, and a Lease watch took 10 s to start. Here a closed or failed watch is taken
 * out of the dispatcher's watches on the event loop, so no event is sent to it any more, and the
 * mock's own ending runs on another thread.
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
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    return start(responses, new KubernetesMixedDispatcher(responses));
  }

  private static KubernetesMockServer start(Map<ServerRequest, Queue<ServerResponse>> responses, Dispatcher d) {
    KubernetesMockServer server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(),
        responses, new WatchesEndOffTheEventLoop(d), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    return server;
  }

  /** The mock's dispatcher, with each watch it upgrades to a web socket ended as the class says. */
  static final class WatchesEndOffTheEventLoop extends Dispatcher implements Resetable, CustomResourceAware {

    private final Dispatcher delegate;

    WatchesEndOffTheEventLoop(Dispatcher delegate) {
      this.delegate = delegate;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      MockResponse response = delegate.dispatch(request);
      WebSocketListener l = response.getWebSocketListener();
      if (l != null && !(l instanceof EndedOffTheEventLoop)) {
        response.withWebSocketUpgrade(new EndedOffTheEventLoop(l));
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

    EndedOffTheEventLoop(WebSocketListener delegate) {
      this.delegate = delegate;
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
      delegate.onOpen(ws, response);
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
      forget();
      offTheEventLoop("closed", () -> delegate.onClosed(ws, code, reason));
    }

    @Override
    public void onFailure(WebSocket ws, Throwable t, Response response) {
      forget();
      offTheEventLoop("failed", () -> delegate.onFailure(ws, t, response));
    }
  }
}
