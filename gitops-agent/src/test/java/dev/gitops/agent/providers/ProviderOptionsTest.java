package dev.gitops.agent.providers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.agent.StandInCluster;
import dev.gitops.api.Observation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.k8s.KubernetesProvider;
import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.ConfigException;
import dev.gitops.agent.spi.ProviderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kubernetes and ansible provider types read their options when the configuration loads: a
 * bad option rejects the whole file at the option's line, before anything starts.
 */
class ProviderOptionsTest {

  @TempDir
  Path dir;

  final Map<String, ProviderFactory> factories = Map.of("files", new FilesProviderFactory(), "kubernetes",
      new KubernetesProviderFactory(), "ansible", new AnsibleProviderFactory(), "terraform",
      new TerraformProviderFactory());

  AgentConfig load(String provider, boolean strict) throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        agent: {stateDir: state}
        targets:
          - name: ok
            source: {url: https://example.com/ok.git}
            provider: {type: files, directory: live}
          - name: t
            source: {url: https://example.com/r.git}
            provider:
        """ + provider.indent(6));
    return AgentConfig.load(f, factories, Map.of("DB_PASSWORD", "from-env-pw"), strict);
  }

  ConfigException error(String provider) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(provider, true));
    assertThat(e).as("refused: %s", provider).isNotNull();
    assertThat(e.file()).isEqualTo(dir.resolve("agent.yaml"));
    return e;
  }

  Path kubeconfig() throws IOException {
    Path k = dir.resolve("kubeconfig");
    Files.writeString(k, StandInCluster.kubeconfig("https://127.0.0.1:1", "staging", "staging"));
    return k;
  }

  @Test
  void kubernetesOptionsAreReadWithoutContactingTheCluster() throws IOException {
    kubeconfig();
    AgentConfig c = load("type: kubernetes\nkubeconfig: kubeconfig\ncontext: staging\nnamespace: team-a\n", true);
    assertThat(c.target("t").providerType()).isEqualTo("kubernetes");
    assertThat(c.target("t").provider().providerId()).isEqualTo("k8s");
  }

  @Test
  void aMissingKubeconfigAnUnknownContextOrABadNamespaceIsRefusedAtItsLine() throws IOException {
    ConfigException missing = error("type: kubernetes\nkubeconfig: nowhere/kubeconfig\n");
    assertThat(missing.line()).isEqualTo(10);
    assertThat(missing.getMessage()).contains("targets[1].provider.kubeconfig").contains("no such file");

    kubeconfig();
    ConfigException context = error("type: kubernetes\nkubeconfig: kubeconfig\ncontext: prod\n");
    assertThat(context.line()).isEqualTo(11);
    assertThat(context.getMessage()).contains("targets[1].provider.context").contains("no context 'prod'")
        .contains("other, staging");

    ConfigException namespace = error("type: kubernetes\nnamespace: Team_A\n");
    assertThat(namespace.line()).isEqualTo(10);
    assertThat(namespace.getMessage()).contains("targets[1].provider.namespace").contains("not a namespace name");

    ConfigException unknown = error("type: kubernetes\ncluster: prod\n");
    assertThat(unknown.line()).isEqualTo(10);
    assertThat(unknown.getMessage()).contains("targets[1].provider.cluster: unknown field");
  }

  @Test
  void theNamespacesOptionReachesTheProviderWhichListsOnlyThoseNamespaces() throws IOException {
    try (StandInCluster cluster = StandInCluster.start()) {
      cluster.writeKubeconfig(dir.resolve("kubeconfig"), "mock", false);
      for (String ns : List.of("team-a", "team-c")) {
        cluster.client().configMaps().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
            .withNewMetadata().withName("settings").endMetadata().addToData("x", "1").build()).create();
      }
      AgentConfig c = load("type: kubernetes\nkubeconfig: kubeconfig\nnamespaces: [team-a, team-b]\n", true);
      ResourceKey inA = ResourceKey.of("k8s", "/ConfigMap", "team-a", "settings");
      ResourceKey inC = ResourceKey.of("k8s", "/ConfigMap", "team-c", "settings");
      try (KubernetesProvider provider = (KubernetesProvider) c.target("t").provider().create()) {
        Map<ResourceKey, Observation> seen = provider.observe(List.of(inA, inC),
            CallContext.of("t", "main@sha1:" + "3".repeat(40), Duration.ofSeconds(20)));
        assertThat(seen.get(inA).isPresent()).as("%s", seen.get(inA)).isTrue();
        assertThat(seen.get(inC).isUnknown()).as("%s", seen.get(inC)).isTrue();
        assertThat(seen.get(inC).reason()).contains("namespace team-c").contains("team-a, team-b")
            .contains("the agent's namespaces:");
      }
      // one name alone is a list of one
      AgentConfig one = load("type: kubernetes\nkubeconfig: kubeconfig\nnamespaces: team-a\n", true);
      assertThat(one.target("t").provider().providerId()).isEqualTo("k8s");
    }
  }

  @Test
  void aBadNamespacesValueIsRefusedAtItsOwnLineNamingIt() {
    ConfigException bad = error("type: kubernetes\nnamespaces:\n  - team-a\n  - Team_B\n");
    assertThat(bad.line()).isEqualTo(12);
    assertThat(bad.getMessage()).contains("targets[1].provider.namespaces")
        .contains("'Team_B' is not a namespace name");

    ConfigException one = error("type: kubernetes\nnamespaces: shop,staging\n");
    assertThat(one.line()).isEqualTo(10);
    assertThat(one.getMessage()).contains("'shop,staging' is not a namespace name");

    ConfigException empty = error("type: kubernetes\nnamespaces: []\n");
    assertThat(empty.line()).isEqualTo(10);
    assertThat(empty.getMessage()).contains("targets[1].provider.namespaces").contains("empty list")
        .contains("leave the field out");

    ConfigException number = error("type: kubernetes\nnamespaces: [team-a, 2024]\n");
    assertThat(number.line()).isEqualTo(10);
    assertThat(number.getMessage()).contains("2024").contains("quote it");

    ConfigException mapping = error("type: kubernetes\nnamespaces:\n  - {name: team-a}\n");
    assertThat(mapping.line()).isEqualTo(11);
    assertThat(mapping.getMessage()).contains("must be a namespace name");

    ConfigException misspelled = error("type: kubernetes\nwatchNamespaces: [team-a]\n");
    assertThat(misspelled.line()).isEqualTo(10);
    assertThat(misspelled.getMessage()).contains("targets[1].provider.watchNamespaces: unknown field")
        .contains("namespaces");
  }

  @Test
  void gitopsStatusReadsAKubernetesTargetWithoutItsKubeconfig() throws IOException {
    AgentConfig c = load("type: kubernetes\nkubeconfig: /root-only/kubeconfig\ncontext: prod\n", false);
    assertThat(c.target("t").providerType()).isEqualTo("kubernetes");
  }

  @Test
  void ansibleOptionsAreRead() throws IOException {
    AgentConfig c = load("""
        type: ansible
        playbook: ansible/site.yml
        inventory: ansible/hosts
        inventoryOut: fleet/inventory.yml
        decommissionPlaybook: ansible/decommission.yml
        extraVars: {out_dir: /tmp/out, ports: [1, 2]}
        checkDrift: true
        forks: 3
        timeout: 10m
        sensitiveVariables: [db_password]
        """, true);
    assertThat(c.target("t").provider().providerId()).isEqualTo("ansible");
  }

  /**
   * The agent writes {@code <stateDir>/status/<target>.json} after each sync: a managed inventory
   * named so (or a Terraform working directory there) would be replaced by a status. It was accepted.
   */
  @Test
  void aPathAProviderWritesInTheAgentsStatusDirectoryIsRefusedAtItsProviderLine() {
    ConfigException inventory = error("type: ansible\nplaybook: site.yml\ninventoryOut: state/status/t.json\n");
    assertThat(inventory.line()).isEqualTo(8);
    assertThat(inventory.getMessage()).contains("targets[1].provider: target 't' would write "
        + dir.resolve("state/status/t.json") + " in the agent's status directory " + dir.resolve("state/status"));
    assertThat(error("type: terraform\ndirectory: state/status\n").getMessage())
        .contains("targets[1].provider: target 't' would write " + dir.resolve("state/status")
            + " in the agent's status directory");
  }

  /**
   * A Terraform working directory on {@code <stateDir>/agent.lock}, the file the agent holds locked,
   * was accepted; the target then failed when it started, naming no line.
   */
  @Test
  void aPathAProviderWritesOnTheAgentsLockFileIsRefusedAtItsProviderLine() {
    ConfigException on = error("type: terraform\ndirectory: state/agent.lock\n");
    assertThat(on.line()).isEqualTo(8);
    assertThat(on.getMessage()).contains("targets[1].provider: target 't' would write "
        + dir.resolve("state/agent.lock") + " on the agent's lock file " + dir.resolve("state/agent.lock"));
    assertThat(error("type: terraform\ndirectory: state/agent.lock/tf\n").getMessage())
        .contains("targets[1].provider: target 't' would write " + dir.resolve("state/agent.lock/tf")
            + " inside the agent's lock file");
  }

  @Test
  void badAnsibleOptionsAreRefusedAtTheirLine() {
    ConfigException playbook = error("type: ansible\ninventoryOut: fleet/inventory.yml\n");
    assertThat(playbook.getMessage()).contains("targets[1].provider.playbook: required");

    ConfigException out = error("type: ansible\nplaybook: site.yml\n");
    assertThat(out.getMessage()).contains("targets[1].provider.inventoryOut: required");

    ConfigException escape = error("type: ansible\nplaybook: ../site.yml\ninventoryOut: fleet/inventory.yml\n");
    assertThat(escape.line()).isEqualTo(10);
    assertThat(escape.getMessage()).contains("targets[1].provider.playbook").contains("relative path inside the repository");

    ConfigException absolute = error("type: ansible\nplaybook: site.yml\ninventory: /etc/ansible/hosts\n"
        + "inventoryOut: fleet/inventory.yml\n");
    assertThat(absolute.line()).isEqualTo(11);
    assertThat(absolute.getMessage()).contains("targets[1].provider.inventory");

    ConfigException vars = error("type: ansible\nplaybook: site.yml\ninventoryOut: fleet/inventory.yml\n"
        + "extraVars: [a, b]\n");
    assertThat(vars.line()).isEqualTo(12);
    assertThat(vars.getMessage()).contains("targets[1].provider.extraVars: must be a mapping");
    ConfigException noVars = error("type: ansible\nplaybook: site.yml\ninventoryOut: fleet/inventory.yml\n"
        + "extraVars:\n");
    assertThat(noVars.line()).isEqualTo(12);
    assertThat(noVars.getMessage()).contains("targets[1].provider.extraVars: has no value");

    ConfigException ini = error("type: ansible\nplaybook: site.yml\ninventoryOut: fleet/managed.ini\n");
    assertThat(ini.line()).isEqualTo(11);
    assertThat(ini.getMessage()).contains("targets[1].provider.inventoryOut").contains("ends in '.ini'")
        .contains("name it .yml or .yaml");

    ConfigException forks = error("type: ansible\nplaybook: site.yml\ninventoryOut: fleet/inventory.yml\nforks: 0\n");
    assertThat(forks.getMessage()).contains("targets[1].provider.forks");

    ConfigException vault = error("type: ansible\nplaybook: site.yml\ninventoryOut: fleet/inventory.yml\n"
        + "vaultPasswordFile: nowhere/vault-password\n");
    assertThat(vault.line()).isEqualTo(12);
    assertThat(vault.getMessage()).contains("targets[1].provider.vaultPasswordFile: cannot read");

    ConfigException inStore = error("type: ansible\nplaybook: site.yml\ninventoryOut: state/targets/t/inventory.yml\n");
    assertThat(inStore.getMessage()).contains("targets[1].provider.inventoryOut").contains("store");
  }

  @Test
  void terraformOptionsAreReadWithoutStartingTerraform() throws IOException {
    Files.writeString(dir.resolve("db-password"), "from-file-pw\n");
    AgentConfig c = load("""
        type: terraform
        directory: tf/prod
        binary: /nowhere/tofu
        variables: {region: eu-west-1, replicas: 3, enabled: true, db_password: {env: DB_PASSWORD},
          api_token: {file: db-password}}
        varFiles: [env/prod.tfvars]
        workspace: prod
        lockTimeout: 30s
        commandTimeout: 1h
        interruptGrace: 5m
        """, true);
    assertThat(c.target("t").provider().providerId()).isEqualTo("tf");
    assertThat(c.target("t").providerType()).isEqualTo("terraform");
    assertThat(Files.exists(dir.resolve("tf"))).as("nothing made when the file loads").isFalse();
  }

  @Test
  void aTerraformTargetsPoliciesAdoptTakesOverAWorkingDirectoryGitopsDidNotMake() throws IOException {
    // a stand-in binary: building the provider looks the binary up, nothing runs it here
    Path fake = Files.writeString(dir.resolve("fake-terraform"), "#!/bin/sh\nexit 1\n");
    fake.toFile().setExecutable(true);
    AgentConfig off = load("type: terraform\ndirectory: tf/prod\nbinary: " + fake + "\n", true);
    assertThat(((dev.gitops.terraform.TerraformProvider) off.target("t").provider().create()).adopts()).isFalse();

    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        agent: {stateDir: state}
        targets:
          - name: t
            source: {url: https://example.com/r.git}
            provider: {type: terraform, directory: tf/prod, binary: %s}
            policies: {adopt: true}
        """.formatted(fake));
    AgentConfig on = AgentConfig.load(f, factories, Map.of(), true);
    assertThat(((dev.gitops.terraform.TerraformProvider) on.target("t").provider().create()).adopts()).isTrue();
  }

