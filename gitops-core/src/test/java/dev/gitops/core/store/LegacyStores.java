package dev.gitops.core.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Resource;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.internal.fs.KeyFileNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Rewrites a store as builds before the snapshot left it between syncs (format 1): one file per
 * inventory and pending entry, meta.json counting them, no snapshot and no journal. For tests of
 * the format-1 reader and of the migration; public for gitops-reliability's crash suites.
 */
public final class LegacyStores {

  private LegacyStores() {}

  /**
   * Rewrites the store in {@code dir} (any format this build reads) as format 1, holding the same
   * state; a store never written is left alone.
   */
  public static void downgrade(Path dir) throws IOException {
    StoredState st;
    try (FileStateStore s = FileStateStore.openReadOnly(dir)) {
      st = s.load();
    }
    if (st.fresh()) {
      return;
    }
    Path inventory = Files.createDirectories(dir.resolve("inventory"));
    Path pending = Files.createDirectories(dir.resolve("pending"));
    for (StoredResource r : st.inventory().values()) {
      Files.write(inventory.resolve(KeyFileNames.of(r.resource().key())), StoreEntries.inventoryEntry(r));
    }
    for (Resource r : st.pending().values()) {
      Files.write(pending.resolve(KeyFileNames.of(r.key())), StoreEntries.pendingEntry(r));
    }
    ObjectNode meta = StoreCodec.MAPPER.createObjectNode();
    meta.put("serial", st.serial());
    meta.put("lastAttemptedRevision", st.lastAttemptedRevision());
    meta.put("lastAppliedRevision", st.lastAppliedRevision());
    meta.put("inventory", st.inventory().size());
    meta.put("pending", st.pending().size());
    meta.put("entry", "");
    Files.write(dir.resolve("meta.json"), StoreCodec.bytes(meta));
    Files.writeString(dir.resolve("format"), "1\n", StandardCharsets.US_ASCII);
    Files.deleteIfExists(dir.resolve(StoreSnapshot.FILE));
    Files.deleteIfExists(dir.resolve(StoreJournal.FILE));
  }
}
