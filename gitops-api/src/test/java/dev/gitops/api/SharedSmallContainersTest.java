package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Small frozen objects and arrays that documents repeat whole ({@code {cpu: 250m, memory: 256Mi}},
 * a port) are shared once seen twice, as short texts are; larger or deeper ones, and unequal ones,
 * never are, and sharing changes no value.
 */
class SharedSmallContainersTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode frozen(String json) throws Exception {
    return Documents.freeze(JSON.readTree(json));
  }

  @Test
  void aSmallContainerSeenAgainIsTheSharedCopy() throws Exception {
    String requests = "{\"cpu\":\"250m-shared-test\",\"memory\":\"256Mi\"}";
    List<JsonNode> copies = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      copies.add(frozen("{\"resources\":{\"requests\":" + requests + "},\"name\":\"w-" + i + "\"}"));
    }
    JsonNode shared = copies.get(1).get("resources").get("requests");
    assertThat(copies.get(2).get("resources").get("requests")).isSameAs(shared);
    assertThat(copies.get(3).get("resources").get("requests")).isSameAs(shared);
    // the objects holding it are one level deeper and still small: shared too; the documents are not (names differ)
    assertThat(copies.get(3).get("resources")).isSameAs(copies.get(2).get("resources"));
    assertThat(copies.get(3)).isNotSameAs(copies.get(2)).isNotEqualTo(copies.get(2));
    assertThat(copies.get(0)).isEqualTo(frozen("{\"resources\":{\"requests\":" + requests + "},\"name\":\"w-0\"}"));
    // built by a decoder's route (Documents.object / array) as well
    JsonNode port = Documents.array(List.of(Documents.object(Map.of("port", Documents.freeze(JSON.readTree("8081"))))));
    Documents.array(List.of(Documents.object(Map.of("port", Documents.freeze(JSON.readTree("8081"))))));
    JsonNode again = Documents.array(List.of(Documents.object(Map.of("port", Documents.freeze(JSON.readTree("8081"))))));
    assertThat(again).isEqualTo(port).isSameAs(
        Documents.array(List.of(Documents.object(Map.of("port", Documents.freeze(JSON.readTree("8081")))))));
  }

  @Test
  void largerDeeperOrUnequalContainersAreNeverShared() throws Exception {
    String five = "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5}";
    String deep = "{\"x\":{\"y\":{\"z\":1}}}";
    for (String json : List.of(five, deep)) {
      frozen(json);
      JsonNode second = frozen(json);
      JsonNode third = frozen(json);
      assertThat(third).as(json).isEqualTo(second).isNotSameAs(second);
    }
    frozen("{\"k\":\"v1\"}");
    JsonNode v1 = frozen("{\"k\":\"v1\"}");
    assertThat(frozen("{\"k\":\"v2\"}")).isNotSameAs(v1).isNotEqualTo(v1);
    // an array and an object are never taken for one another, nor 1 for 1.0
    assertThat(frozen("[1]")).isNotEqualTo(frozen("{\"0\":1}"));
    frozen("{\"n\":1.5}");
    JsonNode half = frozen("{\"n\":1.5}");
    assertThat(frozen("{\"n\":2.5}")).isNotSameAs(half);
  }
}