  /** {@code timeout: 1ms} cut off every ansible-playbook run, {@code commandTimeout: 1ms} every terraform command. */
  @Test
  void aProvidersRunTimeoutBelowOneSecondIsRefusedAtItsLine() {
    ConfigException ansible = error("type: ansible\nplaybook: site.yml\ninventoryOut: fleet/inventory.yml\n"
        + "timeout: 1ms\n");
    assertThat(ansible.line()).isEqualTo(12);
    assertThat(ansible.getMessage()).contains("targets[1].provider.timeout: must be at least 1s: it bounds each"
        + " ansible-playbook run").contains("got 1ms");
    ConfigException terraform = error("type: terraform\ndirectory: tf\ncommandTimeout: 500ms\n");
    assertThat(terraform.line()).isEqualTo(11);
    assertThat(terraform.getMessage()).contains("targets[1].provider.commandTimeout: must be at least 1s: it bounds"
        + " each Terraform command").contains("got 500ms");
  }

  @Test
  void badTerraformOptionsAreRefusedAtTheirLine() {
    assertThat(error("type: terraform\n").getMessage()).contains("targets[1].provider.directory: required");

    ConfigException list = error("type: terraform\ndirectory: tf\nvariables: [a, b]\n");
    assertThat(list.line()).isEqualTo(11);
    assertThat(list.getMessage()).contains("targets[1].provider.variables: must be a mapping");
    assertThat(error("type: terraform\ndirectory: tf\nvariables:\nvarFiles: [env/prod.tfvars]\n").getMessage())
        .as("not taken for no variables").contains("targets[1].provider.variables: has no value");

    ConfigException complex = error("type: terraform\ndirectory: tf\nvariables:\n  zones: [a, b]\n");
    assertThat(complex.line()).isEqualTo(12);
    assertThat(complex.getMessage()).contains("targets[1].provider.variables.zones").contains("variable file");

    ConfigException name = error("type: terraform\ndirectory: tf\nvariables: {\"bad name\": 1}\n");
    assertThat(name.line()).isEqualTo(11);
    assertThat(name.getMessage()).contains("not a Terraform identifier");

    ConfigException unset = error("type: terraform\ndirectory: tf\nvariables:\n  pw: {env: NOT_SET_ANYWHERE}\n");
    assertThat(unset.line()).isEqualTo(12);
    assertThat(unset.getMessage()).contains("NOT_SET_ANYWHERE is not set");

    ConfigException both = error("type: terraform\ndirectory: tf\nvariables:\n  pw: {env: DB_PASSWORD, file: x}\n");
    assertThat(both.getMessage()).contains("exactly one of env or file");

    ConfigException workspace = error("type: terraform\ndirectory: tf\nworkspace: \"a b\"\n");
    assertThat(workspace.line()).isEqualTo(11);
    assertThat(workspace.getMessage()).contains("targets[1].provider.workspace").contains("not valid");

    ConfigException binary = error("type: terraform\ndirectory: tf\nbinary: \"  \"\n");
    assertThat(binary.getMessage()).contains("targets[1].provider.binary");

    ConfigException inStore = error("type: terraform\ndirectory: state/targets/t/tf\n");
    assertThat(inStore.getMessage()).contains("targets[1].provider.directory").contains("store");

    ConfigException unknown = error("type: terraform\ndirectory: tf\napproval: manual\n");
    assertThat(unknown.getMessage()).contains("approval");
  }

