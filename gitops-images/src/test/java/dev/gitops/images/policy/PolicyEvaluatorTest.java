package dev.gitops.images.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.images.registry.DockerRegistry;
import dev.gitops.images.registry.RegistryClient;
import dev.gitops.images.registry.RegistryStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Policies evaluated against the real docker-registry, and against a scripted one where it cannot stall. */
class PolicyEvaluatorTest {

  @TempDir
  Path tmp;

  @Test
  void followsTheDigestOfAMovingTagAndKeepsGoingPastAFailingPolicy() throws Exception {
    DockerRegistry.assumeAvailable();
    try (DockerRegistry registry = DockerRegistry.builder(tmp.resolve("reg")).start()) {
      registry.push("team/web", "v1.2.3");
      registry.push("team/web", "v1.2.4");
      String first = registry.push("team/web", "latest", "build 1");
      String image = registry.host() + "/team/web";
      ImagePolicy semver = ImagePolicy.builder("apps:web", image).order(TagOrder.semver("^1.2")).build();
      ImagePolicy edge = ImagePolicy.builder("apps:edge", image).filter(TagFilter.of("^latest$", ""))
          .order(TagOrder.alphabetical(TagOrder.Direction.ASC)).followDigest(true).build();
      ImagePolicy missing = ImagePolicy.builder("apps:gone", registry.host() + "/team/gone")
          .order(TagOrder.semver("*")).build();
      ImagePolicy none = ImagePolicy.builder("apps:v9", image).order(TagOrder.semver("^9")).build();
      PolicyEvaluator evaluator = new PolicyEvaluator(RegistryClient.builder().plainHttp(registry.host()).build());

      PolicyEvaluator.Result r = evaluator.evaluate(List.of(missing, semver, edge, none));
      assertThat(r.choices().get("apps:web").tag()).isEqualTo("v1.2.4");
      assertThat(r.choices().get("apps:web").digest()).isEmpty();
      assertThat(r.choices().get("apps:web").skipped()).isEqualTo(1);  // "latest"
      assertThat(r.choices().get("apps:edge").reference()).isEqualTo(image + ":latest@" + first);
      assertThat(r.failures().get("apps:gone")).contains("404");
      assertThat(r.failures().get("apps:v9")).contains("no tag of " + image + " fits semver ^9");

      String second = registry.push("team/web", "latest", "build 2");
      PolicyEvaluator.Result again = evaluator.evaluate(List.of(semver, edge));
      assertThat(again.choices().get("apps:edge").digest()).contains(second);
      assertThat(again.choices().get("apps:edge").sameAs(r.choices().get("apps:edge"))).isFalse();
      assertThat(again.choices().get("apps:web").sameAs(r.choices().get("apps:web"))).isTrue();
    }
  }

