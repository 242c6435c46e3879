package dev.gitops.core.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.DecodeException;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.SourceFile;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Documents of the user's own shape read through {@link DocumentMapping}, without a decoder of their own. */
class DocumentMappingTest {

  private static final String REV = "main@sha1:0123456789012345678901234567890123456789";
  private static final DocumentMapping SETTINGS = DocumentMapping.when("/kind", "Setting")
      .provider("db").type("setting").nameFrom("/name").without("/kind", "/name").build();

  private static SourceFile file(String path, String text) {
    return new SourceFile(path, "blob", text.getBytes(StandardCharsets.UTF_8), REV);
  }

  private static JsonNode json(String s) {
    try {
      return new ObjectMapper().readTree(s.replace('\'', '"'));
    } catch (Exception e) {
      throw new IllegalArgumentException(s, e);
    }
  }

  private static DecodeException error(YamlManifestDecoder d, String path, String text) {
    return YamlManifestDecoderTest.decodeError(d, path, text);
  }

  @Test
  void aSettingDocumentNeedsConfigurationNotCode() {
    YamlManifestDecoder d = YamlManifestDecoder.builder().map(SETTINGS).build();
    List<Resource> rs = d.decode(file("settings/shop.yaml", """
        kind: Setting
        name: checkout.timeout
        value: 30s
        ---
        kind: Setting
        name: checkout.retries
        value: {count: 3, backoff: [1, 2]}
        """));
    assertThat(rs).extracting(Resource::key).containsExactly(ResourceKey.of("db", "setting", "checkout.timeout"),
        ResourceKey.of("db", "setting", "checkout.retries"));
    assertThat(rs.get(0).document()).isEqualTo(json("{'value':'30s'}"));
    assertThat(rs.get(1).document()).isEqualTo(json("{'value':{'count':3,'backoff':[1,2]}}"));
    assertThat(rs.get(1).origin()).isEqualTo(Origin.of("settings/shop.yaml", 5, REV));
  }

  @Test
  void documentsNoMappingMatchesAreReadInTheGenericFormat() {
    YamlManifestDecoder d = YamlManifestDecoder.builder().defaultProvider("memory").map(SETTINGS).build();
    List<Resource> rs = d.decode(file("mixed.yaml", """
        kind: Setting
        name: a
        value: 1
        ---
        type: widget
        name: w
        spec: {size: 2}
        """));
    assertThat(rs).extracting(Resource::key).containsExactly(ResourceKey.of("db", "setting", "a"),
        ResourceKey.of("memory", "widget", "w"));
    assertThat(rs.get(1).document()).isEqualTo(json("{'size':2}"));
  }

  @Test
  void keyPartsAndTheDocumentComeFromNestedFields() {
    DocumentMapping k8sLike = DocumentMapping.when("/apiVersion", "example.com/v1")
        .provider("cluster").typeFrom("/kind").scopeFrom("/metadata/namespace").nameFrom("/metadata/name")
        .documentFrom("/spec").build();
    YamlManifestDecoder d = YamlManifestDecoder.builder().map(k8sLike).build();
    List<Resource> rs = d.decode(file("a.yaml", """
        apiVersion: example.com/v1
        kind: Queue
        metadata:
          name: orders
          namespace: shop
        spec:
          size: 10
        ---
        apiVersion: example.com/v1
        kind: Queue
        metadata: {name: global}
        spec: {size: 1}
        """));
    assertThat(rs.get(0).key()).isEqualTo(ResourceKey.of("cluster", "Queue", "shop", "orders"));
    assertThat(rs.get(0).document()).isEqualTo(json("{'size':10}"));
    assertThat(rs.get(1).key()).as("no namespace field: scope \"\"").isEqualTo(ResourceKey.of("cluster", "Queue", "global"));
  }

  @Test
  void metadataComesFromFieldsWithTheGenericMeaning() {
    DocumentMapping m = DocumentMapping.when("/kind", "Setting").provider("db").type("setting").nameFrom("/name")
        .dependsOnFrom("/after").waveFrom("/order/wave").managementFrom("/policy").sensitiveFrom("/secret")
        .documentFrom("/data").build();
    YamlManifestDecoder d = YamlManifestDecoder.builder().map(m).build();
    Resource r = d.decode(file("s.yaml", """
        kind: Setting
        name: db.password
        after: ["db:setting::db.host"]
        order: {wave: 2}
        policy: no-prune
        secret: ["/password"]
        data: {password: hunter2}
        """)).get(0);
    assertThat(r.dependsOn()).containsExactly(ResourceKey.of("db", "setting", "db.host"));
    assertThat(r.wave()).isEqualTo(2);
    assertThat(r.policy()).isEqualTo(ManagementPolicy.NO_PRUNE);
    assertThat(r.sensitive()).containsExactly(PathPattern.of("/password"));
    assertThat(r.document()).isEqualTo(json("{'password':'hunter2'}"));
  }