  @Test
  void aWorkingDirectoryOrManagedInventoryReachedThroughALinkIntoTheStoreIsRefusedToo() throws IOException {
    Files.createDirectories(dir.resolve("state/targets/t/inner"));
    Files.createSymbolicLink(dir.resolve("link"), dir.resolve("state/targets/t/inner"));
    ConfigException tf = error("type: terraform\ndirectory: link/tf\n");
    assertThat(tf.getMessage()).contains("targets[1].provider.directory").contains("store");
    ConfigException ansible = error("type: ansible\nplaybook: site.yml\ninventoryOut: link/inventory.yml\n");
    assertThat(ansible.getMessage()).contains("targets[1].provider.inventoryOut").contains("store");
  }

  @Test
  void twoTerraformTargetsCannotShareAWorkingDirectory() throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        agent: {stateDir: state}
        targets:
          - name: a
            source: {url: https://example.com/a.git}
            provider: {type: terraform, directory: tf}
          - name: b
            source: {url: https://example.com/b.git}
            provider: {type: terraform, directory: ./tf/}
        """);
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(f, factories, Map.of(), true));
    assertThat(e).isNotNull();
    assertThat(e.line()).isEqualTo(8);
    assertThat(e.getMessage()).contains("target 'b' would write").contains("that target 'a' writes");
  }

  @Test
  void gitopsStatusReadsATerraformTargetWithoutItsSecrets() throws IOException {
    // gitops status --config reads the file as another user may: an unset secret is no error there
    AgentConfig c = load("type: terraform\ndirectory: tf\nvariables:\n  pw: {env: NOT_SET_ANYWHERE}\n", false);
    assertThat(c.target("t").providerType()).isEqualTo("terraform");
  }

  @Test
  void twoAnsibleTargetsCannotShareAManagedInventory() throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets:
          - name: a
            source: {url: https://example.com/a.git}
            provider: {type: ansible, playbook: site.yml, inventoryOut: fleet/inventory.yml}
          - name: b
            source: {url: https://example.com/b.git}
            provider: {type: ansible, playbook: site.yml, inventoryOut: ./fleet/../fleet/inventory.yml}
        """);
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(f, factories, Map.of(), true));
    assertThat(e).isNotNull();
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage()).contains("targets[1].provider").contains("target 'b' would write")
        .contains("that target 'a' writes");
  }

  @Test
  void optionErrorsNameTheCommandLineFlagToo() {
    assertThat(new InvalidOptionException("inventoryOut", "x").flag()).isEqualTo("--inventory-out");
    assertThat(new InvalidOptionException("kubeconfig", "x").flag()).isEqualTo("--kubeconfig");
  }

  @Test
  void aFilesTargetThatIsItsLocalRepositorysWorkingTreeOrReadDirectoryIsRefusedAtItsLine() throws IOException {
    Path repo = Files.createDirectories(dir.resolve("ops/.git")).getParent();
    Files.createDirectories(repo.resolve("web"));
    Path f = dir.resolve("agent.yaml");
    for (String[] c : new String[][] {{"", "ops", "the working tree"}, {"path: web, ", "ops/web", "the directory 'web'"},
        {"", "ops/.git/x", "inside the Git directory"}}) {
      Files.writeString(f, """
          agent: {stateDir: state}
          targets:
            - name: t
              source: {%surl: ops}
              provider: {type: files, directory: %s}
          """.formatted(c[0], c[1]));
      ConfigException e = catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(f, factories, Map.of(),
          true));
      assertThat(e).as("%s", (Object) c).isNotNull();
      assertThat(e.line()).isEqualTo(5);
      assertThat(e.getMessage()).contains("targets[0].provider.directory").contains(c[2])
          .contains("choose a directory outside the repository");
    }
    // a directory the target does not read, and a remote repository, are fine
    Files.writeString(f, """
        agent: {stateDir: state}
        targets:
          - name: t
            source: {path: web, url: ops}
            provider: {type: files, directory: ops/build}
        """);
    assertThat(AgentConfig.load(f, factories, Map.of(), true).targets()).hasSize(1);
    Files.writeString(f, """
        agent: {stateDir: state}
        targets:
          - name: u
            source: {url: https://example.com/ops.git}
            provider: {type: files, directory: ops}
        """);
    assertThat(AgentConfig.load(f, factories, Map.of(), true).targets()).hasSize(1);
  }
}
