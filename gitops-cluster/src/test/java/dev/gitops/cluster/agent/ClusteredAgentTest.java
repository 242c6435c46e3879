package dev.gitops.cluster.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.agent.Agent;
import dev.gitops.agent.StandInCluster;
import dev.gitops.api.SyncResult;
import dev.gitops.cluster.Await;
import dev.gitops.cluster.Ownership;
import dev.gitops.cluster.etcd.EtcdStateStore;
import dev.gitops.cluster.Rendezvous;
import dev.gitops.cluster.etcd.EtcdCoordinator;
import dev.gitops.cluster.etcd.EtcdServer;
import dev.gitops.cluster.k8s.LeaseCoordinator;
import dev.gitops.cluster.k8s.SecretStateStore;
import dev.gitops.testkit.TempGitRepo;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two agents on one real etcd (or on fabric8's mock API server with Leases and Secrets) share one
 * configuration's targets, and take each other's over.
 */
class ClusteredAgentTest {

  static final List<String> TARGETS = IntStream.range(0, 8).mapToObj(i -> "t" + i).toList();

  @TempDir
  Path dir;

  final String prefix = "/agents/" + UUID.randomUUID() + "/";
  final List<TempGitRepo> repos = new ArrayList<>();
  final List<Agent> agents = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    agents.forEach(Agent::close);
    repos.forEach(TempGitRepo::close);
  }

  Path config() throws Exception {
    StringBuilder yaml = new StringBuilder("agent:\n  stateDir: state\ntargets:\n");
    for (String t : TARGETS) {
      TempGitRepo repo = TempGitRepo.create();
      repos.add(repo);
      repo.write("hello.txt", "this is " + t + "\n");
      repo.commit("hello");
      yaml.append("""
            - name: %s
              source: {url: "%s"}
              provider: {type: files, directory: live/%s}
              interval: 1h
          """.formatted(t, repo.uri(), t));
    }
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  Agent agent(Path config, String member) {
    EtcdCoordinator c = EtcdCoordinator.connectBuilder(EtcdServer.shared().endpoint(), member).prefix(prefix)
        .ttl(Duration.ofSeconds(3)).build();
    Agent a = Agent.builder(config).environment(Map.of())
        .placement(ClusterPlacement.of(c, Duration.ofMillis(300), Duration.ofMillis(100))).build();
    agents.add(a);
    a.start();
    return a;
  }

  static Set<String> running(Agent a) {
    // synced by this agent: a status carried over from the file (another member's sync) is not
    return a.status().stream().filter(s -> s.result().equals("succeeded") && !s.carriedOver()).map(s -> s.target())
        .collect(Collectors.toSet());
  }

  Set<String> assignedTo(String member, Set<String> members) {
    return Rendezvous.assign(TARGETS, members).entrySet().stream().filter(e -> e.getValue().equals(member))
        .map(Map.Entry::getKey).collect(Collectors.toSet());
  }

  @Test
  void targetsSplitBetweenTwoAgentsAndMoveWhenOneStops() throws Exception {
    Path config = config();
    Set<String> onM1 = assignedTo("m1", Set.of("m1", "m2"));
    Set<String> onM2 = assignedTo("m2", Set.of("m1", "m2"));
    assertThat(onM1).isNotEmpty();
    assertThat(onM2).isNotEmpty();

    Agent a1 = agent(config, "m1");
    Agent a2 = agent(config, "m2");
    Await.until("the split", () -> running(a1).equals(onM1) && running(a2).equals(onM2), Duration.ofSeconds(30));
    for (String t : TARGETS) {
      assertThat(dir.resolve("live/" + t + "/hello.txt")).hasContent("this is " + t);
    }
    Set<String> both = new HashSet<>(running(a1));
    both.retainAll(running(a2));
    assertThat(both).as("targets run by both agents").isEmpty();

    // a graceful stop revokes m2's lease: its targets move to m1 without waiting for the TTL
    a2.close();
    Await.until("m2's targets on m1", () -> running(a1).containsAll(TARGETS), Duration.ofSeconds(30));
    assertThat(a1.notReady()).isEmpty();
    // the moved targets' state came with them: m1 found m2's inventory in etcd, so its sync created
    // nothing and kept m2's history entry as the latest (a store left behind would have made m1 create
    // or refuse the files, with an entry of its own)
    try (EtcdCoordinator reader = EtcdCoordinator.connectBuilder(EtcdServer.shared().endpoint(), "reader")
        .prefix(prefix).build()) {
      for (String t : onM2) {
        var history = EtcdStateStore.open(reader, new Ownership(t, "reader", 0, Instant.EPOCH)).history();
        assertThat(history).as("history of %s", t).hasSize(1)
            .allMatch(h -> h.status() == SyncResult.Status.SUCCEEDED && h.counts().equals(Map.of("CREATED", 1)));
        assertThat(dir.resolve("live/" + t + "/hello.txt")).hasContent("this is " + t);
      }
    }
  }

  @Test
  void aTargetThatCannotStartOnItsOwnerIsReleasedNamedByReadinessAndStartedOnceItCan() throws Exception {
    Path config = config();
    Path blocker = dir.resolve("state/targets/t0");  // where its start makes a directory: a file is in the way
    Files.createDirectories(blocker.getParent());
    Files.writeString(blocker, "not a directory");
    Agent a1 = agent(config, "m1");
    Set<String> others = TARGETS.stream().filter(t -> !t.equals("t0")).collect(Collectors.toSet());
    Await.until("the other targets running", () -> running(a1).equals(others), Duration.ofSeconds(30));
    Await.until("readiness naming t0", () -> a1.notReady().stream().anyMatch(r -> r.contains("target t0 cannot start")),
        Duration.ofSeconds(10));
    try (EtcdCoordinator reader = EtcdCoordinator.connectBuilder(EtcdServer.shared().endpoint(), "reader")
        .prefix(prefix).build()) {
      assertThat(reader.owners()).as("owners in etcd").doesNotContainKey("t0").containsKeys("t1", "t7");
    }
    Files.delete(blocker);
    a1.reload();  // retries it at once, whatever the retry pace has reached
    Await.until("t0 running", () -> running(a1).containsAll(TARGETS), Duration.ofSeconds(30));
    assertThat(a1.notReady()).isEmpty();
  }

  @Test
  void onKubernetesTheMovedTargetsStateComesWithItInSecrets() throws Exception {
    try (StandInCluster server = StandInCluster.start()) {
      KubernetesClient client = server.client();
      Path config = config();
      Set<String> onM2 = assignedTo("m2", Set.of("m1", "m2"));
      try {
        Agent a1 = k8sAgent(config, client, "m1");
        Agent a2 = k8sAgent(config, client, "m2");
        Await.until("the split", () -> running(a1).size() + running(a2).size() == TARGETS.size(),
            Duration.ofSeconds(30));
        a2.close();
        Await.until("m2's targets on m1", () -> running(a1).containsAll(TARGETS), Duration.ofSeconds(30));
      } finally {
        agents.forEach(Agent::close);  // before the server goes
        agents.clear();
      }
      // m1 found m2's inventory in the targets' Secrets: its sync created nothing, and m2's history
      // entry is the only one (with a local store there would be no Secret to read at all)
      LeaseCoordinator reader = LeaseCoordinator.builder(client, "gitops", "reader").build();
      for (String t : onM2) {
        var history = SecretStateStore.open(reader, new Ownership(t, "reader", 0, Instant.EPOCH)).history();
        assertThat(history).as("history of %s", t).hasSize(1)
            .allMatch(h -> h.status() == SyncResult.Status.SUCCEEDED && h.counts().equals(Map.of("CREATED", 1)));
      }
    }
  }

  Agent k8sAgent(Path config, KubernetesClient client, String member) {
    LeaseCoordinator c = LeaseCoordinator.builder(client, "gitops", member).ttl(Duration.ofSeconds(3)).build();
    Agent a = Agent.builder(config).environment(Map.of())
        .placement(ClusterPlacement.of(c, Duration.ofMillis(300), Duration.ofMillis(100))).build();
    agents.add(a);
    a.start();
    return a;
  }
}
