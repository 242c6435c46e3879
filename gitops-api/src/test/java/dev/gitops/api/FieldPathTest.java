package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.TextNode;
import java.util.LinkedHashMap;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class FieldPathTest {

  @Test
  void keyedElementsAreAddressedByKeyNotIndex() {
    Map<String, com.fasterxml.jackson.databind.JsonNode> k = new LinkedHashMap<>();
    k.put("containerPort", TextNode.valueOf("80"));
    k.put("protocol", TextNode.valueOf("TCP"));
    FieldPath p = FieldPath.of("spec", "containers").key(Map.of("name", TextNode.valueOf("app"))).field("ports").key(k);
    assertThat(p.toString()).isEqualTo("/spec/containers/[name=app]/ports/[containerPort=80,protocol=TCP]");
    assertThat(FieldPath.parse(p.toString())).isEqualTo(p);
  }

  @Property
  void anyFieldNameSurvivesTheStringForm(@ForAll String a, @ForAll String b, @ForAll String value) {
    FieldPath p = FieldPath.of(a, b).element(TextNode.valueOf(value)).key(Map.of("n", TextNode.valueOf(value)));
    FieldPath back = FieldPath.parse(p.toString());
    assertThat(back).isEqualTo(p);
    assertThat(back.segments()).hasSize(4);
    assertThat(((FieldPath.Field) back.segments().get(0)).name()).isEqualTo(a);
  }

  @Test
  void hashedElementsRoundTripAndAreNotIndexes() {
    FieldPath p = FieldPath.of("metadata", "finalizers").append(new FieldPath.Hashed("0123abcd"));
    assertThat(p.toString()).isEqualTo("/metadata/finalizers/[#hmac:0123abcd]");
    assertThat(FieldPath.parse(p.toString())).isEqualTo(p);
    assertThat(FieldPath.parse(p.toString()).last()).isEqualTo(new FieldPath.Hashed("0123abcd"));
    assertThat(FieldPath.parse("/a/[#3]").last()).isEqualTo(new FieldPath.Index(3));
    assertThatThrownBy(() -> FieldPath.parse("/a/[#hmac:XYZ]")).hasMessageContaining("[#hmac:XYZ]");
    assertThat(PathPattern.of("/metadata/finalizers/*").matches(p)).isTrue();
  }

  @Test
  void prefixAndParent() {
    FieldPath p = FieldPath.parse("/a/b/c");
    assertThat(FieldPath.parse("/a/b").isPrefixOf(p)).isTrue();
    assertThat(FieldPath.parse("/a/x").isPrefixOf(p)).isFalse();
    assertThat(p.parent()).isEqualTo(FieldPath.parse("/a/b"));
    assertThat(FieldPath.root().isPrefixOf(p)).isTrue();
    assertThat(FieldPath.parse("").isRoot()).isTrue();
  }

  @Test
  void malformedPathsNameTheText() {
    assertThatThrownBy(() -> FieldPath.parse("a/b")).hasMessageContaining("'a/b'");
    assertThatThrownBy(() -> FieldPath.parse("/[nokey]")).hasMessageContaining("[nokey]");
  }

  @Test
  void patternsMatchOneOrManySegments() {
    assertThat(PathPattern.of("/spec/*/image").matches(FieldPath.parse("/spec/[name=app]/image"))).isTrue();
    assertThat(PathPattern.of("/spec/*/image").matches(FieldPath.parse("/spec/a/b/image"))).isFalse();
    assertThat(PathPattern.of("/spec/**").matches(FieldPath.parse("/spec/a/b/image"))).isTrue();
    assertThat(PathPattern.of("/**/image").matches(FieldPath.parse("/image"))).isTrue();
    assertThat(PathPattern.of("/data").matches(FieldPath.parse("/data/x"))).isFalse();
    assertThat(PathPattern.of("/metadata/annotations/a~1b").matches(FieldPath.of("metadata", "annotations", "a/b"))).isTrue();
  }
}
