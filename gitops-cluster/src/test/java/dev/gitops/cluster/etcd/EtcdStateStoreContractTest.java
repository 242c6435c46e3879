package dev.gitops.cluster.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import dev.gitops.testkit.StateStoreContract;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gitops-testkit's {@link StateStoreContract}, run against the etcd store on a real etcd.
 */
// locks are held for a try block's scope without being referenced in it
@SuppressWarnings("try")
class EtcdStateStoreContractTest extends StateStoreContract {

  static EtcdCoordinator coordinator;
  static final AtomicInteger targets = new AtomicInteger();

  @BeforeAll
  static void join() {
    coordinator = EtcdCoordinator.connectBuilder(EtcdServer.shared().endpoint(), "contract")
        .prefix("/contract/" + UUID.randomUUID() + "/").ttl(Duration.ofSeconds(10)).build();
    coordinator.join();
  }

  @AfterAll
  static void leave() {
    coordinator.close();
  }

  @Override
  protected StateStore newStore(int historyLimit) {
    String target = "target-" + targets.incrementAndGet();
    return EtcdStateStore.open(coordinator, coordinator.tryAcquire(target).orElseThrow(), historyLimit);
  }

  /** A truncated write of one inventory entry: its JSON cut in the middle, as a bad hand edit with etcdctl leaves it. */
  @Override
  protected boolean corrupt(StateStore s) {
    return damage((EtcdStateStore) s, "inventory/", v -> Arrays.copyOf(v, v.length / 2));
  }

  /** Replaces the first entry of {@code store} under {@code kind} with what {@code damage} makes of its bytes. */
  static boolean damage(EtcdStateStore store, String kind, UnaryOperator<byte[]> damage) {
    KV kv = coordinator.client().getKVClient();
    ByteSequence prefix = ByteSequence.from(store.base() + kind, StandardCharsets.UTF_8);
    List<KeyValue> found = coordinator.await(kv.get(prefix, GetOption.builder().isPrefix(true).build()), "read")
        .getKvs();
    if (found.isEmpty()) {
      return false;
    }
    KeyValue e = found.get(0);
    coordinator.await(kv.put(e.getKey(), ByteSequence.from(damage.apply(e.getValue().getBytes()))), "damage");
    return true;
  }

  /**
   * Damage other than the contract's: meta cut short, a history entry that is no JSON, and an
   * inventory entry copied by hand under another resource's key. The lock is still handed out, the
   * read that meets it names the key, every write is refused, and no key of the store changes.
   */
  @Test
  void damagedMetaHistoryOrAMisplacedEntryIsNamedAndRefusesEveryWriteWritingNothing() {
    ResourceKey a = ResourceKey.of("files", "file", "", "a.txt");
    ResourceKey b = ResourceKey.of("files", "file", "", "b.txt");
    for (String kind : List.of("meta", "history/", "inventory/")) {
      EtcdStateStore s = (EtcdStateStore) store();
      try (StoreLock l = s.lock(LONG)) {
        s.commit(Resource.of(a, JsonNodeFactory.instance.objectNode().put("v", 1)), "r1");
        s.commit(Resource.of(b, JsonNodeFactory.instance.objectNode().put("v", 2)), "r1");
        s.appendHistory(entry(1));
      }
      byte[] otherEntry = kind.equals("inventory/") ? entries(s, "inventory/").get(1).getValue().getBytes() : null;
      assertThat(damage(s, kind, v -> otherEntry != null ? otherEntry
          : kind.equals("meta") ? Arrays.copyOf(v, v.length - 3) : "not json".getBytes(StandardCharsets.UTF_8)))
          .isTrue();
      Map<String, String> before = snapshot(s);
      EtcdStateStore again = (EtcdStateStore) track(sameStore(s));
      try (StoreLock l = again.lock(LONG)) {
        String key = entries(s, kind).get(0).getKey().toString(StandardCharsets.UTF_8);
        org.assertj.core.api.ThrowableAssert.ThrowingCallable read = kind.startsWith("history") ? again::history
            : again::load;
        assertThatThrownBy(read).as(kind).isInstanceOf(StoreCorruptException.class)
            .hasMessageContaining("etcd store key " + key);
        for (org.assertj.core.api.ThrowableAssert.ThrowingCallable write : List.<org.assertj.core.api.ThrowableAssert
            .ThrowingCallable>of(() -> again.writePending(Resource.of(a, JsonNodeFactory.instance.objectNode())),
            () -> again.forget(b), () -> again.recordRevisions("r2", "r2"), () -> again.claimOwner("team"))) {
          assertThatThrownBy(write).as(kind).isInstanceOf(StoreCorruptException.class)
              .hasMessageContaining("refuses to").hasMessageContaining(key);
        }
      }
      assertThat(snapshot(s)).as("%s: every key of the store as it was", kind).isEqualTo(before);
    }
  }

  /**
   * The oldest history entry, damaged, is the one the next append drops past the limit: the append
   * is refused naming its key, and no key changes (the range delete took it away unseen, and the
   * store wrote on).
   */
  @Test
  void anAppendThatWouldDropADamagedHistoryEntryIsRefusedNamingItsKey() {
    EtcdStateStore s = (EtcdStateStore) store();  // keeps 5
    try (StoreLock l = s.lock(LONG)) {
      for (int i = 1; i <= 5; i++) {
        s.appendHistory(entry(i));
      }
    }
    assertThat(damage(s, "history/", v -> "not json".getBytes(StandardCharsets.UTF_8))).isTrue();
    String oldest = entries(s, "history/").get(0).getKey().toString(StandardCharsets.UTF_8);
    Map<String, String> before = snapshot(s);
    EtcdStateStore again = (EtcdStateStore) track(EtcdStateStore.open(coordinator, s.ownership(), 5));
    try (StoreLock l = again.lock(LONG)) {
      again.load();  // inventory, pending and meta: what load() reads is sound
      assertThatThrownBy(() -> again.appendHistory(entry(6))).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining("refuses to append history").hasMessageContaining("etcd store key " + oldest);
      assertThatThrownBy(() -> again.recordRevisions("r2", "r2")).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(oldest);
    }
    assertThat(snapshot(s)).as("every key of the store as it was").isEqualTo(before);
  }

  /** Every key of the store with its value and the revision that last wrote it. */
  static Map<String, String> snapshot(EtcdStateStore store) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (KeyValue e : entries(store, "")) {
      out.put(e.getKey().toString(StandardCharsets.UTF_8), e.getModRevision() + " "
          + java.util.HexFormat.of().formatHex(e.getValue().getBytes()));
    }
    return out;
  }

  /** The store's keys under {@code kind}, in key order. */
  static List<KeyValue> entries(EtcdStateStore store, String kind) {
    return coordinator.await(coordinator.client().getKVClient().get(
        ByteSequence.from(store.base() + kind, StandardCharsets.UTF_8), GetOption.builder().isPrefix(true).build()),
        "read").getKvs();
  }

  @Override
  protected StateStore sameStore(StateStore s) {
    return EtcdStateStore.open(coordinator, ((EtcdStateStore) s).ownership());
  }
}
