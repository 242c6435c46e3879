package dev.gitops.images.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry client against Debian's real {@code docker-registry} on 127.0.0.1: tags, digests,
 * the bearer-token flow with a loopback token server, and TLS with a custom CA.
 */
class RealRegistryTest {

  @TempDir
  Path tmp;

  @BeforeEach
  void needsTheRegistry() {
    DockerRegistry.assumeAvailable();
  }

  @Test
  void listsTagsWithoutSignaturesAndReadsTheDigestOfAPushedManifest() throws Exception {
    try (DockerRegistry registry = DockerRegistry.builder(tmp.resolve("reg")).start()) {
      registry.push("team/web", "v1.2.3");
      String pushed = registry.push("team/web", "v1.2.4");
      registry.push("team/web", "sha256-0123.sig");
      RegistryClient client = RegistryClient.builder().plainHttp(registry.host()).build();
      ImageReference web = ImageReference.parse(registry.host() + "/team/web");

      RegistryClient.TagList tags = client.listTags(web);
      assertThat(tags.tags()).containsExactly("v1.2.3", "v1.2.4");
      assertThat(tags.excluded()).isEqualTo(1);
      assertThat(client.digest(web, "v1.2.4")).isEqualTo(pushed).startsWith("sha256:");

      // a tag moved to another manifest: the digest follows it
      String moved = registry.push("team/web", "v1.2.4", "rebuilt");
      assertThat(moved).isNotEqualTo(pushed);
      assertThat(client.digest(web, "v1.2.4")).isEqualTo(moved);

      assertThatThrownBy(() -> client.digest(web, "v9.9.9"))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("404");
    }
  }

  @Test
  void bearerTokenFlowWithTheLoginFromADockerConfig() throws Exception {
    TestCertificate signer = TestCertificate.create(tmp.resolve("certs"), "token-signer");
    try (TokenServer tokens = TokenServer.start(signer, "robot", "s3cret", 300);
         DockerRegistry registry = DockerRegistry.builder(tmp.resolve("reg")).tokenAuth(tokens, signer).start()) {
      String pushed = registry.push("team/web", "v1.0.0");
      Path config = tmp.resolve("config.json");
      Files.writeString(config, "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\""
          + Base64.getEncoder().encodeToString("robot:s3cret".getBytes(StandardCharsets.UTF_8)) + "\"}}}");
      RegistryClient client = RegistryClient.builder().plainHttp(registry.host(), tokens.authority())
          .credentials(RegistryCredentials.dockerConfig(config)).build();
      ImageReference web = ImageReference.parse(registry.host() + "/team/web");

      assertThat(client.listTags(web).tags()).containsExactly("v1.0.0");
      assertThat(client.digest(web, "v1.0.0")).isEqualTo(pushed);
      assertThat(client.listTags(web).tags()).containsExactly("v1.0.0");
      // one token for the repository's pull scope, reused for the later requests
      assertThat(tokens.requests()).hasSize(1);
      assertThat(tokens.requests().get(0).scopes()).containsExactly("repository:team/web:pull");
      assertThat(tokens.requests().get(0).service()).isEqualTo("gitops-test-registry");

      RegistryClient anonymous = RegistryClient.builder().plainHttp(registry.host(), tokens.authority()).build();
      assertThatThrownBy(() -> anonymous.listTags(web))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("answered 401 (anonymous)");
    }
  }

  @Test
  void tlsWithACustomCaAndNoFallbackToPlainHttp() throws Exception {
    TestCertificate cert = TestCertificate.create(tmp.resolve("certs"), "registry");
    try (DockerRegistry registry = DockerRegistry.builder(tmp.resolve("reg")).tls(cert).start()) {
      registry.push("team/web", "1.0.0");
      ImageReference web = ImageReference.parse(registry.host() + "/team/web");

      RegistryClient trusted = RegistryClient.builder().trustCertificates(cert.certPem()).build();
      assertThat(trusted.listTags(web).tags()).containsExactly("1.0.0");

      RegistryClient untrusted = RegistryClient.builder().maxAttempts(1).requestTimeout(Duration.ofSeconds(5)).build();
      assertThatThrownBy(() -> untrusted.listTags(web))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("https://" + registry.host())
          .hasMessageContaining("SSLHandshakeException");
    }
  }
}
