package dev.gitops.testkit;

import static dev.gitops.testkit.LocalFilesProviderConformanceTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Health;
import dev.gitops.api.Observation;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryProviderTest {
  private static final CallContext CTX = CallContext.of("me", "rev", Duration.ofSeconds(30));

  @Test
  void appliesWriteTheCallersMarkAndListMarkedFindsOnlyTheOwners() {
    InMemoryProvider p = InMemoryProvider.builder().id("m").marks(true).build();
    ResourceKey mine = p.key("t", "", "mine");
    ResourceKey theirs = p.key("t", "", "theirs");
    p.apply(ProviderConformanceSuite.createOf(Resource.of(mine, json("{}"))), CTX);
    p.put(theirs, json("{}"), new OwnerMark("someone-else", theirs));
    assertThat(p.listMarked("me", CTX)).containsExactly(mine);
    Observation obs = p.observe(List.of(mine), CTX).get(mine);
    assertThat(obs.mark().isOwnedBy("me", mine)).isTrue();
  }

  @Test
  void withoutMarksNothingIsMarked() {
    InMemoryProvider p = InMemoryProvider.create();
    ResourceKey k = p.key("t", "", "a");
    p.apply(ProviderConformanceSuite.createOf(Resource.of(k, json("{}"))), CTX);
    assertThat(p.markOf(k)).isEmpty();
    assertThat(p.listMarked("me", CTX)).isEmpty();
    assertThat(p.marksObjects()).isFalse();
  }

  @Test
  void healthIsConfigurablePerKeyAndMissingForAbsentObjects() {
    InMemoryProvider p = InMemoryProvider.create();
    ResourceKey k = p.key("t", "", "a");
    p.put(k, json("{}"));
    Observation obs = p.observe(List.of(k), CTX).get(k);
    assertThat(p.health(k, obs).status()).isEqualTo(Health.Status.HEALTHY);
    p.setHealth(k, Health.degraded("crash loop"));
    assertThat(p.health(k, obs)).isEqualTo(Health.degraded("crash loop"));
    ResourceKey gone = p.key("t", "", "gone");
    assertThat(p.health(gone, Observation.absent(gone)).status()).isEqualTo(Health.Status.MISSING);
  }

  @Test
  void versionTokenIsACounterThatMovesOnEveryWrite() {
    InMemoryProvider p = InMemoryProvider.create();
    ResourceKey k = p.key("t", "", "a");
    String v1 = p.put(k, json("{\"a\":1}"));
    String v2 = p.put(k, json("{\"a\":1}"));
    assertThat(Long.parseLong(v2)).isGreaterThan(Long.parseLong(v1));
    assertThat(p.observe(List.of(k), CTX).get(k).version()).isEqualTo(v2);
  }

  @Test
  void normalizerAppliesAndIsFrozen() {
    InMemoryProvider p = InMemoryProvider.builder().normalizer((k, d) -> json("{\"n\":true}")).build();
    assertThat(p.normalize(p.key("t", "", "a"), json("{\"status\":1}"))).isEqualTo(json("{\"n\":true}"));
  }
}
