package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoredResource;
import org.junit.jupiter.api.Test;

/** Reading one store entry: its key checked against its resource's, its policy read back as written. */
class StoreCodecEntryTest {

  private static final ResourceKey A = FileStateStoreJournalTest.key("a");
  private static final ResourceKey B = FileStateStoreJournalTest.key("b");

  @Test
  void anEntryReadsBackAsWritten() throws Exception {
    Resource r = FileStateStoreJournalTest.res(A, 1).toBuilder().policy(ManagementPolicy.parse("observe,create")).build();
    StoredResource s = new StoredResource(r, 7, "rev", new StoredResource.InSync("d", "r", "v"));

    assertThat(StoreCodec.readInventoryEntry(StoreCodec.inventoryEntry(s))).isEqualTo(s);
    assertThat(StoreCodec.readInventoryEntry(StoreCodec.inventoryEntry(s)).resource().policy())
        .as("read a second time, the same policy").isEqualTo(r.policy());
    assertThat(StoreCodec.readPendingEntry(StoreCodec.pendingEntry(r))).isEqualTo(r);
  }

  @Test
  void anEntryWhoseKeyIsNotItsResourcesIsDamage() {
    Resource r = FileStateStoreJournalTest.res(A, 1);
    ObjectNode inventory = StoreCodec.inventoryEntry(new StoredResource(r, 7, "rev"));
    inventory.put("key", B.toString());
    ObjectNode pending = StoreCodec.pendingEntry(r);
    pending.put("key", B.toString());

    assertThatThrownBy(() -> StoreCodec.readInventoryEntry(inventory)).isInstanceOf(StoreCodec.BadContentException.class)
        .hasMessageContaining("differs from its resource's key");
    assertThatThrownBy(() -> StoreCodec.readPendingEntry(pending)).isInstanceOf(StoreCodec.BadContentException.class)
        .hasMessageContaining("differs from its resource's key");
  }

  @Test
  void aBadPolicyIsDamageEveryTimeItIsRead() {
    ObjectNode entry = StoreCodec.pendingEntry(FileStateStoreJournalTest.res(A, 1));
    ((ObjectNode) entry.get("resource")).put("policy", "observe,explode");

    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> StoreCodec.readPendingEntry(entry)).isInstanceOf(StoreCodec.BadContentException.class)
          .hasMessageContaining("bad policy");
    }
  }
}
