package dev.gitops.core.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Documents;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.spi.SourceFile;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/**
 * Hostile and unusual YAML the generic decoder must refuse clearly or read as YAML does: depth with
 * aliases expanded, alias expansion, syntax errors (never quoting the text), document numbers,
 * merge keys, anchors on keys, recursive aliases, core tags on the wrong kind of node, UTF-16.
 */
class YamlHostileInputTest {

  private static final String REV = "main@sha1:0123456789012345678901234567890123456789";
  private final YamlManifestDecoder decoder = YamlManifestDecoder.builder().defaultProvider("memory").build();
  private final ObjectMapper json = new ObjectMapper();

  private static SourceFile file(String path, String text) {
    return file(path, text.getBytes(StandardCharsets.UTF_8));
  }

  private static SourceFile file(String path, byte[] bytes) {
    return new SourceFile(path, "blob", bytes, REV);
  }

  private static DecodeException error(YamlManifestDecoder d, SourceFile f) {
    try {
      d.decode(f);
    } catch (DecodeException e) {
      return e;
    }
    throw new AssertionError("expected a DecodeException for " + f.path());
  }

  private DecodeException error(String path, String text) {
    return error(decoder, file(path, text));
  }

  private String spec(String text) throws Exception {
    List<Resource> rs = decoder.decode(file("ok.yaml", text));
    assertThat(rs).hasSize(1);
    return json.writeValueAsString(rs.get(0).document());
  }

  /** A document whose spec nests mappings so that the deepest one is at {@code levels} (the root is level 1). */
  private static String nested(int levels, boolean flow) {
    StringBuilder sb = new StringBuilder("type: t\nname: n\nspec:");
    if (flow) {
      sb.append(" ").append("{a: ".repeat(levels - 1)).append("1").append("}".repeat(levels - 1)).append("\n");
    } else {
      for (int l = 2; l <= levels; l++) {
        sb.append("\n").append("  ".repeat(l - 1)).append("a:");
      }
      sb.append(" 1\n");
    }
    return sb.toString();
  }

  // --- 2. depth, aliases included, and the bound on alias expansion

  @Test
  void maxDepthBoundsTheNestingOfYamlAndJsonDocuments() {
    YamlManifestDecoder three = YamlManifestDecoder.builder().defaultProvider("m").maxDepth(3).build();
    assertThat(three.decode(file("ok.yaml", nested(3, false)))).hasSize(1);
    DecodeException block = error(three, file("deep.yaml", nested(4, false)));
    assertThat(block.origin()).isEqualTo(Origin.of("deep.yaml", 6, REV));
    assertThat(block.getMessage()).contains("deeper than 3 levels").contains("maxDepth");
    assertThat(error(three, file("deep.json", "{\"type\": \"t\", \"name\": \"n\",\n\"spec\": {\"a\": {\"b\": {\"c\": 1}}}}"))
        .getMessage()).contains("deep.json:2").contains("deeper than 3 levels");
    // the default, 100 levels
    assertThat(decoder.decode(file("ok.yaml", nested(100, true)))).hasSize(1);
    assertThat(error("deep.yaml", nested(101, true)).getMessage()).contains("deep.yaml:3").contains("deeper than 100 levels");
    assertThat(error("deep.yaml", nested(5000, true)).getMessage()).contains("deeper than 100 levels");
  }

