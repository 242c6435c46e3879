package dev.gitops.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.agent.providers.AnsibleProviderFactory;
import dev.gitops.agent.providers.FilesProviderFactory;
import dev.gitops.agent.providers.KubernetesProviderFactory;
import dev.gitops.agent.spi.ProviderFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configurations the README and docs/agent.md show are valid configurations. */
class DocumentedConfigTest {

  static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
  static final Pattern YAML = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL);
  final Map<String, ProviderFactory> factories = Map.of("files", new FilesProviderFactory(), "kubernetes",
      new KubernetesProviderFactory(), "ansible", new AnsibleProviderFactory(), "terraform",
      new dev.gitops.agent.providers.TerraformProviderFactory());

  @TempDir
  Path dir;

  static String firstYaml(String markdown, String after) {
    int from = markdown.indexOf(after);
    assertThat(from).as("section %s", after).isNotNegative();
    Matcher m = YAML.matcher(markdown);
    assertThat(m.find(from)).as("a yaml block after %s", after).isTrue();
    return m.group(1);
  }

  AgentConfig load(String yaml, Map<String, String> env) throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, yaml);
    return AgentConfig.load(f, factories, env, true);
  }

  @Test
  void theReadmesTenLineConfigurationLoads() throws IOException {
    String yaml = firstYaml(Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8), "## Run it as an agent");
    assertThat(yaml.lines().count()).isEqualTo(10);
    AgentConfig c = load(yaml, Map.of("GIT_TOKEN", "t", "HOOK_SECRET", "h", "GITHUB_TOKEN", "g"));
    assertThat(c.targets()).singleElement().satisfies(t -> assertThat(t.name()).isEqualTo("web"));
    assertThat(c.notifiers()).hasSize(2);
  }

  @Test
  void theReferenceConfigurationOfDocsAgentMdLoads() throws IOException {
    String yaml = firstYaml(Files.readString(ROOT.resolve("docs/agent.md"), StandardCharsets.UTF_8),
        "## The configuration file");
    Files.writeString(dir.resolve("known_hosts"), "");
    dev.gitops.agent.SigningKey.generate("Release <release@example.com>").writeArmoredRing(dir.resolve("trusted-keys.asc"));
    Path secrets = dir.resolve("gitlab-token");
    Files.writeString(secrets, "glpat\n");
    yaml = yaml.replace("/etc/gitops/known_hosts", dir.resolve("known_hosts").toString())
        .replace("/etc/gitops/trusted-keys.asc", dir.resolve("trusted-keys.asc").toString())
        .replace("/run/secrets/gitlab-token", secrets.toString());
    AgentConfig c = load(yaml, Map.of("GIT_TOKEN", "t", "HOOK_SECRET", "h", "GITHUB_TOKEN", "g"));
    assertThat(c.targets()).singleElement().satisfies(t -> {
      assertThat(t.maxDeletions()).isEqualTo(10);
      assertThat(t.maxDeletionPercent()).isEqualTo(50);
      assertThat(t.maxFileSize()).as("source.maxFileSize: 1MiB").isEqualTo(1L << 20);
      assertThat(t.verify().mode()).as("source.verify.mode: HEAD").isEqualTo(dev.gitops.core.source.SignatureMode.HEAD);
    });
    assertThat(c.notifiers()).extracting(NotifierConfig::type).containsExactly("webhook", "github", "gitlab");
  }

  @Test
  void everyProviderTypeDocsAgentMdShowsLoads() throws IOException {
    String md = Files.readString(ROOT.resolve("docs/agent.md"), StandardCharsets.UTF_8);
    String section = md.substring(md.indexOf("### Provider types"), md.indexOf("## Many targets, one bound"));
    Files.writeString(dir.resolve("kubeconfig"), "contexts:\n- name: prod\n");
    Files.writeString(dir.resolve("vault-password"), "v\n");
    Matcher m = YAML.matcher(section);
    java.util.List<String> types = new java.util.ArrayList<>();
    while (m.find()) {
      String provider = m.group(1).replace("/etc/gitops/kubeconfig", dir.resolve("kubeconfig").toString())
          .replace("/run/secrets/vault-password", dir.resolve("vault-password").toString());
      AgentConfig c = load("targets:\n  - name: t\n    source: {url: https://example.com/r.git}\n" + provider,
          Map.of("DB_PASSWORD", "documented-pw"));
      types.add(c.targets().get(0).providerType());
    }
    assertThat(types).containsExactly("files", "kubernetes", "ansible", "terraform");
  }
}
