package dev.gitops.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Origin;
import dev.gitops.api.Outcome;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.PatchOp;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.merge.Patches;
import dev.gitops.k8s.internal.KindHealth;
import dev.gitops.k8s.internal.KindInfo;
import dev.gitops.k8s.internal.KindInformers;
import dev.gitops.k8s.internal.KindTable;
import dev.gitops.k8s.internal.Kinds;
import dev.gitops.k8s.internal.KubernetesRules;
import dev.gitops.k8s.internal.Names;
import dev.gitops.k8s.internal.Normalization;
import dev.gitops.k8s.internal.ReadYourWrites;
import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a Kubernetes cluster in line with the manifests in Git.
 *
 * <pre>{@code
 * try (KubernetesProvider k8s = KubernetesProvider.fromKubeconfig(Path.of(System.getenv("KUBECONFIG")), null)
 *     .defaultNamespace("shop").build()) {
 *   Reconciler r = Reconciler.builder()
 *       .source(GitSource.builder().url("https://example.com/deploy.git").ref("main").build())
 *       .provider(k8s)
 *       .store(FileStateStore.open(Path.of("/var/lib/gitops")))
 *       .build();
 *   SyncResult result = r.sync();
 * }
 * }</pre>
 *
 * <p><b>Observe</b> reads informer caches, one informer per kind in play, started on first use and
 * kept current by its watch: a resync that changes nothing lists nothing and writes nothing. The
 * version token is {@code metadata.resourceVersion}. A kind whose informer is not watching (its
 * watch ended and the lists and watches after it are refused: the cluster stopped serving the
 * kind, the credentials lost {@code watch}; fabric8 keeps the stale cache meanwhile) is read from
 * the server instead, by observations and writes alike, until it watches again. A kind whose
 * informer cannot list (no permission, no such resource) makes its keys UNKNOWN with the
 * server's message, except that a
 * namespaced kind the credentials may not list cluster-wide (403: a Role per namespace, no
 * ClusterRole) is watched in each namespace its keys name instead, so only the keys of a namespace
 * whose list is refused too are UNKNOWN (see {@link Builder#namespaces} to name them up front); a custom kind
 * whose CustomResourceDefinition is in the desired state but not yet in the cluster, or in the
 * cluster but not Established, has no objects (ABSENT), so the CRD and its objects are created in
 * one sync. An object Git declares that is being deleted ({@code metadata.deletionTimestamp}
 * set, finalizers pending) is UNKNOWN,
 * naming its finalizers, until it is gone and is created again: it is neither reported in sync nor
 * updated (an update or apply that finds it being deleted is not sent, and is a conflict). A read
 * of an object from the server (right after a write of ours) answered 404 naming no object is its
 * kind not served at that apiVersion, not the object missing: UNKNOWN, naming the kind, the
 * apiVersion and the object, unless the kind's CustomResourceDefinition is gone, being deleted or
 * has never served it (then no object of it exists: ABSENT). A kind nothing in the cluster serves
 * (not of Kubernetes' own groups, defined by no CustomResourceDefinition of the cluster, its group
 * named by no APIService but the API server's own for versions other CRDs of the group serve) is
 * ABSENT too, logged at INFO: Kubernetes deletes a CRD's objects with it, so the keys of a kind
 * whose CRD was deleted are not UNKNOWN for good, and a create of such an object fails naming the
 * kind.
 *
 * <p><b>Apply</b> ({@link ApplyMode#CLIENT_SIDE}, the default) sends the change the engine
 * planned as a JSON Patch whose first operation sets {@code metadata.resourceVersion} to the
 * version observed, so the server refuses it (409) if the object changed meanwhile; such a change
 * (and one not sent because the informer already shows a newer object, or a create whose object
 * appeared) is reported as a {@linkplain Outcome#conflict conflict}, so the engine observes the key
 * again, plans it again and applies the new change once in the same sync; a second conflict leaves
 * it UNKNOWN until the next sync. The applied configuration is written to
 * {@code kubectl.kubernetes.io/last-applied-configuration} exactly as {@code kubectl apply} writes
 * it, unless the annotations would exceed 262,144 bytes (the engine's store keeps it anyway).
 * It is also read back: {@code observe} returns it as {@link Observation#lastApplied()}, so an
 * object {@code kubectl apply} created, once adopted, loses the fields kubectl applied that Git no
 * longer declares; the engine's own record, when it has one, always wins over the annotation.
 * Every applied object carries the label {@code app.kubernetes.io/managed-by: gitops} and the
 * annotations {@code gitops.dev/owner} and {@code gitops.dev/key}; an object another owner marked
 * is never taken over silently. Fields that cannot change in place (a Deployment's selector, a
 * Job's template, a Service's clusterIP, ...) make the plan a REPLACE, and a replace waits for
 * the old object's finalizers before it creates the new one. Never a Namespace or a
 * CustomResourceDefinition (everything inside would go), and a PersistentVolumeClaim only with
 * the {@code gitops.dev/force-replace: "true"} annotation (its volume would go): otherwise the
 * change is sent as an update, which the API server refuses naming the immutable field. Every
 * apply or delete that does not succeed ends with where Git declares the object ({@code "; declared
 * at apps/web.yaml:12"}), and a kind the cluster does not serve is named with what it serves of
 * that API group instead. A custom object whose CustomResourceDefinition does not serve it yet (created
 * in the same sync and not Established, which a real API server answers with 404 "the server could
 * not find the requested resource", health waits off or not) is written once the CRD is established,
 * waiting for it within the call's time; else the write is a TRANSIENT failure saying so, which the
 * engine retries and the next sync makes. The same holds when the read of the object before its
 * update, apply or replace is answered so (that is not the object gone), when the list of the kind
 * that a replace starts (its watch sees the old object go) is, and before its delete unless the
 * CRD has never served the kind (then there is nothing to delete).
 *
 * <p><b>Health</b> is built in for Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
 * Pods, PersistentVolumeClaims, LoadBalancer Services, Ingresses, CustomResourceDefinitions and
 * Namespaces, and for custom resources by their {@code Ready}/{@code Available} condition; add
 * your own with {@link HealthCheck}.
 */
public final class KubernetesProvider implements Provider, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesProvider.class);
  /** The API server's limit on the total size of an object's annotations. */
  public static final int ANNOTATIONS_LIMIT = 262_144;
  private static final FieldPath FORCE_REPLACE_PATH = FieldPath.of("metadata", "annotations", Annotations.FORCE_REPLACE);
  /** How long a write we made is looked up directly while the informer has not caught up with it. */
  private static final Duration READ_YOUR_WRITES = Duration.ofSeconds(30);

  private final KubernetesClient client;
  /**
   * {@link #client} with its own retries off, for the reads and writes of single objects: fabric8
   * sends a request answered 429 or 5xx again up to ten times over about 20 s, past the deadline
   * of the engine's call (which then abandons it, while a write may still land), and the engine's
   * retry policy retries the TRANSIENT failure on top, so an overloaded API server would get each
   * write dozens of times. It shares the client's connections and is closed with it.
   */
  private final KubernetesClient once;
  private final boolean ownsClient;
  private final String id;
  private final ApplyMode applyMode;
  private final String fieldManager;
  private final Duration syncTimeout;
  private final Set<String> scanTypes;
  /** The only namespaces namespaced kinds are listed in ({@link Builder#namespaces}); empty: all of them. */
  private final Set<String> namespaces;
  private final List<HealthCheck> healthChecks;
  private final Normalization normalization;
  /** Kinds in the desired state, and those out of it whose informer runs (their apiVersion kept). */
  private final Kinds kinds;
  private final KindInformers informers;
  private final MergeRules rules;
  private final KubernetesDecoder decoder;
  /** Keys we wrote whose informer has not shown the write yet (nor what the server answered since). */
  private final ReadYourWrites reads = new ReadYourWrites(READ_YOUR_WRITES);

  /** How long a namespaced kind whose cluster-wide list was forbidden is listed per namespace before trying again. */
  private static final long CLUSTER_WIDE_RETRY_NANOS = Duration.ofMinutes(10).toNanos();
  /** Namespaced kinds the credentials may not list cluster-wide (403): when that was found, and the server's message. */
  private final Map<String, Forbidden> forbiddenClusterWide = new ConcurrentHashMap<>();

  private record Forbidden(String message, long since) {}

  /** How long discovery's answer that the cluster does not serve a kind at a version is believed. */
  private static final long UNSERVED_NANOS = Duration.ofSeconds(30).toNanos();
  /**
   * Kinds discovery did not list, by {@code type@apiVersion}, with when it was asked and what the
   * cluster serves instead: not asked again for {@link #UNSERVED_NANOS}, or until this provider
   * applies a CustomResourceDefinition (which may serve them: its objects in the same sync are then
   * found).
   */
  private final Map<String, Unserved> unserved = new ConcurrentHashMap<>();

  /** When discovery said a kind is not served, and why in {@link #notServed}'s words once it was asked (else null). */
  private record Unserved(long since, String why) {
    boolean fresh(long now) {
      return now - since < UNSERVED_NANOS;
    }
  }

  /** The namespaces of the keys observed so far: where orphans of a kind listed per namespace are looked for. */
  private final Set<String> namespacesInPlay = ConcurrentHashMap.newKeySet();

  /** Kinds outside those in play where the one-time scan found objects with our label. */
  private final Map<String, Labelled> labelledKinds = new ConcurrentHashMap<>();
  private volatile boolean scanned;
  /**
   * What the scan could not read because the server answered 429 or 5xx (an aggregated API whose
   * server is down): kinds to list again, and group versions to ask discovery about again, on the
   * next call (guarded by the scan's lock).
   */
  private final Map<String, Labelled> rescan = new TreeMap<>();
  private final Set<String> rediscover = new TreeSet<>();
  /** Set by {@link #close}: the calls that reach the cluster throw ({@link #requireOpen}). */
  private volatile boolean closed;

  private KubernetesProvider(Builder b) {
    this.client = b.client;
    this.once = client.newClient(new io.fabric8.kubernetes.client.RequestConfigBuilder(
        client.getConfiguration().getRequestConfig()).withRequestRetryBackoffLimit(0).build()).adapt(KubernetesClient.class);
    this.ownsClient = b.ownsClient;
    this.id = b.decoder.providerId();
    this.applyMode = b.applyMode;
    this.fieldManager = b.fieldManager;
    this.syncTimeout = b.syncTimeout;
    this.scanTypes = Set.copyOf(b.scanTypes);
    // sorted (not Set.copyOf, whose order changes from run to run): messages list them in one order
    this.namespaces = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(b.namespaces));
    List<HealthCheck> checks = new ArrayList<>(b.healthChecks);
    if (b.loadHealthChecks) {
      ServiceLoader.load(HealthCheck.class).forEach(checks::add);
    }
    this.healthChecks = List.copyOf(checks);
    this.normalization = new Normalization(Annotations.MANAGED_BY, Set.of(Annotations.OWNER, Annotations.KEY),
        b.decoder.keepStatus());
    this.informers = new KindInformers(client);
    this.kinds = new Kinds(type -> informers.types().contains(type));
    this.rules = KubernetesRules.mergeRules(id);
    this.decoder = b.decoder.shared(normalization, kinds, this::liveKindForDecoder, this::servedWithoutCrd).build();
  }

  /** A builder over {@code client}; the caller keeps and closes the client. */
  public static Builder builder(KubernetesClient client) {
    return new Builder(Objects.requireNonNull(client, "client"), false);
  }

  /**
   * A builder over a client for the cluster a kubeconfig file names; the provider closes the client.
   *
   * @param kubeconfig the kubeconfig file, or null for the default ({@code KUBECONFIG}, {@code ~/.kube/config}, in-cluster)
   * @param context the context to use, or null for the file's current context
   * @throws IllegalArgumentException naming the file when it cannot be read, or a file it names (a CA,
   *     a client certificate or key) that is missing or cannot be used
   */
  public static Builder fromKubeconfig(Path kubeconfig, String context) {
    return new Builder(client(kubeconfig, context), true);
  }

  /**
   * A client for the cluster a kubeconfig file and context name, read and checked as {@link
   * #fromKubeconfig} reads them (what gitops-cluster's Lease backend uses, without a provider); the
   * caller closes it.
   *
   * <pre>{@code
   * try (var client = KubernetesProvider.client(Path.of("/etc/gitops/kubeconfig"), "prod")) {
   *   client.secrets().inNamespace("gitops").list();
   * }
   * }</pre>
   *
   * @param kubeconfig the kubeconfig file, or null for the default ({@code KUBECONFIG}, {@code ~/.kube/config}, in-cluster)
   * @param context the context to use, or null for the file's current context
   * @throws IllegalArgumentException naming the file when it cannot be read, or a file it names (a CA,
   *     a client certificate or key) that is missing or cannot be used
   */
  public static KubernetesClient client(Path kubeconfig, String context) {
    Config config = config(kubeconfig, context);
    String where = (kubeconfig == null ? "the default kubeconfig" : "kubeconfig " + kubeconfig)
        + (context == null ? "" : " (context " + context + ")") + ": cannot set up a client for " + config.getMasterUrl()
        + ": ";
    certificateAuthority(config).ifPresent(why -> {
      throw new IllegalArgumentException(where + why);
    });
    KubernetesClient client;
    try {
      client = new KubernetesClientBuilder().withConfig(config).build();
    } catch (KubernetesClientException e) {
      // the client reads the files the kubeconfig names (CA, client certificate and key) as it is built
      throw new IllegalArgumentException(where + setUpFailure(e), e);
    }
    return client;
  }

  /**
   * Why the certificate authority the kubeconfig names cannot be used, if it cannot: a file or
   * data that holds no X.509 certificate. The client would take it without a word and fail every
   * TLS handshake later ("unable to find valid certification path"), as if the server were wrong.
   * A missing file is left to the client's own message.
   */
  private static Optional<String> certificateAuthority(Config config) {
    if (config.isTrustCerts()) {
      return Optional.empty();  // insecure-skip-tls-verify: no certificate authority is used
    }
    byte[] bytes;
    String what;
    try {
      if (config.getCaCertData() != null && !config.getCaCertData().isBlank()) {
        what = "certificate-authority-data";
        bytes = java.util.Base64.getMimeDecoder().decode(config.getCaCertData().strip());
      } else if (config.getCaCertFile() != null && !config.getCaCertFile().isBlank()) {
        what = "certificate-authority " + config.getCaCertFile();
        Path file = Path.of(config.getCaCertFile());
        if (!Files.isRegularFile(file)) {
          return Optional.empty();
        }
        bytes = Files.readAllBytes(file);
      } else {
        return Optional.empty();
      }
    } catch (IllegalArgumentException e) {
      return Optional.of("certificate-authority-data is not base64: " + e.getMessage());
    } catch (java.io.IOException e) {
      return Optional.empty();  // the client's own read names the file and the reason
    }
    try {
      java.util.Collection<? extends java.security.cert.Certificate> certificates =
          java.security.cert.CertificateFactory.getInstance("X.509")
              .generateCertificates(new java.io.ByteArrayInputStream(bytes));
      return certificates.isEmpty() ? Optional.of(what + " holds no certificate") : Optional.empty();
    } catch (java.security.cert.CertificateException e) {
      return Optional.of(what + " holds no readable X.509 certificate (" + e.getMessage() + ")");
    }
  }

  /** Why the client could not be built: a file the kubeconfig names that is missing or bad, in words. */
  private static String setUpFailure(Throwable e) {
    Throwable deepest = e;
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.nio.file.NoSuchFileException f) {
        return "no such file " + f.getFile();
      }
      if (c instanceof java.nio.file.AccessDeniedException f) {
        return "cannot read " + f.getFile() + " (permission denied)";
      }
      deepest = c;
    }
    return deepest.getMessage() == null ? deepest.getClass().getSimpleName()
        : deepest.getClass().getSimpleName() + ": " + deepest.getMessage();
  }

  /**
   * The cluster a kubeconfig file and context name, as {@code context NAME at SERVER} (the current
   * context's name when {@code context} is null): what a reviewed plan records so that it never
   * runs against another cluster after the file's current context changed. Reads the file only.
   *
   * <pre>{@code
   * String cluster = KubernetesProvider.clusterOf(null, null);  // "context kind-dev at https://127.0.0.1:6443/"
   * }</pre>
   *
   * @param kubeconfig the kubeconfig file, or null for the default
   * @param context the context, or null for the file's current context
   * @throws IllegalArgumentException naming the file when it cannot be read
   */
  public static String clusterOf(Path kubeconfig, String context) {
    Config config = config(kubeconfig, context);
    String name = config.getCurrentContext() == null ? context : config.getCurrentContext().getName();
    return "context " + (name == null ? "(none)" : name) + " at " + config.getMasterUrl();
  }

  private static Config config(Path kubeconfig, String context) {
    Config config;
    if (kubeconfig == null) {
      config = context == null ? Config.autoConfigure(null) : Config.autoConfigure(context);
    } else {
      String text;
      try {
        text = Files.readString(kubeconfig, StandardCharsets.UTF_8);
      } catch (java.nio.file.NoSuchFileException e) {
        throw new IllegalArgumentException("kubeconfig " + kubeconfig + " does not exist", e);
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("cannot read kubeconfig " + kubeconfig + ": " + e, e);
      }
      try {
        config = Config.fromKubeconfig(context, text, kubeconfig.toString());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("kubeconfig " + kubeconfig + (context == null ? "" : " (context " + context + ")")
            + ": " + e.getMessage(), e);
      }
    }
    return config;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Optional<Decoder> decoder() {
    return Optional.of(decoder);
  }

  @Override
  public MergeRules mergeRules() {
    return rules;
  }

  @Override
  public JsonNode normalize(ResourceKey key, JsonNode live) {
    return normalization.normalize(key.type(), live);
  }

  @Override
  public boolean marksObjects() {
    return true;
  }

  /**
   * Throws when the provider is closed: its informers are stopped (and its client too, when it made
   * it), and starting them again would leave them running, watching, with nobody to stop them.
   */
  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException(this + " is closed: its informers are stopped; build a new provider to reach"
          + " the cluster again");
    }
  }

  // ------------------------------------------------------------------ kinds

  /** What the cluster says about a kind: its CRD, or discovery at {@code apiVersion}. */
  private Optional<KindInfo> liveKind(String type, String apiVersion) {
    Optional<KindInfo> crd = liveCrd(type);
    if (crd.isPresent()) {
      return crd;
    }
    String version = apiVersion == null || apiVersion.isEmpty() ? kinds.apiVersion(type).orElse("") : apiVersion;
    if (version.isEmpty() || !KindInfo.groupOf(version).equals(KindInfo.groupOfType(type))) {
      return Optional.empty();
    }
    String asked = type + "@" + version;
    Unserved known = unserved.get(asked);
    if (known != null && known.fresh(System.nanoTime())) {
      return Optional.empty();  // asked a moment ago: a repository of 500 such objects asks once, not 500 times
    }
    try {
      APIResourceList list = client.getApiResources(version);
      if (list != null && list.getResources() != null) {
        for (APIResource r : list.getResources()) {
          if (KindInfo.kindOfType(type).equals(r.getKind()) && r.getName() != null && !r.getName().contains("/")) {
            unserved.remove(asked);
            return Optional.of(new KindInfo(KindInfo.groupOfType(type), KindInfo.versionOf(version), r.getKind(), r.getName(),
                Boolean.TRUE.equals(r.getNamespaced())));
          }
        }
      }
      unserved(asked, null);
    } catch (KubernetesClientException e) {
      // discovery is a last resort for kinds neither built in nor defined by a CRD; not knowing is the answer
      LOG.debug("discovery of {} at {} failed: {}", type, version, e.getMessage());
      if (e.getCode() == 404) {
        unserved(asked, null);  // the group version is not served at all: as much an answer as a list without the kind
      }
    }
    return Optional.empty();
  }

  /**
   * Remembers that {@code asked} (type@apiVersion) is not served, with why when known, forgetting
   * answers too old to use; an answer still fresh keeps its time (the why adds to it).
   */
  private void unserved(String asked, String why) {
    long now = System.nanoTime();
    unserved.values().removeIf(u -> !u.fresh(now));
    unserved.merge(asked, new Unserved(now, why), (old, added) -> new Unserved(old.since(), why != null ? why : old.why()));
  }

  /**
   * What the decoder learns from the cluster: nothing when the cluster's CRDs cannot be read, so a
   * manifest that names its namespace still decodes and one that does not gets an error naming it.
   */
  private Optional<KindInfo> liveKindForDecoder(String type, String apiVersion) {
    if (closed) {
      return Optional.empty();  // decoded as without a cluster
    }
    try {
      return liveKind(type, apiVersion);
    } catch (KindInformers.Unavailable e) {
      LOG.debug("cannot ask the cluster about {} while decoding: {}", type, e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Whether the cluster serves {@code type} without a CustomResourceDefinition (an aggregated API,
   * whose server has its own rules for names); true when its CRDs cannot be read, so that the
   * decoder leaves the name to the server rather than refuse one it may accept.
   */
  private boolean servedWithoutCrd(String type, String apiVersion) {
    if (closed) {
      return false;  // decoded as without a cluster, where a kind that is not built in is taken for a custom one
    }
    try {
      return liveCrd(type).isEmpty() && liveKind(type, apiVersion).isPresent();
    } catch (KindInformers.Unavailable e) {
      LOG.debug("cannot tell whether {} is a custom resource while decoding: {}", type, e.getMessage());
      return true;
    }
  }

  /** The kind a live CustomResourceDefinition defines, read from the CRD informer. */
  private Optional<KindInfo> liveCrd(String type) {
    if (KindTable.builtIn(type).isPresent()) {
      return Optional.empty();
    }
    KindInfo crdKind = KindTable.builtIn(KindTable.CRD).orElseThrow();
    informers.synced(crdKind, syncTimeout);
    String group = KindInfo.groupOfType(type);
    String kind = KindInfo.kindOfType(type);
    for (GenericKubernetesResource crd : informers.list(KindTable.CRD, c -> true)) {
      JsonNode doc = json(crd);
      if (group.equals(doc.at("/spec/group").asText()) && kind.equals(doc.at("/spec/names/kind").asText())) {
        return Kinds.fromCrd(doc);
      }
    }
    return Optional.empty();
  }

  /** Why a CustomResourceDefinition does not serve its kind's objects (yet), as {@link #crdPending} finds it. */
  private enum CrdState {
    /** Only the desired state has it: its create has not reached the cluster (or the CRD informer) yet. */
    NOT_IN_CLUSTER,
    /** In the cluster, without {@code Established=True}: the API server serves none of its objects yet. */
    NOT_ESTABLISHED,
    /** Established, but without the version its objects are written at, which its CRD in the desired state serves. */
    VERSION_NOT_SERVED,
    /** {@code NamesAccepted=False}: another CRD holds its names; it is not established until that changes. */
    NAMES_NOT_ACCEPTED,
    /** Being deleted: its objects go with it. */
    DELETING;

    /** Whether it may serve the kind within moments, with nothing changed in Git: worth waiting for. */
    boolean waitable() {
      return this == NOT_IN_CLUSTER || this == NOT_ESTABLISHED || this == VERSION_NOT_SERVED;
    }
  }

  /** A kind whose CustomResourceDefinition does not serve it, in which state, and why in words. */
  private record CrdPending(CrdState state, String why) {}

  /**
   * Why the API server does not serve {@code kind}'s objects although a CustomResourceDefinition
   * defines it: its CRD is in the desired state only, not Established yet (the API server answers
   * 404 "the server could not find the requested resource" for its objects until then, and
   * discovery does not list the kind), established without the version the objects are written at
   * that Git's CRD serves, its names not accepted, or being deleted. Null for a built-in kind, a
   * kind no CRD (in the cluster or in Git) defines, and a kind its live CRD serves. Reads the CRD
   * informer (started by {@link #liveCrd}); no request.
   */
  private CrdPending crdPending(KindInfo kind) {
    if (KindTable.builtIn(kind.type()).isPresent()) {
      return null;
    }
    String name = kind.plural() + "." + kind.group();
    GenericKubernetesResource crd = crdOf(kind);
    boolean inGit = kinds.desired(kind.type()).isPresent();
    if (crd == null) {
      return inGit ? new CrdPending(CrdState.NOT_IN_CLUSTER, "its CustomResourceDefinition " + name
          + " is not in the cluster yet") : null;
    }
    name = crd.getMetadata().getName();
    if (crd.getMetadata().getDeletionTimestamp() != null) {
      return new CrdPending(CrdState.DELETING, "its CustomResourceDefinition " + name + " is being deleted (since "
          + crd.getMetadata().getDeletionTimestamp() + ")");
    }
    JsonNode doc = json(crd);
    if (!"True".equals(condition(doc, "Established").path("status").asText())) {
      JsonNode names = condition(doc, "NamesAccepted");
      if ("False".equals(names.path("status").asText())) {
        return new CrdPending(CrdState.NAMES_NOT_ACCEPTED, "its CustomResourceDefinition " + name
            + " is not established: its names are not accepted (" + names.path("message").asText(
                names.path("reason").asText("")) + ")");
      }
      return new CrdPending(CrdState.NOT_ESTABLISHED, "its CustomResourceDefinition " + name
          + " is not established yet");
    }
    if (inGit && !Kinds.servedVersions(doc).contains(kind.version())) {
      return new CrdPending(CrdState.VERSION_NOT_SERVED, "its CustomResourceDefinition " + name + " does not serve "
          + kind.version() + " yet (it serves " + String.join(", ", Kinds.servedVersions(doc)) + ")");
    }
    return null;
  }

  /**
   * Whether a CustomResourceDefinition of the cluster defines {@code kind} now, as the CRD informer
   * has it (false for a built-in kind, or while the CRDs are not listed): taken before a kind's
   * objects are read, so that a 404 for the kind after it can be told to be the CRD gone since (and
   * its objects with it; see {@link #noObjectsCanExist}).
   */
  private boolean definedByCrdNow(KindInfo kind) {
    return KindTable.builtIn(kind.type()).isEmpty() && informers.isSynced(KindTable.CRD) && crdOf(kind) != null;
  }

  /**
   * The CustomResourceDefinition of the cluster that defines {@code kind} (named {@code
   * <plural>.<group>}, else any of its group and kind), as the CRD informer has it, or null. No
   * request: the informer must be synced for a null to mean that there is none.
   */
  private GenericKubernetesResource crdOf(KindInfo kind) {
    GenericKubernetesResource crd = informers.cached(KindTable.CRD, "", kind.plural() + "." + kind.group());
    if (crd != null) {
      return crd;
    }
    return informers.list(KindTable.CRD, c -> {
      JsonNode spec = json(c).path("spec");
      return kind.group().equals(spec.path("group").asText()) && kind.kind().equals(spec.at("/names/kind").asText());
    }).stream().findFirst().orElse(null);
  }

  /** The condition of {@code type} in {@code doc}'s status, or a missing node. */
  private static JsonNode condition(JsonNode doc, String type) {
    for (JsonNode c : doc.path("status").path("conditions")) {
      if (type.equals(c.path("type").asText())) {
        return c;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  /**
   * Waits, on the CRD informer's events, until {@code kind}'s CustomResourceDefinition serves it
   * or no longer may within moments (see {@link CrdState#waitable()}), at most until shortly before
   * the call's deadline, and not past its cancellation.
   *
   * @return why it still does not serve the kind, or null once it does
   */
  private CrdPending awaitCrd(KindInfo kind, CallContext ctx) throws InterruptedException {
    Duration left = ctx.remaining();
    // answer before the deadline: a call the engine gives up on is UNKNOWN, not the transient failure it is
    Duration margin = left.dividedBy(10).compareTo(Duration.ofSeconds(1)) < 0 ? left.dividedBy(10) : Duration.ofSeconds(1);
    long end = System.nanoTime() + left.minus(margin).toNanos();
    CrdPending[] pending = {crdPending(kind)};
    while (pending[0] != null && pending[0].state().waitable() && !ctx.isDone()) {
      long now = System.nanoTime();
      if (now >= end) {
        break;
      }
      // woken by the CRD's watch; a quarter second at most, to notice the call's cancellation
      informers.awaitEvent(() -> (pending[0] = crdPending(kind)) == null || !pending[0].state().waitable(),
          Math.min(end, now + Duration.ofMillis(250).toNanos()));
    }
    return pending[0];
  }

  /**
   * Whether a 404 says that the API server does not serve the URL's kind rather than that the
   * object, or its namespace, is missing. A real server answers a missing object (or namespace)
   * with a Status that names it, in its details ({@code name}, and the resource as {@code kind})
   * and its message ({@code configmaps "cfg" not found}, {@code widgets.example.com "banner" not
   * found}); a kind it does not serve (its CRD not Established, a version removed) with "the
   * server could not find the requested resource" and details naming nothing, or a plain "404 page
   * not found" without a Status. A 404 that names nothing is the kind's.
   */
  private static boolean kindNotFound(KubernetesClientException e) {
    var status = e.getStatus();
    if (status == null) {
      return true;
    }
    if (status.getDetails() != null && status.getDetails().getName() != null && !status.getDetails().getName().isEmpty()) {
      return false;
    }
    String message = status.getMessage() == null ? "" : status.getMessage();
    return !message.matches("(?s).*\"[^\"]*\" not found.*");
  }

  /**
   * The kind of {@code type}: built in, defined by a live CRD, or found by discovery; empty when
   * the cluster does not serve it.
   *
   * @throws KindInformers.Unavailable when the cluster's CRDs cannot be read
   */
  private Optional<KindInfo> resolve(String type) {
    Optional<KindInfo> k = KindTable.builtIn(type);
    return (k.isPresent() ? k : liveKind(type, null)).map(this::asWritten);
  }

  /**
   * {@code k} at the version the manifests write it in, when that is another version of its group
   * ({@code autoscaling/v1} HorizontalPodAutoscalers while the table says v2, a custom object at a
   * served version other than its CRD's storage version): the server refuses a body whose
   * apiVersion is not the URL's, and objects read at another version have other fields.
   */
  private KindInfo asWritten(KindInfo k) {
    String written = kinds.apiVersion(k.type()).orElse(null);
    // CRDs are read at v1 for the provider's own needs (one informer per kind): never at another version
    if (written == null || k.type().equals(KindTable.CRD) || !KindInfo.groupOf(written).equals(k.group())) {
      return k;
    }
    String version = KindInfo.versionOf(written);
    return version.isEmpty() || version.equals(k.version()) ? k
        : new KindInfo(k.group(), version, k.kind(), k.plural(), k.namespaced());
  }

  // ------------------------------------------------------------------ observe

  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    requireOpen();
    Map<ResourceKey, Observation> out = new LinkedHashMap<>();
    Map<String, List<ResourceKey>> byType = new TreeMap<>();
    for (ResourceKey k : keys) {
      byType.computeIfAbsent(k.type(), t -> new ArrayList<>()).add(k);
    }
    Map<String, GroupServed> groups = new TreeMap<>();  // asked once per kind in an observation
    for (Map.Entry<String, List<ResourceKey>> e : byType.entrySet()) {
      String type = e.getKey();
      Optional<KindInfo> kind = Optional.empty();
      // whether a CRD of the cluster defines the kind when the observation begins: one gone by the time its objects
      // are listed or read took them along
      boolean definedByCrd = false;
      try {
        kind = resolve(type);
        if (kind.isEmpty()) {
          // no object of a kind the cluster does not serve can exist when its CRD is in Git (it will be created
          // first), or when nothing in the cluster could serve its API group
          GroupServed group = kinds.desired(type).isPresent() ? null
              : groups.computeIfAbsent(type, t -> groupServed(t, ctx));
          if (group != null && group.noServer() != null) {
            List<ResourceKey> ks = e.getValue();
            LOG.info("{} key(s) of {} ({}{}) taken for absent: {}", ks.size(), type, ks.stream().limit(3)
                .map(k -> k.scope().isEmpty() ? k.name() : k.scope() + "/" + k.name())
                .collect(java.util.stream.Collectors.joining(", ")), ks.size() > 3 ? ", ..." : "", group.noServer());
          }
          String why = group == null || group.noServer() != null ? null : notServed(type) + group.unknown();
          for (ResourceKey k : e.getValue()) {
            out.put(k, why == null ? Observation.absent(k) : Observation.unknown(k, why + declaredAt(k)));
          }
          continue;
        }
        Set<String> scopes = new TreeSet<>();
        e.getValue().forEach(k -> scopes.add(k.scope()));
        if (kind.get().namespaced()) {
          namespacesInPlay.addAll(scopes);
        }
        definedByCrd = definedByCrdNow(kind.get());
        Map<String, KindInformers.Unavailable> unreadable = watch(kind.get(), () -> scopes, ctx);
        KindInfo of = kind.get();
        String[] servedOnce = {null};  // discovery asked once for the keys of a kind the server does not serve
        Supplier<String> served = () -> servedOnce[0] != null ? servedOnce[0]
            : (servedOnce[0] = served(type, of.apiVersion()));
        KubernetesClientException[] kindUnserved = {null};  // one read answered 404 for the kind answers for all
        for (ResourceKey k : e.getValue()) {
          KindInformers.Unavailable why = unreadable.get(k.scope());
          out.put(k, why == null ? observeOne(k, of, definedByCrd, served, kindUnserved)
              : Observation.unknown(k, why.getMessage()));
        }
      } catch (KindInformers.Unavailable ex) {
        String noObjects = ex.code() == 404 && kind.isPresent() ? noObjectsCanExist(kind.get(), definedByCrd) : null;
        if (noObjects != null) {
          // as for a read answered so (unservedOnRead): its CRD explains the 404, no object of the kind exists; a
          // create waits for the CRD to be established
          LOG.debug("{}: its list was answered {}: {}; no object of it can exist", type, ex.getMessage(), noObjects);
          for (ResourceKey k : e.getValue()) {
            out.put(k, Observation.absent(k));
          }
          continue;
        }
        CrdPending pending = ex.code() == 404 && kind.isPresent() ? crdPending(kind.get()) : null;
        // a 404 for a whole kind: the cluster does not serve it at that version (a CRD that lost it, a removed
        // beta), or its CRD does not serve it yet (not established: discovery does not list it either)
        String served = pending != null ? "; " + pending.why()
            : ex.code() == 404 && kind.isPresent() ? "; " + served(type, kind.get().apiVersion()) : "";
        for (ResourceKey k : e.getValue()) {
          out.put(k, Observation.unknown(k, "cannot list " + type + " at " + client.getMasterUrl() + ": " + ex.getMessage()
              + (ex.code() == 403 && kind.isPresent() && !kind.get().namespaced() ? "; " + type
                  + " is cluster-scoped: the credentials need list and watch on it cluster-wide (a ClusterRole)" : "")
              + served + (served.isEmpty() ? "" : declaredAt(k))));
        }
      }
    }
    return out;
  }

  /**
   * What can serve an API group the cluster serves no kind of that is asked for: {@code noServer}
   * says why nothing in the cluster can (so no object of it exists), else is null, and {@code
   * unknown} adds to the UNKNOWN reason why that cannot be told ({@code "; ..."}, or "").
   */
  private record GroupServed(String noServer, String unknown) {}

  /**
   * Whether anything in the cluster could serve objects of {@code type}, a kind the cluster does
   * not serve (no CustomResourceDefinition defines it, discovery does not list it): not when its
   * API group is not one of Kubernetes' own ({@link KindTable#isKubernetesGroup}), no
   * CustomResourceDefinition of the cluster defines the kind (the CRD informer, watching), and no
   * APIService ({@code apiregistration.k8s.io/v1}, named {@code <version>.<group>}: the
   * aggregator's record of every group version the API server or an aggregated server serves)
   * names the group, other than the API server's own (no {@code spec.service}) for a version that
   * CRDs of the group serve: the API server registers one such APIService for each group version
   * its CRDs serve, so those speak for the CRDs the informer shows, none of which defines the
   * kind (its informer, started here, watching). Then no object of the kind can exist: Kubernetes
   * deletes a CRD's objects with it, and nothing else serves a kind without an APIService. So the
   * keys the engine observes of a kind whose CRD was deleted before this process started
   * (recorded, or declared in Git without its CRD) are ABSENT, not UNKNOWN forever, whether other
   * CRDs of its group remain or not. A group of Kubernetes' own is never said so (a version removed
   * by an upgrade, the objects kept at another); nor a group an aggregated APIService (one with a
   * service) names, nor one with an APIService of the API server's own for a version no CRD of
   * the group serves (its last CRD of that version gone a moment ago, or one the CRD informer does
   * not show yet). Credentials that may not list and watch APIServices (403) leave the question
   * open, saying so.
   */
  private GroupServed groupServed(String type, CallContext ctx) {
    String group = KindInfo.groupOfType(type);
    String kind = KindInfo.kindOfType(type);
    if (KindTable.isKubernetesGroup(group)) {
      return new GroupServed(null, "");
    }
    if (!informers.isWatching(KindTable.CRD, "")) {
      return new GroupServed(null, "; whether a CustomResourceDefinition defines a kind of API group " + group
          + " cannot be told (the cluster's CustomResourceDefinitions are not listed and watched now)");
    }
    List<GenericKubernetesResource> crds = informers.list(KindTable.CRD, c -> group.equals(json(c).at("/spec/group")
        .asText()));
    if (crds.stream().anyMatch(c -> kind.equals(json(c).at("/spec/names/kind").asText()))) {
      return new GroupServed(null, "");  // its CRD defines it (what served() says of it): not this question
    }
    // the group versions the API server registered an APIService of its own for, on behalf of these CRDs
    Set<String> crdVersions = new TreeSet<>();
    crds.forEach(c -> crdVersions.addAll(Kinds.servedVersions(json(c))));
    KindInfo apiServices = KindTable.builtIn(API_SERVICE).orElseThrow();
    String cannotTell = "; whether an APIService serves API group " + group + " (so that its objects may exist) cannot"
        + " be told: ";
    try {
      informers.synced(apiServices, budget(ctx));
    } catch (KindInformers.Unavailable e) {
      // (interrupted: its interrupt is set again, and the key is UNKNOWN saying so)
      return new GroupServed(null, cannotTell + "cannot list " + API_SERVICE + ": " + e.getMessage()
          + (e.code() == 403 ? " (the credentials need list and watch on apiservices of apiregistration.k8s.io"
              + " cluster-wide, a ClusterRole, for keys of a kind nothing serves to be taken for absent)" : ""));
    }
    if (!informers.isWatching(API_SERVICE, "")) {
      return new GroupServed(null, cannotTell + "the cluster's APIServices are not watched now");
    }
    List<String> serving = informers.list(API_SERVICE, a -> group.equals(json(a).at("/spec/group").asText())
        || a.getMetadata().getName() != null && a.getMetadata().getName().endsWith("." + group)
            && a.getMetadata().getName().indexOf('.') == a.getMetadata().getName().length() - group.length() - 1)
        .stream().filter(a -> json(a).at("/spec/service").isObject() || !crdVersions.contains(apiServiceVersion(a)))
        .map(a -> {
          JsonNode service = json(a).at("/spec/service");
          // local: the API server's own (a CRD's group keeps one a moment after its last CRD of that version is gone)
          return a.getMetadata().getName() + (service.isObject() ? " (by service " + service.path("namespace").asText()
              + "/" + service.path("name").asText() + ")" : " (the API server's own)");
        }).sorted().toList();
    if (!serving.isEmpty()) {
      return new GroupServed(null, "; APIService " + String.join(", ", serving) + " serves API group " + group
          + ", so its objects may be there (an aggregated API's server that does not serve the kind now"
          + (crds.isEmpty() ? "" : ", or a CustomResourceDefinition of the group not seen yet or just deleted") + ")");
    }
    if (crds.isEmpty()) {
      return new GroupServed("no CustomResourceDefinition of the cluster defines a kind of API group " + group
          + " and no APIService serves it: nothing in the cluster can serve its objects, so none exists (Kubernetes"
          + " deletes a CustomResourceDefinition's objects with it)", "");
    }
    return new GroupServed("no CustomResourceDefinition of the cluster defines " + kind + " (those of API group " + group
        + ", " + crds.stream().map(c -> c.getMetadata().getName()).sorted().collect(java.util.stream.Collectors.joining(
            ", ")) + ", define other kinds) and no APIService but the API server's own for them serves the group:"
        + " nothing in the cluster can serve " + kind + ", so none exists (Kubernetes deletes a"
        + " CustomResourceDefinition's objects with it)", "");
  }

  /** The version an APIService registers: its {@code spec.version}, else its name's {@code <version>.}. */
  private static String apiServiceVersion(GenericKubernetesResource apiService) {
    String version = json(apiService).at("/spec/version").asText("");
    String name = Objects.requireNonNullElse(apiService.getMetadata().getName(), "");
    return !version.isEmpty() || name.indexOf('.') < 0 ? version : name.substring(0, name.indexOf('.'));
  }

  /** The key type of APIServices, which record the API groups the cluster serves. */
  private static final String API_SERVICE = "apiregistration.k8s.io/APIService";

  /**
   * Starts (or finds) the informers that see {@code kind}'s objects in the namespaces {@code scopes}
   * gives (asked only when the kind is listed per namespace): the kind's
   * informer across all namespaces; or, for a namespaced kind the credentials may not list
   * cluster-wide (403) or when {@link Builder#namespaces} limits the namespaces, one informer per
   * namespace, only in those named. A cluster-wide list found forbidden is tried again after ten
   * minutes (the namespaces' informers keep serving meanwhile).
   *
   * @return the namespaces among {@code scopes} whose objects cannot be listed, each with why (its
   *     message) and the server's answer, when it answered (its cause)
   * @throws KindInformers.Unavailable when the kind cannot be listed at all
   */
  private Map<String, KindInformers.Unavailable> watch(KindInfo kind, Supplier<Set<String>> scopes, CallContext ctx) {
    String type = kind.type();
    Forbidden forbidden = forbiddenClusterWide.get(type);
    if (!kind.namespaced() || namespaces.isEmpty()
        && (forbidden == null || System.nanoTime() - forbidden.since() > CLUSTER_WIDE_RETRY_NANOS)) {
      try {
        informers.synced(kind, budget(ctx));
        if (forbiddenClusterWide.remove(type) != null) {
          LOG.info("{} can be listed cluster-wide at {} now: its informers per namespace are replaced by one", type,
              client.getMasterUrl());
        }
        return Map.of();
      } catch (KindInformers.Unavailable e) {
        if (e.code() != 403 || !kind.namespaced()) {
          throw e;
        }
        forbidden = new Forbidden(e.getMessage(), System.nanoTime());
        if (forbiddenClusterWide.put(type, forbidden) == null) {
          LOG.info("{} may not be listed cluster-wide at {} ({}): listing it in each namespace the desired state or the"
              + " state store names instead", type, client.getMasterUrl(), e.getMessage());
        }
      }
    }
    Set<String> listed = new TreeSet<>();
    Map<String, KindInformers.Unavailable> out = new TreeMap<>();
    for (String ns : scopes.get()) {
      if (ns.isEmpty()) {
        out.put(ns, new KindInformers.Unavailable(type + " is namespaced, but this key names no namespace", null));
      } else if (!namespaces.isEmpty() && !namespaces.contains(ns)) {
        out.put(ns, new KindInformers.Unavailable("namespace " + ns + " is not among the namespaces the provider lists ("
            + String.join(", ", namespaces) + "; set by the CLI's --watch-namespaces, the agent's namespaces: or"
            + " KubernetesProvider.Builder.namespaces): " + type + " objects there are not read; add the namespace there"
            + " to manage it", null));
      } else {
        listed.add(ns);
      }
    }
    String clusterWide = forbidden == null ? null : forbidden.message();
    informers.syncedIn(kind, listed, budget(ctx)).forEach((ns, e) -> out.put(ns, new KindInformers.Unavailable(
        "cannot list " + type + " in namespace " + ns + " at " + client.getMasterUrl() + ": " + e.getMessage()
            + (e.code() != 403 ? "" : clusterWide == null
                ? "; the credentials need list and watch on it in namespace " + ns + " (a Role and RoleBinding there)"
                : " (nor cluster-wide: " + clusterWide + "); the credentials need list and watch on it in namespace "
                    + ns + " (a Role and RoleBinding there) or cluster-wide (a ClusterRole)"), e.getCause())));
    return out;
  }

  /**
   * The informer that sees {@code key}'s namespace, synced.
   *
   * @throws KindInformers.Unavailable naming why not, with the server's answer when it answered
   */
  private void watch(KindInfo kind, ResourceKey key, CallContext ctx) {
    KindInformers.Unavailable why = watch(kind, () -> Set.of(key.scope()), ctx).get(key.scope());
    if (why != null) {
      throw why;
    }
  }

  /** {@code "; declared at <file>:<line>"} when the desired state declares {@code key}, else "". */
  private String declaredAt(ResourceKey key) {
    return decoder.originOf(key).map(o -> "; " + o.declaredAt()).orElse("");
  }

  /**
   * Where the object of {@code change} is declared, to end its error with ({@link
   * Change#declaredAt()}'s wording): {@code "; declared at <file>:<line>"} for what Git declares;
   * for a delete, where it was declared when last applied (and at which revision, as it is no
   * longer in Git).
   */
  private String declaredAt(Change change) {
    Resource r = change.resource();
    Origin o = r != null && !r.origin().path().isEmpty() ? r.origin() : decoder.originOf(change.key()).orElse(null);
    if (o == null) {
      return r != null ? "; " + Origin.NONE.declaredAt() : "; an orphan (our mark, in no inventory): declared in no file";
    }
    return "; " + Change.declaredAt(o, change.desired() == null);
  }

  /**
   * Why {@code type}'s objects cannot be read or written: the cluster does not serve the kind at
   * the apiVersion the manifests write, with what it serves of that group instead.
   */
  private String notServed(String type) {
    String apiVersion = kinds.apiVersion(type).orElse(null);
    String asked = type + "@" + apiVersion;
    Unserved known = unserved.get(asked);
    if (known != null && known.why() != null && known.fresh(System.nanoTime())) {
      return known.why();  // what discovery said a moment ago: every sync of 500 such objects asks once
    }
    String why = "the cluster has no kind " + type + (apiVersion == null ? "" : " at " + apiVersion) + ": "
        + served(type, apiVersion);
    unserved(asked, why);
    return why;
  }

  /**
   * What the cluster serves of {@code type}'s API group, by discovery, for a message about a kind
   * or an apiVersion it does not serve: the group's versions and their kinds, and where {@code
   * type}'s kind is among them; or that the cluster serves no version of the group, with what the
   * cluster's CustomResourceDefinitions say of it: for one of Kubernetes' own groups ({@code
   * extensions}, removed by an upgrade) nothing of CRDs; for another, whether a CRD defines a kind
   * of it, so a group no CRD defines is not taken for a custom one whose CRD is missing (it may be
   * an aggregated API whose APIService is gone). Errors only: nothing is cached.
   */
  private String served(String type, String apiVersion) {
    String group = KindInfo.groupOfType(type);
    String kind = KindInfo.kindOfType(type);
    // a group not Kubernetes' own: whether a CRD of the cluster defines a kind of it (null: the CRDs are not listed)
    Boolean crdGroup = KindTable.isKubernetesGroup(group) || !informers.isSynced(KindTable.CRD) ? null
        : !informers.list(KindTable.CRD, c -> group.equals(json(c).at("/spec/group").asText())).isEmpty();
    Map<String, List<String>> byVersion = new LinkedHashMap<>();
    try {
      List<String> versions = new ArrayList<>();
      if (group.isEmpty()) {
        versions.add("v1");  // the core group: /api/v1
      } else {
        var groups = client.getApiGroups();
        var g = groups == null || groups.getGroups() == null ? null : groups.getGroups().stream()
            .filter(x -> group.equals(x.getName())).findFirst().orElse(null);
        if (g == null || g.getVersions() == null || g.getVersions().isEmpty()) {
          String why = KindTable.isKubernetesGroup(group)
              ? ", one of Kubernetes' own API groups (removed by an upgrade, or not enabled on this cluster)"
              : Boolean.TRUE.equals(crdGroup) ? ": CustomResourceDefinitions of the cluster define kinds of it, yet"
                  + " it is not served (are they not established?)"
              : Boolean.FALSE.equals(crdGroup) ? ": no CustomResourceDefinition of the cluster defines a kind of it and"
                  + " no APIService serves it (an API removed or whose APIService is gone, a CustomResourceDefinition"
                  + " not in the cluster, or a misspelled group)"
              : " (a removed or aggregated API, or a custom group whose CustomResourceDefinition is not in the"
                  + " cluster)";
          return "the cluster serves no version of API group " + group + why + KindTable.elsewhere(type);
        }
        g.getVersions().forEach(v -> versions.add(v.getGroupVersion()));
      }
      for (String gv : versions) {
        APIResourceList list = client.getApiResources(gv);
        byVersion.put(gv, list == null || list.getResources() == null ? List.of() : list.getResources().stream()
            .filter(r -> r.getName() != null && !r.getName().contains("/") && r.getKind() != null)
            .map(APIResource::getKind).distinct().sorted().toList());
      }
    } catch (KubernetesClientException e) {
      return "what the cluster serves of API group " + (group.isEmpty() ? "v1 (core)" : group) + " could not be read: "
          + KindInformers.message(e);
    }
    List<String> parts = new ArrayList<>();
    List<String> servingKind = new ArrayList<>();
    byVersion.forEach((gv, ks) -> {
      parts.add(gv + " (" + (ks.isEmpty() ? "no kinds" : ks.size() <= 25 ? String.join(", ", ks)
          : String.join(", ", ks.subList(0, 25)) + " and " + (ks.size() - 25) + " more") + ")");
      if (ks.contains(kind)) {
        servingKind.add(gv);
      }
    });
    String serves = "the cluster serves " + String.join(" and ", parts);
    if (!servingKind.isEmpty()) {
      return serves + "; " + kind + " is served at " + String.join(" and ", servingKind)
          + (apiVersion == null || servingKind.contains(apiVersion) ? "" : ", not at " + apiVersion);
    }
    return serves + "; none of them is " + kind + (Boolean.TRUE.equals(crdGroup)
        ? " (CustomResourceDefinitions of the cluster define kinds of it: is its CustomResourceDefinition missing?)"
        : Boolean.FALSE.equals(crdGroup) ? " (no CustomResourceDefinition of the cluster defines a kind of that group:"
            + " its API is aggregated, and its server does not have the kind)" : "")
        + KindTable.elsewhere(type);
  }

  private Duration budget(CallContext ctx) {
    Duration left = ctx.remaining();
    return left.compareTo(syncTimeout) < 0 ? left : syncTimeout;
  }

  /**
   * What the cluster has of {@code key}: the informer's copy, or the server's (see {@link
   * #current}). A read the server answers 404 naming no object is its kind not served, not the
   * object missing: see {@link #unservedOnRead}.
   *
   * @param definedByCrd whether a CustomResourceDefinition of the cluster defined the kind when the
   *     observation began
   * @param served what the cluster serves of the kind's group ({@link #served}), asked when needed
   * @param kindUnserved the observation's first read of the kind answered 404 for the kind, or null
   *     in it (see {@link #current(ResourceKey, KindInfo, KubernetesClientException[])})
   */
  private Observation observeOne(ResourceKey key, KindInfo kind, boolean definedByCrd, Supplier<String> served,
      KubernetesClientException[] kindUnserved) {
    GenericKubernetesResource obj;
    try {
      obj = current(key, kind, kindUnserved);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404 && kindNotFound(e)) {
        return unservedOnRead(key, kind, e, definedByCrd, served);
      }
      return Observation.unknown(key, "cannot read " + key + ": " + KindInformers.message(e));
    }
    if (obj == null) {
      return Observation.absent(key);
    }
    JsonNode live = json(obj);
    if (obj.getMetadata().getDeletionTimestamp() != null) {
      Optional<Origin> declared = decoder.originOf(key);
      if (declared.isPresent()) {
        // Git wants it but it is going away: an update would land on an object about to vanish (or be
        // refused: no new finalizers once deleting), and a NOOP would call it in sync. Argo CD waits too.
        return Observation.unknown(key, key + " " + deleting(obj) + "; Git declares it at " + declared.get()
            + ": it is created again once it is gone");
      }
      // not in Git: our own delete (or an orphan's) waits for it to be ABSENT, finalizers and all
    }
    OwnerMark mark = markOf(live);
    Observation seen = Observation.present(key, live, live.at("/metadata/resourceVersion").asText(""),
        mark != null ? mark : controllerOf(key, live));
    // Server-side apply removes only the fields its own field manager applied: a kubectl record
    // there would plan removals the server does not make.
    return applyMode == ApplyMode.CLIENT_SIDE ? seen.withLastApplied(recordedLastApplied(key, live)) : seen;
  }

  /**
   * What the read of {@code key}'s object answered 404 for its kind ({@link #kindNotFound}: the
   * Status names no object) says of it. ABSENT only when no object of the kind can exist: its
   * CustomResourceDefinition is gone from the cluster, having defined the kind when the observation
   * began (the API server deletes a CRD's objects before the CRD itself), is being deleted (its
   * objects go with it), or has never served the kind (in Git only, not Established, its names not
   * accepted: a CRD stays Established until it is deleted, so one that is not has never served an
   * object), as a delete's read answered so deletes nothing. Otherwise (a built-in kind at a
   * version the cluster no longer serves, a version its CRD does not serve, an aggregated API gone)
   * the object may well be there, at a version the server serves: UNKNOWN, naming the kind, the
   * apiVersion, the object and what the cluster serves instead, so the engine neither drops it
   * from what it owns (were it absent and no longer in Git) nor creates it again (were it in Git).
   */
  private Observation unservedOnRead(ResourceKey key, KindInfo kind, KubernetesClientException e, boolean definedByCrd,
      Supplier<String> served) {
    String object = key.scope().isEmpty() ? key.name() : key.scope() + "/" + key.name();
    String custom = "";
    if (KindTable.builtIn(kind.type()).isEmpty()) {
      if (!informers.isWatching(KindTable.CRD, "")) {
        custom = "; whether its CustomResourceDefinition is gone cannot be told (the cluster's CustomResourceDefinitions"
            + " are not listed and watched now)";
      } else {
        String noObjects = noObjectsCanExist(kind, definedByCrd);
        if (noObjects != null) {
          LOG.debug("{}: its read was answered {}: {}; no object of it can exist", key, KindInformers.message(e),
              noObjects);
          return Observation.absent(key);
        }
        CrdPending pending = crdPending(kind);
        custom = pending != null ? "; " + pending.why() : crdOf(kind) == null
            ? "; no CustomResourceDefinition of the cluster defines it (an aggregated API's, whose APIService may be gone)"
            : "";
      }
    }
    return Observation.unknown(key, "cannot read " + key + ": " + KindInformers.message(e) + ": the API server does not"
        + " serve " + kind.kind() + " at " + kind.apiVersion() + " (its 404 names no object, so it is not " + object
        + " missing)" + custom + "; " + served.get() + "; " + object + " may be there at a"
        + " version the server serves, so it is not taken for absent (neither created again nor dropped from what this"
        + " owner created): write its manifest at an apiVersion the cluster serves, or have the cluster serve "
        + kind.apiVersion() + " again" + declaredAt(key));
  }

  /**
   * Why no object of {@code kind} can exist, its CustomResourceDefinition explaining a 404 for the
   * kind (to its list or to a read of one of its objects alike), or null when nothing explains it:
   * the CRD is gone from the cluster, having defined the kind when the observation began ({@code
   * definedByCrd}; the API server deletes a CRD's objects before the CRD itself), is being deleted
   * (its objects go with it), or has never served the kind (in Git only, not Established, its names
   * not accepted: a CRD stays Established until it is deleted, so one that is not has never served
   * an object), whether Git declares it or not. Not a version its established CRD does not serve
   * (the objects are there, at the versions it serves), nor a built-in kind. Null too unless the
   * CRD informer is watching (a stale list of CRDs explains nothing). No request.
   */
  private String noObjectsCanExist(KindInfo kind, boolean definedByCrd) {
    if (KindTable.builtIn(kind.type()).isPresent() || !informers.isWatching(KindTable.CRD, "")) {
      return null;
    }
    CrdPending pending = crdPending(kind);
    if (pending != null) {
      return pending.state() == CrdState.VERSION_NOT_SERVED ? null : pending.why();
    }
    return definedByCrd && crdOf(kind) == null ? "its CustomResourceDefinition " + kind.plural() + "." + kind.group()
        + " is gone, and its objects with it" : null;
  }

  /** {@code "is being deleted (since <time>, waiting for finalizers ...)"}. */
  private static String deleting(GenericKubernetesResource obj) {
    List<String> finalizers = obj.getMetadata().getFinalizers();
    return "is being deleted (since " + obj.getMetadata().getDeletionTimestamp()
        + (finalizers == null || finalizers.isEmpty() ? ""
            : ", waiting for finalizer" + (finalizers.size() == 1 ? " " : "s ") + String.join(", ", finalizers))
        + ")";
  }

  /**
   * The last-applied configuration {@code kubectl apply} (or this provider) wrote on the object, or
   * null when it has none or it is not a JSON object. The engine merges from it only when its store
   * has no record of its own for the key (an object {@code kubectl apply} created, being adopted).
   */
  private static JsonNode recordedLastApplied(ResourceKey key, JsonNode live) {
    JsonNode text = live.path("metadata").path("annotations").path(Annotations.LAST_APPLIED);
    if (!text.isTextual()) {
      return null;
    }
    try {
      JsonNode doc = Serialization.jsonMapper().readTree(text.asText());
      if (doc != null && doc.isObject()) {
        return doc;
      }
      LOG.debug("{}: annotation {} is not a JSON object; ignored", key, Annotations.LAST_APPLIED);
    } catch (IOException e) {
      // An annotation edited by hand into something unreadable records nothing we can merge from:
      // the object is planned as if it had none (live-only fields are kept), never a failed sync.
      LOG.warn("{}: annotation {} is not valid JSON ({}); ignored", key, Annotations.LAST_APPLIED, e.getMessage());
    }
    return null;
  }

  /**
   * The object as the cluster has it now: from the informer, or read directly while a write of
   * ours has not reached the informer yet (so an apply is never verified against an older copy),
   * or while the informer is not watching (its cache kept, stale, while fabric8 lists and watches
   * again: see {@link #current(ResourceKey, KindInfo, KubernetesClientException[])}), and never a
   * copy older than one the server already answered ({@link ReadYourWrites}). Null when
   * it is missing. A read the server answers 404 for the kind ({@link #kindNotFound}: naming no
   * object, as a real server answers while the kind's CustomResourceDefinition is not Established,
   * or for a version it no longer serves) is thrown, never taken for the object missing as
   * fabric8's {@code get()} takes any 404: a write's is waited for by {@link #applyOne} when a CRD
   * explains it, else fails naming the kind the server does not serve; an observation's is told
   * apart by {@link #unservedOnRead}.
   */
  private GenericKubernetesResource current(ResourceKey key, KindInfo kind) {
    return current(key, kind, null);
  }

  /**
   * {@link #current(ResourceKey, KindInfo)}, where {@code kindUnserved}, when not null, holds the
   * first read of the same observation answered 404 for the kind ({@link #kindNotFound}), which
   * is thrown again instead of reading: the kind's URL is the same for all its keys, so an
   * observation of thousands of keys of a kind the cluster stopped serving sends one read, not
   * thousands. An informer not watching ({@link KindInformers#isWatching}) is not read: its cache
   * is as old as its watch, so it would show an object gone since as there and one made since (by
   * us, past the read-your-writes window) as absent.
   */
  private GenericKubernetesResource current(ResourceKey key, KindInfo kind, KubernetesClientException[] kindUnserved) {
    Supplier<GenericKubernetesResource> server = () -> {
      if (kindUnserved != null && kindUnserved[0] != null) {
        throw kindUnserved[0];
      }
      try {
        return read(key, kind);
      } catch (KubernetesClientException e) {
        if (kindUnserved != null && e.getCode() == 404 && kindNotFound(e)) {
          kindUnserved[0] = e;
        }
        throw e;
      }
    };
    if (!informers.isSynced(key.type(), key.scope())) {
      return server.get();  // applied before anything of its kind was observed: ask the server
    }
    if (!informers.isWatching(key.type(), key.scope())) {
      // its watch is down, the cache kept: the server's answer (a 404 for the kind is UNKNOWN, not the object missing)
      return server.get();
    }
    return reads.current(key, informers.cached(key.type(), key.scope(), key.name()), server);
  }

  /** The object as the server has it, or null when it is missing; see {@link #current}. */
  private GenericKubernetesResource read(ResourceKey key, KindInfo kind) {
    try {
      return resource(kind, key).require();
    } catch (io.fabric8.kubernetes.client.ResourceNotFoundException e) {
      // require() wraps whatever the server answered, with its status, in this exception
      KubernetesClientException answer = e.getCause() instanceof KubernetesClientException k ? k
          : new KubernetesClientException(e.getMessage(), e);
      if (answer.getCode() != 404) {
        throw answer;
      }
      if (kindNotFound(answer)) {
        throw answer;  // the kind is not served (its CRD not established, its version not served), not the object gone
      }
      return null;
    }
  }

  private static OwnerMark markOf(JsonNode live) {
    JsonNode meta = live.path("metadata");
    if (!Annotations.MANAGED_BY_VALUE.equals(meta.path("labels").path(Annotations.MANAGED_BY).asText())) {
      return null;
    }
    String owner = meta.path("annotations").path(Annotations.OWNER).asText("");
    String key = meta.path("annotations").path(Annotations.KEY).asText("");
    if (owner.isEmpty() || key.isEmpty()) {
      return null;
    }
    try {
      return new OwnerMark(owner, ResourceKey.parse(key));
    } catch (IllegalArgumentException e) {
      // a mark whose key annotation was edited into something else is nobody's mark
      return null;
    }
  }

  /**
   * The controller an unmarked object names in an ownerReference with {@code controller: true}
   * (a ReplicaSet's Pods, an operator's Secrets), as the mark of another owner: the engine then
   * never adopts it (the controller would undo every change) unless taking over from other owners
   * is allowed. Null when no controller claims it.
   */
  private OwnerMark controllerOf(ResourceKey key, JsonNode live) {
    for (JsonNode ref : live.path("metadata").path("ownerReferences")) {
      if (ref.path("controller").asBoolean(false)) {
        String apiVersion = ref.path("apiVersion").asText("");
        return new OwnerMark("controller " + KindInfo.typeOf(apiVersion, ref.path("kind").asText("?")) + " "
            + ref.path("name").asText("?") + " (its ownerReference)", key);
      }
    }
    return null;
  }

  /**
   * Keys of objects carrying {@code owner}'s mark, among every kind that can hold one: the kinds
   * in play (in Git, observed, or asked for with {@link Builder#scanForOrphans}) and the kinds in
   * which the scan of the cluster found objects with our label. That scan runs once per provider
   * (the first call): one labelled list per listable kind not already in play, so objects of a
   * kind that has left Git entirely are still found (and a lost store still noticed) after a
   * restart. Later calls read informer caches, except that a kind (or a namespace of it) whose
   * informer is not watching ({@link KindInformers#isWatching}: its cache may lack objects made
   * since its watch ended) is listed from the server, by our label. A kind that cannot be listed
   * (its informer's list, or that list from the server, refused or answered 404 for the kind
   * unless its CustomResourceDefinition explains that no object of it can exist: see {@link
   * #noObjectsCanExist}) fails the whole listing, naming the kind, as the SPI says: the plan is then
   * incomplete and deletes and replaces nothing, rather than take the kind to hold no marked object.
   * So does a namespace of a kind listed per namespace whose list fails but for a refusal (a 403 is
   * logged and skipped: the keys there that Git or the store name are UNKNOWN), and a kind the
   * cluster no longer serves whose objects may still be there (an APIService of its group, one of
   * Kubernetes' own groups; decided as an observation decides its keys).
   */
  @Override
  public Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
    requireOpen();
    scanLabelledKinds(ctx);
    Set<String> types = new TreeSet<>(informers.types());
    types.addAll(kinds.typesSeen());
    types.addAll(scanTypes);
    types.addAll(labelledKinds.keySet());
    List<ResourceKey> out = new ArrayList<>();
    Set<String> search = new TreeSet<>();
    Supplier<Set<String>> toSearch = () -> {
      if (search.isEmpty()) {
        search.addAll(namespacesToSearch());
      }
      return search;
    };
    Map<String, GroupServed> groups = new TreeMap<>();  // asked once per kind the cluster does not serve
    java.util.function.Predicate<GenericKubernetesResource> marked = r -> Annotations.MANAGED_BY_VALUE.equals(
        labels(r).get(Annotations.MANAGED_BY)) && owner.equals(annotations(r).get(Annotations.OWNER));
    for (String type : types) {
      Optional<KindInfo> kind = resolve(type);
      if (kind.isEmpty()) {
        kind = Optional.ofNullable(labelledKinds.get(type)).filter(l -> !l.custom()).map(Labelled::info);
      }
      if (kind.isEmpty()) {
        // a kind the cluster does not serve: none of its objects exists (else the listing fails, naming it)
        LOG.debug("{}: the cluster does not serve it and it holds no objects marked by {}: {}", type, owner,
            noMarkedObjectsUnresolved(type, owner, groups, ctx));
        continue;
      }
      // as for an observation: a CRD that defined the kind now and is gone by its list took its objects along
      boolean definedByCrd = definedByCrdNow(kind.get());
      try {
        Map<String, KindInformers.Unavailable> unreadable = watch(kind.get(), toSearch, ctx);
        // a namespace whose list failed but for a refusal (a timeout, a 5xx, a 404 for the kind no CRD explains):
        // marked objects there may be missed, as for a kind that cannot be listed
        Map<String, KindInformers.Unavailable> failed = new TreeMap<>(unreadable);
        KindInfo listed = kind.get();
        failed.values().removeIf(u -> u.code() == 403
            || u.code() == 404 && noMarkedObjects(listed, 404, u.getMessage(), definedByCrd));
        if (!failed.isEmpty()) {
          // each names the kind and its namespace; the catch below says what the listing was for
          throw new KindInformers.Unavailable(String.join("; ", failed.values().stream().map(Throwable::getMessage)
              .toList()), failed.values().iterator().next().getCause());
        }
        if (!unreadable.isEmpty()) {
          // refused (403): only what was listed is claimed. The keys there that Git or the store name are observed
          // UNKNOWN (never ABSENT), so nothing in those namespaces is deleted or dropped; a marked object missed there
          // is an orphan (in neither), which the engine only reports or deletes, and none was written there with these
          // credentials (a key is written once observed, which lists its kind in its namespace). Failing the listing instead would
          // hold back every delete for good under a Role that leaves out a kind Git does not put in that namespace.
          LOG.warn("objects of {} marked by {} are not searched in namespace(s) {} at {}: {}", type, owner,
              unreadable.keySet(), client.getMasterUrl(), String.join("; ", unreadable.values().stream()
                  .map(Throwable::getMessage).toList()));
        }
      } catch (KindInformers.Unavailable e) {
        if (noMarkedObjects(kind.get(), e.code(), e.getMessage(), definedByCrd)) {
          continue;
        }
        throw new KindInformers.Unavailable("cannot list " + type + " at " + client.getMasterUrl()
            + " to find the objects marked by " + owner + ": " + e.getMessage(), e);
      }
      Set<String> notWatching = new TreeSet<>();
      List<GenericKubernetesResource> found = new ArrayList<>(informers.listWatching(type, marked, notWatching));
      for (String scope : notWatching) {
        found.addAll(markedOnServer(kind.get(), scope, owner, definedByCrd).stream().filter(marked).toList());
      }
      for (GenericKubernetesResource r : found) {
        ResourceKey key = ResourceKey.of(id, type, Objects.requireNonNullElse(r.getMetadata().getNamespace(), ""),
            r.getMetadata().getName());
        if (key.toString().equals(annotations(r).get(Annotations.KEY))) {
          out.add(key);  // a mark copied onto another object names that other object: this one is not ours
        }
      }
    }
    return out;
  }

  /**
   * Why {@code type}, which the cluster does not serve (no CustomResourceDefinition defines it,
   * discovery does not list it), holds no object marked by {@code owner}, decided as an
   * observation decides its keys: its CRD is in the desired state only (created first, before its
   * objects), or nothing in the cluster can serve it ({@link #groupServed}: the CRD that defined it
   * deleted, and its objects with it); or only an earlier desired state of this process declared
   * it, and it has had no informer here (the cluster never served it to this process, so this
   * process wrote none of it; keys of it that the store records are observed by their own rule).
   *
   * @return why it holds no marked object, to log
   * @throws KindInformers.Unavailable naming the kind, what the cluster serves of its group and why
   *     its objects may be there (an APIService of its group, one of Kubernetes' own groups, the
   *     CRDs or APIServices that cannot be read): the listing is incomplete, so the plan deletes and
   *     replaces nothing, rather than take the kind to hold no marked object
   */
  private String noMarkedObjectsUnresolved(String type, String owner, Map<String, GroupServed> groups,
      CallContext ctx) {
    if (kinds.desired(type).isPresent()) {
      return "its CustomResourceDefinition is in the desired state, not in the cluster yet";
    }
    if (!informers.types().contains(type) && !scanTypes.contains(type) && !labelledKinds.containsKey(type)
        && !decoder.declaredTypes().contains(type)) {
      return "only an earlier desired state declared it, and the cluster has not served it to this process";
    }
    GroupServed group = groups.computeIfAbsent(type, t -> groupServed(t, ctx));
    if (group.noServer() != null) {
      return group.noServer();
    }
    throw new KindInformers.Unavailable("cannot list " + type + " at " + client.getMasterUrl()
        + " to find the objects marked by " + owner + ": " + notServed(type) + group.unknown()
        + "; its objects may be there, so they are not taken to hold none of ours", null);
  }

  /**
   * Removes {@code owner}'s mark from the object of {@code key}: the label {@code
   * app.kubernetes.io/managed-by} and the annotations {@code gitops.dev/owner} and {@code
   * gitops.dev/key}, by one JSON patch pinned to the resourceVersion just read from the server (a
   * conflict reads it again, up to three times). The object is otherwise left as it is, kubectl's
   * {@code last-applied-configuration} included, so {@code kubectl apply} can take it over. An
   * object that is gone, unmarked, or marked by another owner or for another key is left alone.
   * So is a key of a kind no object of which can exist, by the rules an observation takes such a
   * key for ABSENT by: a kind the cluster does not serve whose CustomResourceDefinition is in the
   * desired state only, or that nothing in the cluster can serve (its CRD deleted, and its objects
   * with it; no APIService for its group), or whose read is answered 404 for the kind while its
   * CRD is gone, being deleted or never served it. A kind the cluster does not serve whose objects
   * may still be there (an APIService of its group, one of Kubernetes' own groups) fails naming
   * why and what to do: its mark cannot be read nor removed.
   */
  @Override
  public void unmark(ResourceKey key, String owner, CallContext ctx) {
    requireOpen();
    Optional<KindInfo> kind;
    boolean definedByCrd;
    try {
      kind = resolve(key.type());
      definedByCrd = kind.isPresent() && definedByCrdNow(kind.get());
    } catch (KindInformers.Unavailable e) {
      throw new ProviderException(key, "cannot remove the mark of " + owner + ": cannot read the cluster's"
          + " CustomResourceDefinitions: " + e.getMessage(), true, e);
    }
    if (kind.isEmpty()) {
      // decided as an observation decides such a key: ABSENT there is nothing to unmark here
      GroupServed group = kinds.desired(key.type()).isPresent() ? null : groupServed(key.type(), ctx);
      if (group == null || group.noServer() != null) {
        LOG.info("{}: no mark of {} to remove: {}", key, owner, group == null ? "the cluster does not serve its kind,"
            + " whose CustomResourceDefinition is in the desired state only, so none of its objects exists"
            : group.noServer());
        return;
      }
      throw new ProviderException(key, "cannot remove the mark of " + owner + ": " + notServed(key.type())
          + group.unknown() + "; its object may still be there, marked, so the key is not forgotten (the mark would find"
          + " it again): have the cluster serve " + key.type() + " again (its CustomResourceDefinition, its APIService)"
          + " and forget it again, or remove the label " + Annotations.MANAGED_BY + " from the object by other means"
          + " once it is served", false, null);
    }
    for (int attempt = 1; ; attempt++) {
      GenericKubernetesResource live;
      try {
        live = read(key, kind.get());  // the server's copy: its resourceVersion pins the patch
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404 && kindNotFound(e)) {
          String noObjects = noObjectsCanExist(kind.get(), definedByCrd);
          if (noObjects != null) {
            LOG.info("{}: no mark of {} to remove: its read was answered {}: {}", key, owner, KindInformers.message(e),
                noObjects);
            return;
          }
          CrdPending pending = crdPending(kind.get());
          throw new ProviderException(key, "cannot read the object to remove the mark of " + owner + " at "
              + client.getMasterUrl() + ": " + KindInformers.message(e) + ": the API server does not serve "
              + kind.get().kind() + " at " + kind.get().apiVersion() + " (its 404 names no object, so it is not the"
              + " object missing)" + (pending != null ? "; " + pending.why() : "") + "; "
              + served(key.type(), kind.get().apiVersion()) + "; forget it again once the cluster serves it",
              pending != null && pending.state().waitable(), e);
        }
        throw new ProviderException(key, "cannot read the object to remove the mark of " + owner + " at "
            + client.getMasterUrl() + ": " + KindInformers.message(e), e.getCode() >= 500 || e.getCode() == 429, e);
      }
      if (live == null) {
        LOG.debug("{}: gone, no mark of {} to remove", key, owner);
        return;
      }
      OwnerMark mark = markOf(json(live));
      if (mark == null || !mark.isOwnedBy(owner, key)) {
        LOG.debug("{}: carries no mark of {} for it ({}); left as it is", key, owner, mark);
        return;
      }
      List<PatchOp> ops = new ArrayList<>();
      ops.add(PatchOp.replace("/metadata/resourceVersion",
          Documents.nodes().textNode(live.getMetadata().getResourceVersion())));
      ops.add(PatchOp.remove("/metadata/labels/" + pointerToken(Annotations.MANAGED_BY)));
      Map<String, String> annotations = annotations(live);
      for (String a : List.of(Annotations.OWNER, Annotations.KEY)) {
        if (annotations.containsKey(a)) {
          ops.add(PatchOp.remove("/metadata/annotations/" + pointerToken(a)));
        }
      }
      String body = Documents.mutableCopy(Documents.array(ops.stream().map(PatchOp::toJson).toList())).toString();
      try {
        GenericKubernetesResource made = resource(kind.get(), key).patch(PatchContext.of(PatchType.JSON), body);
        reads.wrote(key, made);
        LOG.debug("{}: removed the mark of {} (resourceVersion {})", key, owner, live.getMetadata().getResourceVersion());
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404 && !kindNotFound(e)) {
          return;  // deleted since it was read: no mark left
        }
        if (e.getCode() == 409 && attempt < 3) {
          continue;  // changed since it was read: read it again, and unmark it only if still ours
        }
        throw new ProviderException(key, "cannot remove the mark of " + owner + " at " + client.getMasterUrl()
            + ": " + KindInformers.message(e), e.getCode() == 409 || e.getCode() >= 500 || e.getCode() == 429, e);
      }
    }
  }

  /** {@code name} as one token of a JSON pointer (RFC 6901: {@code ~} and {@code /} escaped). */
  private static String pointerToken(String name) {
    return name.replace("~", "~0").replace("/", "~1");
  }

  /**
   * Whether a list of {@code kind} answered {@code code} proves it holds no marked object: a 404
   * its CustomResourceDefinition explains ({@link #noObjectsCanExist}); nothing else does.
   */
  private boolean noMarkedObjects(KindInfo kind, int code, String answer, boolean definedByCrd) {
    String noObjects = code == 404 ? noObjectsCanExist(kind, definedByCrd) : null;
    if (noObjects != null) {
      LOG.debug("{}: its list was answered {}: {}; it holds no marked objects", kind.type(), answer, noObjects);
    }
    return noObjects != null;
  }

  /**
   * The objects of {@code kind} with our label in {@code namespace} ({@code ""}: in all of them, or
   * a cluster-scoped kind's), listed from the server: its informer there is not watching, so its
   * cache may lack objects made since its watch ended. One list, by label, as the orphan scan's.
   *
   * @throws KindInformers.Unavailable naming the kind when the server refuses the list, or answers it
   *     404 for the kind unless its CustomResourceDefinition explains that no object of it can exist
   */
  private List<GenericKubernetesResource> markedOnServer(KindInfo kind, String namespace, String owner,
      boolean definedByCrd) {
    var resources = once.genericKubernetesResources(KindInformers.context(kind));
    String where = namespace.isEmpty() ? "" : " in namespace " + namespace;
    LOG.debug("{}: its informer{} is not watching: listing its objects marked by {} from the server", kind.type(), where,
        owner);
    try {
      var items = (namespace.isEmpty() ? resources.inAnyNamespace() : resources.inNamespace(namespace))
          .withLabel(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE).list().getItems();
      return items == null ? List.of() : items;
    } catch (KubernetesClientException e) {
      if (noMarkedObjects(kind, e.getCode(), KindInformers.message(e), definedByCrd)) {
        return List.of();
      }
      throw new KindInformers.Unavailable("cannot list " + kind.type() + where + " at " + client.getMasterUrl()
          + " to find the objects marked by " + owner + ": its informer is not watching (its cache may lack objects made"
          + " since) and the list from the server failed: " + KindInformers.message(e), e);
    }
  }

  /**
   * Where objects of a namespaced kind listed per namespace are searched for our mark: the
   * namespaces given to {@link Builder#namespaces}, or else every namespace the desired state or
   * the keys observed so far (Git, the store's inventory) name.
   */
  private Set<String> namespacesToSearch() {
    if (!namespaces.isEmpty()) {
      return namespaces;
    }
    Set<String> out = new TreeSet<>(namespacesInPlay);
    decoder.declaredNamespaces().forEach(out::add);
    out.remove("");
    return out;
  }

  /** A kind the scan found labelled objects of, and whether a CRD (rather than the API server) defines it. */
  private record Labelled(KindInfo info, boolean custom) {}

  /**
   * Finds, once, the kinds not in play that hold objects with our label: built-in kinds, kinds
   * the cluster's CRDs define and kinds discovery lists. A namespaced kind is listed only in the
   * namespaces given to {@link Builder#namespaces} when there are any, and, when it may not be
   * listed cluster-wide (403), in each namespace the desired state or the store names (where its
   * informers would list it). A kind we may not list there either (403) or that is not served (404,
   * 405) is skipped: nothing of it can be ours, since managing a kind takes an informer, which
   * lists. A kind whose list the server answers 429 or 5xx (an aggregated API whose server is down,
   * such as an unavailable metrics-server's), and a group version discovery cannot tell for that
   * answer, is logged at WARN and read again on the next call, the rest of the scan standing:
   * failing the listing would hold back every delete for as long as that API is down. Other
   * failures propagate (the engine then holds back every delete) and the scan runs again on the
   * next call. Its requests go out once, without the client's retries (~20 s each for a 5xx).
   */
  private synchronized void scanLabelledKinds(CallContext ctx) {
    if (scanned && rescan.isEmpty() && rediscover.isEmpty()) {
      return;
    }
    Set<String> inPlay = new HashSet<>(informers.types());
    inPlay.addAll(kinds.typesSeen());
    inPlay.addAll(scanTypes);
    if (scanned) {
      // what the server could not answer before: those kinds and group versions only
      Map<String, Labelled> again = new TreeMap<>(rescan);
      List<String> versions = List.copyOf(rediscover);
      rescan.clear();
      rediscover.clear();
      try {
        discovered(versions).forEach(k -> again.putIfAbsent(k.type(), new Labelled(k, false)));
        scanLabelled(again, inPlay, ctx);
      } catch (RuntimeException e) {
        again.forEach(rescan::putIfAbsent);  // cut short (out of time, no answer): all of it again next time
        rediscover.addAll(versions);
        throw e;
      }
      return;
    }
    rescan.clear();  // what a first scan cut short had found unanswered: it is all listed now
    rediscover.clear();
    Map<String, Labelled> candidates = new TreeMap<>();
    for (KindInfo k : KindTable.all()) {
      candidates.put(k.type(), new Labelled(k, false));
    }
    try {
      informers.synced(KindTable.builtIn(KindTable.CRD).orElseThrow(), budget(ctx));
      for (GenericKubernetesResource crd : informers.list(KindTable.CRD, c -> true)) {
        Kinds.fromCrd(json(crd)).ifPresent(k -> candidates.putIfAbsent(k.type(), new Labelled(k, true)));
      }
    } catch (KindInformers.Unavailable e) {
      if (e.code() != 403 && e.code() != 404) {
        throw e;  // a timeout or an unreachable server proves nothing: the scan runs again next time
      }
      // without read access to CRDs no custom kind can be in play (resolving one reads them), so none is ours
      LOG.debug("orphan scan: cannot read CustomResourceDefinitions ({}); custom kinds are not scanned", e.getMessage());
    }
    discovered(null).forEach(k -> candidates.putIfAbsent(k.type(), new Labelled(k, false)));
    scanLabelled(candidates, inPlay, ctx);
    scanned = true;
  }

  /**
   * Lists each of {@code candidates} not in play by our label, keeping those that hold labelled
   * objects in {@link #labelledKinds} and those the server answered 429 or 5xx in {@link #rescan}.
   */
  private void scanLabelled(Map<String, Labelled> candidates, Set<String> inPlay, CallContext ctx) {
    int lists = 0;
    for (Labelled l : candidates.values()) {
      if (inPlay.contains(l.info().type())) {
        continue;  // its informer (started now or later in this sync) sees every marked object of it
      }
      if (ctx.isDone()) {
        throw new IllegalStateException("the scan for objects marked by gitops ran out of time after " + lists
            + " of " + candidates.size() + " kinds at " + client.getMasterUrl() + "; it runs again on the next sync");
      }
      lists++;
      try {
        boolean found;
        if (l.info().namespaced() && !namespaces.isEmpty()) {
          found = labelledIn(l.info(), namespaces);  // never cluster-wide: the credentials are for these alone
        } else {
          try {
            found = labelled(l.info(), null);
          } catch (KubernetesClientException e) {
            if (KindInformers.code(e) != 403 || !l.info().namespaced()) {
              throw e;
            }
            // listed per namespace by its informers, so marked objects of it may be ours there
            found = labelledIn(l.info(), namespacesToSearch());
          }
        }
        if (found) {
          labelledKinds.put(l.info().type(), l);
        }
      } catch (KubernetesClientException e) {
        int code = KindInformers.code(e);
        if (code == 429 || code >= 500) {
          rescan.put(l.info().type(), l);
          LOG.warn("orphan scan: cannot list {} ({}) at {} to find objects marked by gitops: {}; it is listed again on"
              + " the next sync", l.info().type(), l.info().apiVersion(), client.getMasterUrl(), KindInformers.message(e));
          continue;
        }
        if (code != 403 && code != 404 && code != 405) {
          throw e;
        }
        LOG.debug("orphan scan: skipping {} ({})", l.info().type(), KindInformers.message(e));
      }
    }
    LOG.debug("orphan scan at {}: {} kinds listed by label, labelled objects in {}", client.getMasterUrl(), lists,
        labelledKinds.keySet());
  }

  /** Whether {@code kind} has objects with our label in {@code namespace} (null: in any namespace). */
  private boolean labelled(KindInfo kind, String namespace) {
    var resources = once.genericKubernetesResources(KindInformers.context(kind));
    var items = (namespace == null ? resources.inAnyNamespace() : resources.inNamespace(namespace))
        .withLabel(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE).list().getItems();
    return items != null && !items.isEmpty();
  }

  /**
   * Whether {@code kind} has objects with our label in one of {@code namespaces}; a namespace we
   * may not list (403) is skipped.
   */
  private boolean labelledIn(KindInfo kind, Collection<String> namespaces) {
    for (String ns : namespaces) {
      try {
        if (labelled(kind, ns)) {
          return true;
        }
      } catch (KubernetesClientException e) {
        if (KindInformers.code(e) != 403) {
          throw e;
        }
        LOG.debug("orphan scan: skipping {} in namespace {} ({})", kind.type(), ns, KindInformers.message(e));
      }
    }
    return false;
  }

  /**
   * The listable kinds discovery reports at {@code versions}, or at each group's preferred version
   * when null; what it cannot tell is left out. A group version answered 429 or 5xx (an aggregated
   * API whose server is down) is logged at WARN and kept in {@link #rediscover}; the others are
   * asked all the same (one such group stopped discovery, leaving the groups after it unscanned).
   */
  private List<KindInfo> discovered(List<String> versions) {
    List<KindInfo> out = new ArrayList<>();
    if (versions == null) {
      versions = new ArrayList<>();
      versions.add("v1");
      try {
        var groups = once.getApiGroups();
        if (groups != null && groups.getGroups() != null) {
          for (var g : groups.getGroups()) {
            if (g.getPreferredVersion() != null && g.getPreferredVersion().getGroupVersion() != null) {
              versions.add(g.getPreferredVersion().getGroupVersion());
            }
          }
        }
      } catch (KubernetesClientException e) {
        // discovery widens the scan beyond the built-in table and the CRDs; a server without it leaves those two
        LOG.debug("orphan scan: discovery failed at {}: {}", client.getMasterUrl(), KindInformers.message(e));
      }
    }
    for (String v : versions) {
      try {
        APIResourceList list = once.getApiResources(v);
        if (list == null || list.getResources() == null) {
          continue;
        }
        for (APIResource r : list.getResources()) {
          if (r.getName() != null && !r.getName().contains("/") && r.getKind() != null && r.getVerbs() != null
              && r.getVerbs().contains("list")) {
            out.add(new KindInfo(KindInfo.groupOf(v), KindInfo.versionOf(v), r.getKind(), r.getName(),
                Boolean.TRUE.equals(r.getNamespaced())));
          }
        }
      } catch (KubernetesClientException e) {
        int code = KindInformers.code(e);
        if (code == 429 || code >= 500) {
          rediscover.add(v);
          LOG.warn("orphan scan: discovery cannot tell the kinds of {} at {}: {}; they are searched for objects marked"
              + " by gitops on the next sync", v, client.getMasterUrl(), KindInformers.message(e));
        } else {
          LOG.debug("orphan scan: discovery of {} failed at {}: {}", v, client.getMasterUrl(), KindInformers.message(e));
        }
      }
    }
    return out;
  }

  private static Map<String, String> labels(GenericKubernetesResource r) {
    Map<String, String> m = r.getMetadata().getLabels();
    return m == null ? Map.of() : m;
  }

  private static Map<String, String> annotations(GenericKubernetesResource r) {
    Map<String, String> m = r.getMetadata().getAnnotations();
    return m == null ? Map.of() : m;
  }

  // ------------------------------------------------------------------ plan-time answers

  /**
   * Whether the API server refuses a change at {@code path} in place, so that the plan replaces the
   * object: the kind's immutable fields (KubernetesRules); of a ConfigMap or Secret
   * that is immutable in the cluster, its data and its {@code immutable} flag (turning it off, too);
   * of a Job, its completions (unless an Indexed Job changes them together with its parallelism to
   * the same number) and its pod template (unless the Job is suspended and never started and the
   * change is to a scheduling directive: node selector, node affinity, tolerations, scheduling
   * gates, the template's labels and annotations); anything of an object annotated {@code
   * gitops.dev/force-replace: "true"}. Never a Namespace or a CRD, and a PersistentVolumeClaim only
   * when so annotated. The object's state is read from the informer the plan observed it with.
   */
  @Override
  public boolean requiresReplace(ResourceKey key, FieldPath path) {
    String type = key.type();
    if (type.equals(KindTable.NAMESPACE) || type.equals(KindTable.CRD)) {
      return false;  // replacing would delete everything inside
    }
    if (path.equals(FORCE_REPLACE_PATH)) {
      return true;
    }
    GenericKubernetesResource live = liveForPlan(key);
    if (live != null && "true".equals(annotations(live).get(Annotations.FORCE_REPLACE))) {
      return true;
    }
    // A claim's volume goes with it (Delete is the usual reclaim policy): an immutable field of a
    // PersistentVolumeClaim changed in Git is sent as an update, which the server refuses naming the
    // field, unless the force-replace annotation asks for the delete and create
    if (type.equals(KindTable.PVC)) {
      return false;
    }
    if (type.equals(KubernetesRules.JOB)) {
      return jobRequiresReplace(key, path, live == null ? null : json(live));
    }
    if (KubernetesRules.immutable(type, path)) {
      return true;
    }
    // "field is immutable when `immutable` is set": data, binaryData and the flag itself
    boolean immutableData = live != null && (type.equals(KindTable.SECRET) || type.equals("/ConfigMap"))
        && Boolean.TRUE.equals(live.getAdditionalProperties().get("immutable"));
    return immutableData && !path.segments().isEmpty() && path.segments().get(0) instanceof FieldPath.Field f
        && (f.name().equals("data") || f.name().equals("binaryData") || f.name().equals("stringData")
            || f.name().equals("immutable"));
  }

  /**
   * A Job's fields as the API server's update validation treats them: a suspended Job that never
   * started may change its scheduling directives, and an Indexed Job its completions when they end
   * equal to its parallelism (elastic Indexed Jobs); what the change makes of them is read from the
   * desired state (the Job as Git declares it), falling back to the live object for what Git leaves out.
   */
  private boolean jobRequiresReplace(ResourceKey key, FieldPath path, JsonNode live) {
    if (!KubernetesRules.immutable(KubernetesRules.JOB, path)) {
      return false;
    }
    if (live == null) {
      return true;
    }
    JsonNode desired = decoder.declared(key).map(Resource::document).orElse(null);
    if (path.equals(JOB_COMPLETIONS)) {
      JsonNode mode = declaredOr(desired, live, "completionMode");
      JsonNode completions = desired == null ? null : desired.at("/spec/completions");
      JsonNode parallelism = declaredOr(desired, live, "parallelism");
      boolean elastic = "Indexed".equals(mode.asText()) && completions != null && completions.canConvertToLong()
          && completions.asLong() == (parallelism.canConvertToLong() ? parallelism.asLong() : 1);
      return !elastic;
    }
    if (JOB_TEMPLATE.isPrefixOf(path) && KubernetesRules.mutableInSuspendedJob(path)) {
      boolean suspendedNeverStarted = live.at("/spec/suspend").asBoolean(false)
          && live.at("/status/startTime").isMissingNode();
      return !suspendedNeverStarted;
    }
    return true;
  }

  /**
   * The object a plan-time answer looks at: the informer's copy, or, while a write of ours has not
   * reached the informer, the server's (so a plan made right after a sync sees what it wrote).
   */
  private GenericKubernetesResource liveForPlan(ResourceKey key) {
    if (reads.isAwaited(key)) {
      try {
        Optional<KindInfo> kind = resolve(key.type());
        if (kind.isPresent()) {
          return current(key, kind.get());
        }
      } catch (RuntimeException e) {
        LOG.debug("{}: cannot read it directly ({}); using the informer's copy", key, KindInformers.message(e));
      }
    }
    return informers.cached(key.type(), key.scope(), key.name());
  }

  private static final FieldPath JOB_COMPLETIONS = FieldPath.of("spec", "completions");
  private static final FieldPath JOB_TEMPLATE = FieldPath.of("spec", "template");

  /** {@code /spec/<field>} as the desired Job declares it, else as it is live. */
  private static JsonNode declaredOr(JsonNode desired, JsonNode live, String field) {
    JsonNode d = desired == null ? null : desired.path("spec").get(field);
    return d != null && !d.isNull() ? d : live.path("spec").path(field);
  }

  @Override
  public Set<ResourceKey> relations(Resource resource, Set<ResourceKey> desired) {
    ResourceKey key = resource.key();
    Set<ResourceKey> out = new HashSet<>();
    if (!key.scope().isEmpty()) {
      ResourceKey ns = ResourceKey.of(id, KindTable.NAMESPACE, "", key.scope());
      if (desired.contains(ns)) {
        out.add(ns);
      }
    }
    if (KindTable.builtIn(key.type()).isEmpty()) {
      String group = KindInfo.groupOfType(key.type());
      Optional<KindInfo> defined = kinds.desired(key.type());
      for (ResourceKey d : desired) {
        if (d.type().equals(KindTable.CRD) && (defined.isPresent()
            ? d.name().equals(defined.get().plural() + "." + group) : d.name().endsWith("." + group))) {
          out.add(d);
        }
      }
    }
    return out;
  }

  /**
   * What the API server deletes along with {@code resource}: a Namespace's objects, and a
   * CustomResourceDefinition's custom resources (its {@code spec.group} and {@code spec.names.kind};
   * without them, every custom type of the group its name ends in), among {@code desired}.
   */
  @Override
  public Set<ResourceKey> cascadesTo(Resource resource, Set<ResourceKey> desired) {
    ResourceKey key = resource.key();
    if (!key.provider().equals(id)) {
      return Set.of();
    }
    Set<ResourceKey> out = new HashSet<>();
    if (key.type().equals(KindTable.NAMESPACE)) {
      for (ResourceKey d : desired) {
        if (d.provider().equals(id) && d.scope().equals(key.name())) {
          out.add(d);
        }
      }
    } else if (key.type().equals(KindTable.CRD)) {
      JsonNode spec = resource.document().path("spec");
      String group = spec.path("group").asText("");
      String kind = spec.path("names").path("kind").asText("");
      if (group.isEmpty()) {
        int dot = key.name().indexOf('.');
        group = dot < 0 ? "" : key.name().substring(dot + 1);
        kind = "";
      }
      for (ResourceKey d : desired) {
        if (d.provider().equals(id) && KindTable.builtIn(d.type()).isEmpty() && !group.isEmpty()
            && KindInfo.groupOfType(d.type()).equals(group)
            && (kind.isEmpty() || KindInfo.kindOfType(d.type()).equals(kind))) {
          out.add(d);
        }
      }
    }
    return out;
  }

  @Override
  public int typeOrder(ResourceKey key) {
    return switch (key.type()) {
      case KindTable.CRD -> 0;
      case KindTable.NAMESPACE -> 1;
      // policies that admission applies to the pods created later (as in Helm's and Argo CD's order)
      case "networking.k8s.io/NetworkPolicy", "/ResourceQuota", "/LimitRange", "policy/PodSecurityPolicy",
          "policy/PodDisruptionBudget", "scheduling.k8s.io/PriorityClass", "node.k8s.io/RuntimeClass" -> 2;
      case "rbac.authorization.k8s.io/ClusterRole", "rbac.authorization.k8s.io/ClusterRoleBinding" -> 3;
      case "/ServiceAccount", "rbac.authorization.k8s.io/Role", "rbac.authorization.k8s.io/RoleBinding" -> 4;
      case "/ConfigMap", KindTable.SECRET -> 5;
      case "/PersistentVolumeClaim", "/PersistentVolume", "storage.k8s.io/StorageClass" -> 6;
      case "/Service" -> 7;
      case "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet", "/ReplicationController",
          "batch/Job", "batch/CronJob", "/Pod" -> 8;
      default -> 9;
    };
  }

  @Override
  public Health health(ResourceKey key, Observation observation) {
    if (!observation.isPresent()) {
      return observation.isAbsent() ? Health.missing(key + " does not exist")
          : Health.unknown(observation.reason());
    }
    JsonNode live = observation.live();
    for (HealthCheck c : healthChecks) {
      if (c.appliesTo(key.type())) {
        Optional<Health> h = c.health(live);
        if (h.isPresent()) {
          return h.get();
        }
      }
    }
    return KindHealth.of(key.type(), live);
  }

  // ------------------------------------------------------------------ apply

  /**
   * Applies one change. An error (any outcome but a success) ends with where Git declares the
   * object, {@code "; declared at <file>:<line>"}, or for a delete where it was declared when
   * last applied.
   */
  @Override
  public Outcome apply(Change change, CallContext ctx) {
    requireOpen();
    Outcome o;
    try {
      o = applyOne(change, ctx);
    } catch (RuntimeException e) {
      // as the engine would take it (a permanent failure), but saying where the object is declared
      o = Outcome.permanentFailure(change.key() + ": " + change.action().name().toLowerCase(java.util.Locale.ROOT)
          + " failed: " + KindInformers.message(e), e);
    }
    if (change.key().type().equals(KindTable.CRD) && change.action() != Action.DELETE
        && (o.isOk() || o.kind() == Outcome.Kind.UNKNOWN)) {
      unserved.clear();  // the kinds it defines are served now (or may be): ask discovery again
    }
    return o.isOk() ? o : new Outcome(o.kind(), o.message() + declaredAt(change), o.cause(), o.outputs());
  }

  private Outcome applyOne(Change change, CallContext ctx) {
    ResourceKey key = change.key();
    Optional<KindInfo> kind;
    try {
      kind = resolve(key.type());
      if (kind.isEmpty()) {
        kind = kinds.desired(key.type()).map(this::asWritten);
      }
    } catch (KindInformers.Unavailable e) {
      if (e.interrupted()) {
        // as for any interrupted write (the interrupt is set again), though nothing was written
        return Outcome.unknown(key + ": interrupted during " + change.action() + " before anything was written ("
            + e.getMessage() + ")");
      }
      return Outcome.transientFailure(key + ": cannot read the cluster's CustomResourceDefinitions: " + e.getMessage(), e);
    }
    if (kind.isEmpty()) {
      return Outcome.permanentFailure(key + ": " + notServed(key.type()), null);
    }
    // a write answered 404 for its kind (its request, its read of the object, or the list of a replace's watch)
    // waits for the kind's CRD once and is sent again once
    for (boolean resent = false; ; resent = true) {
      KubernetesClientException kindAnswer;  // a 404 for the kind, not for the object
      Outcome failed;  // the outcome when no CRD explains it
      try {
        return switch (change.action()) {
          case CREATE -> create(change, kind.get(), ctx);
          case UPDATE -> applyMode == ApplyMode.SERVER_SIDE ? serverSideApply(change, kind.get(), ctx)
              : update(change, kind.get(), ctx, true);
          case REPLACE -> replace(change, kind.get(), ctx);
          case DELETE -> delete(key, kind.get(), ctx);
          default -> Outcome.unchanged();
        };
      } catch (KubernetesClientException e) {
        failed = failure(key, change.action(), e);
        // (a delete's 404 for its kind comes from its read of the object: fabric8's delete answers none)
        if (e.getCode() != 404 || !kindNotFound(e)) {
          // a 404 on a create is the kind not served at that version, or a namespace that does not exist
          return e.getCode() == 404 && change.action() != Action.DELETE ? withUnserved(failed, kind.get()) : failed;
        }
        kindAnswer = e;
      } catch (KindInformers.Unavailable e) {
        if (e.interrupted()) {
          // as for any interrupted write (the interrupt is set again), though nothing was written: a replace's watch
          // is started before its delete
          return Outcome.unknown(key + ": interrupted during " + change.action() + " before anything was written ("
              + e.getMessage() + ")");
        }
        failed = Outcome.transientFailure(key + ": cannot watch " + key.type() + ": " + e.getMessage(), e);
        kindAnswer = e.code() == 404 ? e.answer() : null;
        if (kindAnswer == null || !kindNotFound(kindAnswer)) {
          return e.code() == 404 ? withUnserved(failed, kind.get()) : failed;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Outcome.unknown(key + ": interrupted during " + change.action());
      }
      // its CRD may not serve it yet (created in this sync, not Established): wait for it, once, and write again
      CrdWait wait = resent ? CrdWait.NOT_WAITED : awaitServed(key, kind.get(), ctx);
      if (wait == CrdWait.SERVED) {
        continue;
      }
      if (wait == CrdWait.INTERRUPTED) {
        CrdPending pending = crdPending(kind.get());
        return Outcome.unknown(key + ": interrupted during " + change.action() + " while waiting for the cluster to"
            + " serve " + kind.get().kind() + " at " + kind.get().apiVersion()
            + (pending == null ? "" : " (" + pending.why() + ")") + ", after " + KindInformers.message(kindAnswer));
      }
      Optional<Outcome> notYet = notServedYet(change, kind.get(), kindAnswer, wait == CrdWait.WAITED);
      if (notYet.isPresent()) {
        return notYet.get();
      }
      // no CRD explains it (a version the cluster no longer serves, an aggregated API gone): the kind, not the object
      return withUnserved(new Outcome(failed.kind(), failed.message() + ": the API server does not serve "
          + kind.get().kind() + " at " + kind.get().apiVersion() + " (its 404 names no object, so it is not the object"
          + " missing)", failed.cause(), failed.outputs()), kind.get());
    }
  }

  /** How {@link #awaitServed} ended. */
  private enum CrdWait {
    /** The CRD serves the kind now: the write is sent again. */
    SERVED,
    /** Waited for, within the call's time: the CRD still does not serve the kind. */
    WAITED,
    /** Not waited for: no CRD explains the 404, it will not serve the kind with Git unchanged, or it was sent again. */
    NOT_WAITED,
    /** The thread was interrupted while waiting; its interrupt flag is set again. */
    INTERRUPTED
  }

  /**
   * Waits for {@code kind}'s CustomResourceDefinition, which does not serve it yet but may within
   * moments (created in this sync and not Established yet, as a real API server answers its objects
   * 404 "the server could not find the requested resource" for a moment after the CRD's create), to
   * serve it, up to shortly before the call's deadline, woken by its watch. Does not wait when no
   * such CRD explains the 404.
   */
  private CrdWait awaitServed(ResourceKey key, KindInfo kind, CallContext ctx) {
    CrdPending pending = crdPending(kind);
    if (pending == null || !pending.state().waitable()) {
      return CrdWait.NOT_WAITED;
    }
    long start = System.nanoTime();
    try {
      pending = awaitCrd(kind, ctx);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();  // the caller's to act on; the outcome says the wait was interrupted
      LOG.debug("{}: interrupted while waiting for its CustomResourceDefinition to serve {}", key, kind.apiVersion());
      return CrdWait.INTERRUPTED;
    }
    long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
    if (pending != null) {
      LOG.debug("{}: {} after waiting {} ms", key, pending.why(), ms);
      return CrdWait.WAITED;
    }
    unserved.keySet().removeIf(k -> k.startsWith(kind.type() + "@"));  // discovery lists it now
    LOG.debug("{}: its CustomResourceDefinition serves {} now, after {} ms: writing it again", key, kind.apiVersion(), ms);
    return CrdWait.SERVED;
  }

  /**
   * What a write answered 404 "the server could not find the requested resource" comes to when
   * {@code kind}'s CustomResourceDefinition explains it: a TRANSIENT failure while the CRD may
   * serve the kind within moments (not in the cluster or not Established yet, or Git's CRD
   * established but not served by this API server yet), so the engine retries it and else the next
   * sync writes it; PERMANENT for a CRD that will not serve it with Git unchanged (its names not
   * accepted, being deleted). Empty when no CRD of the cluster or of Git explains it.
   */
  private Optional<Outcome> notServedYet(Change change, KindInfo kind, KubernetesClientException e,
      boolean waitedWithinTheCall) {
    ResourceKey key = change.key();
    String what = key + ": " + change.action().name().toLowerCase(java.util.Locale.ROOT) + " failed: "
        + KindInformers.message(e) + ": the cluster does not serve " + kind.kind() + " at " + kind.apiVersion() + " yet";
    String retried = "; the write is retried, else the next sync makes it";
    CrdPending pending = crdPending(kind);
    if (pending != null) {
      return Optional.of(pending.state().waitable()
          ? Outcome.transientFailure(what + ": " + pending.why() + (waitedWithinTheCall ? " (waited for it within the call's time)" : "")
              + retried, e)
          : Outcome.permanentFailure(what + ": " + pending.why(), e));
    }
    if (kinds.desired(key.type()).isPresent()) {
      // its CRD serves it, but this API server does not yet (another server of the cluster established it first)
      return Optional.of(Outcome.transientFailure(what + ": its CustomResourceDefinition " + kind.plural() + "."
          + kind.group() + " is established, but the API server does not serve the kind yet" + retried, e));
    }
    return Optional.empty();
  }

  /** {@code failed} saying what the cluster serves of {@code kind}'s group when it does not serve {@code kind} at its version. */
  private Outcome withUnserved(Outcome failed, KindInfo kind) {
    try {
      APIResourceList list = client.getApiResources(kind.apiVersion());
      if (list != null && list.getResources() != null
          && list.getResources().stream().anyMatch(r -> kind.kind().equals(r.getKind()))) {
        return failed;  // served: the 404 is about something else (its namespace)
      }
    } catch (KubernetesClientException e) {
      LOG.debug("discovery of {} failed: {}", kind.apiVersion(), KindInformers.message(e));
    }
    return new Outcome(failed.kind(), failed.message() + "; " + served(kind.type(), kind.apiVersion()), failed.cause(),
        failed.outputs());
  }

  private static Outcome failure(ResourceKey key, Action action, KubernetesClientException e) {
    String what = key + ": " + action.name().toLowerCase(java.util.Locale.ROOT) + " failed: " + KindInformers.message(e);
    int code = e.getCode();
    if (code == 409) {
      // the object changed (or appeared) since it was observed: nothing was written; the engine observes it again
      return Outcome.conflict(what + " (it changed since it was observed; it is observed and planned again)");
    }
    if (code == 0 || code == 429 || code >= 500) {
      return Outcome.transientFailure(what, e);
    }
    return Outcome.permanentFailure(what, e);
  }

  private NonNamespaceOperation<GenericKubernetesResource, io.fabric8.kubernetes.api.model.GenericKubernetesResourceList,
      io.fabric8.kubernetes.client.dsl.Resource<GenericKubernetesResource>> collection(KindInfo kind, String namespace) {
    var all = once.genericKubernetesResources(KindInformers.context(kind));
    return kind.namespaced() ? all.inNamespace(namespace) : all;
  }

  private io.fabric8.kubernetes.client.dsl.Resource<GenericKubernetesResource> resource(KindInfo kind, ResourceKey key) {
    return collection(kind, key.scope()).withName(key.name());
  }

  private Outcome create(Change change, KindInfo kind, CallContext ctx) {
    ResourceKey key = change.key();
    if (change.target() == null) {
      return Outcome.permanentFailure(key + ": a create needs a target document", null);
    }
    // A replace's target is the old object merged with Git: its server-set fields (a Job's generated
    // selector and labels on its old uid, a Service's allocated IPs, a claim's volumeName, a Pod's
    // nodeName) would make the server refuse the new object or tie it to what went with the old one.
    // The new object is what Git declares, as kubectl replace --force and Argo CD's Replace=true send.
    ObjectNode body = applyMode == ApplyMode.SERVER_SIDE || change.action() == Action.REPLACE ? declared(change)
        : (ObjectNode) Documents.mutableCopy(change.target());
    mark(body, ctx.owner(), key, applyMode == ApplyMode.SERVER_SIDE ? null : lastApplied(change));
    body.remove("status");
    try {
      GenericKubernetesResource made;
      if (applyMode == ApplyMode.SERVER_SIDE) {
        // An apply patch creates or, forcing, takes over whatever has the name: unlike a POST it is never
        // refused because the object exists. One created since the plan is ours to write only when it
        // is ours already (our earlier create landed), as a POST's conflict is handled below.
        GenericKubernetesResource there = read(key, kind);  // a 404 for its kind is not the object missing
        OwnerMark mark = there == null ? null : markOf(json(there));
        if (there != null && !change.has(Change.Flag.ADOPT) && (mark == null || !mark.isOwnedBy(ctx.owner(), key))) {
          return Outcome.conflict(key + ": apply not sent: the object appeared since it was observed ("
              + (mark == null ? "unmarked" : "marked by " + mark.owner()) + ", uid " + there.getMetadata().getUid()
              + "); it is observed and planned again");
        }
        made = collection(kind, key.scope()).resource(object(body)).fieldManager(fieldManager).forceConflicts()
            .serverSideApply();
      } else {
        made = collection(kind, key.scope()).resource(object(body)).create();
      }
      reads.wrote(key, made);
      LOG.debug("created {} at {}", key, ctx.revision());
      return Outcome.created();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      GenericKubernetesResource there = resource(kind, key).get();
      OwnerMark mark = there == null ? null : markOf(json(there));
      if (mark != null && mark.isOwnedBy(ctx.owner(), key)) {
        // our own earlier create landed (its answer was lost, or this is a retry): converge it instead
        Outcome o = update(change.withAction(Action.UPDATE, change.reason()), kind, ctx, false);
        return o.kind() == Outcome.Kind.CONFIGURED || o.kind() == Outcome.Kind.UNCHANGED ? Outcome.created() : o;
      }
      return Outcome.conflict(key + ": create failed: " + KindInformers.message(e)
          + " (it appeared since it was observed" + (mark == null ? "" : ", marked by " + mark.owner())
          + "; it is observed and planned again)");
    }
  }

  private Outcome serverSideApply(Change change, KindInfo kind, CallContext ctx) {
    ResourceKey key = change.key();
    if (change.target() == null) {
      return Outcome.permanentFailure(key + ": an update needs a target document", null);
    }
    GenericKubernetesResource there = current(key, kind);  // null is missing, not its kind unserved
    if (there != null && there.getMetadata().getDeletionTimestamp() != null) {
      // an apply patch would land on the object being deleted (as an update does), not create it again
      return Outcome.conflict(key + ": apply not sent: it " + deleting(there) + "; it is observed and planned again");
    }
    String taken = there == null ? null : takenSince(change, ctx, there);
    if (taken != null) {
      // forcing would move every field, and our mark, from its new owner to us
      return Outcome.conflict(key + ": apply not sent: " + taken);
    }
    ObjectNode body = declared(change);
    mark(body, ctx.owner(), key, null);
    body.remove("status");
    GenericKubernetesResource made = collection(kind, key.scope()).resource(object(body)).fieldManager(fieldManager)
        .forceConflicts().serverSideApply();
    reads.wrote(key, made);
    return Outcome.configured();
  }

  /** The client-side update: the engine's patch laid on the object as observed, sent with its resourceVersion. */
  private Outcome update(Change change, KindInfo kind, CallContext ctx, boolean checkObserved) {
    ResourceKey key = change.key();
    if (change.target() == null) {
      return Outcome.permanentFailure(key + ": an update needs a target document", null);
    }
    GenericKubernetesResource obj = current(key, kind);  // null is gone, not its kind unserved
    JsonNode planned = checkObserved && change.live() != null ? normalization.normalize(key.type(), change.live()) : null;
    for (int attempt = 1; ; attempt++) {
      if (obj == null) {
        return Outcome.conflict(key + ": update failed: the object is gone since it was observed; it is observed and planned again");
      }
      if (obj.getMetadata().getDeletionTimestamp() != null) {
        // never fight a deletion: once it is gone the engine observes it ABSENT and creates it from Git
        return Outcome.conflict(key + ": update not sent: it " + deleting(obj) + "; it is observed and planned again");
      }
      String taken = takenSince(change, ctx, obj);
      if (taken != null) {
        // normalization drops the marks, so the check below would not see them: the patch would write ours over theirs
        return Outcome.conflict(key + ": update not sent: " + taken);
      }
      JsonNode seen = normalization.normalize(key.type(), json(obj));
      if (planned != null && !Documents.equal(seen, planned)) {
        return Outcome.conflict(key + ": update not sent: the object changed since it was observed (resourceVersion "
            + obj.getMetadata().getResourceVersion() + "); it is observed and planned again");
      }
      try {
        return patch(change, kind, ctx, obj, seen);
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404 && !kindNotFound(e)) {
          // deleted (by hand, with its namespace) after our copy was read: as when the copy shows it gone
          // (a 404 naming no object is the kind not served, not the object gone: the caller tells which)
          return Outcome.conflict(key + ": update failed: " + KindInformers.message(e)
              + " (the object is gone since it was observed; it is observed and planned again)");
        }
        if (e.getCode() != 409 || attempt >= 3) {
          throw e;
        }
        // the server had a newer version than our copy: if only what normalization drops (status,
        // metadata) differs, the planned change still holds and goes out again with that version
        obj = resource(kind, key).get();
        // newer than the informer's copy: until the informer shows it, this key is read from the
        // server, so the engine's observe after a conflict plans on this version, not an older one
        reads.wrote(key, obj);
        planned = planned != null ? planned : seen;
      }
    }
  }

  private Outcome patch(Change change, KindInfo kind, CallContext ctx, GenericKubernetesResource obj, JsonNode seen) {
    ResourceKey key = change.key();
    JsonNode raw = json(obj);
    List<PatchOp> ops = change.patch();
    if (ops.isEmpty() || !Documents.equal(tryApply(seen, ops), change.target())) {
      // a change built by hand (or whose patch does not lead to its target): the patch from what is live
      ops = Patches.diff(seen, change.target(), rules, key);
    }
    JsonNode patched;
    try {
      patched = Patches.apply(raw, ops);
    } catch (IllegalArgumentException e) {
      return Outcome.permanentFailure(key + ": the planned patch does not fit the live object: " + e.getMessage(), e);
    }
    ObjectNode marked = (ObjectNode) Documents.mutableCopy(patched);
    mark(marked, ctx.owner(), key, lastApplied(change));
    List<PatchOp> all = new ArrayList<>();
    String rv = obj.getMetadata().getResourceVersion();
    all.add(PatchOp.replace("/metadata/resourceVersion", Documents.nodes().textNode(rv)));
    all.addAll(ops);
    all.addAll(Patches.diff(patched, marked, MergeRules.defaults(), key));
    if (all.size() == 1) {
      return Outcome.unchanged();
    }
    String body = Documents.mutableCopy(Documents.array(all.stream().map(PatchOp::toJson).toList())).toString();
    GenericKubernetesResource made = resource(kind, key).patch(PatchContext.of(PatchType.JSON), body);
    reads.wrote(key, made);
    LOG.debug("patched {} at {} ({} operations, resourceVersion {})", key, ctx.revision(), all.size(), rv);
    return Outcome.configured();
  }

  /**
   * Why {@code live} may not be written for {@code change}: it carries the mark of another owner
   * (or, unmarked, names a controller in an ownerReference), which the plan did not see or did not
   * flag ADOPT, so another reconciler took it since the plan (null when it may be written). The
   * planner's own check, made again at the write: the marks are no part of the normalized object,
   * so comparing what was planned on with what is live does not catch this.
   */
  private String takenSince(Change change, CallContext ctx, GenericKubernetesResource live) {
    if (change.has(Change.Flag.ADOPT)) {
      return null;
    }
    JsonNode doc = json(live);
    OwnerMark mark = markOf(doc);
    if (mark == null) {
      mark = controllerOf(change.key(), doc);
    }
    if (mark == null || mark.isOwnedBy(ctx.owner(), change.key())) {
      return null;
    }
    return "the object now carries the mark of " + mark.owner() + " for " + mark.key()
        + ", not ours; it is observed and planned again";
  }

  /**
   * What server-side apply sends: the fields the manifest declares, valued as planned. Fields only
   * the live object has (another manager's, such as an autoscaler's replicas, or server defaults)
   * are left out, so applying with force never takes them over; a declared field the plan leaves at
   * its live value (an ignore rule) is left out too. Lists go as declared: the server merges them
   * by their keys, keeping elements other managers own.
   */
  private static ObjectNode declared(Change change) {
    JsonNode target = change.target();
    JsonNode desired = change.desired() != null ? change.desired() : target;
    return (ObjectNode) declared(desired, target);
  }

  private static JsonNode declared(JsonNode desired, JsonNode target) {
    ObjectNode out = Documents.nodes().objectNode();
    for (Map.Entry<String, JsonNode> e : desired.properties()) {
      JsonNode d = e.getValue();
      JsonNode t = target.get(e.getKey());
      if (t == null) {
        continue;  // planned absent (null in Git means absent)
      }
      if (d.isObject()) {
        if (t.isObject()) {
          out.set(e.getKey(), declared(d, t));
        }
      } else if (d.isArray()) {
        if (t.isArray()) {
          out.set(e.getKey(), Documents.mutableCopy(d));
        }
      } else if (Documents.equal(d, t)) {
        out.set(e.getKey(), Documents.mutableCopy(d));
      }
    }
    return out;
  }

  private static JsonNode tryApply(JsonNode doc, List<PatchOp> ops) {
    try {
      return Patches.apply(doc, ops);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private Outcome replace(Change change, KindInfo kind, CallContext ctx) throws InterruptedException {
    ResourceKey key = change.key();
    // the wait for the old object to go is answered by this kind's watch; its list answered 404 for the kind is
    // thrown with that answer, which applyOne waits for the kind's CRD on, as for the write's own 404
    watch(kind, key, ctx);
    GenericKubernetesResource old = current(key, kind);  // null is gone, not its kind unserved
    if (old != null) {
      // as for an update: only the object the plan was made on is deleted (not one recreated or taken since)
      String taken = takenSince(change, ctx, old);
      if (taken != null) {
        return Outcome.conflict(key + ": replace not sent: " + taken);
      }
      if (change.live() != null && !Documents.equal(normalization.normalize(key.type(), json(old)),
          normalization.normalize(key.type(), change.live()))) {
        return Outcome.conflict(key + ": replace not sent: the object changed since it was observed (resourceVersion "
            + old.getMetadata().getResourceVersion() + "); it is observed and planned again");
      }
      String uid = old.getMetadata().getUid();
      deletable(resource(kind, key).lockResourceVersion(old.getMetadata().getResourceVersion()))
          .withPropagationPolicy(DeletionPropagation.FOREGROUND).delete();
      reads.deleted(key, uid);
      Outcome notGone = awaitGone(key, kind, uid, System.nanoTime() + ctx.remaining().toNanos());
      if (notGone != null) {
        return notGone;
      }
    }
    Outcome created = create(change, kind, ctx);
    return created.kind() == Outcome.Kind.CREATED ? Outcome.configured() : created;
  }

  /** The first and the longest pause between two reads of an object a replace waits to see go, its informer not watching. */
  private static final Duration GONE_POLL_FIRST = Duration.ofMillis(50);
  private static final Duration GONE_POLL_MAX = Duration.ofSeconds(1);

  /**
   * Waits until the object of {@code key} whose uid is {@code uid}, deleted by a replace, is gone,
   * finalizers and all, at most until {@code deadline} (System.nanoTime): on its informer's watch
   * while that is watching, else by reading it from the server, 50 ms after the delete and then
   * twice as long each time up to a second (a stale cache would show it there until the deadline,
   * and no event of its kind comes meanwhile). A read that fails (its kind no longer served, say)
   * is read again; it proves neither way.
   *
   * @return null once it is gone, else the UNKNOWN outcome saying it is still there or could not be read
   */
  private Outcome awaitGone(ResourceKey key, KindInfo kind, String uid, long deadline) throws InterruptedException {
    GenericKubernetesResource still = null;
    KubernetesClientException unread = null;
    long pause = GONE_POLL_FIRST.toNanos();
    while (true) {
      long now = System.nanoTime();
      if (informers.isWatching(key.type(), key.scope())) {
        // woken by the watch; a quarter second at most, to notice that it stopped watching
        GenericKubernetesResource[] seen = {null};
        if (informers.awaitEvent(() -> {
          seen[0] = informers.cached(key.type(), key.scope(), key.name());
          return seen[0] == null || !uid.equals(seen[0].getMetadata().getUid());
        }, Math.min(deadline, now + Duration.ofMillis(250).toNanos()))) {
          return null;
        }
        still = seen[0];
        unread = null;
      } else {
        try {
          GenericKubernetesResource c = read(key, kind);
          if (c == null || !uid.equals(c.getMetadata().getUid())) {
            return null;
          }
          still = c;
          unread = null;
        } catch (KubernetesClientException e) {
          unread = e;
        }
        long wake = Math.min(deadline, System.nanoTime() + pause);
        pause = Math.min(pause * 2, GONE_POLL_MAX.toNanos());
        // a pause that the watch, should it resume, cuts short
        informers.awaitEvent(() -> informers.isWatching(key.type(), key.scope()), wake);
      }
      if (System.nanoTime() >= deadline) {
        break;
      }
    }
    if (unread != null) {
      return Outcome.unknown(key + ": deleted to replace it, but whether it is gone cannot be told: its informer is not"
          + " watching and its read failed: " + KindInformers.message(unread) + "; it is created again once gone (next"
          + " sync)");
    }
    return Outcome.unknown(key + ": deleted to replace it, but it is still there"
        + (still == null || still.getMetadata().getFinalizers() == null || still.getMetadata().getFinalizers().isEmpty()
            ? "" : " with finalizers " + still.getMetadata().getFinalizers())
        + "; it is created again once gone (next sync)");
  }

  /**
   * Deletes the object; deleting one that is already gone succeeds (deletes are idempotent). Only
   * an object that still carries our mark is deleted, and the request is preconditioned on the
   * resourceVersion checked: an object that was deleted and created again by someone else since
   * the plan (same name, not ours) is never deleted (the engine observes and plans it again). A read
   * answered 404 for the kind is the object gone only when its CRD never served the kind or is
   * being deleted (see {@link #current}).
   */
  private Outcome delete(ResourceKey key, KindInfo kind, CallContext ctx) {
    GenericKubernetesResource old;
    try {
      old = current(key, kind);
    } catch (KubernetesClientException e) {
      String noObjects = e.getCode() == 404 ? noObjectsCanExist(kind, false) : null;
      if (noObjects == null) {
        // it may be there, at a version the API server serves: applyOne waits for the CRD, else fails saying so,
        // or, no CRD explaining the 404, naming the kind the server does not serve
        throw e;
      }
      // its CRD has never served the kind (not in the cluster, not Established, which it does not leave once it
      // is, its names not accepted) or is being deleted, which takes its objects: there is nothing of it to delete
      LOG.debug("{}: its read was answered {}: {}; nothing of it to delete", key, KindInformers.message(e), noObjects);
      return Outcome.deleted();
    }
    for (int attempt = 1; ; attempt++) {
      if (old == null) {
        return Outcome.deleted();
      }
      OwnerMark mark = markOf(json(old));
      if (mark == null || !mark.isOwnedBy(ctx.owner(), key)) {
        return Outcome.conflict(key + ": delete not sent: the object no longer carries our mark ("
            + (mark == null ? "unmarked" : "marked by " + mark.owner() + " for " + mark.key()) + ", uid "
            + old.getMetadata().getUid() + "); it is observed and planned again");
      }
      try {
        deletable(resource(kind, key).lockResourceVersion(old.getMetadata().getResourceVersion()))
            .withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
        break;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt >= 3) {
          throw e;
        }
        // changed since we looked (a controller's status, say): look again, and delete it only if still ours
        GenericKubernetesResource now = resource(kind, key).get();
        if (now != null && !Objects.equals(now.getMetadata().getUid(), old.getMetadata().getUid())) {
          reads.wrote(key, now);
          return Outcome.conflict(key + ": delete not sent: the object was deleted and created again (uid "
              + now.getMetadata().getUid() + ") since it was observed; it is observed and planned again");
        }
        old = now;
      }
    }
    reads.deleted(key, old.getMetadata().getUid());
    LOG.debug("deleted {} at {}", key, ctx.revision());
    return Outcome.deleted();
  }

  /**
   * The propagation-policy view of a delete pinned to a resourceVersion: fabric8's
   * {@code lockResourceVersion} types its result without it, but the operation it returns has it.
   */
  @SuppressWarnings("unchecked")
  private static io.fabric8.kubernetes.client.PropagationPolicyConfigurable<? extends io.fabric8.kubernetes.client.dsl.Deletable>
      deletable(io.fabric8.kubernetes.client.dsl.ReplaceDeletable<GenericKubernetesResource> locked) {
    return (io.fabric8.kubernetes.client.PropagationPolicyConfigurable<? extends io.fabric8.kubernetes.client.dsl.Deletable>) locked;
  }

  /** What {@code kubectl apply} would keep as the last-applied configuration, or null when it does not fit. */
  private static String lastApplied(Change change) {
    JsonNode applied = change.desired() != null ? change.desired() : change.target();
    if (applied == null) {
      return null;
    }
    ObjectNode copy = (ObjectNode) Documents.mutableCopy(applied);
    if (copy.path("metadata").path("annotations") instanceof ObjectNode a) {
      a.remove(Annotations.LAST_APPLIED);
    }
    // kubectl writes the object as Go's JSON encoder does: keys sorted, no spaces, a final newline
    return Documents.canonicalJson(copy) + "\n";
  }

  /** Writes our label and annotations (and the last-applied one when it fits) into {@code doc}. */
  private static void mark(ObjectNode doc, String owner, ResourceKey key, String lastApplied) {
    ObjectNode meta = doc.get("metadata") instanceof ObjectNode m ? m : doc.putObject("metadata");
    ObjectNode labels = meta.get("labels") instanceof ObjectNode l ? l : meta.putObject("labels");
    labels.put(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE);
    ObjectNode annotations = meta.get("annotations") instanceof ObjectNode a ? a : meta.putObject("annotations");
    annotations.put(Annotations.OWNER, owner);
    annotations.put(Annotations.KEY, key.toString());
    annotations.remove(Annotations.LAST_APPLIED);
    if (lastApplied != null) {
      long size = lastApplied.getBytes(StandardCharsets.UTF_8).length + Annotations.LAST_APPLIED.length();
      for (Map.Entry<String, JsonNode> e : annotations.properties()) {
        size += e.getKey().length() + e.getValue().asText().getBytes(StandardCharsets.UTF_8).length;
      }
      if (size <= ANNOTATIONS_LIMIT) {
        annotations.put(Annotations.LAST_APPLIED, lastApplied);
      } else {
        LOG.debug("{}: the last-applied configuration does not fit the annotations limit; the state store keeps it", key);
      }
    }
  }

  private static GenericKubernetesResource object(JsonNode doc) {
    return Serialization.jsonMapper().convertValue(doc, GenericKubernetesResource.class);
  }

  private static JsonNode json(GenericKubernetesResource r) {
    return Serialization.jsonMapper().valueToTree(r);
  }

  /**
   * Stops the informers, and closes the client when the provider made it. A closed provider reaches
   * the cluster no more: {@link #observe}, {@link #apply}, {@link #listMarked} and {@link #unmark}
   * throw {@link IllegalStateException} without a request (a call under way when it closes ends with
   * its kinds' keys UNKNOWN, saying so), and its decoder decodes as one without a cluster. Closing
   * again does nothing.
   */
  @Override
  public void close() {
    closed = true;
    informers.close();
    if (ownsClient) {
      client.close();
    }
  }

  @Override
  public String toString() {
    return "KubernetesProvider[" + id + ", " + applyMode + "]";
  }

  /**
   * Whether the API server takes {@code c} as printable in a field manager (Go's {@code
   * unicode.IsPrint}: letters, marks, numbers, punctuation, symbols and the ASCII space).
   */
  private static boolean printable(int c) {
    if (c == ' ') {
      return true;
    }
    return switch (Character.getType(c)) {
      case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER, Character.MODIFIER_LETTER,
          Character.OTHER_LETTER, Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
          Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER, Character.CONNECTOR_PUNCTUATION,
          Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
          Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION,
          Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> true;
      default -> false;
    };
  }

  /** Builds a {@link KubernetesProvider}. */
  public static final class Builder {
    private final KubernetesClient client;
    private final boolean ownsClient;
    /** Holds (and checks) what the provider shares with its decoder: id, default namespace, kept status. */
    private final KubernetesDecoder.Builder decoder = KubernetesDecoder.builder();
    private ApplyMode applyMode = ApplyMode.CLIENT_SIDE;
    private String fieldManager = "gitops";
    private Duration syncTimeout = Duration.ofSeconds(30);
    private final Set<String> scanTypes = new HashSet<>();
    private final Set<String> namespaces = new HashSet<>();
    private final List<HealthCheck> healthChecks = new ArrayList<>();
    private boolean loadHealthChecks = true;

    private Builder(KubernetesClient client, boolean ownsClient) {
      this.client = client;
      this.ownsClient = ownsClient;
    }

    /** The provider id of the keys (default {@code k8s}). */
    public Builder id(String providerId) {
      decoder.providerId(providerId);
      return this;
    }

    /** The namespace of namespaced objects whose manifest names none (default {@code default}). */
    public Builder defaultNamespace(String namespace) {
      decoder.defaultNamespace(namespace);
      return this;
    }

    /**
     * Whether the decoder asks the source for all files at once, so a CRD in any file tells the
     * scope of custom objects in all of them (default on; turn it off only for a source that
     * substitutes variables, see {@link KubernetesDecoder#decodesTogether()}).
     */
    public Builder decodeFilesTogether(boolean on) {
      decoder.decodeFilesTogether(on);
      return this;
    }

    /** Client-side (the default) or server-side apply. */
    public Builder applyMode(ApplyMode mode) {
      this.applyMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * The field manager of server-side apply (default {@code gitops}), as the API server accepts
     * one: not empty, at most 128 characters, all printable.
     *
     * <pre>{@code
     * KubernetesProvider k8s = KubernetesProvider.builder(client).applyMode(ApplyMode.SERVER_SIDE)
     *     .fieldManager("gitops-shop").build();
     * }</pre>
     *
     * @throws IllegalArgumentException naming the value, when the API server would refuse every apply made with it
     */
    public Builder fieldManager(String manager) {
      Objects.requireNonNull(manager, "manager");
      String problem = manager.isEmpty() ? "is empty: server-side apply requires one"
          : manager.codePointCount(0, manager.length()) > 128 ? "is " + manager.codePointCount(0, manager.length())
              + " characters long: at most 128"
          : manager.codePoints().allMatch(KubernetesProvider::printable) ? null
          : "has a character that is not printable (a control character, a line break)";
      if (problem != null) {
        // shown cut, and with what does not print escaped: the message goes to a log or a terminal
        String shown = manager.codePoints().limit(80).mapToObj(c -> printable(c) ? Character.toString(c)
            : String.format(java.util.Locale.ROOT, "\\u%04x", c)).collect(java.util.stream.Collectors.joining())
            + (manager.codePointCount(0, manager.length()) > 80 ? "..." : "");
        throw new IllegalArgumentException("fieldManager '" + shown + "' " + problem
            + ", as the API server requires of a field manager (it would refuse every apply made with it)");
      }
      this.fieldManager = manager;
      return this;
    }

    /** How long an informer's first list may take before its keys are UNKNOWN (default 30 s). */
    public Builder informerSyncTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("informer sync timeout must be positive, got " + timeout);
      }
      this.syncTimeout = timeout;
      return this;
    }

    /** Key types ({@code example.com/Widget}) whose {@code status} is declared in Git rather than reported by a controller. */
    public Builder keepStatus(String... types) {
      decoder.keepStatus(Set.of(types));
      return this;
    }

    /**
     * Key types searched for orphans (objects with our mark that are neither in Git nor in the
     * inventory) besides the kinds in play, for example {@code apps/Deployment}.
     */
    public Builder scanForOrphans(String... types) {
      scanTypes.addAll(List.of(types));
      return this;
    }

    /**
     * Lists namespaced kinds only in these namespaces, one informer per kind and namespace, never
     * cluster-wide (as Argo CD's {@code namespaces:} in a cluster secret): for credentials bound
     * to these namespaces only. Keys in other namespaces are UNKNOWN, naming this option, and
     * orphans are searched for in these namespaces only. Cluster-scoped kinds are listed as
     * without it. Default: none, every namespace (and, when a kind may not be listed
     * cluster-wide, each namespace the desired state or the state store names).
     *
     * <pre>{@code
     * KubernetesProvider k8s = KubernetesProvider.builder(client).namespaces("shop", "shop-staging").build();
     * }</pre>
     *
     * @throws IllegalArgumentException naming a value that is not a namespace name
     */
    public Builder namespaces(String... names) {
      for (String n : names) {
        if (n == null || !Names.isLabel(n)) {
          throw new IllegalArgumentException("namespaces: '" + n + "' is not a namespace name: lower-case letters,"
              + " digits and '-', starting and ending with a letter or digit, at most 63 characters");
        }
      }
      namespaces.addAll(List.of(names));
      return this;
    }

    /** Adds a health check; checks given here run before those found on the class path and the built-in ones. */
    public Builder healthCheck(HealthCheck check) {
      healthChecks.add(Objects.requireNonNull(check, "check"));
      return this;
    }

    /** Whether {@link HealthCheck}s listed in {@code META-INF/services} are loaded (default true). */
    public Builder loadHealthChecks(boolean load) {
      this.loadHealthChecks = load;
      return this;
    }

    /** The provider. */
    public KubernetesProvider build() {
      return new KubernetesProvider(this);
    }
  }
}
