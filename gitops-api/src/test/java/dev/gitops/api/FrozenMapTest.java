package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class FrozenMapTest {

  static final JsonNodeFactory F = JsonNodeFactory.instance;

  /** Keys k0..k(n-1) in a scrambled order, values that differ per key. */
  static LinkedHashMap<String, JsonNode> source(int n) {
    LinkedHashMap<String, JsonNode> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      int k = (i * 7919) % Math.max(1, n);
      m.put("k" + k, i % 3 == 0 ? IntNode.valueOf(k) : TextNode.valueOf("v" + k));
    }
    return m;
  }

  static FrozenMap frozen(Map<String, JsonNode> m) {
    String[] keys = m.keySet().toArray(new String[0]);
    JsonNode[] values = m.values().toArray(new JsonNode[0]);
    return FrozenMap.of(Interner.shape(keys), values);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 33, 200})
  void equalsAndHashCodeFollowTheMapContractBothWays(int n) {
    LinkedHashMap<String, JsonNode> src = source(n);
    FrozenMap m = frozen(src);
    HashMap<String, JsonNode> hash = new HashMap<>(src);
    assertThat(m).isEqualTo(hash);
    assertThat(hash).isEqualTo(m);
    assertThat(m.hashCode()).isEqualTo(hash.hashCode());
    assertThat(m.entrySet()).isEqualTo(hash.entrySet());
    assertThat(hash.entrySet()).isEqualTo(m.entrySet());
    assertThat(m.keySet()).isEqualTo(hash.keySet());
    assertThat(hash.keySet()).isEqualTo(m.keySet());
    assertThat(m.entrySet().hashCode()).isEqualTo(hash.entrySet().hashCode());
    assertThat(m.keySet().hashCode()).isEqualTo(hash.keySet().hashCode());
    assertThat(m.size()).isEqualTo(n);
    assertThat(m.isEmpty()).isEqualTo(n == 0);
    assertThat(m.toString()).isEqualTo(src.toString());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 33, 200})
  void aChangedValueOrKeyBreaksEquality(int n) {
    LinkedHashMap<String, JsonNode> src = source(n);
    FrozenMap m = frozen(src);
    HashMap<String, JsonNode> otherValue = new HashMap<>(src);
    otherValue.put("k0", TextNode.valueOf("changed"));
    HashMap<String, JsonNode> otherKey = new HashMap<>(src);
    otherKey.put("extra", otherKey.remove("k0"));
    HashMap<String, JsonNode> bigger = new HashMap<>(src);
    bigger.put("extra", IntNode.valueOf(1));
    assertThat(m).isNotEqualTo(otherValue).isNotEqualTo(otherKey).isNotEqualTo(bigger);
    assertThat(otherValue).isNotEqualTo(m);
    assertThat(otherKey).isNotEqualTo(m);
    assertThat(frozen(otherValue)).isNotEqualTo(m);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 33, 200})
  void iterationKeepsInsertionOrderAndLookupsFindEveryKey(int n) {
    LinkedHashMap<String, JsonNode> src = source(n);
    FrozenMap m = frozen(src);
    assertThat(new ArrayList<>(m.keySet())).containsExactlyElementsOf(src.keySet());
    assertThat(new ArrayList<>(m.values())).containsExactlyElementsOf(src.values());
    assertThat(new ArrayList<>(m.entrySet())).containsExactlyElementsOf(src.entrySet());
    List<String> seen = new ArrayList<>();
    m.forEach((k, v) -> {
      seen.add(k);
      assertThat(v).isSameAs(src.get(k));
    });
    assertThat(seen).containsExactlyElementsOf(src.keySet());
    for (Map.Entry<String, JsonNode> e : src.entrySet()) {
      assertThat(m.get(e.getKey())).isSameAs(e.getValue());
      assertThat(m.get(new String(e.getKey()))).isSameAs(e.getValue());
      assertThat(m.containsKey(e.getKey())).isTrue();
      assertThat(m.containsValue(e.getValue())).isTrue();
      assertThat(m.entrySet()).contains(new AbstractMap.SimpleEntry<>(e.getKey(), e.getValue()));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 33, 200})
  void missingKeysAreAbsent(int n) {
    FrozenMap m = frozen(source(n));
    for (Object k : new Object[] {"missing", "k" + n, "", "K0", null, 42, TextNode.valueOf("k0")}) {
      assertThat(m.get(k)).isNull();
      assertThat(m.containsKey(k)).isFalse();
      assertThat(m.keySet().contains(k)).isFalse();
    }
    assertThat(m.getOrDefault("missing", IntNode.valueOf(7))).isEqualTo(IntNode.valueOf(7));
    assertThat(m.containsValue(TextNode.valueOf("never"))).isFalse();
    assertThat(m.entrySet().contains(new AbstractMap.SimpleEntry<>("k0", TextNode.valueOf("never")))).isFalse();
  }

  static void refuses(ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOf(UnsupportedOperationException.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 5, 8, 9})
  void everyMutatorThrowsEvenWhenItWouldChangeNothing(int n) {
    FrozenMap m = frozen(source(n));
    JsonNode v = IntNode.valueOf(1);
    refuses(() -> m.put("k0", v));
    refuses(() -> m.remove("k0"));
    refuses(() -> m.remove("missing"));
    refuses(() -> m.remove("k0", v));
    refuses(() -> m.putAll(Map.of()));
    refuses(m::clear);
    refuses(() -> m.replaceAll((k, x) -> x));
    refuses(() -> m.putIfAbsent("k0", v));
    refuses(() -> m.replace("k0", v));
    refuses(() -> m.replace("k0", v, v));
    refuses(() -> m.computeIfAbsent("k0", k -> v));
    refuses(() -> m.computeIfPresent("missing", (k, x) -> x));
    refuses(() -> m.compute("k0", (k, x) -> x));
    refuses(() -> m.merge("k0", v, (a, b) -> a));
    for (Collection<?> view : List.of(m.keySet(), m.values(), m.entrySet())) {
      refuses(() -> view.remove("k0"));
      refuses(() -> view.removeAll(List.of()));
      refuses(() -> view.retainAll(List.copyOf(view)));
      refuses(() -> view.removeIf(x -> false));
      refuses(view::clear);
      refuses(() -> view.addAll(List.of()));
      Iterator<?> it = view.iterator();
      if (it.hasNext()) {
        it.next();
      }
      refuses(it::remove);
    }
    refuses(() -> m.keySet().add("x"));
    refuses(() -> m.values().add(v));
    if (n > 0) {
      refuses(() -> m.entrySet().iterator().next().setValue(v));
    }
  }

  @Test
  void frozenObjectsAreEqualToPlainObjectsBothWaysWhateverTheSize() {
    for (int n : new int[] {1, 2, 8, 9, 33, 200}) {
      ObjectNode plain = F.objectNode();
      source(n).forEach(plain::set);
      JsonNode frozen = Documents.freeze(plain);
      assertThat(frozen).isEqualTo(plain);
      assertThat(plain).isEqualTo(frozen);
      assertThat(frozen.hashCode()).isEqualTo(plain.hashCode());
      assertThat(Documents.object(source(n))).isEqualTo(frozen);
      ObjectNode reordered = F.objectNode();
      List<Map.Entry<String, JsonNode>> entries = new ArrayList<>(source(n).entrySet());
      java.util.Collections.reverse(entries);
      entries.forEach(e -> reordered.set(e.getKey(), e.getValue()));
      assertThat(Documents.freeze(reordered)).isEqualTo(frozen);
      assertThat(frozen).isEqualTo(Documents.freeze(reordered));
      assertThat(Documents.freeze(reordered).hashCode()).isEqualTo(frozen.hashCode());
    }
  }

  @Test
  void equalKeyOrdersShareOneShape() {
    String[] a = {new String("apiVersion"), new String("kind")};
    String[] b = {new String("apiVersion"), new String("kind")};
    FrozenMap.Shape first = Interner.shape(a);
    FrozenMap.Shape second = Interner.shape(b);
    assertThat(second).isSameAs(first);
    assertThat(second.indexOf("kind")).isEqualTo(1);
    assertThat(Interner.shape(new String[] {"kind", "apiVersion"})).isNotSameAs(first);
  }

  @Test
  void repeatedShortTextsAndIntsAreShared() {
    String text = "shared-text-" + System.nanoTime();
    TextNode t1 = Interner.text(new TextNode(new String(text)));
    TextNode t2 = Interner.text(new TextNode(new String(text)));
    TextNode t3 = Interner.text(new TextNode(new String(text)));
    assertThat(t1).isEqualTo(t2).isEqualTo(t3);
    assertThat(t3).isSameAs(t2);
    String longText = "x".repeat(Interner.MAX_LENGTH + 1);
    TextNode big = new TextNode(longText);
    Interner.text(new TextNode(longText));
    assertThat(Interner.text(big)).isSameAs(big);
    Interner.integer(new IntNode(8080));
    IntNode port = Interner.integer(new IntNode(8080));
    assertThat(Interner.integer(new IntNode(8080))).isSameAs(port).isEqualTo(IntNode.valueOf(8080));
  }
}
