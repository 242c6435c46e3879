package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;

/**
 * No document deeper than {@link Documents#MAX_DEPTH} enters the engine, and finding that out
 * overflows no stack however deep it is: a resource is refused naming its key and the path, an
 * observation is UNKNOWN naming them.
 */
class DocumentDepthTest {

  static final JsonNodeFactory F = JsonNodeFactory.instance;
  static final ResourceKey KEY = ResourceKey.of("m", "thing", "", "deep");

  static JsonNode deep(int levels) {
    return NestedDocuments.deep(levels, "leaf");
  }

  @Test
  void aDocumentAtTheLimitIsTakenAndItsDepthKnownWithoutAWalk() {
    JsonNode doc = Documents.freeze(deep(Documents.MAX_DEPTH));
    assertThat(Documents.depth(doc)).isEqualTo(Documents.MAX_DEPTH);
    assertThat(Documents.tooDeep(doc)).isNull();
    assertThat(Resource.of(KEY, doc).document()).isSameAs(doc);
    assertThat(Observation.present(KEY, doc, "v1").isPresent()).isTrue();
  }

  @Test
  void aResourceDeeperThanTheLimitIsRefusedNamingItsKeyAndWhereTheLimitIsPassed() {
    for (int levels : new int[] {Documents.MAX_DEPTH + 1, 50_000}) {
      assertThatThrownBy(() -> Resource.of(KEY, deep(levels)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("m:thing::deep")
          .hasMessageContaining("nests " + levels + " levels deep, more than the 1000")
          .hasMessageContaining("level 1001 is at /spec/0/0/0/");
    }
  }

  @Test
  void anObservationDeeperThanTheLimitIsUnknownNamingWhy() {
    Observation o = Observation.present(KEY, deep(50_000), "v1");
    assertThat(o.isUnknown()).isTrue();
    assertThat(o.live()).isNull();
    assertThat(o.reason()).contains("m:thing::deep").contains("live document nests 50000 levels deep")
        .contains("(Documents.MAX_DEPTH)");
    Observation record = Observation.present(KEY, F.objectNode().put("a", 1), "v1").withLastApplied(deep(1_001));
    assertThat(record.isUnknown()).isTrue();
    assertThat(record.reason()).contains("last-applied record nests 1001 levels deep");
  }

  @Test
  void freezingATreeFarDeeperThanAnyDocumentFailsNamingThePathNotTheStack() {
    JsonNode tree = F.textNode("x");
    for (int i = 0; i < 100_000; i++) {
      tree = F.arrayNode().add(tree);
    }
    JsonNode built = tree;
    assertThat(Documents.depth(built)).isEqualTo(100_000);
    assertThatThrownBy(() -> Documents.freeze(built)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("level 1033 is at /0/0/0/0/0/0/0/0/…(1020 more)…/0/0/0/0");
    // nor can frozen parts be stacked past it level by level
    JsonNode frozen = Documents.freeze(F.textNode("x"));
    for (int i = 0; i < Documents.MAX_DEPTH + Documents.ENVELOPE; i++) {
      frozen = Documents.array(java.util.List.of(frozen));
    }
    JsonNode atBound = frozen;
    assertThat(Documents.depth(atBound)).isEqualTo(1032);
    assertThatThrownBy(() -> Documents.array(java.util.List.of(Documents.array(java.util.List.of(atBound)))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nests 1033 levels deep");
  }
}
