package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.TempGitRepo;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's kubernetes, ansible and terraform provider types against real live systems: a fleet
 * of local hosts converged by the real {@code ansible-playbook}, a configuration planned and applied
 * by a real {@code terraform} (when one is on PATH), and fabric8's stand-in API server on loopback
 * named by a kubeconfig file.
 */
class ProviderTypesTest {

  @TempDir
  Path dir;

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("%s within 120 s", what).isLessThan(end);
      Thread.sleep(50);
    }
  }

  static long succeeded(Agent agent, String target) {
    return agent.status().stream().filter(s -> s.target().equals(target) && s.result().equals("succeeded")).count();
  }

  static String lastResult(Agent agent, String target) {
    return agent.status().stream().filter(s -> s.target().equals(target)).map(s -> s.result() + " " + s.lastError())
        .findFirst().orElse("none");
  }

  Set<ResourceKey> owned(Path store) {
    try (FileStateStore s = FileStateStore.open(store); StoreLock lock = s.lock(Duration.ofSeconds(5))) {
      return Set.copyOf(s.load().inventory().keySet());
    }
  }

  static final String LOCAL = "ansible_connection=local ansible_python_interpreter=/usr/bin/python3";

  @Test
  void anAnsibleTargetIsConvergedByAnsiblePlaybook() throws Exception {
    Path out = Files.createDirectories(dir.resolve("out"));
    try (TempGitRepo repo = TempGitRepo.create()) {
      repo.write("ansible/site.yml", """
              - hosts: all
                gather_facts: false
                tasks:
                  - name: write config
                    ansible.builtin.copy:
                      content: "port={{ port }}\\n"
                      dest: "{{ out_dir }}/{{ inventory_hostname }}.conf"
                      mode: "0644"
              """)
          .write("ansible/inventory", "[web]\nweb1 port=8001 " + LOCAL + "\nweb2 port=8002 " + LOCAL + "\n")
          .commit("two hosts");
      Path config = dir.resolve("agent.yaml");
      Files.writeString(config, """
          agent: {stateDir: state, watchConfig: false}
          targets:
            - name: fleet
              source: {url: "%s"}
              provider:
                type: ansible
                playbook: ansible/site.yml
                inventory: ansible/inventory
                inventoryOut: fleet/inventory.yml
                extraVars: {out_dir: "%s"}
              interval: 1h
          """.formatted(repo.uri(), out));
      try (Agent agent = Agent.builder(config).environment(Map.of()).build()) {
        agent.start();
        await("the fleet converged", () -> succeeded(agent, "fleet") == 1 || lastResult(agent, "fleet").startsWith("failed"));
        assertThat(lastResult(agent, "fleet")).startsWith("succeeded");
        assertThat(Files.readString(out.resolve("web1.conf"))).isEqualTo("port=8001\n");
        assertThat(Files.readString(out.resolve("web2.conf"))).isEqualTo("port=8002\n");
        assertThat(Files.readString(dir.resolve("fleet/inventory.yml"))).contains("web1").contains("web2");

        repo.write("ansible/inventory", "[web]\nweb1 port=9001 " + LOCAL + "\n").commit("web1 moves, web2 leaves");
        String first = agent.status().get(0).revision();
        agent.trigger("fleet");
        await("the change converged", () -> !agent.status().get(0).revision().equals(first)
            && !lastResult(agent, "fleet").equals("none"));
        assertThat(lastResult(agent, "fleet")).startsWith("succeeded");
        assertThat(Files.readString(out.resolve("web1.conf"))).isEqualTo("port=9001\n");
        assertThat(Files.readString(dir.resolve("fleet/inventory.yml"))).contains("web1").doesNotContain("web2");
      }
      assertThat(owned(dir.resolve("state/targets/fleet"))).extracting(ResourceKey::name).contains("web1")
          .doesNotContain("web2");
    }
  }

  /** A terraform or tofu binary on PATH as the provider finds it, or null (then the terraform type's run is skipped). */
  static String terraformBinary() {
    for (String name : java.util.List.of("terraform", "tofu")) {
      try {
        return dev.gitops.terraform.internal.Binary.locate(name, System.getenv().getOrDefault("PATH", "")).path()
            .toString();
      } catch (dev.gitops.terraform.TerraformException e) {
        // not this one: the next name, or none
      }
    }
    return null;
  }

  @Test
  void aTerraformTargetIsPlannedAndAppliedByTheRealBinary() throws Exception {
    String binary = terraformBinary();
    org.junit.jupiter.api.Assumptions.assumeTrue(binary != null, "no terraform or tofu binary on PATH");
    String secret = "agent-tf-s3cr3t-51";
    try (TempGitRepo repo = TempGitRepo.create()) {
      String config = """
          variable "greeting" { type = string }
          variable "token" {
            type      = string
            sensitive = true
          }
          resource "terraform_data" "greeting" { input = "${var.greeting}-%s" }
          resource "terraform_data" "token" { input = var.token }
          """;
      repo.write("infra/main.tf", config.formatted("v1")).commit("v1");
      Path agentYaml = dir.resolve("agent.yaml");
      Files.writeString(agentYaml, """
          agent: {stateDir: state, watchConfig: false}
          targets:
            - name: infra
              source: {url: "%s", path: infra}
              provider:
                type: terraform
                directory: tf
                binary: "%s"
                variables: {greeting: hello, token: {env: TF_TOKEN}}
              interval: 1h
          """.formatted(repo.uri(), binary));
      try (Agent agent = Agent.builder(agentYaml).environment(Map.of("TF_TOKEN", secret)).build()) {
        agent.start();
        await("the configuration applied", () -> succeeded(agent, "infra") == 1
            || lastResult(agent, "infra").startsWith("failed"));
        assertThat(lastResult(agent, "infra")).startsWith("succeeded");
        assertThat(Files.readString(dir.resolve("tf/terraform.tfstate"))).contains("hello-v1");

        repo.write("infra/main.tf", config.formatted("v2")).commit("v2");
        String first = agent.status().get(0).revision();
        agent.trigger("infra");
        await("the change applied", () -> !agent.status().get(0).revision().equals(first)
            && !lastResult(agent, "infra").equals("none"));
        assertThat(lastResult(agent, "infra")).startsWith("succeeded");
        assertThat(Files.readString(dir.resolve("tf/terraform.tfstate"))).contains("hello-v2");
        assertThat(agent.status().toString()).doesNotContain(secret);
      }
      try (java.util.stream.Stream<Path> files = Files.walk(dir.resolve("state"))) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          assertThat(Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1)).as("%s", f)
              .doesNotContain(secret);
        }
      }
    }
  }

  @Test
  void aKubernetesTargetSyncsIntoTheClusterItsKubeconfigNames() throws Exception {
    try (StandInCluster cluster = StandInCluster.start(); TempGitRepo repo = TempGitRepo.create()) {
      KubernetesClient client = cluster.client();
      cluster.writeKubeconfig(dir.resolve("kubeconfig"), "mock", true);
      repo.write("app.yaml", """
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings}
          data: {mode: fast}
          """).commit("settings");
      Path config = dir.resolve("agent.yaml");
      Files.writeString(config, """
          agent: {stateDir: state, watchConfig: false}
          targets:
            - name: cluster
              source: {url: "%s"}
              provider: {type: kubernetes, kubeconfig: kubeconfig, context: mock, namespace: team-a}
              interval: 1h
          """.formatted(repo.uri()));
      try (Agent agent = Agent.builder(config).environment(Map.of()).build()) {
        agent.start();
        await("the cluster synced", () -> !lastResult(agent, "cluster").equals("none"));
        assertThat(lastResult(agent, "cluster")).startsWith("succeeded");
        var cm = client.configMaps().inNamespace("team-a").withName("settings").get();
        assertThat(cm.getData()).containsEntry("mode", "fast");
        assertThat(cm.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "gitops");
        assertThat(cm.getMetadata().getAnnotations()).containsEntry("gitops.dev/owner", "cluster");
        assertThat(agent.status().get(0).provider()).isEqualTo("k8s");
      }
      assertThat(owned(dir.resolve("state/targets/cluster"))).extracting(ResourceKey::name).containsExactly("settings");
    }
  }
}
