package dev.gitops.core.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.Set;
import org.junit.jupiter.api.Test;

class YamlManifestDecoderTest {

  private static final String REV = "main@sha1:0123456789012345678901234567890123456789";
  private final YamlManifestDecoder decoder = YamlManifestDecoder.builder().defaultProvider("memory").build();

  private static SourceFile file(String path, String text) {
    return new SourceFile(path, "blob", text.getBytes(StandardCharsets.UTF_8), REV);
  }

  private DecodeException decodeError(String path, String text) {
    return decodeError(decoder, path, text);
  }

  static DecodeException decodeError(YamlManifestDecoder d, String path, String text) {
    try {
      d.decode(file(path, text));
    } catch (DecodeException e) {
      return e;
    }
    throw new AssertionError("expected a DecodeException for " + path);
  }

  @Test
  void claimsYamlYmlAndJsonOnly() {
    assertThat(decoder.claims("a/b.yaml")).isTrue();
    assertThat(decoder.claims("b.YML")).isTrue();
    assertThat(decoder.claims("c.json")).isTrue();
    assertThat(decoder.claims("d.txt")).isFalse();
    assertThat(decoder.claims("yaml")).isFalse();
  }

  @Test
  void readsEveryFieldOfTheGenericManifestWithOrigins() throws Exception {
    String text = """
        # leading comment
        provider: memory
        type: widget
        scope: team-a
        name: web
        dependsOn: ["memory:widget:team-a:db"]
        wave: 1
        management: no-prune
        sensitive: ["/password"]
        spec:
          replicas: 3
          password: hunter2
        ---
        type: widget
        name: db
        scope: team-a
        spec: {size: 10}
        """;
    List<Resource> rs = decoder.decode(file("apps/web.yaml", text));
    assertThat(rs).hasSize(2);
    Resource web = rs.get(0);
    assertThat(web.key()).isEqualTo(ResourceKey.of("memory", "widget", "team-a", "web"));
    assertThat(web.dependsOn()).containsExactly(ResourceKey.parse("memory:widget:team-a:db"));
    assertThat(web.wave()).isEqualTo(1);
    assertThat(web.policy()).isEqualTo(ManagementPolicy.NO_PRUNE);
    assertThat(web.sensitive()).containsExactly(PathPattern.of("/password"));
    assertThat(web.document()).isEqualTo(new ObjectMapper().readTree("{\"replicas\":3,\"password\":\"hunter2\"}"));
    assertThat(web.origin()).isEqualTo(Origin.of("apps/web.yaml", 2, REV));
    Resource db = rs.get(1);
    assertThat(db.key()).isEqualTo(ResourceKey.of("memory", "widget", "team-a", "db"));
    assertThat(db.origin().line()).isEqualTo(14);
    assertThat(db.policy()).isEqualTo(ManagementPolicy.ALL);
  }

  @Test
  void aKeyWithoutAValueIsTheEmptyStringUnlessEmptyValuesAsNullIsOn() throws Exception {
    String text = "type: widget\nname: a\nspec:\n  labels:\n  quoted: ''\n";
    assertThat(decoder.decode(file("a.yaml", text)).get(0).document())
        .as("the default: as before, for every provider that does not ask")
        .isEqualTo(new ObjectMapper().readTree("{\"labels\":\"\",\"quoted\":\"\"}"));
    YamlManifestDecoder asNull = YamlManifestDecoder.builder().defaultProvider("memory").emptyValuesAsNull(true).build();
    assertThat(asNull.decode(file("a.yaml", text)).get(0).document())
        .as("null, as YAML reads it; a quoted empty string stays a string")
        .isEqualTo(new ObjectMapper().readTree("{\"labels\":null,\"quoted\":\"\"}"));
    assertThat(asNull.fingerprint()).as("decodes cached under one setting are not taken for the other")
        .isNotEqualTo(decoder.fingerprint());
  }

