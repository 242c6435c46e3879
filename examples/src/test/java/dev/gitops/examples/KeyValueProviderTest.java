package dev.gitops.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyValueProviderTest {

  private final KeyValueStore live = new KeyValueStore();
  private final KeyValueProvider provider = new KeyValueProvider(live);
  private final CallContext ctx = CallContext.of("test", "v1", Duration.ofSeconds(5));
  private final Decoder decoder = provider.decoder().orElseThrow();

  private static SourceFile file(String path, String text) {
    return new SourceFile(path, "blob-" + path, text.getBytes(StandardCharsets.UTF_8), "main@sha1:abc");
  }

  private static Resource entry(String scope, String name, String value) {
    return Resource.of(KeyValueProvider.key(scope, name), Documents.object(Map.of("value", Documents.nodes().textNode(value))));
  }

  @Test
  void decoderClaimsOnlyKvFiles() {
    assertThat(decoder.claims("settings/shop.kv")).isTrue();
    assertThat(decoder.claims("settings/shop.yaml")).isFalse();
  }

  @Test
  void decodesOneResourcePerLineWithItsOrigin() {
    List<Resource> rs = decoder.decode(file("settings/shop.kv", "# the shop\nport = 8080\n\ndb.password = s3cret\n"));
    assertThat(rs).extracting(Resource::key)
        .containsExactly(ResourceKey.of("kv", "entry", "shop", "port"), ResourceKey.of("kv", "entry", "shop", "db.password"));
    assertThat(rs.get(0).document().get("value").asText()).isEqualTo("8080");
    assertThat(rs.get(0).origin().line()).isEqualTo(2);
    assertThat(rs.get(0).origin().path()).isEqualTo("settings/shop.kv");
    assertThat(rs.get(0).sensitive()).isEmpty();
    assertThat(rs.get(1).sensitive()).containsExactly(PathPattern.of("/value"));
  }

  @Test
  void aBadLineOrADuplicateNameIsADecodeErrorNamingFileAndLine() {
    assertThatThrownBy(() -> decoder.decode(file("shop.kv", "port = 1\njunk\n")))
        .isInstanceOf(DecodeException.class).hasMessageStartingWith("shop.kv:2@main@sha1:abc");
    assertThatThrownBy(() -> decoder.decode(file("shop.kv", "port = 1\nport = 2\n")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("shop.kv:2").hasMessageContaining("first at line 1");
  }

  @Test
  void observeSaysAbsentOrPresentWithTheVersion() {
    ResourceKey port = KeyValueProvider.key("shop", "port");
    ResourceKey host = KeyValueProvider.key("shop", "host");
    long v = live.put("shop/port", Documents.object(Map.of("value", Documents.nodes().textNode("8080"))));
    Map<ResourceKey, Observation> obs = provider.observe(List.of(port, host), ctx);
    assertThat(obs.get(port).isPresent()).isTrue();
    assertThat(obs.get(port).version()).isEqualTo(Long.toString(v));
    assertThat(obs.get(port).live().get("value").asText()).isEqualTo("8080");
    assertThat(obs.get(host).isAbsent()).isTrue();
  }

  @Test
  void applyCreatesUpdatesAndDeletesIdempotently() {
    Resource r = entry("shop", "port", "8080");
    Change create = Change.builder(r.key(), Action.CREATE).desired(r).target(r.document()).reason("new").build();
    assertThat(provider.apply(create, ctx).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(live.snapshot()).containsOnlyKeys("shop/port");

    Resource r2 = entry("shop", "port", "9090");
    Change update = Change.builder(r.key(), Action.UPDATE).desired(r2).live(r.document()).target(r2.document())
        .reason("changed").build();
    assertThat(provider.apply(update, ctx).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(provider.apply(update, ctx).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(live.get("shop/port").orElseThrow().value().get("value").asText()).isEqualTo("9090");

    Change delete = Change.delete(r2, r2.document(), "removed from Git");
    assertThat(provider.apply(delete, ctx).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(provider.apply(delete, ctx).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(live.snapshot()).isEmpty();
  }
}
