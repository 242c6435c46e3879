package dev.gitops.cluster.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.cluster.Ownership;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Prefixes larger than one answer may carry: read in pages at one revision, and in smaller pages
 * when a page's values exceed the client's inbound message limit (jetcd's default 4 MiB here).
 */
@SuppressWarnings("try")
class EtcdPagingTest extends EtcdTestBase {

  /** A value of about 1 MiB: five of them exceed one 4 MiB answer, one page of two does not. */
  private static final String MIB = "x".repeat(1024 * 1024 - 200);

  private EtcdCoordinator member(String id, Client client, int pageSize) {
    EtcdCoordinator c = EtcdCoordinator.builder(client, id).prefix(prefix).ttl(Duration.ofSeconds(3))
        .rangePageSize(pageSize).build();
    c.join();
    return c;
  }

  private static Resource resource(int i, String value) {
    return Resource.of(ResourceKey.of("memory", "thing", "", "r" + i),
        JsonNodeFactory.instance.objectNode().put("value", value));
  }

  @Test
  void aStoreLargerThanOneAnswerLoadsInPagesOfTheDefaultSizeHalvedUntilTheyFit() {
    try (EtcdCoordinator m1 = member("m1", admin, EtcdCoordinator.RANGE_PAGE_SIZE)) {
      Ownership o = m1.tryAcquire("big").orElseThrow();
      EtcdStateStore store = EtcdStateStore.open(m1, o);
      try (StoreLock lock = store.lock(Duration.ofSeconds(5))) {
        for (int i = 0; i < 5; i++) {
          store.writePending(resource(i, i + MIB));
        }
      }
      // 5 MiB in one range read: RESOURCE_EXHAUSTED on the test's client, which keeps jetcd's 4 MiB limit
      assertThat(store.load().pending()).hasSize(5);
    }
  }

  @Test
  void anEntryOverEtcdsRequestLimitIsRefusedNamingItsSizeAndTheLimitAndNothingIsWritten() {
    try (EtcdCoordinator m1 = member("m1", admin, EtcdCoordinator.RANGE_PAGE_SIZE)) {
      Ownership o = m1.tryAcquire("huge").orElseThrow();
      EtcdStateStore store = EtcdStateStore.open(m1, o);
      try (StoreLock lock = store.lock(Duration.ofSeconds(5))) {
        store.writePending(resource(0, "small"));
        // over etcd's 1.5 MiB --max-request-bytes ("request is too large"), and over its gRPC limit of that + 512 KiB
        for (int mib : new int[] {1, 2}) {
          String value = mib + MIB + MIB.substring(0, 600 * 1024);
          assertThatThrownBy(() -> store.writePending(resource(1, value))).as("%d MiB", mib)
              .isInstanceOf(IllegalStateException.class)
              .hasMessageStartingWith("etcd store " + prefix + "store/huge/: write pending memory:thing::r1 is a request"
                  + " etcd refuses as too large (its entry is ")
              .hasMessageContaining("--max-request-bytes, 1.5 MiB unless set otherwise")
              .hasMessageContaining("Raise etcd's --max-request-bytes on every member, or make the resource smaller");
        }
        store.writePending(resource(2, "small"));  // the store goes on
      }
      assertThat(store.load().pending()).containsOnlyKeys(resource(0, "").key(), resource(2, "").key());
    }
  }

  @Test
  void aStoreOfManyEntriesLoadsEveryOneAndItsHistoryNewestFirstAcrossPages() {
    try (EtcdCoordinator m1 = member("m1", admin, 3)) {
      Ownership o = m1.tryAcquire("many").orElseThrow();
      EtcdStateStore store = EtcdStateStore.open(m1, o);
      try (StoreLock lock = store.lock(Duration.ofSeconds(5))) {
        for (int i = 0; i < 10; i++) {
          store.writePending(resource(i, "v" + i));
          store.commit(resource(i, "v" + i), "main@sha1:" + i);
        }
        store.writePending(resource(10, "pending"));
        for (int i = 1; i <= 7; i++) {
          store.appendHistory(new HistoryEntry("sync-" + i, Instant.EPOCH.plusSeconds(i), "main@sha1:" + i, "plan-" + i,
              SyncResult.Status.SUCCEEDED, Map.of("created", i), "sync " + i));
        }
      }
      assertThat(store.load().inventory()).hasSize(10);
      assertThat(store.load().pending()).hasSize(1);
      assertThat(store.history()).extracting(HistoryEntry::id)
          .containsExactly("sync-7", "sync-6", "sync-5", "sync-4", "sync-3", "sync-2", "sync-1");
    }
  }

  @Test
  void theOwnersViewReadsMoreOwnerKeysThanOneAnswerCarries() {
    // another cluster's, or a tool's, large values under owners/: five of 1 MiB
    for (int i = 0; i < 5; i++) {
      call(admin.getKVClient().put(bytes(prefix + "owners/x" + i), bytes(i + MIB)), "put");
    }
    try (EtcdCoordinator m1 = member("m1", admin, EtcdCoordinator.RANGE_PAGE_SIZE)) {
      m1.tryAcquire("t").orElseThrow();
      assertThat(m1.owners()).containsKeys("t", "x0", "x1", "x2", "x3", "x4");
    }
  }

  @Test
  void pagesAreReadAtTheFirstPagesRevisionSoAWriteBetweenThemIsNotSeen() {
    AtomicInteger gets = new AtomicInteger();
    // a client whose second range read of owners/ comes after another member created a key at the end of the range
    Client between = intercepted(admin, () -> {
      if (gets.incrementAndGet() == 2) {
        call(admin.getKVClient().put(bytes(prefix + "owners/c0"), bytes("{}")), "put");
      }
    });
    try (EtcdCoordinator writer = member("w", admin, 2)) {
      for (String t : List.of("b1", "b2", "b3", "b4", "b5")) {
        writer.tryAcquire(t).orElseThrow();
      }
      EtcdCoordinator reader = EtcdCoordinator.builder(between, "r").prefix(prefix).rangePageSize(2).build();
      try (reader) {
        // the first read is the range (pages of two): c0 came after its first page, at a later revision
        assertThat(reader.owners()).containsOnlyKeys("b1", "b2", "b3", "b4", "b5");
        assertThat(gets.get()).as("range reads of pages").isGreaterThanOrEqualTo(3);
      }
    }
  }

  /** {@code client} whose KV runs {@code beforeGet} before each get. */
  private static Client intercepted(Client client, Runnable beforeGet) {
    KV kv = client.getKVClient();
    KV spied = (KV) Proxy.newProxyInstance(KV.class.getClassLoader(), new Class<?>[] {KV.class}, (p, m, args) -> {
      if (m.getName().equals("get")) {
        beforeGet.run();
      }
      return invoke(kv, m, args);
    });
    return (Client) Proxy.newProxyInstance(Client.class.getClassLoader(), new Class<?>[] {Client.class},
        (p, m, args) -> m.getName().equals("getKVClient") ? spied : invoke(client, m, args));
  }

  private static Object invoke(Object target, java.lang.reflect.Method m, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
