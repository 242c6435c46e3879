package dev.gitops.cluster.agent;

import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.TargetConfig;
import dev.gitops.agent.providers.InvalidOptionException;
import dev.gitops.agent.providers.KubernetesProviderFactory;
import dev.gitops.agent.spi.Placement;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StateStore;
import dev.gitops.cluster.ClusterMember;
import dev.gitops.cluster.Coordinator;
import dev.gitops.cluster.FencedProvider;
import dev.gitops.cluster.Ownership;
import dev.gitops.cluster.etcd.EtcdCoordinator;
import dev.gitops.cluster.etcd.EtcdStateStore;
import dev.gitops.cluster.k8s.ApiServerUnreachableException;
import dev.gitops.cluster.k8s.LeaseCoordinator;
import dev.gitops.cluster.k8s.SecretStateStore;
import dev.gitops.k8s.KubernetesProvider;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The agent's {@link Placement} when agents share a configuration: a {@link ClusterMember} decides
 * which targets run here, every target's provider is fenced with its ownership ({@link
 * FencedProvider}), and every target keeps its state in the coordination engine so that it can
 * move to another machine: in etcd ({@link EtcdStateStore}) or, with the Kubernetes backend, in a
 * Secret per target ({@link SecretStateStore}), every write guarded by the owner's token.
 *
 * <pre>{@code
 * Agent agent = Agent.builder(Path.of("agent.yaml"))
 *     .placement(ClusterPlacement.connect("etcd://127.0.0.1:2379", "m1", null))
 *     .build();
 * agent.start();     // joins; targets start here as this member takes them
 * agent.close();     // stops them, then leaves: the others take them over at once
 * }</pre>
 */
public final class ClusterPlacement implements Placement {

  private final Coordinator coordinator;
  private final ClusterMember.Builder memberBuilder;
  private final AutoCloseable resource;
  private ClusterMember member;
  private volatile Set<String> configured = Set.of();

  private ClusterPlacement(Coordinator coordinator, Duration settleDelay, Duration pollInterval, AutoCloseable resource) {
    this.coordinator = Objects.requireNonNull(coordinator, "coordinator");
    this.resource = resource;
    this.memberBuilder = ClusterMember.builder(coordinator, new ClusterMember.Targets() {
      @Override
      public boolean start(Ownership ownership) {
        return control().startTarget(ownership.target());  // false: the member releases it and retries later
      }

      @Override
      public void stop(String target, String reason) {
        control().stopTarget(target, reason);
      }
    }).settleDelay(settleDelay).pollInterval(pollInterval);
  }

  private Control control;

  private Control control() {
    return control;
  }

  /** A placement over {@code coordinator} (not joined yet). */
  public static ClusterPlacement of(Coordinator coordinator, Duration settleDelay, Duration pollInterval) {
    return new ClusterPlacement(coordinator, settleDelay, pollInterval, null);
  }

  /**
   * A placement from the command line's flags: {@code --cluster etcd://HOST:PORT[,HOST:PORT...]}
   * or {@code --cluster k8s} (the current kubeconfig context, Leases in {@code --namespace}),
   * member id {@code --member}.
   *
   * @throws IllegalArgumentException naming the flag at fault
   */
  public static ClusterPlacement connect(String cluster, String member, String namespace) {
    return connect(cluster, member, namespace, DEFAULT_NAME);
  }

  /**
   * {@link #connect(String, String, String)} for the cluster named {@code name} ({@code
   * --cluster-name}): the agents of one name share targets, and clusters of other names on the same
   * etcd ({@code /gitops/<name>/}) or in the same namespace (the Leases' cluster label) never see
   * them. The default name is {@code default}.
   *
   * <pre>{@code
   * ClusterPlacement staging = ClusterPlacement.connect("etcd://10.0.0.5:2379", "agent-1", null, "staging");
   * }</pre>
   *
   * @throws IllegalArgumentException naming the flag at fault
   */
  public static ClusterPlacement connect(String cluster, String member, String namespace, String name) {
    return connect(cluster, member, namespace, name, null, null, true);
  }

