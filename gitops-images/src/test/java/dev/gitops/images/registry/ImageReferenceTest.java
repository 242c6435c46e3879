package dev.gitops.images.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageReferenceTest {

  @TempDir
  Path tmp;

  @Test
  void aRegistryHostNoUrlCanHoldIsRefusedUpFront() {
    for (String bad : new String[] {"exa mple.com/team/web", "host.io?x=1/team/web",
        "-host.io/team/web", "host.io:port/team/web"}) {
      assertThatThrownBy(() -> ImageReference.parse(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not a registry host");
    }
    assertThat(ImageReference.parse("[::1]:5000/team/web").registry()).isEqualTo("[::1]:5000");
    assertThat(ImageReference.parse("my-registry.example.com:443/team/web").registry())
        .isEqualTo("my-registry.example.com:443");
  }

  @Test
  void splitsHostRepositoryTagAndDigest() {
    ImageReference r = ImageReference.parse("localhost:5000/team/web:v1.2.3@sha256:" + "0".repeat(64));
    assertThat(r.registry()).isEqualTo("localhost:5000");
    assertThat(r.repository()).isEqualTo("team/web");
    assertThat(r.tag()).contains("v1.2.3");
    assertThat(r.digest()).contains("sha256:" + "0".repeat(64));
    assertThat(r.name()).isEqualTo("localhost:5000/team/web");
    assertThat(r.toString()).isEqualTo("localhost:5000/team/web:v1.2.3@sha256:" + "0".repeat(64));
  }

  @Test
  void namesWithoutAHostAreDockerHubs() {
    ImageReference nginx = ImageReference.parse("nginx:1.27");
    assertThat(nginx.registry()).isEqualTo("docker.io");
    assertThat(nginx.repository()).isEqualTo("library/nginx");
    assertThat(nginx.name()).isEqualTo("nginx");
    assertThat(ImageReference.parse("bitnami/redis").repository()).isEqualTo("bitnami/redis");
    assertThat(ImageReference.parse("index.docker.io/bitnami/redis").registry()).isEqualTo("docker.io");
    assertThat(ImageReference.parse("ghcr.io/org/app").tag()).isEmpty();
  }

  @Test
  void dockerHubNamesWithTheHostWrittenAreInTheLibraryToo() {
    ImageReference nginx = ImageReference.parse("docker.io/nginx:1.27");
    assertThat(nginx.registry()).isEqualTo("docker.io");
    assertThat(nginx.repository()).isEqualTo("library/nginx");
    assertThat(nginx.name()).isEqualTo("docker.io/nginx");
    assertThat(ImageReference.parse("index.docker.io/nginx").repository()).isEqualTo("library/nginx");
    assertThat(ImageReference.parse("registry-1.docker.io/nginx").repository()).isEqualTo("library/nginx");
    assertThat(ImageReference.parse("docker.io/bitnami/redis").repository()).isEqualTo("bitnami/redis");
    assertThat(ImageReference.parse("ghcr.io/nginx").repository()).isEqualTo("nginx");
  }

  @Test
  void badReferencesAreNamed() {
    assertThatThrownBy(() -> ImageReference.parse("ghcr.io/Org/app")).hasMessageContaining("'Org'");
    assertThatThrownBy(() -> ImageReference.parse("app:bad tag")).hasMessageContaining("'bad tag' is not a valid tag");
    assertThatThrownBy(() -> ImageReference.parse("app@md5")).hasMessageContaining("not a digest");
  }

  @Test
  void dockerConfigLoginsByHostWithHubAliases() throws Exception {
    Path config = tmp.resolve("config.json");
    Files.writeString(config, "{\"auths\":{"
        + "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1Yi1wdw==\"},"
        + "\"ghcr.io\":{\"username\":\"gh\",\"password\":\"gh-pw\"}},"
        + "\"credHelpers\":{\"123.dkr.ecr.us-east-1.amazonaws.com\":\"ecr-login\"}}");
    RegistryCredentials creds = RegistryCredentials.dockerConfig(config);
    assertThat(creds.find("docker.io")).contains(new RegistryCredentials.Login("hub", "hub-pw"));
    assertThat(creds.find("GHCR.io")).contains(new RegistryCredentials.Login("gh", "gh-pw"));
    assertThat(creds.find("quay.io")).isEmpty();
    assertThat(creds.find("ghcr.io").orElseThrow().toString()).doesNotContain("gh-pw");
    assertThat(creds.or(RegistryCredentials.basic("quay.io", "q", "q-pw")).find("quay.io")).isPresent();

    Files.writeString(config, "{\"auths\":{\"ghcr.io\":{\"auth\":\"not base64!\"}}}");
    assertThatThrownBy(() -> RegistryCredentials.dockerConfig(config))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining(config.toString())
        .hasMessageContaining("auths.ghcr.io.auth is not base64");
    assertThatThrownBy(() -> RegistryCredentials.dockerConfig(tmp.resolve("missing.json")))
        .hasMessageContaining("missing.json does not exist");
    Files.writeString(config, "{\"auths\": {\n  \"ghcr.io\": [\n");
    assertThatThrownBy(() -> RegistryCredentials.dockerConfig(config))
        .isInstanceOf(RegistryException.class)
        .hasMessageStartingWith("Docker config " + config + " is not valid JSON at line 3, column 1: Unexpected end-of-input")
        .hasMessageNotContaining("REDACTED");
  }
}