  /**
   * The decoder's highest maxDepth on a thread with a small stack: a file nested past it, in any
   * spelling (flow and block mappings and lists, JSON, an alias used deep), is refused naming file,
   * line and the limit, never a StackOverflowError (the reader recursed per level and overflowed a
   * 256 KiB stack some 300 levels deep); one at the limit is read, frozen, to its last level.
   */
  @Test
  void aFileNestedPastTheHighestMaxDepthIsRefusedClearlyOnASmallStack() throws Exception {
    YamlManifestDecoder deepest = YamlManifestDecoder.builder().defaultProvider("m").maxDepth(1000).build();
    String head = "type: t\nname: n\nspec: ";
    for (int levels : new int[] {1_001, 100_000}) {
      int inside = levels - 1;
      String blockSeq = "- ".repeat(Math.min(inside, 20_000)) + "x\n";
      StringBuilder blockMap = new StringBuilder();
      for (int l = 1; l <= Math.min(inside, 1_200); l++) {
        blockMap.append("\n").append(" ".repeat(l)).append("a:");
      }
      String[][] files = {
          {"flow-list.yaml", head + "[".repeat(inside) + "]".repeat(inside) + "\n"},
          {"flow-map.yaml", head + "{a: ".repeat(inside) + "1" + "}".repeat(inside) + "\n"},
          {"block-seq.yaml", "type: t\nname: n\nspec:\n" + blockSeq},
          {"block-map.yaml", "type: t\nname: n\nspec:" + blockMap + " 1\n"},
          {"list.json", "{\"type\": \"t\", \"name\": \"n\",\n\"spec\": " + "[".repeat(inside) + "]".repeat(inside) + "}"},
          {"map.json", "{\"type\": \"t\", \"name\": \"n\",\n\"spec\": " + "{\"a\": ".repeat(inside) + "1"
              + "}".repeat(inside) + "}"},
          {"alias.yaml", "type: t\nname: n\nspec:\n  x: &d " + "[".repeat(998) + "]".repeat(998) + "\n  y: [[*d]]\n"},
      };
      for (String[] f : files) {
        Object got = onSmallStack(() -> deepest.decode(file(f[0], f[1])));
        assertThat(got).as("%s, %d levels", f[0], levels).isInstanceOf(DecodeException.class);
        DecodeException e = (DecodeException) got;
        assertThat(e.origin().path()).isEqualTo(f[0]);
        assertThat(e.origin().line()).as("%s", e.getMessage()).isPositive();
        assertThat(e.getMessage()).contains("deeper than 1000 levels").contains("maxDepth").doesNotContain("Jackson")
            .doesNotContain("StreamReadConstraints");
      }
    }
    // at the limit: read on the same small stack, every level there
    Object ok = onSmallStack(() -> deepest.decode(file("ok.yaml", head + "[".repeat(999) + "]".repeat(999) + "\n")));
    assertThat(ok).isInstanceOf(List.class);
    JsonNode doc = ((Resource) ((List<?>) ok).get(0)).document();
    assertThat(Documents.depth(doc)).as("the spec, below the manifest's own level").isEqualTo(999);
    assertThat(Documents.isFrozen(doc)).isTrue();
  }