  /**
   * {@link #connect(String, String, String, String)} with the kubeconfig file and context of
   * {@code --cluster k8s} ({@code --kubeconfig} and {@code --context}, as kubectl's flags): null
   * for the default kubeconfig ({@code KUBECONFIG}, {@code ~/.kube/config}, in-cluster) and its
   * current context. They are read as the Kubernetes provider reads them ({@code
   * KubernetesProvider.client}) and refused with any other {@code --cluster}.
   *
   * <pre>{@code
   * ClusterPlacement p = ClusterPlacement.connect("k8s", "agent-1", "gitops", "default",
   *     Path.of("/etc/gitops/kubeconfig"), "prod");
   * }</pre>
   *
   * @throws IllegalArgumentException naming the flag at fault: a kubeconfig that is missing, cannot
   *     be read or has no such context names {@code --kubeconfig} or {@code --context}
   */
  public static ClusterPlacement connect(String cluster, String member, String namespace, String name,
      java.nio.file.Path kubeconfig, String context) {
    return connect(cluster, member, namespace, name, kubeconfig, context, true);
  }

  /** The cluster name of agents given none. */
  public static final String DEFAULT_NAME = "default";

  /** A cluster name: a Kubernetes label value, so that it names an etcd prefix and a Lease label alike. */
  private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile(
      "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");

  /** A host of {@code --cluster etcd://HOST:PORT}: a DNS name (labels of letters, digits and '-') or an IPv4 address. */
  private static final java.util.regex.Pattern HOST = java.util.regex.Pattern.compile(
      "[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*\\.?");

