package dev.gitops.examples;

import dev.gitops.api.Documents;
import dev.gitops.api.Resource;
import dev.gitops.testkit.ProviderConformanceSuite;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The example provider against the testkit's provider contract. */
class KeyValueProviderConformanceTest extends ProviderConformanceSuite<KeyValueProvider> {

  private static Resource entry(String scope, String name, Map<String, String> fields) {
    Map<String, com.fasterxml.jackson.databind.JsonNode> doc = new java.util.LinkedHashMap<>();
    fields.forEach((k, v) -> doc.put(k, Documents.nodes().textNode(v)));
    return Resource.of(KeyValueProvider.key(scope, name), Documents.object(doc));
  }

  @Override
  protected KeyValueProvider newProvider() {
    return new KeyValueProvider(new KeyValueStore());
  }

  @Override
  protected List<Resource> sampleResources() {
    return List.of(
        entry("shop", "port", Map.of("value", "8080")),
        entry("shop", "db.password", Map.of("value", "s3cret")),
        entry("", "motd", Map.of("value", "hello", "note", "kept by hand until now")));
  }

  @Override
  protected Optional<dev.gitops.api.Change> invalidChange(KeyValueProvider provider) {
    return Optional.of(dev.gitops.api.Change.builder(KeyValueProvider.key("shop", "no-document"),
        dev.gitops.api.Action.CREATE).reason("a create without a document").build());
  }

  @Override
  protected Optional<Resource> modify(Resource r) {
    return Optional.of(r.withDocument(Documents.object(Map.of("value", Documents.nodes().textNode("changed")))));
  }
}
