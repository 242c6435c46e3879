package dev.gitops.core.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.files.FileFormats.Format;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Format-aware files never change a value's text: whatever spelling Git uses for a YAML 1.1
 * scalar or a JSON number, the file is written as Git's bytes when its data equal Git's, and
 * every Git value keeps its spelling when fields kept from the live file make them differ.
 */
class GitTextPropertiesTest {

  /** Plain YAML scalars whose meaning (1.1 or 1.2) depends on their exact spelling. */
  private static final List<String> YAML_SCALARS = List.of("0755", "010", "0o17", "NO", "No", "no", "n", "Y", "yes",
      "on", "Off", "TRUE", "False", "1.10", "1.0", "1e3", "1E+3", ".5", "-0", "+12", "0x1F", "0xff", "1_000", "~",
      "null", "Null", "2001-12-14", "12:30", "1.2.3", "007", "0.000", "3.14159265358979323846",
      "'quoted 0755'", "\"NO\"", "plain text", "x");

  @Provide
  Arbitrary<Map<String, String>> yamlDocs() {
    return Arbitraries.maps(Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(6),
        Arbitraries.of(YAML_SCALARS)).ofMinSize(1).ofMaxSize(8);
  }

  @Provide
  Arbitrary<Map<String, String>> jsonDocs() {
    Arbitrary<String> digits = Arbitraries.strings().withCharRange('0', '9').ofMinLength(1).ofMaxLength(25)
        .map(d -> d.length() > 1 ? "1" + d.substring(1) : d);
    Arbitrary<String> fraction = Arbitraries.strings().withCharRange('0', '9').ofMinLength(1).ofMaxLength(25)
        .map(f -> "." + f).injectNull(0.3).map(f -> f == null ? "" : f);
    Arbitrary<String> exponent = Combinators.combine(Arbitraries.of("e", "E"), Arbitraries.of("", "+", "-"),
        Arbitraries.integers().between(0, 30)).as((e, sign, n) -> e + sign + n).injectNull(0.6)
        .map(x -> x == null ? "" : x);
    Arbitrary<String> number = Combinators.combine(Arbitraries.of("", "-"), digits, fraction, exponent)
        .as((sign, i, f, e) -> sign + i + f + e);
    return Arbitraries.maps(Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(6), number)
        .ofMinSize(1).ofMaxSize(8);
  }

  @Property(tries = 200)
  void yamlIsWrittenInGitsSpelling(@ForAll("yamlDocs") Map<String, String> doc) throws IOException {
    StringBuilder sb = new StringBuilder("# from Git\n");
    doc.forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
    check("c.yaml", sb.toString());
  }

  @Property(tries = 200)
  void jsonNumbersAreWrittenInGitsSpelling(@ForAll("jsonDocs") Map<String, String> doc) throws IOException {
    StringBuilder sb = new StringBuilder("{");
    doc.forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append('"').append(k).append("\": ").append(v));
    check("c.json", sb.append("}\n").toString());
  }

  private static void check(String name, String git) throws IOException {
    Path dir = Files.createTempDirectory("gittext");
    try {
      LocalFilesProvider p = LocalFilesProvider.builder(dir.resolve("t")).structured("*.json", "*.yaml").build();
      byte[] bytes = git.getBytes(StandardCharsets.UTF_8);
      Resource r = p.decoder().orElseThrow().decode(new SourceFile(name, "b", bytes, "r1")).get(0);
      ResourceKey key = r.key();
      JsonNode data = r.document().get("data");

      // Equal data: Git's bytes exactly.
      assertThat(apply(p, key, r.document(), Action.CREATE).isOk()).isTrue();
      assertThat(Files.readAllBytes(dir.resolve("t").resolve(name))).isEqualTo(bytes);

      // A field kept from the live file: rendered, with every Git value spelled as in Git.
      ObjectNode withExtra = data.deepCopy();
      withExtra.put("zz-kept", "by hand");
      ObjectNode target = Documents.nodes().objectNode();
      target.set("data", withExtra);
      target.put("mode", "0644");
      assertThat(apply(p, key, Documents.freeze(target), Action.UPDATE).isOk()).isTrue();
      byte[] written = Files.readAllBytes(dir.resolve("t").resolve(name));
      Format format = Format.of(name);
      assertThat(FileFormats.parse(format, written)).isEqualTo(Documents.freeze(withExtra));
      Map<String, String> before = spellings(format, bytes);
      Map<String, String> after = spellings(format, written);
      assertThat(after).containsAllEntriesOf(before);
    } finally {
      try (var s = Files.walk(dir)) {
        s.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
      }
    }
  }

  private static Outcome apply(LocalFilesProvider p, ResourceKey key, JsonNode target, Action action) {
    Change c = Change.builder(key, action).desired(Resource.of(key, target)).target(target).reason("test").build();
    return p.apply(c, CallContext.of("gitops", "r1", Duration.ofSeconds(10)));
  }

  /** The source text of every number (JSON) or plain scalar (YAML), by JSON pointer. */
  private static Map<String, String> spellings(Format format, byte[] bytes) throws IOException {
    Map<String, String> out = new HashMap<>();
    String source = new String(bytes, StandardCharsets.UTF_8);
    try (JsonParser parser = FileFormats.parser(format, bytes)) {
      JsonToken t;
      while ((t = parser.nextToken()) != null) {
        if (t.isNumeric() || (format == Format.YAML && t.isScalarValue())) {
          String text = parser.getText();
          int at = (int) parser.currentTokenLocation().getCharOffset();
          if (format == Format.JSON || source.startsWith(text, at)) {
            out.put(parser.getParsingContext().pathAsPointer().toString(), text);
          }
        }
      }
    }
    return out;
  }
}