  @Test
  void readsJsonDocumentsOneAfterAnother() {
    String text = "{\"type\":\"t\",\"name\":\"a\",\"spec\":{\"x\":[1,2.5,true,null]}}\n"
        + "{\"provider\":\"other\",\"type\":\"t\",\"name\":\"b\"}\n";
    List<Resource> rs = decoder.decode(file("x.json", text));
    assertThat(rs).extracting(Resource::key).containsExactly(
        ResourceKey.of("memory", "t", "", "a"), ResourceKey.of("other", "t", "", "b"));
    assertThat(rs.get(1).origin().line()).isEqualTo(2);
    assertThat(rs.get(1).document().isObject()).isTrue();
  }

  @Test
  void documentsAreReadRawWithTheirLinesUnderTheSameLimits() {
    String text = "---\n# empty\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: List\nitems: []\n";
    List<YamlManifestDecoder.Document> docs = decoder.documents(file("k/a.yaml", text));
    assertThat(docs).extracting(d -> d.content().path("kind").asText()).containsExactly("ConfigMap", "List");
    assertThat(docs).extracting(d -> d.origin().line()).containsExactly(4, 8);
    assertThat(docs.get(0).origin().path()).isEqualTo("k/a.yaml");
    // numbered as the reader's own errors number them: the empty document counts
    assertThat(docs).extracting(YamlManifestDecoder.Document::number).containsExactly(2, 3);
    assertThatThrownBy(() -> decoder.documents(file("k/n.yaml", "---\n# empty\n---\nkind: X\nkind: Y\n")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("document 2: ");
    assertThatThrownBy(() -> decoder.documents(file("k/t.yaml", "kind: X\nmetadata: !!binary aGk=\n")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("k/t.yaml:2").hasMessageContaining("tag");
    assertThatThrownBy(() -> decoder.documents(file("k/d.yaml", "kind: X\nkind: Y\n")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("k/d.yaml");
  }

  @Test
  void skipsEmptyYamlDocuments() {
    List<Resource> rs = decoder.decode(file("a.yaml", "---\n# nothing\n---\ntype: t\nname: n\n---\n"));
    assertThat(rs).hasSize(1);
  }

  @Test
  void expandsAliasesWithinTheLimit() {
    String text = "type: t\nname: n\nspec:\n  base: &b {x: 1, y: [1, 2]}\n  copy: *b\n";
    Resource r = decoder.decode(file("a.yaml", text)).get(0);
    assertThat(r.document().get("copy")).isEqualTo(r.document().get("base"));
  }

  @Test
  void anAliasReachesAnAnchorOfItsOwnDocumentOnly() {
    // as kubectl reads a stream: each document's anchors are its own
    DecodeException e = decodeError("apps/two.yaml",
        "type: t\nname: a\nspec: &shared {x: 1}\n---\ntype: t\nname: b\nspec: *shared\n");
    assertThat(e.origin()).isEqualTo(Origin.of("apps/two.yaml", 7, REV));
    assertThat(e.getMessage()).contains("alias *shared refers to no anchor in its document")
        .contains("an earlier one");
    assertThat(decodeError("apps/none.yaml", "type: t\nname: a\nspec: *nowhere\n").getMessage())
        .contains("alias *nowhere refers to no anchor").doesNotContain("earlier");
    // the same name anchored again in a later document is that document's own
    List<Resource> rs = decoder.decode(file("apps/again.yaml",
        "type: t\nname: a\nspec: {a: &s {x: 1}}\n---\ntype: t\nname: b\nspec: {a: &s {x: 2}, copy: *s}\n"));
    assertThat(rs.get(1).document().get("copy").get("x").intValue()).isEqualTo(2);
  }

  @Test
  void missingIdentityFieldNamesFileLineAndField() {
    DecodeException e = decodeError("apps/a.yaml", "type: t\nname: ok\n---\n\ntype: widget\nspec: {}\n");
    assertThat(e.origin()).isEqualTo(Origin.of("apps/a.yaml", 5, REV));
    assertThat(e.getMessage()).contains("apps/a.yaml:5").contains("missing field 'name'");
    DecodeException noProvider = decodeError(YamlManifestDecoder.create(), "b.yaml", "type: t\nname: n\n");
    assertThat(noProvider.getMessage()).contains("b.yaml:1").contains("missing field 'provider'");
  }

  @Test
  void nonStringIdentityAndUnknownFieldsAreRejected() {
    assertThat(decodeError("a.yaml", "type: t\nname: 2024\n").getMessage())
        .contains("a.yaml:2").contains("'name' must be a string");
    assertThat(decodeError("a.yaml", "type: t\nname: n\ndependOn: []\n").getMessage())
        .contains("a.yaml:3").contains("unknown field 'dependOn'");
    assertThat(decodeError("a.yaml", "type: t\nname: n\nwave: 1.5\n").getMessage()).contains("'wave' must be an integer");
    assertThat(decodeError("a.yaml", "type: t\nname: n\nmanagement: sometimes\n").getMessage())
        .contains("a.yaml:3").contains("sometimes");
    assertThat(decodeError("a.yaml", "type: t\nname: n\ndependsOn: [\"nope\"]\n").getMessage())
        .contains("dependsOn").contains("nope");
    assertThat(decodeError("a.yaml", "- 1\n- 2\n").getMessage()).contains("must be a mapping");
  }

  @Test
  void malformedYamlNamesFileAndLine() {
    DecodeException e = decodeError("bad.yaml", "type: t\nname: n\nspec:\n  a: [1, 2\n  b: 3\n");
    assertThat(e.origin().path()).isEqualTo("bad.yaml");
    assertThat(e.origin().line()).isGreaterThanOrEqualTo(4);
    assertThat(e.getMessage()).contains("malformed YAML");
  }

  @Test
  void malformedJsonNamesFileAndLine() {
    DecodeException e = decodeError("bad.json", "{\n  \"type\": \"t\",\n  \"name\": \n}\n");
    assertThat(e.origin()).isEqualTo(Origin.of("bad.json", 4, REV));
    assertThat(e.getMessage()).contains("malformed JSON");
  }

  @Test
  void duplicateKeysInAMappingAreRejected() {
    DecodeException yaml = decodeError("d.yaml", "type: t\nname: n\nspec:\n  a: 1\n  a: 2\n");
    assertThat(yaml.getMessage()).contains("d.yaml:5").containsIgnoringCase("duplicate").contains("'a'");
    DecodeException json = decodeError("d.json", "{\"type\":\"t\",\n\"type\":\"u\",\"name\":\"n\"}");
    assertThat(json.getMessage()).contains("d.json:2").containsIgnoringCase("duplicate");
  }

  @Test
  void anchorsOnScalarsOfEveryStyleAreReadBackByTheirAliases() throws Exception {
    String text = """
        type: &t widget
        name: &n "web"
        spec:
          plain: &p shared
          single: &s 'quoted'
          flow: {a: &f one, b: *f}
          folded: &m >
            two
            lines
          number: &i 42
          list: &l [x, y]
          copies: [*t, *n, *p, *s, *m, *i, *l]
        """;
    List<Resource> rs = decoder.decode(file("anchors.yaml", text));
    assertThat(rs).singleElement().satisfies(r -> {
      assertThat(r.key().type()).isEqualTo("widget");
      assertThat(r.key().name()).isEqualTo("web");
      assertThat(r.document().get("flow").get("b").asText()).isEqualTo("one");
      assertThat(new ObjectMapper().writeValueAsString(r.document().get("copies")))
          .isEqualTo("[\"widget\",\"web\",\"shared\",\"quoted\",\"two lines\\n\",42,[\"x\",\"y\"]]");
    });
  }

  @Test
  void aYamlErrorNamesTheProblemAndPlaceButNeverQuotesTheLineWhichMayHoldASecret() {
    DecodeException e = decodeError("s.yaml", "type: t\nname: n\nspec: {password: LeakMe456\n");
    assertThat(e.getMessage()).contains("s.yaml:").contains("malformed YAML").doesNotContain("LeakMe456");
    assertThat(e.getCause()).isNotNull();
    DecodeException tab = decodeError("t.yaml", "type: t\nname: n\nspec:\n\tx: 1\n");
    assertThat(tab.getMessage()).contains("t.yaml:4").contains("cannot start any token").contains("column 1");
  }

  @Test
  void aliasBombIsStoppedBeforeExpanding() {
    StringBuilder sb = new StringBuilder("type: t\nname: n\nspec:\n  a: &a [x, x]\n");
    String prev = "a";
    for (int level = 0; level < 12; level++) {
      String name = "l" + level;
      sb.append("  ").append(name).append(": &").append(name).append(" [");
      for (int k = 0; k < 9; k++) {
        sb.append(k == 0 ? "" : ", ").append('*').append(prev);
      }
      sb.append("]\n");
      prev = name;
    }
    DecodeException e = decodeError("bomb.yaml", sb.toString());
    // stopped by the bound on expansions (a use of l2 expands 100 times): long before the node limit
    assertThat(e.getMessage()).contains("bomb.yaml:8").contains("aliases expand more than 1000 times");
  }

  @Test
  void moreThanFiftyAliasesAreRejected() {
    StringBuilder sb = new StringBuilder("type: t\nname: n\nspec:\n  a: &a [x]\n  b: [");
    for (int k = 0; k < 51; k++) {
      sb.append(k == 0 ? "" : ", ").append("*a");
    }
    sb.append("]\n");
    assertThat(decodeError("many.yaml", sb.toString()).getMessage()).contains("many.yaml:5").contains("more than 50 YAML aliases");
  }

  @Test
  void expansionIsBoundedByTheNodeLimitEvenUnderTheAliasLimit() {
    YamlManifestDecoder small = YamlManifestDecoder.builder().defaultProvider("m").maxNodes(100).build();
    StringBuilder sb = new StringBuilder("type: t\nname: n\nspec:\n  a: &a [");
    for (int k = 0; k < 40; k++) {
      sb.append(k == 0 ? "" : ", ").append(k);
    }
    sb.append("]\n  b: [*a, *a, *a]\n");
    assertThat(decodeError(small, "n.yaml", sb.toString()).getMessage()).contains("more than 100 nodes");
  }

  @Test
  void codePointLimitIsEnforced() {
    YamlManifestDecoder small = YamlManifestDecoder.builder().defaultProvider("m").maxCodePoints(64).build();
    String text = "type: t\nname: n\nspec: {x: \"" + "é".repeat(80) + "\"}\n";
    assertThat(decodeError(small, "big.yaml", text).getMessage()).contains("big.yaml").contains("code points");
  }

  @Test
  void customAndJavaTagsAreRejected() {
    assertThat(decodeError("t.yaml", "type: t\nname: n\nspec: !!javax.script.ScriptEngineManager [x]\n").getMessage())
        .contains("t.yaml:3").contains("tag").contains("not allowed");
    assertThat(decodeError("t.yaml", "type: t\nname: n\nspec:\n  a: !foo bar\n").getMessage())
        .contains("t.yaml:4").contains("!foo");
    assertThat(decodeError("t.yaml", "type: t\nname: n\nspec: !!binary aGVsbG8=\n").getMessage()).contains("!!binary");
  }

  @Test
  void coreStringTagIsAccepted() {
    Resource r = decoder.decode(file("s.yaml", "type: t\nname: n\nspec:\n  v: !!str 123\n")).get(0);
    assertThat(r.document().get("v").isTextual()).isTrue();
  }

  @Test
  void mergeKeysMergeMappingsTheMappingsOwnKeysWinningThenEarlierSources() throws Exception {
    String text = """
        type: t
        name: n
        spec:
          base: &b {x: 1, y: 1, deep: {a: 1}}
          other: &o {y: 2, z: 2}
          one:
            y: 9
            <<: *b
          many:
            <<: [*o, *b]
            w: 0
        """;
    Resource r = decoder.decode(file("m.yaml", text)).get(0);
    ObjectMapper json = new ObjectMapper();
    assertThat(json.writeValueAsString(r.document().get("one"))).isEqualTo("{\"y\":9,\"x\":1,\"deep\":{\"a\":1}}");
    assertThat(json.writeValueAsString(r.document().get("many"))).isEqualTo("{\"w\":0,\"y\":2,\"z\":2,\"x\":1,\"deep\":{\"a\":1}}");
  }

  @Test
  void aMergeKeyOfAnythingButMappingsIsAnErrorAtItsLine() {
    assertThat(decodeError("m.yaml", "type: t\nname: n\nspec:\n  a: &s text\n  b:\n    <<: *s\n").getMessage())
        .contains("m.yaml:6").contains("merge key << takes a mapping or a list of mappings, got string");
    assertThat(decodeError("m.yaml", "type: t\nname: n\nspec:\n  b:\n    <<: [{x: 1}, 2]\n").getMessage())
        .contains("m.yaml:5").contains("a list holding number");
  }

  @Test
  void nonUtf8BytesNameTheFileAndLine() {
    byte[] bytes = "type: t\nname: n\nspec: \"caf".getBytes(StandardCharsets.UTF_8);
    byte[] bad = new byte[bytes.length + 2];
    System.arraycopy(bytes, 0, bad, 0, bytes.length);
    bad[bytes.length] = (byte) 0xE9;  // Latin-1 'é'
    bad[bytes.length + 1] = '"';
    DecodeException e = org.junit.jupiter.api.Assertions.assertThrows(DecodeException.class,
        () -> decoder.decode(new SourceFile("latin1.yaml", "b", bad, REV)));
    assertThat(e.getMessage()).contains("latin1.yaml:3").contains("not valid UTF-8");
  }

  @Test
  void nanIsRejected() {
    assertThat(decodeError("n.yaml", "type: t\nname: n\nspec: {x: .nan}\n").getMessage()).contains("n.yaml:3").contains(".nan");
  }

  @Test
  void fingerprintChangesWithSettings() {
    assertThat(decoder.fingerprint()).isNotEqualTo(YamlManifestDecoder.create().fingerprint());
    assertThat(decoder.fingerprint()).isEqualTo(YamlManifestDecoder.builder().defaultProvider("memory").build().fingerprint());
  }

  @Test
  void selfDependencyIsADecodeError() {
    assertThatThrownBy(() -> decoder.decode(file("s.yaml", "type: t\nname: n\ndependsOn: [\"memory:t::n\"]\n")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("depends on itself");
  }

  @Test
  void sensitiveRequiresPatterns() {
    assertThat(decodeError("s.yaml", "type: t\nname: n\nsensitive: [\"password\"]\n").getMessage())
        .contains("s.yaml:3").contains("sensitive");
    assertThat(Set.of()).isEmpty();
  }

  /**
   * A YAML 1.1 float with digit separators is the number written, as without them, on every JDK:
   * it was the double's {@code BigDecimal.valueOf}, whose value JDK 17 gives from a longer text
   * ({@code 2_0.0e+22} was 199999999999999980000000, {@code 1_0.0e-324} the decimal 1E-323 where
   * {@code 1.0e-323} is 9.9E-324's double).
   */
  @Test
  void yamlFloatsWithDigitSeparatorsAreTheNumberWrittenOnEveryJdk() {
    String[][] same = {
        {"2_0.0e+22", "2.0e+23", "200000000000000000000000"},
        {"8_41.0e+19", "8.41e+21", "8410000000000000000000"},
        {"1_0.0e-324", "1.0e-323", null},
        {"1_6.0e-323", "1.6e-322", "1.6E-322"},
        {"1_000.5", "1000.5", "1000.5"},
        {"3.141_592_653_589_793_238_46", "3.14159265358979323846", "3.14159265358979323846"},
    };
    for (String[] s : same) {
      com.fasterxml.jackson.databind.JsonNode separated = decoder.decode(file("a.yaml", "type: t\nname: a\nspec:\n  x: " + s[0] + "\n"))
          .get(0).document();
      com.fasterxml.jackson.databind.JsonNode plain = decoder.decode(file("a.yaml", "type: t\nname: a\nspec:\n  x: " + s[1] + "\n"))
          .get(0).document();
      assertThat(separated).as(s[0]).isEqualTo(plain);
      assertThat(dev.gitops.api.Documents.digest(separated)).as(s[0]).isEqualTo(dev.gitops.api.Documents.digest(plain));
      if (s[2] != null) {
        assertThat(dev.gitops.api.Documents.canonicalJson(separated)).as(s[0]).isEqualTo("{\"x\":" + s[2] + "}");
      }
    }
  }
}
