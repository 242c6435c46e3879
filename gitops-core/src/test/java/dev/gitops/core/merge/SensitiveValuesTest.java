package dev.gitops.core.merge;

import static dev.gitops.core.merge.ThreeWayMergeTest.j;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.FieldPath;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.PathPattern;
import dev.gitops.api.ResourceKey;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SensitiveValuesTest {

  static final ResourceKey SECRET = ResourceKey.of("k8s", "v1/Secret", "prod", "db");
  static final ResourceKey MAP = ResourceKey.of("k8s", "v1/ConfigMap", "prod", "db");
  static final byte[] KEY = "store-key".getBytes(StandardCharsets.UTF_8);
  static final MergeRules RULES = MergeRules.builder()
      .atomicMap("/data")
      .keyedList("/env", KeyField.of("name"))
      .sensitive("/data/*", KeySelector.type("k8s", "v1/Secret"))
      .build();

  @Test
  void findsSensitivePathsOnlyForSelectedResources() {
    JsonNode doc = j("{'data':{'user':'u','pw':'p'},'kind':'Secret'}");
    assertThat(SensitiveValues.find(SECRET, doc, RULES, Set.of()))
        .containsExactlyInAnyOrder(FieldPath.of("data", "user"), FieldPath.of("data", "pw"));
    assertThat(SensitiveValues.find(MAP, doc, RULES, Set.of())).isEmpty();
  }

  @Test
  void findsExtraPatternsInsideKeyedLists() {
    JsonNode doc = j("{'env':[{'name':'TOKEN','value':'t'},{'name':'MODE','value':'m'}]}");
    assertThat(SensitiveValues.find(MAP, doc, RULES, Set.of(PathPattern.of("/env/[name=TOKEN]/value"))))
        .containsExactly(FieldPath.parse("/env/[name=TOKEN]/value"));
  }

  @Test
  void hashReplacesValuesWithKeyedHashes() {
    JsonNode doc = j("{'data':{'pw':'p','user':'u'}}");
    JsonNode hashed = SensitiveValues.hash(doc, Set.of(FieldPath.of("data", "pw")), KEY);
    String h = hashed.get("data").get("pw").textValue();
    assertThat(h).startsWith("hmac-sha256:").hasSize("hmac-sha256:".length() + 64);
    assertThat(hashed.get("data").get("user").textValue()).isEqualTo("u");
    assertThat(SensitiveValues.hash(doc, Set.of(FieldPath.of("data", "pw")), "other".getBytes(StandardCharsets.UTF_8))
        .get("data").get("pw").textValue()).isNotEqualTo(h);
    assertThat(hashed.toString()).doesNotContain("\"p\"");
  }

  @Test
  void hashFindsKeyedElements() {
    JsonNode doc = j("{'env':[{'name':'A','value':'1'},{'name':'TOKEN','value':'secret'}]}");
    JsonNode hashed = SensitiveValues.hash(doc, Set.of(FieldPath.parse("/env/[name=TOKEN]/value")), KEY);
    assertThat(hashed.get("env").get(1).get("value").textValue()).startsWith("hmac-sha256:");
    assertThat(hashed.get("env").get(0).get("value").textValue()).isEqualTo("1");
  }

  @Test
  void revealPutsBackDesiredValueWhenUnchanged() {
    JsonNode l = j("{'data':{'pw':'p'}}");
    Set<FieldPath> s = SensitiveValues.find(SECRET, l, RULES, Set.of());
    JsonNode stored = SensitiveValues.hash(l, s, KEY);
    assertThat(SensitiveValues.reveal(stored, j("{'data':{'pw':'p'}}"), j("{'data':{'pw':'live'}}"), KEY)).isEqualTo(l);
  }

  @Test
  void revealFallsBackToLiveWhenGitChanged() {
    JsonNode stored = SensitiveValues.hash(j("{'data':{'pw':'old'}}"), Set.of(FieldPath.of("data", "pw")), KEY);
    JsonNode revealed = SensitiveValues.reveal(stored, j("{'data':{'pw':'new'}}"), j("{'data':{'pw':'old'}}"), KEY);
    assertThat(revealed).isEqualTo(j("{'data':{'pw':'old'}}"));
  }

  @Test
  void revealLeavesHashWhenBothChangedSoTheMergeSeesChangeAndDrift() {
    JsonNode stored = SensitiveValues.hash(j("{'data':{'pw':'old'}}"), Set.of(FieldPath.of("data", "pw")), KEY);
    JsonNode revealed = SensitiveValues.reveal(stored, j("{'data':{'pw':'new'}}"), j("{'data':{'pw':'hand'}}"), KEY);
    assertThat(revealed).isEqualTo(stored);
    MergeResult r = new ThreeWayMerge(RULES).merge(SECRET, revealed, j("{'data':{'pw':'new'}}"), j("{'data':{'pw':'hand'}}"));
    assertThat(r.drift()).containsExactly(FieldPath.of("data"));
    assertThat(r.target()).isEqualTo(j("{'data':{'pw':'new'}}"));
  }

  @Test
  void revealFindsElementsOfListsWhateverTheirOrder() {
    JsonNode l = j("{'env':[{'name':'A','value':'1'},{'name':'TOKEN','value':'secret'}]}");
    JsonNode stored = SensitiveValues.hash(l, Set.of(FieldPath.parse("/env/[name=TOKEN]/value")), KEY);
    JsonNode d = j("{'env':[{'name':'TOKEN','value':'secret'},{'name':'A','value':'1'}]}");
    assertThat(SensitiveValues.reveal(stored, d, null, KEY)).isEqualTo(l);
  }

  @Test
  void redactReplacesValuesForDisplay() {
    JsonNode doc = j("{'data':{'pw':'p'},'x':1}");
    assertThat(SensitiveValues.redact(doc, Set.of(FieldPath.of("data", "pw")))).isEqualTo(j("{'data':{'pw':'(sensitive)'},'x':1}"));
  }
}