  @Test
  void theFirstMatchingMappingWinsAndEveryConditionMustHold() {
    DocumentMapping prod = DocumentMapping.when("/kind", "Setting").and("/env", "prod").provider("db")
        .type("prod-setting").nameFrom("/name").build();
    YamlManifestDecoder d = YamlManifestDecoder.builder().map(prod).map(SETTINGS).build();
    List<Resource> rs = d.decode(file("s.yaml", "kind: Setting\nenv: prod\nname: a\n---\nkind: Setting\nenv: dev\nname: b\n"));
    assertThat(rs).extracting(r -> r.key().type()).containsExactly("prod-setting", "setting");
    assertThat(rs.get(0).document()).as("no without(): the whole document")
        .isEqualTo(json("{'kind':'Setting','env':'prod','name':'a'}"));
  }

  @Test
  void aMissingOrMistypedFieldNamesFileLineAndPointer() {
    DocumentMapping nested = DocumentMapping.when("/kind", "Queue").provider("q").type("queue")
        .nameFrom("/metadata/name").waveFrom("/spec/wave").documentFrom("/spec").build();
    YamlManifestDecoder d = YamlManifestDecoder.builder().map(nested).build();

    DecodeException noName = error(d, "q.yaml",
        "kind: Queue\nmetadata: {name: a}\nspec: {}\n---\nkind: Queue\nmetadata: {}\nspec: {}\n");
    assertThat(noName.origin()).isEqualTo(Origin.of("q.yaml", 5, REV));
    assertThat(noName.getMessage()).contains("q.yaml:5").contains("/metadata/name").contains("kind=Queue");

    DecodeException number = error(d, "q.yaml", "kind: Queue\nmetadata:\n  labels: {}\n  name: 2024\nspec: {}\n");
    assertThat(number.getMessage()).as("the line of the nested field").contains("q.yaml:4")
        .contains("'/metadata/name' must be a string");

    DecodeException wave = error(d, "q.yaml", "kind: Queue\nmetadata: {name: a}\nspec:\n  size: 1\n  wave: soon\n");
    assertThat(wave.getMessage()).contains("q.yaml:5").contains("'/spec/wave' must be an integer");

    DecodeException noDoc = error(d, "q.yaml", "kind: Queue\nmetadata: {name: a}\n");
    assertThat(noDoc.getMessage()).contains("q.yaml:1").contains("/spec");

    DecodeException deps = error(YamlManifestDecoder.builder().map(DocumentMapping.when("/kind", "S").provider("p")
        .type("t").nameFrom("/name").dependsOnFrom("/deps").build()).build(), "s.yaml", "kind: S\nname: a\ndeps: [\"nope\"]\n");
    assertThat(deps.getMessage()).contains("s.yaml:3").contains("/deps").contains("nope");
  }

  @Test
  void aDocumentNoMappingMatchesAndThatIsNotGenericSaysWhatTheMappingsRead() {
    YamlManifestDecoder d = YamlManifestDecoder.builder().defaultProvider("memory").map(SETTINGS).build();
    DecodeException e = error(d, "s.yaml", "kind: Setings\nname: a\nvalue: 1\n");
    assertThat(e.getMessage()).contains("s.yaml:1").contains("unknown field 'kind'").contains("/kind=Setting");
  }

  @Test
  void theBuilderNamesWhatIsMissingOrMalformed() {
    assertThatThrownBy(() -> DocumentMapping.when("/kind", "Setting").nameFrom("/name").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs a type");
    assertThatThrownBy(() -> DocumentMapping.when("/kind", "Setting").type("t").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("nameFrom");
    assertThatThrownBy(() -> DocumentMapping.when("kind", "Setting"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'kind' is not a JSON pointer");
    assertThatThrownBy(() -> DocumentMapping.forEveryDocument().without(""))
        .isInstanceOf(IllegalArgumentException.class);
    DocumentMapping noProvider = DocumentMapping.forEveryDocument().type("t").nameFrom("/name").build();
    assertThatThrownBy(() -> YamlManifestDecoder.builder().map(noProvider).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("YamlManifestDecoder needs a provider");
    assertThat(YamlManifestDecoder.builder().defaultProvider("p").map(noProvider).build()
        .decode(file("a.yaml", "name: x\n")).get(0).key()).isEqualTo(ResourceKey.of("p", "t", "x"));
  }

  @Test
  void theFingerprintChangesWithTheMappings() {
    String plain = YamlManifestDecoder.builder().build().fingerprint();
    String mapped = YamlManifestDecoder.builder().map(SETTINGS).build().fingerprint();
    String other = YamlManifestDecoder.builder().map(DocumentMapping.when("/kind", "Setting").provider("db")
        .type("setting").nameFrom("/id").build()).build().fingerprint();
    assertThat(mapped).isNotEqualTo(plain).isNotEqualTo(other);
    assertThat(YamlManifestDecoder.builder().map(SETTINGS).build().fingerprint()).isEqualTo(mapped);
  }

  @Test
  void withoutRemovesNestedFieldsAndIgnoresAbsentOnes() {
    DocumentMapping m = DocumentMapping.forEveryDocument().provider("p").type("t").nameFrom("/meta/name")
        .without("/meta/name", "/meta/generated", "/not-there").build();
    Resource r = YamlManifestDecoder.builder().map(m).build()
        .decode(file("a.yaml", "meta: {name: a, generated: 7, owner: me}\nx: 1\n")).get(0);
    assertThat(r.document()).isEqualTo(json("{'meta':{'owner':'me'},'x':1}"));
  }
}
