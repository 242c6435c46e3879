package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** Frozen trees behave like Jackson trees in every read, refuse every write, and compare by value. */
class FrozenDocumentsTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final JsonNodeFactory F = JsonNodeFactory.instance;

  static void refuses(ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void fieldsAreReadByPositionInTheObjectsOrder() throws Exception {
    JsonNode o = Documents.freeze(JSON.readTree("{\"b\":1,\"a\":{\"c\":[1]},\"d\":\"x\"}"));
    List<String> names = new java.util.ArrayList<>();
    List<JsonNode> values = new java.util.ArrayList<>();
    for (int i = 0; i < o.size(); i++) {
      names.add(Documents.fieldName(o, i));
      values.add(Documents.fieldValue(o, i));
    }
    assertThat(names).containsExactly("b", "a", "d");
    assertThat(values).containsExactly(o.get("b"), o.get("a"), o.get("d"));
    assertThat(values.get(1)).isSameAs(o.get("a"));
    assertThatThrownBy(() -> Documents.fieldName(o, 3)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> Documents.fieldValue(o, -1)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> Documents.fieldName(F.objectNode().put("a", 1), 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frozen object");
    assertThatThrownBy(() -> Documents.fieldValue(Documents.freeze(JSON.readTree("[1]")), 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ARRAY");
    assertThatThrownBy(() -> Documents.fieldName(Documents.emptyObject(), 0)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void fieldsAreFoundByNameFromAPositionOnThenFromTheStart() throws Exception {
    JsonNode o = Documents.freeze(JSON.readTree("{\"b\":1,\"a\":{\"c\":[1]},\"d\":\"x\"}"));
    assertThat(Documents.fieldIndex(o, "b", 0)).isEqualTo(0);
    assertThat(Documents.fieldIndex(o, "d", 1)).isEqualTo(2);
    assertThat(Documents.fieldIndex(o, "b", 2)).isEqualTo(0);
    assertThat(Documents.fieldIndex(o, "a", 3)).isEqualTo(1);
    assertThat(Documents.fieldIndex(o, new String(new char[] {'a'}), 0)).isEqualTo(1);
    assertThat(Documents.fieldIndex(o, "z", 1)).isEqualTo(-1);
    assertThat(Documents.fieldIndex(Documents.emptyObject(), "a", 0)).isEqualTo(-1);
    assertThatThrownBy(() -> Documents.fieldIndex(F.objectNode().put("a", 1), "a", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frozen object");
    assertThatThrownBy(() -> Documents.fieldIndex(Documents.freeze(JSON.readTree("[1]")), "a", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ARRAY");
  }

  @Property(tries = 300)
  void objectsBuiltFromArraysEqualTheFrozenMutableEdit(@ForAll("trees") JsonNode tree, @ForAll int seed) {
    if (!tree.isObject() || tree.size() == 0) {
      return;
    }
    JsonNode frozen = Documents.freeze(tree);
    java.util.Random r = new java.util.Random(seed);
    int n = 1 + r.nextInt(frozen.size());
    int[] positions = new int[n];
    JsonNode[] values = new JsonNode[n];
    ObjectNode edited = (ObjectNode) Documents.mutableCopy(frozen);
    for (int c = 0; c < n; c++) {
      positions[c] = r.nextInt(frozen.size());
      values[c] = r.nextBoolean() ? F.numberNode(r.nextInt(3)) : F.arrayNode().add(F.textNode("v" + c));
      edited.set(Documents.fieldName(frozen, positions[c]), values[c]);
    }
    JsonNode replaced = Documents.withFieldValues(frozen, positions, values, n);
    assertThat(replaced).isEqualTo(Documents.freeze(edited));
    assertThat(replaced.hashCode()).isEqualTo(Documents.freeze(edited).hashCode()).isEqualTo(edited.hashCode());
    assertThat(replaced.toString()).isEqualTo(edited.toString());
    assertThat(Documents.sameFieldNames(replaced, frozen)).isTrue();
    assertThat(Documents.isFrozen(replaced)).isTrue();
    assertThat(Documents.isFrozen(replaced.get(Documents.fieldName(frozen, positions[0])))).isTrue();
    assertThat(frozen).isEqualTo(Documents.freeze(tree));  // the original is untouched

    String[] names = new String[frozen.size() + 1];
    JsonNode[] vals = new JsonNode[names.length];
    for (int i = 0; i < frozen.size(); i++) {
      names[i] = Documents.fieldName(frozen, i);
      vals[i] = Documents.mutableCopy(Documents.fieldValue(frozen, i));
    }
    JsonNode copy = Documents.object(names, vals, frozen.size());
    assertThat(copy).isEqualTo(frozen);
    assertThat(copy.hashCode()).isEqualTo(frozen.hashCode());
    assertThat(copy.toString()).isEqualTo(frozen.toString());
    assertThat(Documents.isFrozen(copy.get(names[0]))).isTrue();
    JsonNode array = Documents.array(vals, frozen.size());
    assertThat(array).isEqualTo(Documents.freeze(F.arrayNode().addAll(java.util.Arrays.asList(vals).subList(0, frozen.size()))));
    assertThat(array.hashCode()).isEqualTo(Documents.freeze(F.arrayNode().addAll(java.util.Arrays.asList(vals).subList(0, frozen.size()))).hashCode());
    assertThat(Documents.isFrozen(array.get(0))).isTrue();
  }

  @Test
  void objectsBuiltFromArraysRefuseBadInput() throws Exception {
    JsonNode one = IntNode.valueOf(1);
    assertThatThrownBy(() -> Documents.object(new String[] {"a", "b", "a"}, new JsonNode[] {one, one, one}, 3))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("field a repeats");
    String[] many = new String[20];
    JsonNode[] ones = new JsonNode[20];
    for (int i = 0; i < many.length; i++) {
      many[i] = "f" + (i % 19);
      ones[i] = one;
    }
    assertThatThrownBy(() -> Documents.object(many, ones, 20))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("field f0 repeats");
    assertThat(Documents.object(many, ones, 19).size()).isEqualTo(19);
    assertThat(Documents.object(many, ones, 0)).isSameAs(Documents.emptyObject());
    assertThat(Documents.array(ones, 0)).isSameAs(Documents.emptyArray());
    JsonNode o = Documents.freeze(JSON.readTree("{\"a\":1,\"b\":2}"));
    assertThatThrownBy(() -> Documents.withFieldValues(o, new int[] {2}, new JsonNode[] {one}, 1))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> Documents.withFieldValues(F.objectNode().put("a", 1), new int[] {0}, new JsonNode[] {one}, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frozen object");
    assertThatThrownBy(() -> Documents.withFieldValues(Documents.emptyObject(), new int[0], new JsonNode[0], 0))
        .isInstanceOf(IllegalArgumentException.class);
    refuses(() -> ((ObjectNode) Documents.withFieldValues(o, new int[] {0}, new JsonNode[] {one}, 1)).put("c", 1));
    refuses(() -> ((ObjectNode) Documents.object(new String[] {"a"}, new JsonNode[] {one}, 1)).put("c", 1));
    refuses(() -> ((ArrayNode) Documents.array(new JsonNode[] {one}, 1)).add(1));
  }

  @Test
  void frozenObjectsAnswerSizeAndGetLikeTheirMutableCopies() throws Exception {
    JsonNode mutable = JSON.readTree("{\"b\":1,\"a\":{\"c\":[1]},\"d\":\"x\"}");
    JsonNode o = Documents.freeze(mutable);
    assertThat(o.size()).isEqualTo(3);
    for (String name : List.of("a", "b", "d", "c", "")) {
      assertThat(o.get(name)).as(name).isEqualTo(mutable.get(name));
    }
    assertThat(Documents.emptyObject().size()).isZero();
    assertThat(Documents.emptyObject().get("a")).isNull();
  }

  @Test
  void sameFieldNamesMeansTheSameNamesInTheSameOrder() throws Exception {
    JsonNode ab = Documents.freeze(JSON.readTree("{\"a\":1,\"b\":2}"));
    assertThat(Documents.sameFieldNames(ab, Documents.freeze(JSON.readTree("{\"a\":[3],\"b\":{}}")))).isTrue();
    assertThat(Documents.sameFieldNames(ab, Documents.freeze(JSON.readTree("{\"b\":2,\"a\":1}")))).isFalse();
    assertThat(Documents.sameFieldNames(ab, Documents.freeze(JSON.readTree("{\"a\":1}")))).isFalse();
    assertThat(Documents.sameFieldNames(ab, Documents.freeze(JSON.readTree("{\"a\":1,\"b\":2,\"c\":3}")))).isFalse();
    assertThat(Documents.sameFieldNames(ab, F.objectNode().put("a", 1).put("b", 2))).isFalse();
    assertThat(Documents.sameFieldNames(ab, Documents.freeze(JSON.readTree("[1,2]")))).isFalse();
    assertThat(Documents.sameFieldNames(Documents.emptyObject(), Documents.freeze(F.objectNode()))).isTrue();
    assertThat(Documents.sameFieldNames(Documents.emptyObject(), ab)).isFalse();
    // Objects of more fields than the shape pool keeps compare their names one by one.
    StringBuilder big = new StringBuilder("{");
    for (int i = 0; i < 40; i++) {
      big.append(i == 0 ? "" : ",").append("\"f").append(i).append("\":").append(i);
    }
    JsonNode x = Documents.freeze(JSON.readTree(big + "}"));
    JsonNode y = Documents.freeze(JSON.readTree(big + "}"));
    assertThat(Documents.sameFieldNames(x, y)).isTrue();
    assertThat(Documents.sameFieldNames(x, Documents.freeze(JSON.readTree(big + ",\"g\":1}")))).isFalse();
  }

  @Test
  void everyPublicMutatorOfAFrozenObjectThrows() throws Exception {
    ObjectNode o = (ObjectNode) Documents.freeze(JSON.readTree("{\"a\":1,\"b\":{\"c\":[1]},\"d\":[2]}"));
    ObjectNode other = F.objectNode().put("z", 1);
    JsonNode v = IntNode.valueOf(1);
    refuses(() -> o.set("a", v));
    refuses(() -> o.set("new", v));
    refuses(() -> o.setAll(Map.of("x", v)));
    refuses(() -> o.setAll(other));
    refuses(() -> o.replace("a", v));
    refuses(() -> o.without("a"));
    refuses(() -> o.without("missing"));
    refuses(() -> o.without(List.of("a")));
    refuses(() -> o.put("a", v));
    refuses(() -> o.putIfAbsent("a", v));
    refuses(() -> o.putIfAbsent("new", v));
    refuses(() -> o.remove("a"));
    refuses(() -> o.remove("missing"));
    refuses(() -> o.remove(List.of("a")));
    refuses(o::removeAll);
    refuses(() -> o.removeIf(x -> false));
    refuses(() -> o.removeIf(x -> true));
    refuses(() -> o.putAll(Map.of("x", v)));
    refuses(() -> o.putAll(other));
    refuses(() -> o.retain(List.of("a")));
    refuses(() -> o.retain("a", "b", "d"));
    refuses(() -> o.putArray("x"));
    refuses(() -> o.putObject("x"));
    refuses(() -> o.putPOJO("x", "pojo"));
    refuses(() -> o.putRawValue("x", new RawValue("1")));
    refuses(() -> o.putNull("x"));
    refuses(() -> o.put("x", (short) 1));
    refuses(() -> o.put("x", Short.valueOf((short) 1)));
    refuses(() -> o.put("x", 1));
    refuses(() -> o.put("x", Integer.valueOf(1)));
    refuses(() -> o.put("x", 1L));
    refuses(() -> o.put("x", Long.valueOf(1)));
    refuses(() -> o.put("x", 1f));
    refuses(() -> o.put("x", Float.valueOf(1)));
    refuses(() -> o.put("x", 1d));
    refuses(() -> o.put("x", Double.valueOf(1)));
    refuses(() -> o.put("x", BigDecimal.ONE));
    refuses(() -> o.put("x", BigInteger.ONE));
    refuses(() -> o.put("x", "s"));
    refuses(() -> o.put("x", true));
    refuses(() -> o.put("x", Boolean.TRUE));
    refuses(() -> o.put("x", new byte[] {1}));
    refuses(() -> o.withObject("x"));
    refuses(() -> o.withObject("/x/y"));
    refuses(() -> o.withObjectProperty("x"));
    refuses(() -> o.withArray("x"));
    refuses(() -> o.withArrayProperty("x"));
    refuses(() -> o.with("x"));
    refuses(() -> ((ObjectNode) o.get("b")).put("c", 2));
    refuses(() -> ((ArrayNode) o.get("b").get("c")).add(2));
    refuses(() -> o.fields().next().setValue(v));
    refuses(() -> { var it = o.fields(); it.next(); it.remove(); });
    refuses(() -> { var it = o.fieldNames(); it.next(); it.remove(); });
    refuses(() -> { var it = o.elements(); it.next(); it.remove(); });
    refuses(() -> o.properties().clear());
    assertThat(o).isEqualTo(JSON.readTree("{\"a\":1,\"b\":{\"c\":[1]},\"d\":[2]}"));
  }

  @Test
  void everyPublicMutatorOfAFrozenArrayThrows() throws Exception {
    ArrayNode a = (ArrayNode) Documents.freeze(JSON.readTree("[1,{\"x\":1},[2]]"));
    ArrayNode other = F.arrayNode().add(1);
    JsonNode v = IntNode.valueOf(1);
    refuses(() -> a.set(0, v));
    refuses(() -> a.add(v));
    refuses(() -> a.addAll(other));
    refuses(() -> a.addAll(List.of(v)));
    refuses(() -> a.insert(0, v));
    refuses(() -> a.remove(0));
    refuses(a::removeAll);
    refuses(() -> a.removeIf(x -> false));
    refuses(() -> a.removeIf(x -> true));
    refuses(a::addArray);
    refuses(a::addObject);
    refuses(() -> a.addPOJO("p"));
    refuses(() -> a.addRawValue(new RawValue("1")));
    refuses(a::addNull);
    refuses(() -> a.add((short) 1));
    refuses(() -> a.add(Short.valueOf((short) 1)));
    refuses(() -> a.add(1));
    refuses(() -> a.add(Integer.valueOf(1)));
    refuses(() -> a.add(1L));
    refuses(() -> a.add(Long.valueOf(1)));
    refuses(() -> a.add(1f));
    refuses(() -> a.add(Float.valueOf(1)));
    refuses(() -> a.add(1d));
    refuses(() -> a.add(Double.valueOf(1)));
    refuses(() -> a.add(BigDecimal.ONE));
    refuses(() -> a.add(BigInteger.ONE));
    refuses(() -> a.add("s"));
    refuses(() -> a.add(true));
    refuses(() -> a.add(Boolean.TRUE));
    refuses(() -> a.add(new byte[] {1}));
    refuses(() -> a.insertArray(0));
    refuses(() -> a.insertObject(0));
    refuses(() -> a.insertNull(0));
    refuses(() -> a.insertPOJO(0, "p"));
    refuses(() -> a.insertRawValue(0, new RawValue("1")));
    refuses(() -> a.insert(0, (short) 1));
    refuses(() -> a.insert(0, Short.valueOf((short) 1)));
    refuses(() -> a.insert(0, 1));
    refuses(() -> a.insert(0, Integer.valueOf(1)));
    refuses(() -> a.insert(0, 1L));
    refuses(() -> a.insert(0, Long.valueOf(1)));
    refuses(() -> a.insert(0, 1f));
    refuses(() -> a.insert(0, Float.valueOf(1)));
    refuses(() -> a.insert(0, 1d));
    refuses(() -> a.insert(0, Double.valueOf(1)));
    refuses(() -> a.insert(0, BigDecimal.ONE));
    refuses(() -> a.insert(0, BigInteger.ONE));
    refuses(() -> a.insert(0, "s"));
    refuses(() -> a.insert(0, true));
    refuses(() -> a.insert(0, Boolean.TRUE));
    refuses(() -> a.insert(0, new byte[] {1}));
    refuses(() -> a.setNull(0));
    refuses(() -> a.setPOJO(0, "p"));
    refuses(() -> a.setRawValue(0, new RawValue("1")));
    refuses(() -> a.set(0, (short) 1));
    refuses(() -> a.set(0, Short.valueOf((short) 1)));
    refuses(() -> a.set(0, 1));
    refuses(() -> a.set(0, Integer.valueOf(1)));
    refuses(() -> a.set(0, 1L));
    refuses(() -> a.set(0, Long.valueOf(1)));
    refuses(() -> a.set(0, 1f));
    refuses(() -> a.set(0, Float.valueOf(1)));
    refuses(() -> a.set(0, 1d));
    refuses(() -> a.set(0, Double.valueOf(1)));
    refuses(() -> a.set(0, BigDecimal.ONE));
    refuses(() -> a.set(0, BigInteger.ONE));
    refuses(() -> a.set(0, "s"));
    refuses(() -> a.set(0, true));
    refuses(() -> a.set(0, Boolean.TRUE));
    refuses(() -> a.set(0, new byte[] {1}));
    refuses(() -> { var it = a.elements(); it.next(); it.remove(); });
    refuses(() -> { var it = a.iterator(); it.next(); it.remove(); });
    refuses(() -> ((ArrayNode) Documents.emptyArray()).add(1));
    refuses(() -> ((ObjectNode) Documents.emptyObject()).put("a", 1));
    refuses(() -> ((ObjectNode) Documents.emptyObject()).remove("a"));
    assertThat(a).isEqualTo(JSON.readTree("[1,{\"x\":1},[2]]"));
  }

  @Test
  void frozenTreesSurviveJavaSerializationAsEqualFrozenTrees() throws Exception {
    JsonNode doc = Documents.freeze(JSON.readTree("{\"a\":[1,\"x\",{\"b\":null}],\"c\":2.5}"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(doc);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      JsonNode back = (JsonNode) in.readObject();
      assertThat(Documents.equal(back, doc)).isTrue();
      assertThat(Documents.isFrozen(back)).isTrue();
      refuses(() -> ((ObjectNode) back).put("z", 1));
      assertThat(back.get("a").get(2).get("b").isNull()).isTrue();
      assertThat(back).isEqualTo(JSON.readTree("{\"a\":[1,\"x\",{\"b\":null}],\"c\":2.5}"));
    }
  }

  // ------------------------------------------------------------------ properties

  /** JSON trees whose numbers are already canonical (ints, non-integral doubles), so freezing keeps every value. */
  @Provide
  Arbitrary<JsonNode> trees() {
    Arbitrary<JsonNode> scalars = Arbitraries.oneOf(
        Arbitraries.integers().map(i -> (JsonNode) IntNode.valueOf(i)),
        Arbitraries.strings().ofMaxLength(60).map(s -> (JsonNode) TextNode.valueOf(s)),
        Arbitraries.of("name", "value", "TCP", "app", "").map(s -> (JsonNode) TextNode.valueOf(s)),
        Arbitraries.of(true, false).map(b -> (JsonNode) BooleanNode.valueOf(b)),
        Arbitraries.just((JsonNode) NullNode.getInstance()),
        Arbitraries.integers().between(-1000, 1000).map(i -> (JsonNode) DoubleNode.valueOf(i + 0.25)));
    return Arbitraries.recursive(() -> scalars, this::containers, 0, 3);
  }

  private Arbitrary<JsonNode> containers(Arbitrary<JsonNode> inner) {
    Arbitrary<String> keys = Arbitraries.oneOf(
        Arbitraries.of("name", "value", "spec", "metadata", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"),
        Arbitraries.strings().ofMaxLength(12));
    Arbitrary<JsonNode> objects = Arbitraries.maps(keys, inner).ofMaxSize(40).map(m -> {
      ObjectNode o = F.objectNode();
      m.forEach(o::set);
      return (JsonNode) o;
    });
    Arbitrary<JsonNode> arrays = inner.list().ofMaxSize(12).map(l -> (JsonNode) F.arrayNode().addAll(l));
    return Arbitraries.oneOf(objects, arrays);
  }

  @Property(tries = 300)
  void freezingKeepsTheValueAndRoundTripsThroughJackson(@ForAll("trees") JsonNode tree) throws Exception {
    JsonNode frozen = Documents.freeze(tree);
    assertThat(frozen).isEqualTo(tree);
    assertThat(tree).isEqualTo(frozen);
    assertThat(frozen.hashCode()).isEqualTo(tree.hashCode());
    assertThat(Documents.isFrozen(frozen)).isTrue();
    String text = JSON.writeValueAsString(frozen);
    assertThat(text).isEqualTo(JSON.writeValueAsString(tree));
    assertThat(JSON.readTree(text)).isEqualTo(frozen);
    assertThat(Documents.freeze(JSON.readTree(text))).isEqualTo(frozen);
    assertThat(Documents.mutableCopy(frozen)).isEqualTo(tree);
    assertThat(Documents.digest(frozen)).isEqualTo(Documents.digest(tree));
    assertThat(frozen.toString()).isEqualTo(tree.toString());
  }

  @Property(tries = 300)
  void lookupsOnFrozenTreesAnswerAsOnTheOriginal(@ForAll("trees") JsonNode tree) {
    JsonNode frozen = Documents.freeze(tree);
    assertThat(frozen.size()).isEqualTo(tree.size());
    if (tree.isObject()) {
      List<String> names = new java.util.ArrayList<>();
      tree.fieldNames().forEachRemaining(names::add);
      List<String> frozenNames = new java.util.ArrayList<>();
      frozen.fieldNames().forEachRemaining(frozenNames::add);
      assertThat(frozenNames).containsExactlyElementsOf(names);
      for (String k : names) {
        assertThat(frozen.get(k)).isEqualTo(tree.get(k));
        assertThat(frozen.has(k)).isTrue();
      }
      assertThat(frozen.get("no such key \u0000")).isNull();
    } else if (tree.isArray()) {
      for (int i = 0; i < tree.size(); i++) {
        assertThat(frozen.get(i)).isEqualTo(tree.get(i));
      }
    }
  }
}
