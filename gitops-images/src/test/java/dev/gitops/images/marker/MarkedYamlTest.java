package dev.gitops.images.marker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MarkedYamlTest {

  private static MarkedYaml parse(String yaml) {
    return MarkedYaml.parse("apps/web.yaml", yaml.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void findsMarkersWithTheirObjectPathLineAndStyle() throws Exception {
    MarkedYaml y = parse(MarkedYamlGoldenTest.read("deployment.in.yaml"));
    assertThat(y.markers()).extracting(ImageMarker::setter)
        .containsExactly("apps:web", "apps:edge", "apps:web:tag", "apps:num");
    ImageMarker app = y.markers().get(0);
    assertThat(app.object()).isEqualTo("Deployment/prod/web");
    assertThat(app.path()).isEqualTo("spec.template.spec.containers[0].image");
    assertThat(app.line()).isEqualTo(18);
    assertThat(app.document()).isEqualTo(0);
    assertThat(app.value()).isEqualTo("registry.example.com/team/web:v1.2.3");
    assertThat(y.markers().get(1).style()).isEqualTo(ImageMarker.Style.SINGLE_QUOTED);
    assertThat(y.markers().get(2).style()).isEqualTo(ImageMarker.Style.DOUBLE_QUOTED);
    ImageMarker job = y.markers().get(3);
    assertThat(job.object()).isEqualTo("ConfigMap/prod/web-config");
    assertThat(job.document()).isEqualTo(1);
    assertThat(job.path()).isEqualTo("data.job-image");
  }

  @Test
  void filesWithoutTheMarkerFieldAreNeverParsed() {
    assertThat(MarkedYaml.mayHoldMarkers("image: nginx:1.27 # pinned\n".getBytes(StandardCharsets.UTF_8))).isFalse();
    assertThat(MarkedYaml.mayHoldMarkers("x: y # {\"$imagepolicy\": \"a:b\"}".getBytes(StandardCharsets.UTF_8))).isTrue();
  }

  @Test
  void unusableMarkersAreProblemsNamingTheLineAndTheRestStillWork() {
    MarkedYaml y = parse("""
        a: |  # {"$imagepolicy": "apps:web"}
          text
        b: nginx:1.0 # {"$imagepolicy": 42}
        c: nginx:1.0 # {"$imagepolicy": "apps:web"
        d: # {"$imagepolicy": "apps:web"}
        e: nginx:1.0 # {"$imagepolicy": "apps:web"}
        """);
    assertThat(y.markers()).extracting(ImageMarker::path).containsExactly("e");
    assertThat(y.problems()).extracting(Throwable::getMessage).containsExactly(
        "apps/web.yaml:1: a marker on a block scalar (| or >) is not supported; write the image as a single-line scalar",
        "apps/web.yaml:3: the marker's $imagepolicy must be a policy name",
        "apps/web.yaml:4: the marker comment is not a JSON object: {\"$imagepolicy\": \"apps:web\"",
        "apps/web.yaml:5: marker apps:web is on an empty value; write the current image there");
  }

  @Test
  void aMarkerCommentStartingWithSeveralHashesIsAMarkerAsFluxReadsIt() {
    // Flux takes every leading '#' off a comment before it reads the JSON (kyaml's strings.TrimLeft)
    MarkedYaml y = parse("""
        a: nginx:1.0 ## {"$imagepolicy": "apps:web"}
        b: nginx:1.0 #{"$imagepolicy": "apps:api"}
        c: nginx:1.0 ###   {"$imagepolicy": "apps:edge"}
        """);
    assertThat(y.problems()).isEmpty();
    assertThat(y.markers()).extracting(ImageMarker::setter).containsExactly("apps:web", "apps:api", "apps:edge");
  }

  @Test
  void aMarkerCommentWithTextAfterItsObjectIsAProblemNotHalfRead() {
    MarkedYaml y = parse("""
        a: nginx:1.0 # {"$imagepolicy": "apps:web"} # {"$imagepolicy": "apps:api"}
        b: nginx:1.0 # {"$imagepolicy": "apps:web"}{"$imagepolicy": "apps:api"}
        c: nginx:1.0 # {"$imagepolicy": "apps:web"} pinned by hand, do not update
        d: nginx:1.0 # {"$imagepolicy": "apps:web"}
        """);
    assertThat(y.markers()).extracting(ImageMarker::path).containsExactly("d");
    assertThat(y.problems()).extracting(Throwable::getMessage).containsExactly(
        "apps/web.yaml:1: the marker comment holds text after its JSON object (a second marker, a note), so it is not"
            + " used; one marker per line: {\"$imagepolicy\": \"apps:web\"} # {\"$imagepolicy\": \"apps:api\"}",
        "apps/web.yaml:2: the marker comment holds text after its JSON object (a second marker, a note), so it is not"
            + " used; one marker per line: {\"$imagepolicy\": \"apps:web\"}{\"$imagepolicy\": \"apps:api\"}",
        "apps/web.yaml:3: the marker comment holds text after its JSON object (a second marker, a note), so it is not"
            + " used; one marker per line: {\"$imagepolicy\": \"apps:web\"} pinned by hand, do not update");
  }

  @Test
  void aMarkerWhoseJsonFluxDoesNotReadAsStringsIsAProblemAsFluxIgnoresIt() {
    // Flux decodes the comment into map[string]string: any field of another type, and the marker sets nothing
    MarkedYaml y = parse("""
        a: nginx:1.0 # {"$imagepolicy": "apps:web", "x": 1}
        b: nginx:1.0 # {"$imagepolicy": "apps:web:tag", "other": {}}
        c: nginx:1.0 # {"note": ["x"], "$imagepolicy": "apps:web"}
        d: nginx:1.0 # {"$imagepolicy": "apps:web", "pinned": false}
        e: nginx:1.0 # {"$imagepolicy": 1, "$imagepolicy": "apps:web"}
        f: nginx:1.0 # {"$imagepolicy": " apps:web"}
        g: nginx:1.0 # {"$imagepolicy": "apps:web", "note": "kept by Flux", "x": null}
        """);
    assertThat(y.markers()).extracting(ImageMarker::path, ImageMarker::setter).containsExactly(
        org.assertj.core.groups.Tuple.tuple("g", "apps:web"));
    String rule = " is not a string, so Flux does not read this comment as a marker and it is not used; every field"
        + " of a marker is a string: ";
    assertThat(y.problems()).extracting(Throwable::getMessage).containsExactly(
        "apps/web.yaml:1: the marker's field \"x\" (a number)" + rule + "{\"$imagepolicy\": \"apps:web\", \"x\": 1}",
        "apps/web.yaml:2: the marker's field \"other\" (an object)" + rule
            + "{\"$imagepolicy\": \"apps:web:tag\", \"other\": {}}",
        "apps/web.yaml:3: the marker's field \"note\" (a list)" + rule + "{\"note\": [\"x\"], \"$imagepolicy\": \"apps:web\"}",
        "apps/web.yaml:4: the marker's field \"pinned\" (a boolean)" + rule
            + "{\"$imagepolicy\": \"apps:web\", \"pinned\": false}",
        "apps/web.yaml:5: the marker's field \"$imagepolicy\" (a number)" + rule
            + "{\"$imagepolicy\": 1, \"$imagepolicy\": \"apps:web\"}",
        "apps/web.yaml:6: the marker's $imagepolicy ' apps:web' has blanks around the policy name, which Flux reads as"
            + " part of it (naming no policy); write 'apps:web'");
  }

  @Test
  void aMarkerOnAnAliasOrOnAnEmptyPartSaysWhereToWriteIt() {
    // an alias has no text of its own to edit; it was reported as a marker after a flow collection or above its value
    MarkedYaml y = parse("""
        base: &img host/team/web:v1.2.3
        image: *img # {"$imagepolicy": "flux-system:web"}
        list:
          - *img  # {"$imagepolicy": "flux-system:web"}
        digest: # {"$imagepolicy": "flux-system:web:digest"}
        tag: "" # {"$imagepolicy": "flux-system:web:tag"}
        """);
    assertThat(y.markers()).extracting(ImageMarker::path).containsExactly("tag");
    assertThat(y.problems()).extracting(Throwable::getMessage).containsExactly(
        "apps/web.yaml:2: marker {\"$imagepolicy\": \"flux-system:web\"} is on an alias (*img), whose value is written"
            + " where &img anchors it, and is not used; write the marker after the anchored value",
        "apps/web.yaml:4: marker {\"$imagepolicy\": \"flux-system:web\"} is on an alias (*img), whose value is written"
            + " where &img anchors it, and is not used; write the marker after the anchored value",
        "apps/web.yaml:5: marker flux-system:web:digest is on an empty value; write the current value there, or \"\" when"
            + " there is none yet");
  }

  @Test
  void markersAfterFlowCollectionsOrAboveTheirValueAreProblemsNamingTheLine() {
    MarkedYaml y = parse("""
        a: {name: web, image: host/team/web:v1.2.3} # {"$imagepolicy": "flux-system:web"}
        b: [
          host/team/api:v1.0.0, host/team/api:v1.0.1 ]  # {"$imagepolicy": "flux-system:api"}
        c: [host/team/x:v1] # {"$imagepolicy": "flux-system:x"}
        image: # {"$imagepolicy": "flux-system:web"}
          host/team/web:v1.2.3
        note: 'a # {"$imagepolicy": "flux-system:web"} in a string' 
        # {"$imagepolicy": "flux-system:web"} alone on its line: a note, not a marker
        ok: host/team/web:v1.2.3 # {"$imagepolicy": "flux-system:web"}
        """);
    assertThat(y.markers()).extracting(ImageMarker::path).containsExactly("ok");
    assertThat(y.problems()).extracting(MarkerException::line).containsExactly(1, 3, 4, 5);
    assertThat(y.problems().get(0)).hasMessageStartingWith(
        "apps/web.yaml:1: marker {\"$imagepolicy\": \"flux-system:web\"} does not follow a single-line scalar value");
    assertThat(y.problems().get(3)).hasMessageContaining("on a key whose value is on another line");
  }

  @Test
  void aMarkerOnTheLineAboveAValueThatStartsItsLineIsUsedAsFluxReadsHeadComments() {
    // go-yaml v3 gives a comment block above a node to the node starting the next line, and Flux (kyaml's
    // fieldmeta) reads a scalar's line comment, then its head comment: a list item, or a value under its key
    String text = """
        images:
          # {"$imagepolicy": "apps:a"}
          - host/team/a:v1.0.0
            # {"$imagepolicy": "apps:b"}
          - "host/team/b:v1.0.0"

          # {"$imagepolicy": "apps:c"}

          - host/team/c:v1.0.0 # pinned by hand
        value:
          # {"$imagepolicy": "apps:d:tag"}
          v1.0.0
        anchored: &d
          # a note between the anchor and its value
          host/team/e:v1.0.0 # {"$imagepolicy": "apps:e"}
        """;
    MarkedYaml y = parse(text);
    assertThat(y.problems()).isEmpty();
    assertThat(y.markers()).extracting(ImageMarker::setter).containsExactly("apps:a", "apps:b", "apps:c", "apps:d:tag",
        "apps:e");
    assertThat(y.markers()).extracting(ImageMarker::path)
        .containsExactly("images[0]", "images[1]", "images[2]", "value", "anchored");
    assertThat(y.markers().get(1).style()).isEqualTo(ImageMarker.Style.DOUBLE_QUOTED);
    Map<ImageMarker, String> values = new java.util.HashMap<>();
    for (ImageMarker m : y.markers()) {
      values.put(m, m.setter().endsWith(":tag") ? "v1.0.1" : m.value().replace("v1.0.0", "v1.0.1"));
    }
    // byte for byte but the values, CRLF line ends too
    assertThat(new String(y.withValues(values), StandardCharsets.UTF_8)).isEqualTo(text.replace("v1.0.0", "v1.0.1"));
    String crlf = text.replace("\n", "\r\n");
    MarkedYaml w = parse(crlf);
    assertThat(w.markers()).hasSize(5);
    Map<ImageMarker, String> crlfValues = new java.util.HashMap<>();
    for (ImageMarker m : w.markers()) {
      crlfValues.put(m, m.setter().endsWith(":tag") ? "v1.0.1" : m.value().replace("v1.0.0", "v1.0.1"));
    }
    assertThat(new String(w.withValues(crlfValues), StandardCharsets.UTF_8)).isEqualTo(crlf.replace("v1.0.0", "v1.0.1"));

    // the first line of a file with a byte order mark
    MarkedYaml bom = parse("\ufeff# {\"$imagepolicy\": \"apps:web\"}\n- host/team/web:v1\n");
    assertThat(bom.markers()).extracting(ImageMarker::line).containsExactly(2);
    // an anchored empty value: nothing to skip to, the next key is not its text
    MarkedYaml empty = parse("a: &x # {\"$imagepolicy\": \"apps:web:tag\"}\nb: host/team/web:v1 # {\"$imagepolicy\": \"apps:web\"}\n");
    assertThat(empty.markers()).extracting(ImageMarker::path).containsExactly("b");
    assertThat(empty.problems()).singleElement().satisfies(p -> assertThat(p).hasMessageContaining("on an empty value"));
  }

  @Test
  void aBrokenMarkerAfterTheValueLeavesTheMarkerAboveItInUseAsFluxReadsTheHeadCommentNext() {
    // kyaml's fieldmeta reads the line comment, and when that is no marker (no JSON, text after the object, no
    // policy name) the head comment: the marker above is Flux's, and the broken one is still said
    String text = """
        images:
          # {"$imagepolicy": "apps:a"}
          - host/team/a:v1.0.0 # {"$imagepolicy": apps:b}
          # {"$imagepolicy": "apps:c"}
          - host/team/c:v1.0.0 # {"$imagepolicy": "apps:d"} pinned by hand
          # {"$imagepolicy": "apps:e"}
          - host/team/e:v1.0.0 # {"$imagepolicy": ""}
          # {"$imagepolicy": "apps:f"}
          - host/team/f:v1.0.0 # {"$imagepolicy": "apps:g"}
        tag:
          # {"$imagepolicy": "apps:h:tag"}
          v1.0.0 # {"$imagepolicy": "apps:i:tag", "x": 1}
        """;
    MarkedYaml y = parse(text);
    assertThat(y.markers()).extracting(ImageMarker::setter)
        .containsExactly("apps:a", "apps:c", "apps:e", "apps:g", "apps:h:tag");
    assertThat(y.markers()).extracting(ImageMarker::line).containsExactly(3, 5, 7, 9, 12);
    assertThat(y.problems()).extracting(MarkerException::line).containsExactly(3, 5, 7, 12);
    assertThat(y.problems().get(0)).hasMessageContaining("not a JSON object");
    assertThat(y.problems().get(1)).hasMessageContaining("text after its JSON object");
    Map<ImageMarker, String> values = new java.util.HashMap<>();
    for (ImageMarker m : y.markers()) {
      values.put(m, m.setter().endsWith(":tag") ? "v1.0.1" : m.value().replace("v1.0.0", "v1.0.1"));
    }
    assertThat(new String(y.withValues(values), StandardCharsets.UTF_8)).isEqualTo(text.replace("v1.0.0", "v1.0.1"));
  }

  @Test
  void aMarkerAboveAKeyOrInACommentBlockIsAProblemAsFluxSetsNothingThere() {
    MarkedYaml y = parse("""
        spec:
          # {"$imagepolicy": "apps:web"}
          image: host/team/web:v1.2.3
        list:
          # pinned until the migration
          # {"$imagepolicy": "apps:api"}
          - host/team/api:v1.0.0
          # {"$imagepolicy": "apps:side"}
          - name: side
            image: host/team/side:v1
        # {"$imagepolicy": "apps:web"} alone on its line: a note, not a marker
        ok: host/team/web:v1.2.3
        """);
    assertThat(y.markers()).isEmpty();
    assertThat(y.problems()).extracting(MarkerException::line).containsExactly(2, 6, 8);
    assertThat(y.problems().get(0)).hasMessage("apps/web.yaml:2: marker {\"$imagepolicy\": \"apps:web\"} is on the line"
        + " above key 'image', where Flux reads it as the key's comment and sets nothing, and it is not used; write it"
        + " after the value: 'image: <reference> # {...}' (above a value only when the value starts its own line, as a"
        + " list item does)");
    assertThat(y.problems().get(1)).hasMessageContaining("with other comment lines in the same block");
    assertThat(y.problems().get(2)).hasMessageContaining("above key 'name'");
  }

  @Test
  void aMarkerInsideAMultiLineFlowMappingIsUsedByteForByte() {
    String text = "a: {name: web,\n  image: host/team/web:v1.2.3 # {\"$imagepolicy\": \"flux-system:web\"}\n}\n";
    MarkedYaml y = parse(text);
    assertThat(y.problems()).isEmpty();
    assertThat(y.markers()).singleElement().satisfies(m -> assertThat(m.path()).isEqualTo("a.image"));
    assertThat(new String(y.withValues(Map.of(y.markers().get(0), "host/team/web:v1.2.4")), StandardCharsets.UTF_8))
        .isEqualTo(text.replace("v1.2.3", "v1.2.4"));
  }

  @Test
  void aYamlErrorKeepsSnakeYamlsProblemText() {
    assertThatThrownBy(() -> parse("a: b\n\tc: d # {\"$imagepolicy\": \"x\"}\n"))
        .isInstanceOf(MarkerException.class)
        .hasMessageStartingWith("apps/web.yaml:2: not valid YAML: while scanning for the next token: found character")
        .hasMessageContaining("that cannot start any token");
  }

  @Test
  void manyAliasesOfACollectionAreReadNotRefusedAndTheirMarkerIsFoundOnce() {
    // composing never copies an alias's node: 200 of them cost nothing, where a count of 50 refused the file
    StringBuilder text = new StringBuilder("x-env: &env\n  - {name: A, value: b}\n"
        + "x-web: &web\n  image: registry.example.com/team/web:v1.2.3 # {\"$imagepolicy\": \"apps:web\"}\n"
        + "services:\n");
    for (int i = 0; i < 200; i++) {
      text.append("  s").append(i).append(":\n    env: *env\n    web: *web\n");
    }
    MarkedYaml y = parse(text.toString());
    assertThat(y.problems()).isEmpty();
    assertThat(y.markers()).singleElement().satisfies(m -> {
      assertThat(m.line()).isEqualTo(4);
      assertThat(m.path()).isEqualTo("x-web.image");
    });
    assertThat(new String(y.withValues(Map.of(y.markers().get(0), "registry.example.com/team/web:v1.2.4")),
        StandardCharsets.UTF_8)).isEqualTo(text.toString().replace("v1.2.3", "v1.2.4"));
  }

  @Test
  void aLimitThatStopsTheComposerNamesTheFileAndTheLine() {
    // SnakeYAML's limits throw without a mark: the line the reader had come to is named instead
    StringBuilder text = new StringBuilder("image: nginx:1.0 # {\"$imagepolicy\": \"apps:web\"}\n");
    for (int i = 0; i < 150; i++) {
      text.append("  ".repeat(i)).append("k").append(i).append(":\n");
    }
    text.append("  ".repeat(150)).append("v\n");
    assertThatThrownBy(() -> parse(text.toString()))
        .isInstanceOf(MarkerException.class)
        .hasMessageMatching("apps/web\\.yaml:(\\d+): not valid YAML: .*")
        .satisfies(e -> assertThat(((MarkerException) e).line()).isBetween(95, 110));
  }

  @Test
  void badFilesAreNamed() {
    assertThatThrownBy(() -> MarkedYaml.parse("bad.yaml", new byte[] {'a', ':', ' ', (byte) 0xff, '\n'}))
        .isInstanceOf(MarkerException.class).hasMessageStartingWith("bad.yaml: not UTF-8");
    assertThatThrownBy(() -> parse("a: [1, 2\nb: c # {\"$imagepolicy\": \"x\"}\n"))
        .isInstanceOf(MarkerException.class).hasMessageStartingWith("apps/web.yaml:").hasMessageContaining("not valid YAML");
  }

  @Test
  void valuesThatWouldChangeTypeOrNeedEscapesAreQuoted() {
    assertThat(MarkedYaml.render("1.10", ImageMarker.Style.PLAIN)).isEqualTo("\"1.10\"");
    assertThat(MarkedYaml.render("true", ImageMarker.Style.PLAIN)).isEqualTo("\"true\"");
    assertThat(MarkedYaml.render("v1.10", ImageMarker.Style.PLAIN)).isEqualTo("v1.10");
    assertThat(MarkedYaml.render("it's", ImageMarker.Style.SINGLE_QUOTED)).isEqualTo("'it''s'");
    assertThat(MarkedYaml.render("a\"b\\c", ImageMarker.Style.DOUBLE_QUOTED)).isEqualTo("\"a\\\"b\\\\c\"");
  }

  @Test
  void tagsThatGoYamlReadsAsNoStringAreQuotedThoughSnakeYamlReadsThemAsStrings() {
    // Kubernetes, Helm and kustomize read YAML with go-yaml: a zero-padded build number is a float there
    // (tag: 0099 is image repo:99), 0o17 an int, y and n booleans (go-yaml v2)
    for (String tag : List.of("0099", "08", "0_99", "0o17", "0O17", "0B1", "0X1f", "y", "Y", "n", "N")) {
      assertThat(MarkedYaml.render(tag, ImageMarker.Style.PLAIN)).as(tag).isEqualTo("\"" + tag + "\"");
    }
    for (String tag : List.of("v0099", "1.2.3", "0b", "0x", "_1", "yes-1", "nightly", "1.2.3-0099", "main-0099")) {
      assertThat(MarkedYaml.render(tag, ImageMarker.Style.PLAIN)).as(tag).isEqualTo(tag);
    }
    MarkedYaml y = parse("tag: v1 # {\"$imagepolicy\": \"apps:web:tag\"}\n");
    assertThat(new String(y.withValues(Map.of(y.markers().get(0), "0099")), StandardCharsets.UTF_8))
        .isEqualTo("tag: \"0099\" # {\"$imagepolicy\": \"apps:web:tag\"}\n");
  }

  @Test
  void aMarkerOfAnotherVersionIsRefused() {
    MarkedYaml one = parse("image: nginx:1.0 # {\"$imagepolicy\": \"apps:web\"}\n");
    MarkedYaml two = parse("\nimage: nginx:1.0 # {\"$imagepolicy\": \"apps:web\"}\n");
    assertThatThrownBy(() -> one.withValues(Map.of(two.markers().get(0), "nginx:1.1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("apps/web.yaml:2");
  }

  @Test
  void settersResolveAgainstKnownPolicies() {
    Set<String> known = Set.of("apps:web", "web");
    assertThat(Setter.resolve("apps:web", known)).contains(new Setter("apps:web", Setter.Part.IMAGE));
    assertThat(Setter.resolve("apps:web:tag", known)).contains(new Setter("apps:web", Setter.Part.TAG));
    assertThat(Setter.resolve("web:digest", known)).contains(new Setter("web", Setter.Part.DIGEST));
    assertThat(Setter.resolve("apps:web:name", known)).contains(new Setter("apps:web", Setter.Part.NAME));
    assertThat(Setter.resolve("apps:api", known)).isEmpty();
    assertThat(Setter.resolve("apps:web:label", known)).isEmpty();
    Setter whole = new Setter("apps:web", Setter.Part.IMAGE);
    assertThat(whole.tagIn("r.io/a/b:v1@sha256:" + "c".repeat(64))).isEqualTo("v1");
    assertThat(whole.digestIn("r.io/a/b:v1@sha256:" + "c".repeat(64))).isEqualTo("sha256:" + "c".repeat(64));
    assertThat(whole.tagIn("not a reference")).isNull();
  }

  @Test
  void aMarkerOnAScalarWithAnExplicitNonStringTagIsAProblemNotABrokenFile() {
    MarkedYaml y = parse("""
        a: !!int 5 # {"$imagepolicy": "apps:web:tag"}
        b: !custom x:1 # {"$imagepolicy": "apps:web"}
        c: !!str v1 # {"$imagepolicy": "apps:web:tag"}
        d: &t v2 # {"$imagepolicy": "apps:web:tag"}
        """);
    assertThat(y.markers()).extracting(ImageMarker::value).containsExactly("v1", "v2");
    assertThat(y.problems()).extracting(MarkerException::getMessage).containsExactly(
        "apps/web.yaml:1: marker apps:web:tag is on a scalar tagged tag:yaml.org,2002:int; only a string can hold an "
            + "image (remove the tag or write !!str)",
        "apps/web.yaml:2: marker apps:web is on a scalar tagged !custom; only a string can hold an image (remove the "
            + "tag or write !!str)");
  }

  @Test
  void quotedValuesNeverHoldARawLineBreakYamlWouldFold() {
    for (String brk : new String[] {"\u0085", "\u2028", "\u2029", "\ufeff"}) {
      String v = "v1" + brk + "x";
      String dq = MarkedYaml.render(v, ImageMarker.Style.DOUBLE_QUOTED);
      String sq = MarkedYaml.render(v, ImageMarker.Style.SINGLE_QUOTED);
      assertThat(dq).doesNotContain(brk);
      assertThat(sq).doesNotContain(brk);
      // and they read back as the value
      Object back = new org.yaml.snakeyaml.Yaml().load("k: " + dq);
      assertThat(back).isEqualTo(Map.of("k", v));
    }
  }
}