  /** A namespace's name: a DNS-1123 label, as Kubernetes has it. */
  private static final java.util.regex.Pattern NAMESPACE = java.util.regex.Pattern.compile(
      "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final String NAMESPACE_RULE = "lower-case letters, digits and '-', starting and ending with a letter"
      + " or digit, at most 63 characters";

  /** {@code waitForConnection}: whether etcd's calls wait for a connection ({@link EtcdCoordinator.Builder#waitForConnection}). */
  private static ClusterPlacement connect(String cluster, String member, String namespace, String name,
      java.nio.file.Path kubeconfig, String context, boolean waitForConnection) {
    if (name == null || !NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
      throw new IllegalArgumentException("--cluster-name '" + name + "' is not a cluster name: letters, digits, '-',"
          + " '_' and '.', at most 63, beginning and ending with a letter or digit");
    }
    if (member == null || member.isBlank()) {
      throw new IllegalArgumentException("--member is required with --cluster: a name unique among the agents");
    }
    if (!AgentConfig.isName(member)) {
      // it names keys in etcd, Lease holders and log lines, like a target's name
      throw new IllegalArgumentException("--member '" + member + "' is not a member id: " + AgentConfig.NAME_RULE);
    }
    if (cluster == null || cluster.isBlank()) {
      throw new IllegalArgumentException("--cluster must not be empty: etcd://HOST:PORT[,HOST:PORT...] or k8s");
    }
    Duration settle = Duration.ofSeconds(2);
    Duration poll = Duration.ofMillis(500);
    if (cluster.startsWith("etcds://") || cluster.startsWith("https://")) {
      throw new IllegalArgumentException("--cluster " + redacted(cluster) + ": TLS to etcd is not supported yet; use"
          + " etcd://HOST:PORT[,HOST:PORT...] (plain HTTP, on a network only the agents reach)");
    }
    if (cluster.startsWith("etcd://")) {
      List<String> endpoints = new ArrayList<>();
      for (String hostPort : cluster.substring("etcd://".length()).split(",", -1)) {
        if (hostPort.contains("@")) {
          // never echoed: what precedes the '@' may be a password
          throw new IllegalArgumentException("--cluster " + redacted(cluster) + ": credentials in the URL are not"
              + " supported (nor etcd authentication yet); give HOST:PORT only");
        }
        if (hostPort.startsWith("[")) {
          // jetcd 0.8.5 names its target from the endpoints and has no resolver for a bracketed IPv6 literal
          throw new IllegalArgumentException("--cluster " + cluster + ": '" + hostPort + "' is an IPv6 literal, which"
              + " the etcd client does not support; give a host name that resolves to it (an /etc/hosts entry will do)");
        }
        if (!hostPort.matches("[^/:\\s]+:\\d{1,5}")) {
          throw new IllegalArgumentException("--cluster " + cluster + ": '" + hostPort + "' is not HOST:PORT");
        }
        String host = hostPort.substring(0, hostPort.lastIndexOf(':'));
        if (!HOST.matcher(host).matches()) {
          // the client would fail on it with its own words ("Unable to compute target from endpoint", "Malformed
          // escape pair"), naming no flag, or take it for a host that cannot be resolved
          throw new IllegalArgumentException("--cluster " + cluster + ": '" + host + "' in '" + hostPort + "' is not a"
              + " host name or IPv4 address (ASCII letters, digits, '-' and '.'; write an international name in its"
              + " xn-- form)");
        }
        if (java.net.URI.create("http://" + hostPort).getHost() == null) {
          // letters, digits and dots that make neither an IPv4 address nor a name (999.1.1.1, 1.2.3, host.1): the
          // client's URI has no host, and it would fail with "Unable to compute target from endpoint", naming no flag
          throw new IllegalArgumentException("--cluster " + cluster + ": '" + host + "' in '" + hostPort + "' is not a"
              + " host name or IPv4 address (an IPv4 address is four numbers from 0 to 255; a host name's last label"
              + " starts with a letter)");
        }
        int port = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException("--cluster " + cluster + ": '" + hostPort + "' has no port from 1 to 65535");
        }
        endpoints.add("http://" + hostPort);
      }
      if (kubeconfig != null || context != null) {
        // silently ignored, the agent would look right and coordinate through another engine than the one meant
        throw new IllegalArgumentException((kubeconfig != null ? "--kubeconfig" : "--context") + " is for --cluster"
            + " k8s, not --cluster " + cluster);
      }
      if (namespace != null) {
        // on etcd, clusters are told apart by their name: a namespace silently ignored would let two sets of agents
        // that meant to be apart share (and run) each other's targets
        throw new IllegalArgumentException("--namespace " + namespace + " is for --cluster k8s; on etcd, agents that"
            + " must not share targets are told apart by --cluster-name");
      }
      return of(EtcdCoordinator.connectBuilder(String.join(",", endpoints), member).prefix("/gitops/" + name + "/")
          .waitForConnection(waitForConnection).build(), settle, poll);
    }
    if (cluster.equals("k8s")) {
      if (namespace == null || namespace.isBlank()) {
        throw new IllegalArgumentException("--namespace is required with --cluster k8s: where the Leases live");
      }
      if (!NAMESPACE.matcher(namespace).matches()) {
        throw new IllegalArgumentException("--namespace '" + namespace + "' is not a Kubernetes namespace name: "
            + NAMESPACE_RULE);
      }
      KubernetesClient client = kubernetesClient(kubeconfig, context);
      return new ClusterPlacement(LeaseCoordinator.builder(client, namespace, member).cluster(name).build(), settle, poll,
          client);
    }
    throw new IllegalArgumentException("--cluster " + cluster + ": want etcd://HOST:PORT[,HOST:PORT...] or k8s");
  }

