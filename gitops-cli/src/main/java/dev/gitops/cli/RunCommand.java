package dev.gitops.cli;

import dev.gitops.agent.Agent;
import dev.gitops.agent.config.ConfigException;
import dev.gitops.cluster.agent.ClusterPlacement;
import dev.gitops.micrometer.MetricsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gitops run}: the agent, reconciling every target of a configuration until stopped. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Run as an agent: reconcile every target of the configuration, each on its own schedule, until "
        + "stopped. See docs/agent.md for the file.",
        "SIGHUP (or an edit of the file) reloads it: added targets start, removed ones stop (nothing is pruned), "
            + "changed ones restart; an invalid file is refused and the running configuration stays.",
        "With --cluster, every agent running the same file with its own --member shares its targets (see "
            + "docs/agent.md, Scale-out).",
        "SIGTERM or Ctrl-C stops gracefully: no new sync, the ones in flight are cancelled at a safe point, stores "
            + "close; a second SIGTERM within the grace period (a second or more after the first) stops at once "
            + "(exit 1)."})
final class RunCommand implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE", required = true, description = "The agent's configuration (YAML).")
  Path config;

  @Option(names = "--metrics-port", paramLabel = "PORT",
      description = "Serve /metrics (Prometheus), /healthz and /readyz on this port (0: any free port; default: none).")
  Integer metricsPort;

  @Option(names = "--metrics-address", paramLabel = "ADDR", defaultValue = "0.0.0.0",
      description = "The address to serve them on (default: ${DEFAULT-VALUE}, every interface).")
  String metricsAddress;

  @Option(names = "--cluster", paramLabel = "etcd://HOST:PORT[,HOST:PORT]|k8s",
      description = "Share the targets with the other agents of this cluster: etcd (state in etcd too) or Kubernetes "
          + "Leases in --namespace (state in a Secret per target there).")
  String cluster;

  @Option(names = "--member", paramLabel = "ID", description = "This agent's id in the cluster, unique among its agents.")
  String member;

  @Option(names = "--cluster-name", paramLabel = "NAME",
      description = "With --cluster: the cluster's name (default: default). Agents of one name share targets; "
          + "clusters of other names may share the etcd or the namespace without seeing them.")
  String clusterName;

  @Option(names = "--namespace", paramLabel = "NS",
      description = "With --cluster k8s: the namespace of the Leases and the state Secrets.")
  String namespace;

  @Option(names = "--kubeconfig", paramLabel = "FILE",
      description = "With --cluster k8s: the kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster).")
  Path kubeconfig;

  @Option(names = "--context", paramLabel = "NAME",
      description = "With --cluster k8s: the kubeconfig context (default: the current context).")
  String context;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    if (metricsPort == null && spec.commandLine().getParseResult().hasMatchedOption("--metrics-address")) {
      throw new IllegalArgumentException("--metrics-address needs --metrics-port (nothing is served without it)");
    }
    if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
      throw new IllegalArgumentException("--metrics-port must be from 0 to 65535, got " + metricsPort);
    }
    PrometheusMeterRegistry registry = metricsPort == null ? null : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Agent.Builder builder = Agent.builder(config).listener(new Agent.Listener() {
      @Override
      public void reloaded(Agent.ReloadResult result) {
        say(out, "reloaded " + config + ": " + result);
      }

      @Override
      public void reloadFailed(ConfigException error) {
        say(out, "not reloaded, the running configuration stays: " + ExitCodes.oneLine(error));
      }
    });
    if (registry != null) {
      builder.meterRegistry(registry);
    }
    if (cluster != null) {
      builder.placement(ClusterPlacement.connect(cluster, member, namespace,
          clusterName == null ? ClusterPlacement.DEFAULT_NAME : clusterName, kubeconfig, context));
    } else if (member != null || namespace != null || clusterName != null) {
      throw new IllegalArgumentException((member != null ? "--member" : namespace != null ? "--namespace"
          : "--cluster-name") + " needs --cluster");
    } else if (kubeconfig != null || context != null) {
      throw new IllegalArgumentException((kubeconfig != null ? "--kubeconfig" : "--context") + " needs --cluster k8s"
          + " (a Kubernetes target's kubeconfig is in its provider's options in " + config + ")");
    }
    Agent agent = builder.build();
    // The signals are taken before the port is served and the targets start: a SIGTERM or SIGHUP
    // that comes while they start (seconds with many targets) is acted on once they have, not the
    // JVM's default (an exit without a word, exit code 143 or 129).
    Signalled signals = new Signalled(agent, out);
    signals.install(spec.commandLine().getErr(), config);
    MetricsServer server = null;
    try {
      if (registry != null) {
        InetAddress address;
        try {
          address = InetAddress.getByName(metricsAddress);
        } catch (java.net.UnknownHostException e) {
          agent.close();  // never started: only a cluster's connection to close
          throw new IllegalArgumentException("--metrics-address " + metricsAddress + ": no such host", e);
        }
        // Bound before the agent starts: a port in use must stop the start before any target syncs.
        try {
          server = MetricsServer.start(new InetSocketAddress(address, metricsPort), registry, agent::notReady);
        } catch (BindException e) {
          agent.close();
          throw new IllegalArgumentException("--metrics-port " + metricsPort + ": cannot serve on " + metricsAddress
              + ":" + metricsPort + " (" + e.getMessage() + ")", e);
        }
      }
      agent.start();
      signals.started();
      return runUntilStopped(agent, server, out, signals);
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  /**
   * The signals of one run: SIGTERM and SIGINT stop the agent gracefully (a second one at once),
   * SIGHUP reloads it. Installed before the agent starts; what comes before it has started is done
   * as soon as it has.
   */
  private static final class Signalled {
    private final Agent agent;
    private final PrintWriter out;
    private final CountDownLatch forced = new CountDownLatch(1);
    private final StopRequests stops = new StopRequests();
    private boolean started;
    private boolean reloadAsked;

    Signalled(Agent agent, PrintWriter out) {
      this.agent = agent;
      this.out = out;
    }

    void install(PrintWriter err, Path config) {
      Runnable stop = () -> {
        StopRequests.Kind kind = stops.next(System.nanoTime());
        if (kind == StopRequests.Kind.GRACEFUL) {
          dev.gitops.agent.config.AgentConfig c = agent.config();  // null while the agent starts
          say(out, c == null ? "stopping as soon as the targets have started (signal again to stop at once)"
              : "stopping: no new syncs; syncs in flight stop at a safe point (grace " + c.gracePeriod().toSeconds()
                  + " s; signal again to stop at once)");
          synchronized (this) {
            if (started) {
              agent.shutdown();
            }
          }
        } else if (kind == StopRequests.Kind.SAME) {
          say(out, "a second signal within " + StopRequests.SAME_REQUEST.toMillis() + " ms of the first is taken as"
              + " the same request; signal again later to stop at once");
        } else {
          forced.countDown();
        }
      };
      if (!Signals.on("TERM", stop)) {
        say(err, "gitops: SIGTERM does not reach this process (it ignores SIGTERM, or the JVM keeps it): a plain kill"
            + " will not stop the agent at a safe point");
      }
      Signals.on("INT", stop);  // ignored in a background job, which is stopped by SIGTERM
      Runnable reload = () -> {
        synchronized (this) {
          if (started) {
            agent.reloadLater();
          } else {
            reloadAsked = true;
          }
        }
      };
      if (!Signals.on("HUP", reload)) {
        say(err, "gitops: SIGHUP does not reach this process (it ignores SIGHUP, as under nohup, or the JVM keeps it):"
            + " to reload, edit " + config + " with agent.watchConfig on");
      }
    }

    /** The agent has started: a stop or a reload asked for while it started is done now. */
    synchronized void started() {
      started = true;
      if (stops.any()) {
        agent.shutdown();
      } else if (reloadAsked) {
        agent.reloadLater();
      }
    }

    boolean forcedStop() throws InterruptedException {
      return forced.await(0, TimeUnit.MILLISECONDS);
    }
  }

  private int runUntilStopped(Agent agent, MetricsServer server, PrintWriter out, Signalled signals)
      throws InterruptedException {
    say(out, "gitops agent " + running(agent.config().targets().size()) + " from " + config + " (pid "
        + ProcessHandle.current().pid() + ")" + (server == null ? ""
            : "; metrics on http://" + hostOf(server.address()) + ":" + server.address().getPort() + "/metrics"));
    while (!agent.awaitTermination(Duration.ofMillis(200))) {
      if (signals.forcedStop()) {
        int inFlight = agent.syncsInFlight();
        say(out, "stopped at once by a second signal with " + inFlight + (inFlight == 1 ? " sync" : " syncs")
            + " in flight; the next start picks up where they stopped");
        return ExitCodes.ERROR;
      }
    }
    say(out, "stopped");
    return ExitCodes.OK;
  }

  /**
   * What runs: every target of the file, or, in a cluster, those the cluster assigns to this member
   * (none may be yet: the member joins first).
   */
  String running(int targets) {
    String n = targets + (targets == 1 ? " target" : " targets");
    return cluster == null ? "running " + n
        : "member " + member + " of the cluster " + cluster + ": running those of " + n + " the cluster assigns to it";
  }

  private static String hostOf(InetSocketAddress a) {
    String host = a.getAddress().getHostAddress();
    return host.contains(":") ? "[" + host + "]" : host;
  }

  private static void say(PrintWriter out, String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }
}
