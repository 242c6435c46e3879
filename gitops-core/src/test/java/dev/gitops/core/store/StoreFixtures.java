package dev.gitops.core.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * Keys, documents and history entries of the store's own tests. The {@code StateStoreContract}
 * every store runs is gitops-testkit's (core's stores run it there: {@code FileStateStoreContractTest},
 * {@code JournaledStoreContractTest}, {@code InMemoryStateStoreContractTest}).
 */
final class StoreFixtures {

  static final ResourceKey A = ResourceKey.of("files", "file", "", "conf/a.yaml");
  static final ResourceKey B = ResourceKey.of("k8s", "apps/Deployment", "prod", "web");
  static final Duration SHORT = Duration.ofMillis(200);
  static final Duration LONG = Duration.ofSeconds(10);

  private StoreFixtures() {}

  static JsonNode doc(String json) {
    try {
      return Documents.freeze(StoreCodec.MAPPER.readTree(json));
    } catch (Exception e) {
      throw new IllegalArgumentException(json, e);
    }
  }

  static Resource resource(ResourceKey key, String json) {
    return Resource.of(key, doc(json));
  }

  static Resource richResource() {
    return Resource.builder(B)
        .document(doc("{\"spec\":{\"replicas\":3,\"ratio\":0.25,\"big\":123456789012345678901234567890,"
            + "\"list\":[1,\"two\",null,true,{\"x\":[]}],\"empty\":{}},\"note\":\"ünïcødé \\\"q\\\"\"}"))
        .origin(Origin.of("apps/web.yaml", 12, "main@sha1:0123456789abcdef0123456789abcdef01234567"))
        .dependsOn(A, ResourceKey.of("tf", "managed/aws_s3_bucket", "module.x", "logs[0]"))
        .wave(-2)
        .policy(ManagementPolicy.NO_PRUNE)
        .sensitive(Set.of(PathPattern.of("/data/*"), PathPattern.of("/spec/**/password")))
        .build();
  }

  static HistoryEntry entry(int i) {
    return new HistoryEntry("sync-" + i, Instant.parse("2025-01-01T00:00:00Z").plusSeconds(i), "main@sha1:" + i,
        "plan-" + i, i % 2 == 0 ? SyncResult.Status.SUCCEEDED : SyncResult.Status.FAILED, Map.of("created", i, "deleted", 0), "sync number " + i,
        i % 3 == 0 ? "" : "team-" + i);
  }
}
