package dev.gitops.core.internal.plan;

import static dev.gitops.core.internal.plan.StubProvider.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.KeySelector;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.internal.redact.SensitiveValues;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LastAppliedTest {

  private static final ResourceKey KEY = ResourceKey.of("s", "thing", "a");
  private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);

  @Test
  void withoutRulesTheDesiredResourceIsRecordedAsItIs() {
    Resource d = Resource.of(KEY, json("{'a':1,'b':[1,2]}"));
    assertThat(LastApplied.of(d, MergeRules.defaults(), SECRET)).isSameAs(d);
  }

  @Test
  void ignoredPathsAreNeverRecordedAlsoInsideKeyedListElements() {
    MergeRules rules = MergeRules.builder().ignore("/status").ignore("/items/*/replicas")
        .keyedList("/items", KeyField.of("name")).build();
    Resource d = Resource.of(KEY, json("{'spec':1,'status':'x','items':[{'name':'a','replicas':3,'image':'i'}]}"));
    JsonNode recorded = LastApplied.of(d, rules, SECRET).document();
    assertThat(recorded).isEqualTo(json("{'spec':1,'items':[{'name':'a','image':'i'}]}"));
  }

  @Test
  void ignoreRulesApplyOnlyToTheKeysTheySelect() {
    MergeRules rules = MergeRules.builder().ignore("/status", KeySelector.type("s", "other")).build();
    Resource d = Resource.of(KEY, json("{'status':'x'}"));
    assertThat(LastApplied.strip(KEY, d.document(), rules)).isSameAs(d.document());
    assertThat(LastApplied.strip(ResourceKey.of("s", "other", "b"), d.document(), rules)).isEqualTo(json("{}"));
  }

  @Test
  void anAtomicMapIsRecordedWhole() {
    MergeRules rules = MergeRules.builder().atomicMap("/data").ignore("/data/generated").ignore("/meta/generated")
        .build();
    JsonNode doc = json("{'data':{'generated':1,'a':2},'meta':{'generated':1,'b':2}}");
    assertThat(LastApplied.strip(KEY, doc, rules)).isEqualTo(json("{'data':{'generated':1,'a':2},'meta':{'b':2}}"));
  }

  @Test
  void sensitiveValuesAreRecordedAsKeyedHashesNeverInPlainText() {
    MergeRules rules = MergeRules.builder().sensitive("/password", KeySelector.ANY).build();
    Resource d = Resource.builder(KEY).document(json("{'password':'hunter2','token':'t0k','user':'app'}"))
        .sensitive(Set.of(PathPattern.of("/token"))).build();
    JsonNode recorded = LastApplied.of(d, rules, SECRET).document();
    assertThat(recorded.toString()).doesNotContain("hunter2").doesNotContain("t0k");
    assertThat(recorded.get("password").asText()).startsWith(SensitiveValues.HASH_PREFIX);
    assertThat(recorded.get("token").asText()).as("marked by the decoder").startsWith(SensitiveValues.HASH_PREFIX);
    assertThat(recorded.get("user").asText()).isEqualTo("app");
    assertThat(LastApplied.of(d, rules, SECRET).document()).as("deterministic under one key").isEqualTo(recorded);
    byte[] otherKey = "another key, another hash.......".getBytes(StandardCharsets.UTF_8);
    assertThat(LastApplied.of(d, rules, otherKey).document().get("password")).isNotEqualTo(recorded.get("password"));
  }

  @Test
  void metadataAndDesiredComparisonsIgnoreTheOriginOnly() {
    Resource a = Resource.builder(KEY).document(json("{'x':1}")).origin(Origin.of("a.yaml", 1, "r1")).build();
    Resource moved = a.toBuilder().origin(Origin.of("b.yaml", 9, "r2")).build();
    assertThat(LastApplied.sameMetadata(a, moved)).isTrue();
    assertThat(LastApplied.sameDesired(a, moved)).isTrue();

    Resource otherDoc = a.withDocument(json("{'x':2}"));
    assertThat(LastApplied.sameMetadata(a, otherDoc)).isTrue();
    assertThat(LastApplied.sameDesired(a, otherDoc)).isFalse();

    for (Resource changed : new Resource[] {
        a.toBuilder().wave(1).build(),
        a.toBuilder().policy(ManagementPolicy.NO_PRUNE).build(),
        a.toBuilder().dependsOn(ResourceKey.of("s", "thing", "b")).build(),
        a.toBuilder().sensitive(Set.of(PathPattern.of("/x"))).build()}) {
      assertThat(LastApplied.sameMetadata(a, changed)).as(changed.toString()).isFalse();
      assertThat(LastApplied.sameDesired(a, changed)).as(changed.toString()).isFalse();
    }
  }
}
