package dev.gitops.images.marker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.images.policy.ImageChoice;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * For hand-written YAML of many shapes (comments, blank lines, block scalars, quoting styles,
 * indentation, separators, CRLF, a missing final newline), setting every marker changes only the
 * marked scalars: every other line is identical, and on a marked line the text before and after
 * the scalar is identical.
 */
class MarkedYamlProperties {

  /** One generated file: its text and how many markers it holds. */
  record Sample(String text, int markers) {}

  private static final List<String> PIECES = List.of(
      "# a comment with {\"$imagepolicy\": \"apps:web\"} in it\n",
      "\n",
      "%k: registry.example.com/team/web:v1.0.%n # {\"$imagepolicy\": \"apps:web\"}\n",
      "%k: 'registry.example.com/team/web:v1.0.%n'   # {\"$imagepolicy\": \"apps:web\"}\n",
      "%k: \"registry.example.com/team/web:v1.0.%n\" #{\"$imagepolicy\":\"apps:web\"}\n",
      "%k: v1.0.%n # {\"$imagepolicy\": \"apps:web:tag\"}\n",
      "%k: |\n%i line one\n%i # {\"$imagepolicy\": \"apps:web\"} in a block\n\n%i last\n",
      "%k: >-\n%i folded registry.example.com/team/web:v1.0.%n\n%i text\n",
      "%k:\n%i- name: app\n%i  image: registry.example.com/team/web:v0.%n.0 # {\"$imagepolicy\": \"apps:web\"}\n",
      "%k: {a: 1, b: [x, y]}   # flow\n",
      "%k: plain value with  two spaces\n",
      "%k: \"quoted # not a comment\"\n");
  /** How many markers each piece holds. */
  private static final List<Integer> MARKERS = List.of(0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0);

  @Provide
  Arbitrary<Sample> files() {
    Arbitrary<List<Integer>> picks = Arbitraries.integers().between(0, PIECES.size() - 1).list().ofMinSize(1).ofMaxSize(25);
    Arbitrary<Integer> indent = Arbitraries.of(2, 4);
    Arbitrary<List<Boolean>> separators = Arbitraries.of(true, false, false, false).list().ofSize(25);
    Arbitrary<Boolean> crlf = Arbitraries.of(true, false);
    Arbitrary<Boolean> finalNewline = Arbitraries.of(true, false);
    return Combinators.combine(picks, indent, separators, crlf, finalNewline).as((p, ind, sep, cr, fin) -> {
      StringBuilder sb = new StringBuilder();
      int markers = 0;
      for (int i = 0; i < p.size(); i++) {
        if (sep.get(i) && i > 0) {
          sb.append("---\n");
        }
        String piece = PIECES.get(p.get(i));
        markers += MARKERS.get(p.get(i));
        sb.append(piece.replace("%k", "key" + i).replace("%n", Integer.toString(i)).replace("%i", " ".repeat(ind)));
      }
      String text = sb.toString();
      if (!fin) {
        text = text.substring(0, text.length() - 1);
      }
      if (cr) {
        text = text.replace("\n", "\r\n");
      }
      return new Sample(text, markers);
    });
  }

  @Property(tries = 300)
  void onlyMarkedScalarsChange(@ForAll("files") Sample sample, @ForAll("tags") String tag) {
    byte[] in = sample.text().getBytes(StandardCharsets.UTF_8);
    MarkedYaml yaml = MarkedYaml.parse("f.yaml", in);
    assertThat(yaml.problems()).isEmpty();
    assertThat(yaml.markers()).hasSize(sample.markers());
    ImageChoice choice = new ImageChoice("apps:web", "registry.example.com/team/web", tag, Optional.empty(), 1, 0, 0);
    Map<ImageMarker, String> values = new LinkedHashMap<>();
    for (ImageMarker m : yaml.markers()) {
      values.put(m, Setter.resolve(m.setter(), Set.of("apps:web")).orElseThrow().valueFor(choice).orElseThrow());
    }
    String out = new String(yaml.withValues(values), StandardCharsets.UTF_8);

    List<String> before = lines(sample.text());
    List<String> after = lines(out);
    assertThat(after).hasSameSizeAs(before);
    List<Integer> markedLines = yaml.markers().stream().map(m -> m.line() - 1).toList();
    for (int i = 0; i < before.size(); i++) {
      if (!markedLines.contains(i)) {
        assertThat(after.get(i)).as("line %d", i + 1).isEqualTo(before.get(i));
      }
    }
    MarkedYaml edited = MarkedYaml.parse("f.yaml", out.getBytes(StandardCharsets.UTF_8));
    assertThat(edited.markers()).hasSameSizeAs(yaml.markers());
    for (int k = 0; k < yaml.markers().size(); k++) {
      ImageMarker old = yaml.markers().get(k);
      ImageMarker now = edited.markers().get(k);
      assertThat(now.value()).isEqualTo(values.get(old));
      assertThat(now.style()).isEqualTo(old.style());
      String oldLine = before.get(old.line() - 1);
      String newLine = after.get(now.line() - 1);
      int col = old.column() - 1;
      assertThat(newLine.substring(0, col)).isEqualTo(oldLine.substring(0, col));
      assertThat(newLine.substring(newLine.indexOf(" #") >= 0 ? newLine.lastIndexOf('#') : newLine.length()))
          .isEqualTo(oldLine.substring(oldLine.indexOf(" #") >= 0 ? oldLine.lastIndexOf('#') : oldLine.length()));
    }
  }

  @Provide
  Arbitrary<String> tags() {
    return Combinators.combine(Arbitraries.integers().between(0, 30), Arbitraries.integers().between(0, 30),
        Arbitraries.of("", "-rc.1", "_b7")).as((a, b, s) -> "v" + a + "." + b + ".9" + s);
  }

  /** Lines with their line-end characters kept. */
  private static List<String> lines(String s) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == '\n') {
        out.add(s.substring(start, i + 1));
        start = i + 1;
      }
    }
    out.add(s.substring(start));
    return out;
  }
}
