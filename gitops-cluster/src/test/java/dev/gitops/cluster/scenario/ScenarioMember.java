package dev.gitops.cluster.scenario;

import ch.qos.logback.classic.Level;
import dev.gitops.agent.Agent;
import dev.gitops.cluster.Coordinator;
import dev.gitops.cluster.agent.ClusterPlacement;
import dev.gitops.cluster.etcd.EtcdCoordinator;
import dev.gitops.cluster.k8s.LeaseCoordinator;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of a scenario, in a JVM of its own: an agent with a {@link ClusterPlacement} (etcd or
 * Kubernetes Leases) whose side effects are recorded in the scenario's {@link WriteLog}. SIGTERM
 * closes the agent (a graceful stop); it exits by itself when its standard input closes, so a
 * test JVM that dies leaves no member behind.
 *
 * <p>Arguments: {@code --backend etcd|k8s --endpoint URL --prefix P (etcd) --member ID --config
 * FILE --ttl SECONDS --log FILE}.
 */
public final class ScenarioMember {

  static final Duration SETTLE = Duration.ofMillis(500);
  static final Duration POLL = Duration.ofMillis(200);

  private ScenarioMember() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      args.put(argv[i], argv[i + 1]);
    }
    quietLogging();
    Logger log = LoggerFactory.getLogger(ScenarioMember.class);
    String member = args.get("--member");
    Duration ttl = Duration.ofSeconds(Long.parseLong(args.get("--ttl")));
    Coordinator coordinator;
    if (args.get("--backend").equals("etcd")) {
      coordinator = EtcdCoordinator.connectBuilder(args.get("--endpoint"), member).prefix(args.get("--prefix"))
          .ttl(ttl).build();
    } else {
      coordinator = LeaseCoordinator.builder(client(args.get("--endpoint")), "gitops", member).ttl(ttl).build();
    }
    WriteLog writes = new WriteLog(Path.of(args.get("--log")));
    Agent agent = Agent.builder(Path.of(args.get("--config"))).environment(Map.of())
        .placement(new RecordingPlacement(ClusterPlacement.of(coordinator, SETTLE, POLL), writes)).build();
    Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "scenario-member-stop"));
    agent.start();
    log.info("member {} started (pid {})", member, ProcessHandle.current().pid());
    exitWhenStdinCloses();
  }

  /** A client of the stand-in API server at {@code url}, with nothing from the machine's kubeconfig. */
  static KubernetesClient client(String url) {
    Config config = new ConfigBuilder(Config.empty()).withMasterUrl(url).withNamespace("gitops")
        .withRequestTimeout(5_000).withConnectionTimeout(5_000).build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  static void quietLogging() {
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.INFO);
    for (String noisy : new String[] {"io.netty", "io.grpc", "io.vertx", "io.etcd", "io.fabric8", "okhttp3",
        "org.eclipse.jgit"}) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(noisy)).setLevel(Level.WARN);
    }
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
  }

  static void exitWhenStdinCloses() {
    try {
      while (System.in.read() >= 0) {
        // nothing is ever sent: the parent only closes the pipe (or dies)
      }
    } catch (IOException e) {
      // the pipe broke: the parent is gone
    }
    System.exit(0);
  }
}