  /** What {@code work} returns, or throws, on a thread of 256 KiB of stack. */
  private static Object onSmallStack(java.util.function.Supplier<Object> work) throws InterruptedException {
    java.util.concurrent.atomic.AtomicReference<Object> out = new java.util.concurrent.atomic.AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        out.set(work.get());
      } catch (Throwable e) {
        out.set(e);
      }
    }, "small-stack-decode", 256 * 1024);
    t.start();
    t.join();
    return out.get();
  }

  /**
   * A number, key or string over the parser's limits is refused at its own line, in the decoder's
   * words: Jackson's limit says no place, and the error named the document's first line and
   * Jackson's StreamReadConstraints.
   */
  @Test
  void aValueOverTheParsersLimitsIsRefusedAtItsOwnLine() {
    String digits = "9".repeat(1_001);
    Object[][] cases = {
        {"int.yaml", "type: t\nname: n\nspec:\n  a: 1\n  x: " + digits + "\n", 5, "a number 1001 characters long"},
        {"float.yaml", "type: t\nname: n\nspec:\n  a: 1\n  x: 1." + digits + "\n", 5, "a number 1003 characters long"},
        {"second.yaml", "type: t\nname: n\n---\ntype: t\nname: m\nspec:\n  a: 1\n  x: -" + digits + "\n", 8,
            "document 2: malformed YAML: a number 1002 characters long"},
        {"int.json", "{\"type\": \"t\",\n \"name\": \"n\",\n\"spec\": {\"a\": 1,\n\"x\": [1,\n " + digits + "]}}", 5,
            "a number 1001 characters long"},
        {"key.json", "{\"type\": \"t\",\n \"name\": \"n\",\n\"spec\": {\"a\": 1,\n\"" + "k".repeat(60_000) + "\": 1}}", 4,
            "a key 60000 characters long, more than the 50000 a key may have"},
    };
    for (Object[] c : cases) {
      DecodeException e = error((String) c[0], (String) c[1]);
      assertThat(e.origin()).as("%s: %s", c[0], e.getMessage()).isEqualTo(Origin.of((String) c[0], (int) c[2], REV));
      assertThat(e.getMessage()).contains((String) c[3]).doesNotContain("StreamReadConstraints").doesNotContain("999");
    }
    assertThat(error("int.yaml", "type: t\nname: n\nspec:\n  x: " + digits + "\n").getMessage())
        .contains("more than the 1000 a number may have (quote it to read it as a string)");
  }

  /**
   * A float with a far exponent is a few characters to write but a billion digits written out, as
   * digests and stores write numbers: refused at its line, YAML and JSON; before, it was read and
   * the first digest of the resource ran the engine out of memory.
   */
  @Test
  void aNumberWithAFarExponentIsRefusedAtItsLineBeforeAnythingWritesItOut() throws Exception {
    for (String[] f : new String[][] {
        {"far.yaml", "type: t\nname: n\nspec:\n  a: 1\n  x: 1e-999999999\n"},
        {"far.json", "{\"type\": \"t\", \"name\": \"n\",\n\"spec\": {\"a\": 1,\n\"x\": [0.1e-10000]}}"}}) {
      DecodeException e = error(f[0], f[1]);
      assertThat(e.origin()).as(e.getMessage()).isEqualTo(Origin.of(f[0], f[0].endsWith(".yaml") ? 5 : 3, REV));
      assertThat(e.getMessage()).contains("a number whose decimal form has").contains("more than the 1000 a number may have");
    }
    assertThat(error("far.yaml", "type: t\nname: n\nspec:\n  x: -1.5e-999999999\n").getMessage())
        .contains("1000000001 digits (exponent -999999999)");
    // far but within the bound: read, and written out in full by a digest
    List<Resource> near = decoder.decode(file("near.yaml", "type: t\nname: n\nspec:\n  x: 1e-400\n  y: 1.5e308\n"));
    assertThat(Documents.canonicalJson(near.get(0).document())).hasSizeLessThan(1_000);
  }

  @Test
  void anAliasCountsAtTheDepthWhereItIsUsed() {
    YamlManifestDecoder four = YamlManifestDecoder.builder().defaultProvider("m").maxDepth(4).build();
    String text = "type: t\nname: n\nspec:\n  x: &d {b: {c: 1}}\n  a:\n    y: *d\n";
    DecodeException e = error(four, file("alias.yaml", text));
    assertThat(e.origin()).isEqualTo(Origin.of("alias.yaml", 6, REV));
    assertThat(e.getMessage()).contains("alias *d").contains("deeper than 4 levels").contains("maxDepth");
    // used where it fits, the same anchor is read
    assertThat(four.decode(file("ok.yaml", "type: t\nname: n\nspec:\n  x: &d {b: {c: 1}}\n  a: *d\n"))).hasSize(1);
    // through a merge key: the merged mapping's values land in the mapping that merges them
    String merge = "type: t\nname: n\nspec:\n  - &d {b: {c: 1}}\n  - a:\n      <<: *d\n";
    assertThat(error(four, file("merge.yaml", merge)).getMessage()).contains("merge.yaml:6").contains("deeper than 4 levels");
    assertThat(four.decode(file("ok.yaml", "type: t\nname: n\nspec:\n  x: &d {b: {c: 1}}\n  a:\n    <<: *d\n")))
        .hasSize(1);
    // an alias inside an anchored node keeps counting when that node is itself aliased deeper
    String chain = "type: t\nname: n\nspec:\n  x: &d {c: 1}\n  y: &e {b: *d}\n  z: {w: *e}\n";
    assertThat(error(four, file("chain.yaml", chain)).getMessage()).contains("chain.yaml:6").contains("alias *e");
  }

  @Test
  void aliasExpansionIsBoundedInTotalAliasesInsideAliasesIncluded() {
    // 30 alias uses and a few thousand nodes, under both limits, but 1,230 expansions: each of
    // the 10 uses of *c copies 10 uses of *b, each copying 10 of *a
    String text = "type: t\nname: n\nspec:\n  a: &a [x]\n  b: &b [" + "*a, ".repeat(9) + "*a]\n"
        + "  c: &c [" + "*b, ".repeat(9) + "*b]\n"
        + "  d: [" + "*c, ".repeat(9) + "*c]\n";
    DecodeException e = error("expand.yaml", text);
    assertThat(e.origin()).isEqualTo(Origin.of("expand.yaml", 7, REV));
    assertThat(e.getMessage()).contains("alias").contains("1000").contains("maxAliasExpansions");
    YamlManifestDecoder more = YamlManifestDecoder.builder().defaultProvider("m").maxAliasExpansions(2000).build();
    assertThat(more.decode(file("expand.yaml", text)).get(0).document().get("d").get(9).get(9).get(0).get(0).asText())
        .isEqualTo("x");
  }

  @Test
  void theFingerprintNamesEveryLimitAndChangedWithTheDecodersOutput() {
    YamlManifestDecoder.Builder b = YamlManifestDecoder.builder().defaultProvider("memory");
    assertThat(b.maxDepth(7).build().fingerprint()).isNotEqualTo(decoder.fingerprint());
    assertThat(YamlManifestDecoder.builder().defaultProvider("memory").maxAliasExpansions(7).build().fingerprint())
        .isNotEqualTo(decoder.fingerprint());
    // files the decoder read before (deeper than maxDepth, over the expansion bound) are refused now
    assertThat(decoder.fingerprint()).doesNotContain(",v1)");
  }

  // --- 3. syntax errors: file, line and column, never the text

  @Test
  void aSyntaxErrorNamesFileLineAndColumnAndNeverQuotesTheText() {
    String[] texts = {
        "a: \"\\xZZSECRET\"\n", "a: \"\\uSECRETXX\"\n", "a: \"\\qSECRET\"\n", "a: |SECRET\n  x\n", "a: !%ZZSECRET b\n",
        "a: !SECRET!x b\n", "%YAML 1.1 SECRET\n---\na: b\n", "a: b: SECRET\n", "a: [SECRET\n", "a: 'SECRET\n",
        "{type: t, name: n}SECRET\n", "a: @SECRET\n", "a: `SECRET\n", "a: &SECRET\n  - x\n b: y\n", "? SECRET\n: x\nSECRET2\n",
        "a: b\n--- SECRET\n...\nx\n", "%TAG !SECRET! !x\n%TAG !SECRET! !y\n---\na: b\n", "a: !<SECRET b\n",
    };
    for (String t : texts) {
      String text = "type: t\nname: n\nspec:\n  " + t.replace("\n", "\n  ");
      if (t.startsWith("%") || t.startsWith("{")) {
        text = t;
      }
      DecodeException e = error("s.yaml", text);
      assertThat(e.getMessage()).as("for %s", t).startsWith("s.yaml:").contains("malformed YAML")
          .doesNotContain("ECRET").doesNotContain("SECR").doesNotContain("org.yaml").doesNotContain("Event");
      assertThat(e.origin().line()).as("for %s", t).isPositive();
    }
    DecodeException at = error("s.yaml", "type: t\nname: n\nspec:\n  a: b\n  c: d: SECRET\n");
    assertThat(at.origin()).isEqualTo(Origin.of("s.yaml", 5, REV));
    assertThat(at.getMessage()).contains("mapping values are not allowed here").contains("column 7");
    // what the user needs is kept: a tab, a reserved indicator, the token the parser expected
    assertThat(error("t.yaml", "type: t\nname: n\nspec:\n\tx: 1\n").getMessage()).contains("t.yaml:4").contains("tab");
    assertThat(error("r.yaml", "type: t\nname: @x\n").getMessage()).contains("r.yaml:2").contains("'@'");
    assertThat(error("f.yaml", "type: t\nname: n\nspec: [a, b\n").getMessage()).contains("expected ',' or ']'");
  }

  /** Malformed YAML and JSON with {@code S} where the text the parser stops at stands. */
  private static final String[] MALFORMED = {
      "spec:\n  a: \"\\xS\"\n", "spec:\n  a: \"\\uS\"\n", "spec:\n  a: \"\\qS\"\n", "spec:\n  a: |S\n    x\n",
      "spec:\n  a: !%S b\n", "spec:\n  a: !S!x b\n", "spec:\n  a: b: S\n", "spec:\n  a: [S\n", "spec:\n  a: 'S\n",
      "spec:\n  a: @S\n", "spec:\n  a: !<S b\n", "spec:\n  a: &x [1]\n  *x : S\n", "}S", "spec: {a: 1}}S\n",
  };

  @Property(tries = 300)
  void noSyntaxErrorQuotesTheTextWhateverItIsAndWhereverItStands(
      @ForAll @StringLength(min = 2, max = 10) @CharRange(from = 'g', to = 'z') String random,
      @ForAll @IntRange(max = 17) int template) {
    String secret = "zq" + random;  // "zq" stands in no message: a part of the secret shown is caught too
    String text;
    String path;
    if (template < MALFORMED.length) {
      path = "s.yaml";
      text = "type: t\nname: n\n" + MALFORMED[template].replace("S", secret);
    } else {
      path = "s.json";
      text = new String[] {"{\"a\": S}", "{\"a\": \"x\\qS\"}", "{\"a\": [1 S]}", "{\"a\": 1 S}"}[template - MALFORMED.length]
          .replace("S", secret);
    }
    DecodeException e = error(decoder, file(path, text));
    assertThat(e.getMessage()).as("for %s", text).startsWith(path + ":").doesNotContain("zq");
  }

  @Test
  void aJsonSyntaxErrorNeverQuotesTheText() {
    for (String t : new String[] {"{\"password\": LeakMe456}", "{\"password\": \"Leak\\qMe456\"}", "{\"a\": LeakMe456\n",
        "{\"a\": [1 LeakMe456]}"}) {
      DecodeException e = error("s.json", t);
      assertThat(e.getMessage()).as("for %s", t).startsWith("s.json:1").contains("malformed JSON")
          .doesNotContain("Leak").doesNotContain("Me456");
    }
  }

  @Test
  void aControlCharacterIsNamedByCodePointAtItsLineAndColumn() {
    DecodeException e = error("c.yaml", "type: t\nname: n\nspec:\n  a: \"x\u0001y\"\n");
    assertThat(e.origin()).isEqualTo(Origin.of("c.yaml", 4, REV));
    assertThat(e.getMessage()).contains("U+0001").contains("column 8").doesNotContain("UTF-16");
  }

  // --- 4. multi-document files

  @Test
  void anErrorInAMultiDocumentFileNamesTheDocument() {
    String third = "type: t\nname: a\n---\ntype: t\nname: b\n---\ntype: t\nnme: c\n";
    DecodeException e = error("m.yaml", third);
    assertThat(e.origin()).isEqualTo(Origin.of("m.yaml", 8, REV));
    assertThat(e.getMessage()).contains("document 3").contains("unknown field 'nme'");
    assertThat(error("m.yaml", "nme: a\n---\ntype: t\nname: b\n").getMessage()).contains("m.yaml:1").contains("document 1");
    assertThat(error("m.yaml", "---\ntype: t\nname: a\n---\ntype: t\nname: [b\n---\ntype: t\nname: c\n").getMessage())
        .contains("document 2").contains("malformed YAML");
    assertThat(error("m.yaml", "type: t\nname: a\n---\ntype: t\nname: b\nspec: !foo x\n").getMessage())
        .contains("m.yaml:6").contains("document 2").contains("!foo");
    assertThat(error("m.yaml", "type: t\nname: a\n---\n- 1\n").getMessage()).contains("document 2").contains("mapping");
    assertThat(error("m.json", "{\"type\": \"t\", \"name\": \"a\"}\n{\"type\": \"t\"}\n").getMessage())
        .contains("m.json:2").contains("document 2").contains("missing field 'name'");
    assertThatThrownBy(() -> decoder.documents(file("k.yaml", "kind: A\n---\nkind: B\nx: !!binary aGk=\n")))
        .hasMessageContaining("k.yaml:4").hasMessageContaining("document 2");
    // a file of one document is not numbered
    assertThat(error("one.yaml", "---\ntype: t\nnme: c\n").getMessage()).doesNotContain("document 1");
    assertThat(error("one.json", "{\"type\": \"t\"}").getMessage()).doesNotContain("document 1");
  }

  // --- 5. merge keys

  @Test
  void aQuotedMergeKeyIsAPlainKey() throws Exception {
    assertThat(spec("type: t\nname: n\nspec:\n  \"<<\": {a: 1}\n  b: 2\n")).isEqualTo("{\"<<\":{\"a\":1},\"b\":2}");
    assertThat(spec("type: t\nname: n\nspec:\n  '<<': text\n")).isEqualTo("{\"<<\":\"text\"}");
    assertThat(spec("type: t\nname: n\nspec: {\"<<\": [1, 2]}\n")).isEqualTo("{\"<<\":[1,2]}");
    // the plain one still merges
    assertThat(spec("type: t\nname: n\nspec:\n  <<: {a: 1}\n  b: 2\n")).isEqualTo("{\"b\":2,\"a\":1}");
    assertThat(spec("type: t\nname: n\nspec: {<<: {a: 1}, b: 2}\n")).isEqualTo("{\"b\":2,\"a\":1}");
  }

  // --- 6. anchors on keys, aliases as keys, recursive aliases

  @Test
  void anAnchorOnAKeyIsReadBackByItsAlias() throws Exception {
    assertThat(spec("type: t\nname: n\nspec:\n  &k key: v\n  other: *k\n")).isEqualTo("{\"key\":\"v\",\"other\":\"key\"}");
    assertThat(spec("type: t\nname: n\nspec: {&k key: v, list: [*k, *k]}\n")).isEqualTo("{\"key\":\"v\",\"list\":[\"key\",\"key\"]}");
  }

  @Test
  void anAliasOrACollectionAsAKeyIsRefusedClearly() {
    DecodeException alias = error("k.yaml", "type: t\nname: n\nspec:\n  a: &k key\n  *k : v\n");
    assertThat(alias.origin()).isEqualTo(Origin.of("k.yaml", 5, REV));
    assertThat(alias.getMessage()).contains("alias *k").contains("as a mapping key").doesNotContain("org.yaml");
    DecodeException list = error("k.yaml", "type: t\nname: n\nspec:\n  ? [a, b]\n  : v\n");
    assertThat(list.getMessage()).contains("k.yaml:4").contains("a list").contains("as a mapping key")
        .doesNotContain("org.yaml");
    assertThat(error("k.yaml", "type: t\nname: n\nspec: {{a: 1}: v}\n").getMessage()).contains("k.yaml:3")
        .contains("a mapping").contains("as a mapping key");
  }

  @Test
  void anAliasInsideTheNodeItNamesIsRefusedAsRecursive() throws Exception {
    DecodeException map = error("r.yaml", "type: t\nname: n\nspec: &r\n  a: 1\n  b: *r\n");
    assertThat(map.origin()).isEqualTo(Origin.of("r.yaml", 5, REV));
    assertThat(map.getMessage()).contains("alias *r").contains("inside the node &r").contains("recursive")
        .doesNotContain("refers to no anchor");
    assertThat(error("r.yaml", "type: t\nname: n\nspec: &r [1, [*r]]\n").getMessage()).contains("alias *r")
        .contains("recursive");
    // the most recent anchor of the name is the one the alias means, as YAML reads it
    assertThat(error("r.yaml", "type: t\nname: n\nspec:\n  a: &r 1\n  b: &r [*r]\n").getMessage()).contains("r.yaml:5")
        .contains("recursive");
    assertThat(spec("type: t\nname: n\nspec:\n  b: &r [&r 1, *r]\n  c: *r\n")).isEqualTo("{\"b\":[1,1],\"c\":[1,1]}");
  }

  // --- 7. core tags on the wrong kind of node

  @Test
  void aCoreTagOnTheWrongKindOfNodeIsRefusedClearly() throws Exception {
    String[][] cases = {
        {"!!map x", "!!map", "a scalar"}, {"!!seq x", "!!seq", "a scalar"}, {"!!map [a]", "!!map", "a list"},
        {"!!seq {a: 1}", "!!seq", "a mapping"}, {"!!str {a: 1}", "!!str", "a mapping"}, {"!!str [a]", "!!str", "a list"},
        {"!!int {a: 1}", "!!int", "a mapping"}, {"!!bool [a]", "!!bool", "a list"}, {"!!map", "!!map", "a scalar"},
    };
    for (String[] c : cases) {
      DecodeException e = error("tag.yaml", "type: t\nname: n\nspec:\n  v: " + c[0] + "\n");
      assertThat(e.getMessage()).as(c[0]).contains("tag.yaml:4").contains("'" + c[1] + "'").contains(c[2]);
    }
    // on the right kind they read as plain YAML
    assertThat(spec("type: t\nname: n\nspec:\n  m: !!map {a: 1}\n  s: !!seq [a]\n  v: !!str 12\n"))
        .isEqualTo("{\"m\":{\"a\":1},\"s\":[\"a\"],\"v\":\"12\"}");
    // a key is a scalar: a tag on it is checked too
    assertThat(spec("type: t\nname: n\nspec:\n  !!str k: v\n")).isEqualTo("{\"k\":\"v\"}");
    assertThat(error("tag.yaml", "type: t\nname: n\nspec:\n  !!map k: v\n").getMessage()).contains("tag.yaml:4")
        .contains("'!!map'").contains("a scalar");
    assertThat(error("tag.yaml", "type: t\nname: n\nspec:\n  !foo k: v\n").getMessage()).contains("tag.yaml:4")
        .contains("'!foo'").contains("not allowed");
  }

  // --- 8. UTF-16

  @Test
  void aUtf16FileGetsAHintToSaveItAsUtf8() {
    String text = "type: t\nname: n\n";
    Object[][] cases = {
        {"\uFEFF" + text, StandardCharsets.UTF_16LE}, {"\uFEFF" + text, StandardCharsets.UTF_16BE},
        {text, StandardCharsets.UTF_16LE}, {text, StandardCharsets.UTF_16BE},
    };
    for (Object[] c : cases) {
      for (String path : new String[] {"w.yaml", "w.json"}) {
        DecodeException e = error(decoder, file(path, ((String) c[0]).getBytes((Charset) c[1])));
        assertThat(e.getMessage()).as("%s in %s", path, c[1]).startsWith(path + ":").contains("UTF-16")
            .contains("save it as UTF-8");
      }
    }
    // a NUL in a UTF-8 file is not taken for UTF-16
    DecodeException nul = error("n.yaml", "type: t\nname: n\nspec: {a: \"x\u0000y\"}\n");
    assertThat(nul.getMessage()).contains("n.yaml:3").contains("U+0000").doesNotContain("UTF-16");
  }
}