  /**
   * The client of {@code --cluster k8s}: the default kubeconfig and its current context when
   * neither flag is given, else the file and context as the Kubernetes provider reads them, refused
   * naming the flag when the file is missing, cannot be read or has no such context.
   */
  private static KubernetesClient kubernetesClient(java.nio.file.Path kubeconfig, String context) {
    if (kubeconfig == null && context == null) {
      try {
        // as an explicit kubeconfig is: a file it names (a CA, a client certificate or key) that is missing or holds
        // no certificate is said naming it, where fabric8 said "An error has occurred." with the file in a cause
        return KubernetesProvider.client(null, null);
      } catch (IllegalArgumentException e) {
        String why = e.getMessage().startsWith("the default kubeconfig: ")
            ? e.getMessage().substring("the default kubeconfig: ".length()) : e.getMessage();
        throw new IllegalArgumentException("--cluster k8s: the default kubeconfig "
            + String.join(", ", io.fabric8.kubernetes.client.Config.getKubeconfigFilenames()) + ": " + why
            + "; fix it, or give --kubeconfig FILE (and --context NAME) to use another", e);
      }
    }
    for (Object[] flag : new Object[][] {{"--kubeconfig", kubeconfig}, {"--context", context}}) {
      if (flag[1] != null && flag[1].toString().isBlank()) {
        throw new IllegalArgumentException(flag[0] + " is empty: give a value or leave the flag out");
      }
    }
    try {
      KubernetesProviderFactory.check(kubeconfig, context, null);
    } catch (InvalidOptionException e) {
      throw new IllegalArgumentException(e.flag() + " (with --cluster k8s): " + e.getMessage(), e);
    }
    KubernetesClient client;
    try {
      client = KubernetesProvider.client(kubeconfig, context);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--kubeconfig (with --cluster k8s): " + e.getMessage(), e);
    }
    io.fabric8.kubernetes.api.model.NamedContext current = client.getConfiguration().getCurrentContext();
    if (context != null && (current == null || !context.equals(current.getName()))) {
      // the default kubeconfig's contexts are not checked above; fabric8 falls back to another context
      java.io.File file = client.getConfiguration().getFile();
      client.close();
      throw new IllegalArgumentException("--context (with --cluster k8s): no context '" + context + "' in "
          + (file == null ? "the default kubeconfig (there is no kubeconfig file)" : "the kubeconfig " + file));
    }
    return client;
  }

  /**
   * Who owns which target in the cluster named by the command line's flags ({@code --cluster},
   * and {@code --namespace} with k8s), asked without joining: what {@code gitops status --cluster}
   * prints.
   *
   * @throws IllegalArgumentException naming the flag at fault
   */
  public static Map<String, Ownership> owners(String cluster, String namespace) {
    return owners(cluster, namespace, DEFAULT_NAME);
  }

  /** {@link #owners(String, String)} in the cluster named {@code name} ({@code --cluster-name}). */
  public static Map<String, Ownership> owners(String cluster, String namespace, String name) {
    return owners(cluster, namespace, name, null, null);
  }

  /**
   * {@link #owners(String, String, String)} through the kubeconfig file and context of {@code
   * --cluster k8s} ({@code --kubeconfig}, {@code --context}; null for the default), as {@link
   * #connect(String, String, String, String, java.nio.file.Path, String)} takes them.
   *
   * @throws IllegalArgumentException naming the flag at fault
   */
  public static Map<String, Ownership> owners(String cluster, String namespace, String name,
      java.nio.file.Path kubeconfig, String context) {
    // a one-off read: an etcd that takes no connection is said at once, not after the call's timeout
    ClusterPlacement reader = connect(cluster, "gitops-status", namespace, name, kubeconfig, context, false);
    try {
      return reader.coordinator().owners();
    } catch (RuntimeException e) {
      // the engine's own message names neither the flag nor, often, the reason (it is in a cause); the Lease
      // backend's says the API server, why and the kubeconfig and context already
      String why = e instanceof ApiServerUnreachableException ? null : reason(e);
      throw new IllegalStateException("--cluster " + cluster + (cluster.equals("k8s") ? " --namespace " + namespace : "")
          + ": cannot read who owns the targets: " + e.getMessage() + (why == null ? "" : " (" + why + ")"), e);
    } finally {
      reader.close();  // never joined: closes the connection only
    }
  }

