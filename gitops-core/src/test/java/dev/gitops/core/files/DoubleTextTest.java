package dev.gitops.core.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Resource;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.files.FileFormats.Format;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A double that Git does not spell (a value kept from the live file, or a file written without
 * Git's text) is written as its shortest decimal, the same on every JDK: JDK 17's
 * {@code Double.toString}, which the files provider used, writes 9.9E-324 as 1.0E-323 and 1.6E-322
 * as 1.58E-322, so the bytes of a file depended on the JDK that wrote it.
 */
class DoubleTextTest {

  static final double TINY = Double.longBitsToDouble(2);    // 9.9E-324
  static final double SMALL = Double.longBitsToDouble(32);  // 1.6E-322

  @TempDir
  Path dir;

  static JsonNode withDoubles(JsonNode data) {
    ObjectNode o = (ObjectNode) Documents.mutableCopy(data);
    o.put("tiny", TINY).put("small", SMALL).put("half", 0.5);
    return Documents.freeze(o);
  }

  @Test
  void valuesNotInGitAreWrittenAsTheirShortestDecimal() throws Exception {
    for (String name : new String[] {"c.yaml", "c.json"}) {
      String git = name.endsWith(".yaml") ? "a: 1.10\n" : "{\"a\": 1.10}\n";
      LocalFilesProvider p = LocalFilesProvider.builder(dir.resolve(name + ".t")).structured("*.json", "*.yaml").build();
      Resource r = p.decoder().orElseThrow().decode(new SourceFile(name, "b", git.getBytes(StandardCharsets.UTF_8), "r1"))
          .get(0);
      ObjectNode target = (ObjectNode) Documents.mutableCopy(r.document());
      JsonNode data = withDoubles(r.document().get("data"));
      target.set("data", data);
      JsonNode frozen = Documents.freeze(target);
      Change c = Change.builder(r.key(), Action.CREATE).desired(Resource.of(r.key(), frozen)).target(frozen)
          .reason("test").build();
      assertThat(p.apply(c, CallContext.of("gitops", "r1", Duration.ofSeconds(10))).isOk()).isTrue();
      byte[] written = Files.readAllBytes(dir.resolve(name + ".t").resolve(name));
      String text = new String(written, StandardCharsets.UTF_8);
      assertThat(text).as(name).contains("9.9E-324").contains("1.6E-322").contains("0.5").contains("1.10")
          .doesNotContain("1.0E-323").doesNotContain("1.58E-322");
      assertThat(FileFormats.parse(Format.of(name), written)).isEqualTo(data);
    }
  }

  @Test
  void aFileWrittenWithoutGitsTextWritesDoublesAsTheirShortestDecimal() throws Exception {
    JsonNode data = withDoubles(Documents.freeze(Documents.nodes().objectNode().put("a", 1)));
    assertThat(new String(FileFormats.render(Format.YAML, data), StandardCharsets.UTF_8))
        .isEqualTo("a: 1\ntiny: 9.9E-324\nsmall: 1.6E-322\nhalf: 0.5\n");
    assertThat(new String(FileFormats.render(Format.JSON, data), StandardCharsets.UTF_8))
        .isEqualTo("{\n  \"a\": 1,\n  \"tiny\": 9.9E-324,\n  \"small\": 1.6E-322,\n  \"half\": 0.5\n}\n");
    for (Format f : new Format[] {Format.YAML, Format.JSON}) {
      assertThat(FileFormats.parse(f, FileFormats.render(f, data))).isEqualTo(data);
    }
  }
}
