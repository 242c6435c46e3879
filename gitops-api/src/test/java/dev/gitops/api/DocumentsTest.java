package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class DocumentsTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final JsonNodeFactory F = JsonNodeFactory.instance;

  static JsonNode json(String s) throws Exception {
    return JSON.readTree(s);
  }

  @Test
  void aDigestIsTheSha256OfTheCanonicalJsonsUtf8BytesWhateverItsLengthAndCharacters() throws Exception {
    String long1 = "x".repeat(9000);
    for (String text : List.of("plain", long1, "\u00e9t\u00e9", long1 + "\u00e9" + long1, "a\ud83d\ude00b", "\ud83d\ude00")) {
      JsonNode doc = Documents.freeze(F.objectNode().put("k", text).put("n", 1));
      byte[] expected = java.security.MessageDigest.getInstance("SHA-256")
          .digest(Documents.canonicalJson(doc).getBytes(StandardCharsets.UTF_8));
      assertThat(Documents.digest(doc)).as(text.length() + " chars").isEqualTo(java.util.HexFormat.of().formatHex(expected));
    }
  }

  @Test
  void aTextsSha256IsOfItsUtf8BytesWhateverItsFormAndWhereverItsFirstNonAsciiCharacterIs() throws Exception {
    java.util.Random random = new java.util.Random(13);
    String[] pieces = {"a", "Z", "{", "\u00e9", "\u2014", "\ud83d\ude00", "\n"};
    for (int round = 0; round < 60; round++) {
      StringBuilder b = new StringBuilder();
      int len = random.nextInt(3) == 0 ? 8190 + random.nextInt(20) : random.nextInt(20_000);
      // mostly ASCII, so the first non-ASCII character falls anywhere, within a chunk or across one
      while (b.length() < len) {
        b.append(random.nextInt(500) == 0 ? pieces[3 + random.nextInt(3)] : pieces[random.nextInt(3)]);
      }
      String text = b.toString();
      String want = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
      for (CharSequence form : List.of(text, new StringBuilder(text), java.nio.CharBuffer.wrap(text))) {
        assertThat(Documents.sha256Hex(form)).as("%s of %d chars", form.getClass().getSimpleName(), text.length())
            .isEqualTo(want);
      }
    }
  }

  @Test
  void frozenDocumentsRefuseEveryMutation() throws Exception {
    JsonNode doc = Documents.freeze(json("{\"a\":{\"b\":[1,2]}}"));
    assertThatThrownBy(() -> ((ObjectNode) doc).put("c", 1)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> ((ObjectNode) doc.get("a")).remove("b")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> ((ArrayNode) doc.get("a").get("b")).add(3)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> ((ArrayNode) doc.get("a").get("b")).removeAll()).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void freezingCopiesSoLaterEditsOfTheOriginalDoNotLeakIn() throws Exception {
    ObjectNode original = (ObjectNode) json("{\"a\":1}");
    JsonNode frozen = Documents.freeze(original);
    original.put("a", 2);
    assertThat(frozen.get("a").intValue()).isEqualTo(1);
    assertThat(Documents.freeze(frozen)).isSameAs(frozen);
  }

  @Test
  void numbersCompareNumerically() {
    JsonNode i = Documents.freeze(F.numberNode(1));
    assertThat(Documents.freeze(F.numberNode(1L))).isEqualTo(i);
    assertThat(Documents.freeze(F.numberNode(1.0))).isEqualTo(i);
    assertThat(Documents.freeze(F.numberNode(1.0f))).isEqualTo(i);
    assertThat(Documents.freeze(F.numberNode(new BigDecimal("1.000")))).isEqualTo(i);
    assertThat(Documents.freeze(F.numberNode(BigInteger.ONE))).isEqualTo(i);
    assertThat(Documents.freeze(F.numberNode(new BigDecimal("2.50")))).isEqualTo(Documents.freeze(F.numberNode(2.5)));
    assertThat(Documents.freeze(F.numberNode(1.5))).isNotEqualTo(i);
    assertThat(Documents.equal(F.numberNode(3L), F.numberNode(3.0))).isTrue();
  }

  /**
   * Integral doubles past 9e15 (a YAML or JSON {@code 1e16}, read as a double) equal the integer
   * of the same value: they stayed doubles, so a live {@code 10000000000000000} never equalled a
   * desired {@code 1e16} and every sync updated it again.
   */
  @Test
  void largeIntegralDoublesCompareNumericallyWithIntegers() {
    assertThat(Documents.freeze(F.numberNode(1e16))).isEqualTo(Documents.freeze(F.numberNode(10_000_000_000_000_000L)));
    assertThat(Documents.freeze(F.numberNode(-1e18))).isEqualTo(Documents.freeze(F.numberNode(-1_000_000_000_000_000_000L)));
    assertThat(Documents.freeze(F.numberNode(1e20)))
        .isEqualTo(Documents.freeze(F.numberNode(new BigInteger("100000000000000000000"))))
        .isEqualTo(Documents.freeze(F.numberNode(new BigDecimal("1E+20"))));
    assertThat(Documents.digest(F.numberNode(1e20))).isEqualTo(Documents.digest(F.numberNode(new BigDecimal("1E+20"))));
    assertThat(Documents.equal(F.numberNode(1e16), F.numberNode(10_000_000_000_000_001L))).isFalse();
    assertThat(Documents.freeze(F.numberNode(Double.POSITIVE_INFINITY)).isDouble()).isTrue();
  }

  @Test
  void keyOrderNeverMattersForEqualityOrDigests() throws Exception {
    JsonNode a = Documents.freeze(json("{\"a\":1,\"b\":{\"x\":[1,{\"p\":true,\"q\":null}]}}"));
    JsonNode b = Documents.freeze(json("{\"b\":{\"x\":[1,{\"q\":null,\"p\":true}]},\"a\":1.0}"));
    assertThat(a).isEqualTo(b);
    assertThat(a.hashCode()).isEqualTo(b.hashCode());
    assertThat(Documents.digest(a)).isEqualTo(Documents.digest(b));
    assertThat(Documents.canonicalJson(b)).isEqualTo("{\"a\":1,\"b\":{\"x\":[1,{\"p\":true,\"q\":null}]}}");
  }

  @Test
  void arrayOrderMatters() throws Exception {
    assertThat(Documents.freeze(json("[1,2]"))).isNotEqualTo(Documents.freeze(json("[2,1]")));
    assertThat(Documents.digest(json("[1,2]"))).isNotEqualTo(Documents.digest(json("[2,1]")));
  }

  @Test
  void escapesBetweenPlainRunsKeepTheTextAndTheDigestIsSha256OfIt() throws Exception {
    String text = "line one\nsaid \"hi\"\tthen \\ and \u001f end";
    assertThat(Documents.canonicalJson(F.textNode(text)))
        .isEqualTo("\"line one\\nsaid \\\"hi\\\"\\tthen \\\\ and \\u001f end\"");
    JsonNode doc = json("{\"b\":\"" + "x".repeat(70_000) + "\",\"a\":\"\\u00e9\\n\"}");
    for (int i = 0; i < 2; i++) {  // the second time through a thread's builder after a large one
      String want = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(Documents.canonicalJson(doc).getBytes(StandardCharsets.UTF_8)));
      assertThat(Documents.digest(doc)).isEqualTo(want);
      assertThat(Documents.digest(json("[1]"))).isEqualTo(java.util.HexFormat.of().formatHex(
          java.security.MessageDigest.getInstance("SHA-256").digest("[1]".getBytes(StandardCharsets.UTF_8))));
    }
  }

  @Test
  void canonicalJsonEscapesControlCharacters() {
    assertThat(Documents.canonicalJson(F.textNode("a\"b\\c\n\u0001"))).isEqualTo("\"a\\\"b\\\\c\\n\\u0001\"");
  }

  @Test
  void mutableCopyCanBeEdited() throws Exception {
    JsonNode frozen = Documents.freeze(json("{\"a\":[1]}"));
    ObjectNode copy = (ObjectNode) Documents.mutableCopy(frozen);
    ((ArrayNode) copy.get("a")).add(2);
    assertThat(frozen.get("a").size()).isEqualTo(1);
    assertThat(copy.get("a").size()).isEqualTo(2);
  }

  @Property
  void integralValuesAreEqualWhateverTheirRepresentation(@ForAll int v) {
    JsonNode asInt = Documents.freeze(F.numberNode(v));
    assertThat(Documents.freeze(F.numberNode((long) v))).isEqualTo(asInt);
    assertThat(Documents.freeze(F.numberNode((double) v))).isEqualTo(asInt);
    assertThat(Documents.freeze(F.numberNode(BigDecimal.valueOf(v).setScale(2)))).isEqualTo(asInt);
    assertThat(Documents.digest(F.numberNode((double) v))).isEqualTo(Documents.digest(asInt));
  }

  @Property
  void freezingIsIdempotentAndKeepsValues(@ForAll long v, @ForAll String s, @ForAll boolean b) {
    ObjectNode o = F.objectNode();
    o.put("n", v).put("s", s).put("b", b).putNull("z");
    o.putArray("l").add(v).add(s);
    JsonNode frozen = Documents.freeze(o);
    assertThat(Documents.freeze(frozen)).isSameAs(frozen);
    assertThat(frozen.get("n").longValue()).isEqualTo(v);
    assertThat(frozen.get("s").textValue()).isEqualTo(s);
    assertThat(Documents.equal(o, frozen)).isTrue();
  }
}