  /**
   * What a failure's causes say that its message does not: the deepest cause's message, or the
   * type of a network failure that has none (fabric8's "Operation [list] ... failed." hides a
   * ConnectException without a message); null when the message says it all.
   */
  static String reason(Throwable e) {
    String why = null;
    String said = String.valueOf(e.getMessage());
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !said.contains(c.getMessage())) {
        why = c.getMessage();
      } else if (why == null && c.getMessage() == null
          && (c instanceof java.net.SocketException || c instanceof java.net.UnknownHostException)) {
        why = c.getClass().getSimpleName();
      }
    }
    return why;
  }

  /** {@code cluster} with what precedes an '@' in each endpoint (user and password) masked, for messages. */
  static String redacted(String cluster) {
    return cluster.replaceAll("(^[a-z0-9]+://|,)[^,]*@", "$1***@");
  }

  /** The coordinator (to ask who owns what). */
  public Coordinator coordinator() {
    return coordinator;
  }

  /** The targets this agent owns now. */
  public Map<String, Ownership> owned() {
    ClusterMember m = member;
    return m == null ? Map.of() : m.owned();
  }

  @Override
  public synchronized void start(Control c) {
    if (member != null) {
      throw new IllegalStateException("this placement has started already");
    }
    this.control = Objects.requireNonNull(c, "control");
    member = memberBuilder.build();
    member.targets(configured);
    member.start();
  }

  @Override
  public void configured(Set<String> targets) {
    configured = Set.copyOf(targets);
    ClusterMember m = member;
    if (m != null) {
      m.targets(configured);
    }
  }

  private Ownership ownershipOf(TargetConfig target) {
    ClusterMember m = member;
    return Optional.ofNullable(m).flatMap(x -> x.ownership(target.name())).orElseThrow(() -> new IllegalStateException(
        "target " + target.name() + " is not owned by member " + coordinator.memberId() + "; not starting it"));
  }

  @Override
  public Optional<StateStore> openStore(TargetConfig target) {
    if (coordinator instanceof EtcdCoordinator etcd) {
      return Optional.of(EtcdStateStore.open(etcd, ownershipOf(target)));
    }
    if (coordinator instanceof LeaseCoordinator leases) {
      return Optional.of(SecretStateStore.open(leases, ownershipOf(target)));
    }
    return Optional.empty();
  }

  @Override
  public Provider wrapProvider(TargetConfig target, Provider provider) {
    return new FencedProvider(provider, coordinator, ownershipOf(target));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Told locally, as {@link FencedProvider} tells it: the member's lease is not live by its own
   * clock ({@link Coordinator#isMember()}), or the member holds no ownership of the target.
   */
  @Override
  public Optional<String> lost(String target) {
    ClusterMember m = member;
    if (m == null) {
      return Optional.empty();
    }
    if (!coordinator.isMember()) {
      return Optional.of("member " + coordinator.memberId() + " no longer holds target " + target + ": its lease is"
          + " not live by its own clock");
    }
    return m.ownership(target).isPresent() ? Optional.empty() : Optional.of("member " + coordinator.memberId()
        + " no longer owns target " + target);
  }

  @Override
  public Optional<String> notReady() {
    ClusterMember m = member;
    return m == null ? Optional.empty() : m.notReady();
  }

  @Override
  public Set<String> failedStopsNamed() {
    ClusterMember m = member;
    return m == null ? Set.of() : m.failedStops();
  }

  @Override
  public synchronized void close() {
    if (member != null) {
      member.close();  // stops what still runs, releases, revokes the lease
    } else {
      coordinator.close();
    }
    if (resource != null) {
      try {
        resource.close();
      } catch (Exception e) {
        // the Kubernetes client's connections die with the process anyway
        org.slf4j.LoggerFactory.getLogger(ClusterPlacement.class).warn("closing {} failed: {}", resource, e.toString());
      }
    }
  }
}
