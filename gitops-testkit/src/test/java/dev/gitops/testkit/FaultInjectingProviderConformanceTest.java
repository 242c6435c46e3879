package dev.gitops.testkit;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.util.List;
import java.util.Optional;

/** A wrapper with no faults configured must keep its delegate's contract. */
class FaultInjectingProviderConformanceTest extends ProviderConformanceSuite<FaultInjectingProvider> {

  @Override
  protected FaultInjectingProvider newProvider() {
    return FaultInjectingProvider.wrap(InMemoryProvider.builder().id("mem").build()).failRandomly(0.0, 1L).build();
  }

  @Override
  protected List<Resource> sampleResources() {
    return List.of(
        Resource.of(ResourceKey.of("mem", "t", "", "a"), LocalFilesProviderConformanceTest.json("{\"a\":1}")),
        Resource.of(ResourceKey.of("mem", "t", "ns", "b"), LocalFilesProviderConformanceTest.json("{\"b\":[1]}")));
  }

  @Override
  protected Optional<Resource> modify(Resource r) {
    return Optional.of(r.withDocument(LocalFilesProviderConformanceTest.json("{\"z\":0}")));
  }

  @Override
  protected boolean makeUnobservable(FaultInjectingProvider provider, ResourceKey key) {
    ((InMemoryProvider) provider.delegate()).makeUnobservable(key);
    return true;
  }
}
