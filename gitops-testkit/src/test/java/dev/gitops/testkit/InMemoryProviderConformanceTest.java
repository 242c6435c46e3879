package dev.gitops.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.util.List;
import java.util.Optional;

class InMemoryProviderConformanceTest extends ProviderConformanceSuite<InMemoryProvider> {

  @Override
  protected InMemoryProvider newProvider() {
    return InMemoryProvider.builder().id("mem").marks(true).build();
  }

  @Override
  protected List<Resource> sampleResources() {
    return List.of(
        Resource.of(ResourceKey.of("mem", "apps/Deployment", "default", "web"),
            LocalFilesProviderConformanceTest.json("{\"spec\":{\"replicas\":2,\"ports\":[{\"port\":80}]}}")),
        Resource.of(ResourceKey.of("mem", "v1/ConfigMap", "default", "cfg"),
            LocalFilesProviderConformanceTest.json("{\"data\":{\"a\":\"1\"}}")),
        Resource.of(ResourceKey.of("mem", "v1/Namespace", "", "default"),
            LocalFilesProviderConformanceTest.json("{}")));
  }

  @Override
  protected Optional<Resource> modify(Resource r) {
    return Optional.of(r.withDocument(LocalFilesProviderConformanceTest.json("{\"changed\":true}")));
  }

  @Override
  protected boolean makeUnobservable(InMemoryProvider provider, ResourceKey key) {
    provider.makeUnobservable(key);
    return true;
  }

  @Override
  protected Optional<Change> invalidChange(InMemoryProvider provider) {
    return Optional.of(Change.builder(ResourceKey.of("mem", "v1/ConfigMap", "default", "no-target"), Action.CREATE)
        .reason("a create without a document").build());
  }

  @Override
  protected void assertObservedMatches(ResourceKey key, JsonNode applied, JsonNode observed) {
    assertThat(observed).as(key.toString()).isEqualTo(applied);
    assertThat(provider().markOf(key).orElseThrow().isOwnedBy(context().owner(), key)).isTrue();
  }
}