  @Test
  void aRepositoryListedPastItsSpecTimeoutFailsAloneNamingTheImageRepositoryAndTheTimeout() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    RegistryStub stub = RegistryStub.start(ex -> {
      if (ex.getRequestURI().getPath().equals("/v2/team/slow/tags/list")) {
        try {
          release.await(10, TimeUnit.SECONDS);  // far past the 1 s spec.timeout
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();  // the stub is closing: answer at once
        }
      }
      RegistryStub.reply(ex, 200, "{\"tags\":[\"v1.0.0\",\"v1.1.0\"]}");
    });
    try {
      Path file = Files.writeString(tmp.resolve("images.yaml"), """
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImageRepository
          metadata: {name: slow, namespace: apps}
          spec:
            image: %1$s/team/slow
            interval: 5m
            timeout: 1s
            insecure: true
          ---
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImageRepository
          metadata: {name: web, namespace: apps}
          spec: {image: %1$s/team/web, timeout: 1m30s, insecure: true}
          ---
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImagePolicy
          metadata: {name: slow, namespace: apps}
          spec: {imageRepositoryRef: {name: slow}, policy: {semver: {range: "*"}}}
          ---
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImagePolicy
          metadata: {name: web, namespace: apps}
          spec: {imageRepositoryRef: {name: web}, policy: {semver: {range: "*"}}}
          """.formatted(stub.host()));
      FluxPolicies flux = FluxPolicies.read(file);
      PolicyEvaluator evaluator = new PolicyEvaluator(RegistryClient.builder()
          .plainHttp(flux.plainHttp().toArray(String[]::new)).build());

      long start = System.nanoTime();
      PolicyEvaluator.Result r = evaluator.evaluate(flux.policies());
      // the stall is 10 s, the request timeout 30 s: only the repository's own 1 s ended the listing
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
      assertThat(r.failures()).containsOnlyKeys("apps:slow");
      assertThat(r.failures().get("apps:slow"))
          .startsWith("registry " + stub.host() + ", repository team/slow: listing the tags took longer than 1 s (")
          .endsWith("; the timeout is spec.timeout of ImageRepository apps:slow (policy file " + file + ", line 7)");
      // the other repository is still scanned
      assertThat(r.choices().get("apps:web").tag()).isEqualTo("v1.1.0");
    } finally {
      release.countDown();
      stub.close();
    }
  }

  @Test
  void aDigestReadPastItsRepositorysSpecTimeoutFailsThePoliciesNeedingItAloneNamingTheImageRepository() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    String digest = "sha256:" + "b".repeat(64);
    RegistryStub stub = RegistryStub.start(ex -> {
      String path = ex.getRequestURI().getPath();
      if (path.equals("/v2/team/slow/manifests/latest")) {
        try {
          release.await(10, TimeUnit.SECONDS);  // far past the 1 s spec.timeout; the listing itself answers at once
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();  // the stub is closing: answer at once
        }
      }
      if (path.endsWith("/tags/list")) {
        RegistryStub.reply(ex, 200, "{\"tags\":[\"latest\",\"v1.0.0\",\"v1.1.0\"]}");
      } else {
        RegistryStub.reply(ex, 200, null, "Docker-Content-Digest", digest);
      }
    });
    try {
      Path file = Files.writeString(tmp.resolve("images.yaml"), """
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImageRepository
          metadata: {name: slow, namespace: apps}
          spec:
            image: %1$s/team/slow
            interval: 5m
            timeout: 1s
            insecure: true
          ---
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImageRepository
          metadata: {name: web, namespace: apps}
          spec: {image: %1$s/team/web, timeout: 1m30s, insecure: true}
          ---
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImagePolicy
          metadata: {name: edge, namespace: apps}
          spec:
            imageRepositoryRef: {name: slow}
            filterTags: {pattern: "^latest$"}
            policy: {alphabetical: {order: asc}}
            digestReflectionPolicy: Always
          ---
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImagePolicy
          metadata: {name: edge-too, namespace: apps}
          spec:
            imageRepositoryRef: {name: slow}
            filterTags: {pattern: "^latest$"}
            policy: {alphabetical: {order: asc}}
            digestReflectionPolicy: IfNotPresent
          ---
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImagePolicy
          metadata: {name: slow, namespace: apps}
          spec: {imageRepositoryRef: {name: slow}, policy: {semver: {range: "*"}}}
          ---
          apiVersion: image.toolkit.fluxcd.io/v1beta2
          kind: ImagePolicy
          metadata: {name: web-edge, namespace: apps}
          spec:
            imageRepositoryRef: {name: web}
            filterTags: {pattern: "^latest$"}
            policy: {alphabetical: {order: asc}}
            digestReflectionPolicy: Always
          """.formatted(stub.host()));
      FluxPolicies flux = FluxPolicies.read(file);
      PolicyEvaluator evaluator = new PolicyEvaluator(RegistryClient.builder()
          .plainHttp(flux.plainHttp().toArray(String[]::new)).build());

      long start = System.nanoTime();
      PolicyEvaluator.Result r = evaluator.evaluate(flux.policies());
      // the stall is 10 s, the request timeout 30 s: only the repository's own 1 s ended the digest read
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
      String why = "registry " + stub.host() + ", repository team/slow: reading the digest of tag 'latest' took longer"
          + " than 1 s (HEAD http://" + stub.host() + "/v2/team/slow/manifests/latest had no complete answer); refusing"
          + " to read more; the timeout is spec.timeout of ImageRepository apps:slow (policy file " + file + ", line 7)";
      assertThat(r.failures()).containsOnlyKeys("apps:edge", "apps:edge-too");
      assertThat(r.failures().get("apps:edge")).isEqualTo(why);
      assertThat(r.failures().get("apps:edge-too")).isEqualTo(why);
      // the two policies needing the same digest waited for one read, not one each
      assertThat(stub.seen()).filteredOn(q -> q.uri().equals("/v2/team/slow/manifests/latest")).hasSize(1);
      // the repository's policy that needs no digest, and the other repository's digest, are still read
      assertThat(r.choices().get("apps:slow").tag()).isEqualTo("v1.1.0");
      assertThat(r.choices().get("apps:web-edge").digest()).contains(digest);
    } finally {
      release.countDown();
      stub.close();
    }
  }
}
