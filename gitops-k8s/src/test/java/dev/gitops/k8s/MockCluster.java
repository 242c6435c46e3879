package dev.gitops.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import dev.gitops.k8s.internal.KindInformers;
import dev.gitops.k8s.internal.KindInfo;
import dev.gitops.k8s.internal.KindTable;

/**
 * fabric8's mock API server in CRUD mode on loopback (expectations can be added for what CRUD
 * mode cannot do), with a client, the requests it received, and optional stand-ins for the
 * controllers a real cluster runs (they mark CRDs established and Deployments rolled out).
 */
final class MockCluster implements AutoCloseable {

  /** Held so the level sticks: the mock web server logs every request through java.util.logging. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  final KubernetesMockServer server;
  final KubernetesClient client;
  /** The server's dispatcher, to stop serving a kind ({@link #refuseReads}). */
  private StandInApiServer.StandInDispatcher dispatcher;
  private final List<SharedIndexInformer<GenericKubernetesResource>> controllers = new ArrayList<>();
  private KubernetesClient controllerClient;

  MockCluster() {
    this(0);
  }

  /**
   * A stand-in whose client lists and watches again {@code watchReconnectMillis} after its
   * informers' list or watch failed, twice as long after each further failure (0: fabric8's
   * default, 1 s), so that a test of an informer whose watch ends waits that long, not seconds.
   */
  MockCluster(int watchReconnectMillis) {
    server = StandInApiServer.withExpectations(d -> dispatcher = d);
    Interceptor recorder = new Interceptor() {
      @Override
      public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
        String query = request.uri().getRawQuery();
        sent.add(new Sent(request.method(), request.uri().getRawPath() + (query == null ? "" : "?" + query),
            request instanceof io.fabric8.kubernetes.client.http.StandardHttpRequest r ? r.getContentType()
                : request.header("Content-Type"), request.bodyString()));
      }
    };
    client = server.createClient(b -> {
      b.withHttpClientBuilderConsumer(h -> h.addOrReplaceInterceptor("record", recorder));
      if (watchReconnectMillis > 0) {
        b.editOrNewConfig().withWatchReconnectInterval(watchReconnectMillis).endConfig();
      }
    });
  }

  /**
   * Waits until {@code done} holds, 10 ms apart, for at most {@code limit}, and says whether it
   * held: a provider reads through its informer, which sees a write a moment later (a count of
   * spins alone ran out before it on a loaded machine).
   */
  static boolean until(java.time.Duration limit, java.util.function.BooleanSupplier done) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() >= deadline) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /** {@link #until(java.time.Duration, java.util.function.BooleanSupplier)} for at most 10 s. */
  static boolean until(java.util.function.BooleanSupplier done) {
    return until(java.time.Duration.ofSeconds(10), done);
  }

  /** One request as the provider's client sent it (the mock consumes bodies, so they are kept here). */
  record Sent(String method, String path, String contentType, String body) {}

  final List<Sent> sent = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** The requests the main client sent since the last call, and forgets them. */
  List<Sent> takeSent() {
    List<Sent> out = List.copyOf(sent);
    sent.clear();
    return out;
  }

  /**
   * Answers from now on every GET of the objects of the resource at {@code groupVersionPath}
   * ({@code /api/v1}, {@code /apis/apps/v1}) named {@code plural} (in all namespaces, in one, one
   * object; with {@code collectionsOnly}, their lists and watches only) with {@code code} and
   * {@code body}, and ends the watches open on them: see {@link StandInApiServer.StandInDispatcher#refuse}.
   */
  void refuseReads(String groupVersionPath, String plural, boolean collectionsOnly, int code, String body) {
    java.util.regex.Pattern p = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(groupVersionPath)
        + "(/namespaces/[^/]+)?/" + java.util.regex.Pattern.quote(plural) + (collectionsOnly ? "" : "(/[^/]+)?"));
    dispatcher.refuse(path -> p.matcher(path).matches(), code, body);
  }

  /**
   * {@link #refuseReads} of the lists and watches of the objects named {@code plural} that select
   * no label, as an informer's are: its watch ends and it cannot list or watch again, while a list
   * by label ({@code ?labelSelector=...}) is still served, as it is to a client whose informer's
   * watch is down for the moment.
   */
  void refuseUnlabelledLists(String groupVersionPath, String plural, int code, String body) {
    java.util.regex.Pattern p = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(groupVersionPath)
        + "(/namespaces/[^/]+)?/" + java.util.regex.Pattern.quote(plural) + "(\\?.*)?");
    dispatcher.refuseRequests(path -> p.matcher(path).matches() && !path.contains("labelSelector="), code, body);
  }

  /** Serves again what {@link #refuseReads} refused. */
  void serveReadsAgain() {
    dispatcher.refuse(path -> false, 0, "");
  }

  /** How many requests were refused so far ({@link #refuseReads}). */
  int refused() {
    return dispatcher.refused();
  }

  /** Starts controllers that make CRDs established and Deployments available, as a real control plane would. */
  MockCluster withControllers() {
    controllerClient = server.createClient();
    control(KindTable.builtIn(KindTable.CRD).orElseThrow(), obj -> {
      var conditions = (List<?>) statusOf(obj).get("conditions");
      return conditions == null || conditions.isEmpty()
          ? "{\"status\":{\"conditions\":[{\"type\":\"Established\",\"status\":\"True\"}]}}" : null;
    });
    control(KindTable.builtIn("apps/Deployment").orElseThrow(), obj -> {
      long generation = obj.getMetadata().getGeneration() == null ? 0 : obj.getMetadata().getGeneration();
      Object observed = statusOf(obj).get("observedGeneration");
      if (observed instanceof Number n && n.longValue() >= generation) {
        return null;
      }
      Object spec = obj.getAdditionalProperties().get("spec");
      Object replicas = spec instanceof java.util.Map<?, ?> m && m.get("replicas") instanceof Number r ? r : 1;
      return "{\"status\":{\"observedGeneration\":" + generation + ",\"replicas\":" + replicas + ",\"updatedReplicas\":"
          + replicas + ",\"readyReplicas\":" + replicas + ",\"availableReplicas\":" + replicas + "}}";
    });
    control(KindTable.builtIn("networking.k8s.io/Ingress").orElseThrow(), obj -> statusOf(obj).containsKey("loadBalancer")
        ? null : "{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.10\"}]}}}");
    return this;
  }

  @SuppressWarnings("unchecked")
  private static java.util.Map<String, Object> statusOf(GenericKubernetesResource obj) {
    Object s = obj.getAdditionalProperties().get("status");
    return s instanceof java.util.Map<?, ?> m ? (java.util.Map<String, Object>) m : java.util.Map.of();
  }

  private void control(KindInfo kind, java.util.function.Function<GenericKubernetesResource, String> statusPatch) {
    var ops = controllerClient.genericKubernetesResources(KindInformers.context(kind));
    SharedIndexInformer<GenericKubernetesResource> informer = ops.inAnyNamespace().inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(GenericKubernetesResource obj) {
        reconcile(obj);
      }

      @Override
      public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
        reconcile(newObj);
      }

      @Override
      public void onDelete(GenericKubernetesResource obj, boolean deletedFinalStateUnknown) {}

      private void reconcile(GenericKubernetesResource obj) {
        String patch = statusPatch.apply(obj);
        if (patch != null && obj.getMetadata().getDeletionTimestamp() == null) {
          var r = kind.namespaced() ? ops.inNamespace(obj.getMetadata().getNamespace()) : ops;
          try {
            r.withName(obj.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
          } catch (RuntimeException e) {
            // the object went away meanwhile: nothing to report on
          }
        }
      }
    }, 0);
    controllers.add(informer);
  }

  /** Every request received so far, in order (takes them off the server's queue). */
  List<RecordedRequest> drainRequests() throws InterruptedException {
    List<RecordedRequest> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
      out.add(r);
    }
    return out;
  }

  /** The object as the mock stores it, or null. */
  GenericKubernetesResource get(String type, String namespace, String name) {
    KindInfo k = KindTable.builtIn(type).orElseThrow();
    var ops = client.genericKubernetesResources(KindInformers.context(k));
    return (k.namespaced() ? ops.inNamespace(namespace) : ops).withName(name).get();
  }

  @Override
  public void close() {
    controllers.forEach(SharedIndexInformer::stop);
    if (controllerClient != null) {
      controllerClient.close();
    }
    client.close();
    server.destroy();
  }
}
