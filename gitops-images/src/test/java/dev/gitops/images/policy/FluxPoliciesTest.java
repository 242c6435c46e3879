package dev.gitops.images.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FluxPoliciesTest {

  @TempDir
  Path tmp;

  static final String FILE = """
      apiVersion: image.toolkit.fluxcd.io/v1beta2
      kind: ImageRepository
      metadata: {name: web, namespace: apps}
      spec:
        image: 127.0.0.1:5000/team/web
        interval: 5m
        insecure: true
        exclusionList: ["^.*\\\\.sig$", "-debug$"]
      ---
      apiVersion: image.toolkit.fluxcd.io/v1beta2
      kind: ImagePolicy
      metadata: {name: web, namespace: apps}
      spec:
        imageRepositoryRef: {name: web}
        policy:
          semver: {range: ">=1.0.0 <2.0.0"}
      ---
      apiVersion: image.toolkit.fluxcd.io/v1beta2
      kind: ImagePolicy
      metadata: {name: nightly, namespace: apps}
      spec:
        imageRepositoryRef: {name: web}
        filterTags: {pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts'}
        policy:
          numerical: {order: asc}
        digestReflectionPolicy: Always
      ---
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: unrelated}
      """;

  @Test
  void readsFluxImageRepositoriesAndPolicies() throws Exception {
    Path f = Files.writeString(tmp.resolve("images.yaml"), FILE);
    FluxPolicies flux = FluxPolicies.read(f);

    assertThat(flux.policies()).extracting(ImagePolicy::name).containsExactly("apps:web", "apps:nightly");
    assertThat(flux.plainHttp()).containsExactly("127.0.0.1:5000");
    ImagePolicy web = flux.policies().get(0);
    assertThat(web.image().name()).isEqualTo("127.0.0.1:5000/team/web");
    assertThat(web.exclusions()).containsExactly("^.*\\.sig$", "-debug$");
    assertThat(web.followDigest()).isFalse();
    assertThat(web.select(List.of("v1.2.3", "v1.9.0", "v2.0.0")).tag()).contains("v1.9.0");
    ImagePolicy nightly = flux.policies().get(1);
    assertThat(nightly.followDigest()).isTrue();
    assertThat(nightly.select(List.of("main-abc-100", "main-def-99", "v1.0.0")).tag()).contains("main-abc-100");
  }

  @Test
  void mistakesNameTheFileAndThePolicy() throws Exception {
    Path f = Files.writeString(tmp.resolve("bad.yaml"), FILE.replace("imageRepositoryRef: {name: web}\n  policy:\n    semver",
        "imageRepositoryRef: {name: api}\n  policy:\n    semver"));
    assertThatThrownBy(() -> FluxPolicies.read(f))
        .hasMessageContaining("bad.yaml")
        .hasMessageContaining("ImagePolicy apps:web")
        .hasMessageContaining("ImageRepository apps:api");
    Path g = Files.writeString(tmp.resolve("order.yaml"), FILE.replace("order: asc", "order: up"));
    assertThatThrownBy(() -> FluxPolicies.read(g)).hasMessageContaining("ImagePolicy apps:nightly: order 'up' must be asc or desc");
    Path twice = Files.writeString(tmp.resolve("twice.yaml"), FILE.replace("name: nightly", "name: web"));
    assertThatThrownBy(() -> FluxPolicies.read(twice))
        .hasMessageContaining("policy file " + twice + ", ImagePolicy apps:web: a second ImagePolicy with this namespace and name");
    assertThatThrownBy(() -> FluxPolicies.read(tmp.resolve("nope.yaml"))).hasMessageContaining("nope.yaml does not exist");
    Path sometimes = Files.writeString(tmp.resolve("digest.yaml"),
        FILE.replace("digestReflectionPolicy: Always", "digestReflectionPolicy: Sometimes"));
    assertThatThrownBy(() -> FluxPolicies.read(sometimes)).hasMessageContaining("digest.yaml")
        .hasMessageContaining("ImagePolicy apps:nightly: spec.digestReflectionPolicy 'Sometimes' must be Never,"
            + " IfNotPresent or Always");
    Path ifNotPresent = Files.writeString(tmp.resolve("ifnp.yaml"),
        FILE.replace("digestReflectionPolicy: Always", "digestReflectionPolicy: IfNotPresent"));
    assertThat(FluxPolicies.read(ifNotPresent).policies().get(1).followDigest()).isTrue();
  }
}
