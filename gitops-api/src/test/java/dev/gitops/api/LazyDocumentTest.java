package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** A document read when first needed ({@link Documents#lazyObject}) is the eager one in every observable way. */
class LazyDocumentTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TEXT = "{\"content\":\"service-1\\nxxx\",\"mode\":\"0644\",\"n\":[1,{\"a\":2.50}],\"e\":{}}";

  private static JsonNode eager() throws Exception {
    return Documents.freeze(JSON.readTree(TEXT));
  }

  private static Supplier<JsonNode> counted(AtomicInteger reads) {
    return () -> {
      reads.incrementAndGet();
      try {
        return JSON.readTree(TEXT);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
  }

  @Test
  void aLazyObjectIsReadOnceAndOnlyWhenAsked() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    JsonNode lazy = Documents.lazyObject(counted(reads));
    assertThat(Documents.isFrozen(lazy)).isTrue();
    assertThat(Documents.freeze(lazy)).as("freeze keeps it lazy").isSameAs(lazy);
    Resource r = Resource.of(ResourceKey.of("files", "file", "", "a"), lazy);
    assertThat(r.document()).isSameAs(lazy);
    assertThat(lazy.isObject()).isTrue();
    assertThat(reads).as("not read by building a resource or asking its type").hasValue(0);

    assertThat(lazy.get("mode").textValue()).isEqualTo("0644");
    assertThat(lazy.size()).isEqualTo(4);
    lazy.hashCode();
    lazy.toString();
    assertThat(reads).hasValue(1);
  }

  @Test
  void aLazyObjectEqualsTheEagerOneEveryWay() throws Exception {
    JsonNode lazy = Documents.lazyObject(counted(new AtomicInteger()));
    JsonNode eager = eager();
    assertThat(lazy).isEqualTo(eager);
    assertThat(eager).isEqualTo(lazy);
    assertThat(lazy).isEqualTo(Documents.lazyObject(counted(new AtomicInteger())));
    assertThat(lazy).isNotEqualTo(Documents.freeze(JSON.readTree("{\"content\":\"other\"}")));
    assertThat(lazy.hashCode()).isEqualTo(eager.hashCode());
    assertThat(lazy.toString()).isEqualTo(eager.toString());
    assertThat(Documents.digest(lazy)).isEqualTo(Documents.digest(eager));
    assertThat(Documents.canonicalJson(lazy)).isEqualTo(Documents.canonicalJson(eager));
    assertThat(Documents.equal(lazy, eager)).isTrue();
    assertThat(Documents.sameFieldNames(lazy, eager)).isTrue();
    assertThat(Documents.sameFieldNames(eager, lazy)).isTrue();
    List<String> names = new ArrayList<>();
    lazy.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsExactly("content", "mode", "n", "e");
    for (int i = 0; i < eager.size(); i++) {
      assertThat(Documents.fieldName(lazy, i)).isEqualTo(Documents.fieldName(eager, i));
      assertThat(Documents.fieldValue(lazy, i)).isEqualTo(Documents.fieldValue(eager, i));
      assertThat(Documents.fieldIndex(lazy, Documents.fieldName(eager, i), 0)).isEqualTo(i);
    }
    assertThat(Documents.withFieldValues(lazy, new int[] {1}, new JsonNode[] {IntNode.valueOf(3)}, 1))
        .isEqualTo(Documents.withFieldValues(eager, new int[] {1}, new JsonNode[] {IntNode.valueOf(3)}, 1));
    assertThat(lazy.at("/n/1/a")).isEqualTo(eager.at("/n/1/a"));
    assertThat((JsonNode) lazy.deepCopy()).isEqualTo(eager);
    assertThat(Documents.mutableCopy(lazy)).isEqualTo(eager);

    ResourceKey key = ResourceKey.of("files", "file", "", "a");
    Resource withLazy = Resource.builder(key).document(lazy).wave(2).sensitive(Set.of()).build();
    Resource withEager = Resource.builder(key).document(eager).wave(2).build();
    assertThat(withLazy).isEqualTo(withEager);
    assertThat(withEager).isEqualTo(withLazy);
    assertThat(withLazy.hashCode()).isEqualTo(withEager.hashCode());
    assertThat(withLazy.toString()).isEqualTo(withEager.toString());
    assertThat(withLazy.digest()).isEqualTo(withEager.digest());
  }

  @Test
  void aLazyObjectRefusesEveryMutation() {
    ObjectNode lazy = (ObjectNode) Documents.lazyObject(counted(new AtomicInteger()));
    assertThatThrownBy(() -> lazy.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> lazy.remove("mode")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(lazy::removeAll).isInstanceOf(UnsupportedOperationException.class);
    assertThat(lazy.get("mode").textValue()).isEqualTo("0644");
  }

  @Test
  void aSourceThatFailsFailsEveryReadAndOneThatGivesNoObjectIsRefused() {
    JsonNode broken = Documents.lazyObject(() -> {
      throw new StoreCorruptException("store file s: the stored document of k does not parse", null);
    });
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> broken.get("a")).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining("the stored document of k");
    }
    JsonNode array = Documents.lazyObject(() -> Documents.emptyArray());
    assertThatThrownBy(array::size).isInstanceOf(IllegalStateException.class).hasMessageContaining("not an object");
  }

  @Test
  void threadsReadingAtOnceReadTheSourceOnce() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    JsonNode lazy = Documents.lazyObject(counted(reads));
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    List<JsonNode> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 8; i++) {
      Thread t = new Thread(() -> {
        try {
          go.await();
          seen.add(lazy.get("n"));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(reads).hasValue(1);
    assertThat(seen).hasSize(8).allSatisfy(n -> assertThat(n).isSameAs(seen.get(0)));
  }
}
