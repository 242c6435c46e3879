package dev.gitops.images.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.images.registry.DockerRegistry;
import dev.gitops.images.registry.RegistryClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Policies evaluated against the real docker-registry. */
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
}
