package dev.gitops.cluster.etcd;

import static dev.gitops.cluster.etcd.EtcdCoordinator.bytes;
import static dev.gitops.cluster.etcd.EtcdCoordinator.encode;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreException;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.cluster.FencedException;
import dev.gitops.cluster.InProcessStoreLock;
import dev.gitops.cluster.Ownership;
import dev.gitops.core.internal.JsonErrors;
import dev.gitops.core.internal.OwnJson;
import dev.gitops.core.store.StoreEntries;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link StateStore} in etcd, for a target that may move between machines: one etcd key per
 * entry under {@code <prefix>store/<target>/} ({@code meta}, {@code inventory/<key>}, {@code
 * pending/<key>}, {@code history/<sequence>}, {@code secret}, {@code owner}: the {@linkplain
 * #owner() owner} whose sync first wrote the store, {@code {"owner": "<id>"}}), each entry in the JSON form the
 * file store writes ({@link StoreEntries}). Every write is one transaction guarded by the owner's
 * fencing token: it applies only while the ownership key still has the token as its create
 * revision, so a member that lost the target (paused past its lease, taken over) writes nothing;
 * its write fails with a {@link FencedException}. Sensitive values reach the store already as keyed
 * hashes (the engine hashes them with {@link #secretKey()}), as with the file store; the secret
 * key itself sits in etcd, so protect the cluster's keys with etcd's authentication and TLS.
 *
 * <p>The lock is in-process (like the in-memory store's): across processes, ownership of the
 * target is the lock, and the token guard is what enforces it.
 *
 * <pre>{@code
 * EtcdCoordinator etcd = EtcdCoordinator.connect("http://127.0.0.1:2379", "m1");
 * Ownership o = etcd.tryAcquire("payments").orElseThrow();
 * try (EtcdStateStore store = EtcdStateStore.open(etcd, o);
 *      StoreLock lock = store.lock(Duration.ofSeconds(30))) {
 *   store.writePending(resource);         // throws FencedException once o is stale
 * }
 * }</pre>
 */
public final class EtcdStateStore implements StateStore {

  private static final Logger LOG = LoggerFactory.getLogger(EtcdStateStore.class);
  /**
   * Reads back whatever it wrote ({@link OwnJson}), decimals exact: the entries are re-embedded as
   * trees, and a double would turn a document's 1.10 into 1.1.
   */
  private static final ObjectMapper JSON = OwnJson.trusting(JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build());
  private static final int SECRET_BYTES = 32;
  private static final int FORMAT = 1;

  private final EtcdCoordinator coordinator;
  private final Ownership ownership;
  private final KV kv;
  private final String base;
  private final int historyLimit;
  private final InProcessStoreLock lock;
  private final Object monitor = new Object();
  private Meta meta;
  private byte[] secret;
  /** Why this store's ownership is stale, once a write was refused (a stale token never becomes current again). */
  private volatile String stale;
  /** Whether a refusal was logged at WARN while the lock is held: once per sync, the rest at DEBUG. */
  private volatile boolean refusalLogged;
  /**
   * The damage a read met (an entry that is not what this store writes), once one did: every write
   * is refused with it until the store is repaired and opened again, since a write would build on
   * records it cannot read.
   */
  private volatile StoreCorruptException damaged;
  /**
   * Whether the entries were read whole ({@link #load()}) since the lock was taken: until they
   * are, the first write reads them, so that no write lands on (or deletes) an entry that is
   * damaged before a read has said so.
   */
  private volatile boolean readWhole;

  private EtcdStateStore(EtcdCoordinator coordinator, Ownership ownership, int historyLimit) {
    this.coordinator = Objects.requireNonNull(coordinator, "coordinator");
    this.ownership = Objects.requireNonNull(ownership, "ownership");
    if (historyLimit < 1) {
      throw new IllegalArgumentException("history limit must be at least 1, got " + historyLimit);
    }
    this.kv = coordinator.client().getKVClient();
    this.base = coordinator.prefix() + "store/" + encode(ownership.target()) + "/";
    this.historyLimit = historyLimit;
    this.lock = new InProcessStoreLock("etcd store " + base);
  }

  /** The store of {@code ownership}'s target, keeping 100 history entries. */
  public static EtcdStateStore open(EtcdCoordinator coordinator, Ownership ownership) {
    return open(coordinator, ownership, 100);
  }

  /** The store of {@code ownership}'s target, keeping {@code historyLimit} history entries. */
  public static EtcdStateStore open(EtcdCoordinator coordinator, Ownership ownership, int historyLimit) {
    return new EtcdStateStore(coordinator, ownership, historyLimit);
  }

  /** The ownership whose token guards every write. */
  public Ownership ownership() {
    return ownership;
  }

  /** The prefix of this store's keys, {@code <prefix>store/<target>/} (for tests). */
  String base() {
    return base;
  }

  /** The serial, revisions and history sequence, as {@code meta} holds them. */
  private record Meta(long serial, String attempted, String applied, long historySeq, boolean written) {
    ByteSequence bytes() {
      ObjectNode n = JSON.createObjectNode();
      n.put("format", FORMAT);
      n.put("serial", serial);
      n.put("attempted", attempted);
      n.put("applied", applied);
      n.put("historySeq", historySeq);
      return ByteSequence.from(n.toString(), StandardCharsets.UTF_8);
    }
  }

  // ------------------------------------------------------------------------------------- lock

  @Override
  public StoreLock lock(Duration timeout) {
    return lock.acquire(timeout, () -> {
      refusalLogged = false;
      readWhole = false;
      coordinator.checkFence(ownership);
      Meta m;
      try {
        m = readMeta();
      } catch (StoreCorruptException e) {
        // the lock is still handed out, as the file store's is, so that load() says what is damaged; writes are refused
        LOG.debug("{}: {}", base, e.getMessage());
        return;
      }
      synchronized (monitor) {
        meta = m;
      }
    });
  }

  // ------------------------------------------------------------------------------------- read

  /**
   * {@inheritDoc}
   *
   * <p>An entry that is not what this store writes (not JSON, cut short, a format it does not
   * know, an inventory or pending entry under another resource's key) is a {@link
   * StoreCorruptException} naming its key, and from then on this object refuses every write until
   * the store is repaired and opened again.
   */
  @Override
  public StoredState load() {
    boolean locked = lock.isHeld();
    StoredState s = checked(this::loadEntries);
    readWhole = locked;  // read without the lock, it may be written before the lock is taken
    return s;
  }

  private StoredState loadEntries() {
    // every entry as of one revision, in pages: a store of thousands of entries exceeds one answer's size limit
    List<KeyValue> all = PagedRange.read(kv, base, coordinator.rangePageSize(), coordinator.callTimeout(),
        coordinator.etcd(), "load " + base).kvs();
    TreeMap<ResourceKey, StoredResource> inventory = new TreeMap<>();
    TreeMap<ResourceKey, Resource> pending = new TreeMap<>();
    Meta m = null;
    for (KeyValue e : all) {
      String name = e.getKey().toString(StandardCharsets.UTF_8).substring(base.length());
      byte[] value = e.getValue().getBytes();
      String where = "etcd store key " + base + name;
      if (name.equals("meta")) {
        m = parseMeta(value, where);
      } else if (name.startsWith("inventory/")) {
        StoredResource s = StoreEntries.readInventoryEntry(value, where);
        requireUnder(name, "inventory/", s.resource().key(), where);
        inventory.put(s.resource().key(), s);
      } else if (name.startsWith("pending/")) {
        Resource r = StoreEntries.readPendingEntry(value, where);
        requireUnder(name, "pending/", r.key(), where);
        pending.put(r.key(), r);
      }
    }
    if (m == null) {
      if (!inventory.isEmpty() || !pending.isEmpty()) {
        throw new StoreCorruptException("etcd store " + base + " has entries but no meta key", null);
      }
      return StoredState.empty();
    }
    return new StoredState(m.serial(), inventory, pending, m.attempted(), m.applied(), false);
  }

  /**
   * An entry copied under another key by hand would be read as the resource it holds, beside (or
   * over) that resource's own entry: {@code name} must be the key this store writes it under.
   */
  private static void requireUnder(String name, String kind, ResourceKey key, String where) {
    if (!name.equals(kind + encode(key.toString()))) {
      throw new StoreCorruptException(where + ": holds the entry of " + key + ", whose key is " + kind
          + encode(key.toString()), null);
    }
  }

  /** What {@code read} returns; the damage it meets is kept, so that every write is refused ({@link #damaged}). */
  private <T> T checked(java.util.function.Supplier<T> read) {
    try {
      return read.get();
    } catch (StoreCorruptException e) {
      damaged = e;
      throw e;
    }
  }

  /** {@inheritDoc} An entry that cannot be read is damage, as in {@link #load()}. */
  @Override
  public List<HistoryEntry> history() {
    return checked(this::historyEntries);
  }

  private List<HistoryEntry> historyEntries() {
    String p = base + "history/";
    List<KeyValue> all = PagedRange.read(kv, p, coordinator.rangePageSize(), coordinator.callTimeout(),
        coordinator.etcd(), "read history of " + base).kvs();
    List<HistoryEntry> out = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0; i--) {  // newest first
      KeyValue e = all.get(i);
      out.add(StoreEntries.readHistoryEntry(e.getValue().getBytes(),
          "etcd store key " + e.getKey().toString(StandardCharsets.UTF_8)));
    }
    return List.copyOf(out);
  }

  private Meta readMeta() {
    ByteSequence key = bytes(base + "meta");
    List<KeyValue> found = coordinator.await(kv.get(key), "read " + key).getKvs();
    if (found.isEmpty()) {
      return new Meta(0, "", "", 0, false);
    }
    return checked(() -> parseMeta(found.get(0).getValue().getBytes(), "etcd store key " + base + "meta"));
  }

  private static Meta parseMeta(byte[] value, String where) {
    try {
      JsonNode n = JSON.readTree(value);
      if (n == null || n.path("format").asInt() != FORMAT || !n.path("serial").canConvertToLong()
          || !n.path("historySeq").canConvertToLong() || !n.path("attempted").isTextual() || !n.path("applied").isTextual()) {
        throw new StoreCorruptException(where + ": not a format-" + FORMAT + " meta entry: " + n, null);
      }
      return new Meta(n.get("serial").longValue(), n.get("attempted").asText(), n.get("applied").asText(),
          n.get("historySeq").longValue(), true);
    } catch (IOException e) {
      throw new StoreCorruptException(where + ": not valid JSON (" + JsonErrors.describe(e) + ")", e);
    }
  }

  // ------------------------------------------------------------------------------------ write

  /**
   * Runs {@code ops} and the new meta in one transaction guarded by the token; the serial it wrote.
   * {@code entryBytes} is the size of the entry it puts (0 when none), to say so when etcd refuses
   * the request as too large.
   */
  private long write(String what, Meta next, long entryBytes, Op... ops) {
    return write(what, next, entryBytes, () -> { }, ops);
  }

  /** {@link #write(String, Meta, long, Op...)} once {@code check} (a read of what {@code ops} delete) passed. */
  private long write(String what, Meta next, long entryBytes, Runnable check, Op... ops) {
    synchronized (monitor) {
      if (!lock.isHeld()) {
        throw new IllegalStateException("etcd store " + base + ": " + what + " needs the store lock; call lock() first");
      }
      Op[] all = new Op[ops.length + 1];
      System.arraycopy(ops, 0, all, 0, ops.length);
      all[ops.length] = Op.put(bytes(base + "meta"), next.bytes(), PutOption.DEFAULT);
      refuseIfDamaged(what);
      refuseIfStale(what);
      try {
        if (!readWhole) {
          // a write without a load() since the lock (one the engine always makes) would put over, or delete, an
          // entry no read has checked: a damaged one would be gone, never named
          loadEntries();
          readWhole = true;
        }
        check.run();
      } catch (StoreCorruptException e) {
        damaged = e;
        refuseIfDamaged(what);
      }
      TxnResponse r;
      try {
        r = coordinator.await(kv.txn().If(coordinator.fence(ownership)).Then(all).commit(), what + " in " + base);
      } catch (IllegalStateException e) {
        throw tooLarge(e, what, entryBytes).orElseThrow(() -> e);
      }
      if (!r.isSucceeded()) {
        stale = "member " + ownership.member() + " no longer owns it (its token " + ownership.token() + " is stale)";
        throw refused(what);
      }
      meta = next;
      return next.serial();
    }
  }

  /**
   * {@code e} said again when etcd refused the request for its size: etcd's answer ("request is
   * too large", or gRPC's "message larger than max" above it) names neither the entry's size nor
   * the limit, which is etcd's {@code --max-request-bytes} (1.5 MiB by default), not the agent's.
   */
  private Optional<IllegalStateException> tooLarge(IllegalStateException e, String what, long entryBytes) {
    String said = String.valueOf(e.getMessage());
    if (!said.contains("request is too large") && !said.contains("larger than max")) {
      return Optional.empty();
    }
    return Optional.of(new IllegalStateException("etcd store " + base + ": " + what + " is a request etcd refuses as"
        + " too large (its entry is " + entryBytes + " bytes; etcd accepts requests up to its --max-request-bytes, 1.5"
        + " MiB unless set otherwise): the resource cannot be kept in this store as it is. Raise etcd's"
        + " --max-request-bytes on every member, or make the resource smaller (" + said + ")", e.getCause()));
  }

  /** Refuses a write once a read met damage: it would build on records it cannot read, and lose them. */
  private void refuseIfDamaged(String what) {
    StoreCorruptException d = damaged;
    if (d != null) {
      throw new StoreCorruptException("etcd store " + base + " refuses to " + what + ": " + d.getMessage()
          + "; it refuses writes until the damaged key is repaired (or deleted) and the store opened again", d);
    }
  }

  /**
   * Refuses a write without a round trip once this store's ownership is known stale: a write of it
   * was refused already, or the member's lease is no longer live by its own clock (given up for
   * good). A fenced sync may have thousands of changes left: each is refused at once, not after a
   * call to etcd (which may not answer), and logged once per sync.
   */
  private void refuseIfStale(String what) {
    if (stale == null && !coordinator.isMember()) {
      stale = "the membership of member " + ownership.member() + " lapsed (its lease is not live by its own clock), so"
          + " its ownership (token " + ownership.token() + ") is given up";
    }
    if (stale != null) {
      throw refused(what);
    }
  }

  /** The refusal of {@code what}, logged at WARN the first time while the lock is held (once per sync). */
  private FencedException refused(String what) {
    String message = "fenced: " + what + " in the store of target " + ownership.target() + " refused; " + stale;
    if (!refusalLogged) {
      refusalLogged = true;
      LOG.warn("{}; every further write of this sync is refused without asking etcd (logged at DEBUG)", message);
    } else {
      LOG.debug(message);
    }
    return new FencedException(message);
  }

  private Meta bumped() {
    synchronized (monitor) {
      Meta m = meta == null ? new Meta(0, "", "", 0, false) : meta;
      return new Meta(m.serial() + 1, m.attempted(), m.applied(), m.historySeq(), true);
    }
  }

  private ByteSequence entryKey(String kind, ResourceKey key) {
    return bytes(base + kind + "/" + encode(key.toString()));
  }

  @Override
  public void writePending(Resource desired) {
    Objects.requireNonNull(desired, "desired");
    synchronized (monitor) {
      byte[] entry = StoreEntries.pendingEntry(desired);
      write("write pending " + desired.key(), bumped(), entry.length,
          Op.put(entryKey("pending", desired.key()), ByteSequence.from(entry), PutOption.DEFAULT));
    }
  }

  @Override
  public StoredResource commit(Resource lastApplied, String revision) {
    Objects.requireNonNull(lastApplied, "lastApplied");
    Objects.requireNonNull(revision, "revision");
    synchronized (monitor) {
      Meta next = bumped();
      StoredResource stored = new StoredResource(lastApplied, next.serial(), revision);
      byte[] entry = StoreEntries.inventoryEntry(stored);
      write("commit " + lastApplied.key(), next, entry.length,
          Op.put(entryKey("inventory", lastApplied.key()), ByteSequence.from(entry), PutOption.DEFAULT),
          Op.delete(entryKey("pending", lastApplied.key()), DeleteOption.DEFAULT));
      return stored;
    }
  }

  @Override
  public void clearPending(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    synchronized (monitor) {
      write("clear pending " + key, bumped(), 0, Op.delete(entryKey("pending", key), DeleteOption.DEFAULT));
    }
  }

  @Override
  public void forget(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    synchronized (monitor) {
      write("forget " + key, bumped(), 0, Op.delete(entryKey("pending", key), DeleteOption.DEFAULT),
          Op.delete(entryKey("inventory", key), DeleteOption.DEFAULT));
    }
  }

  @Override
  public void recordRevisions(String attempted, String applied) {
    Objects.requireNonNull(attempted, "attempted");
    synchronized (monitor) {
      Meta m = bumped();
      write("record revisions", new Meta(m.serial(), attempted, applied == null ? m.applied() : applied,
          m.historySeq(), true), 0);
    }
  }

  @Override
  public void appendHistory(HistoryEntry entry) {
    Objects.requireNonNull(entry, "entry");
    synchronized (monitor) {
      Meta m = bumped();
      long seq = m.historySeq() + 1;
      List<Op> ops = new ArrayList<>();
      byte[] value = StoreEntries.historyEntry(entry);
      ops.add(Op.put(historyKey(seq), ByteSequence.from(value), PutOption.DEFAULT));
      long oldestKept = seq - historyLimit + 1;
      Runnable check = () -> { };
      if (oldestKept > 1) {
        // everything older than the limit, in one range delete (the limit may have shrunk since the last run); read
        // first (one entry, as a rule): a damaged one stays for a person to see, as history() would have named it
        ops.add(Op.delete(historyKey(0), DeleteOption.builder().withRange(historyKey(oldestKept)).build()));
        check = () -> {
          for (KeyValue e : coordinator.await(kv.get(historyKey(0), GetOption.builder().withRange(historyKey(oldestKept))
              .build()), "read the history entries " + base + " drops").getKvs()) {
            StoreEntries.readHistoryEntry(e.getValue().getBytes(),
                "etcd store key " + e.getKey().toString(StandardCharsets.UTF_8));
          }
        };
      }
      write("append history " + entry.id(), new Meta(m.serial(), m.attempted(), m.applied(), seq, true), value.length,
          check, ops.toArray(Op[]::new));
    }
  }

  private ByteSequence historyKey(long seq) {
    return bytes(base + "history/" + String.format("%020d", seq));
  }

  // ------------------------------------------------------------------------------------ owner

  /**
   * {@inheritDoc}
   *
   * <p>Read from the key {@code <prefix>store/<target>/owner}; a store without it (never written, or
   * written by a build before owners were recorded) has none.
   */
  @Override
  public Optional<String> owner() {
    ByteSequence key = bytes(base + "owner");
    List<KeyValue> found = coordinator.await(kv.get(key), "read " + key).getKvs();
    return found.isEmpty() ? Optional.empty()
        : Optional.of(parseOwner(found.get(0).getValue().getBytes()));
  }

  private String parseOwner(byte[] value) {
    return StoreEntries.readOwnerEntry(value, "etcd store key " + base + "owner");
  }

  /**
   * {@inheritDoc}
   *
   * <p>Creates the key {@code owner} in one transaction guarded by the fencing token, and only
   * while the key is absent, so two members racing for a new store record one owner.
   */
  @Override
  public void claimOwner(String owner) {
    StoreEntries.requireOwner(owner);
    synchronized (monitor) {
      if (!lock.isHeld()) {
        throw new IllegalStateException("etcd store " + base + ": claiming it for owner '" + owner
            + "' needs the store lock; call lock() first");
      }
      refuseIfDamaged("record owner '" + owner + "'");
      refuseIfStale("recording owner '" + owner + "'");
      ByteSequence key = bytes(base + "owner");
      TxnResponse r = coordinator.await(kv.txn()
          .If(coordinator.fence(ownership), new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
          .Then(Op.put(key, ByteSequence.from(StoreEntries.ownerEntry(owner)), PutOption.DEFAULT))
          .Else(Op.get(key, GetOption.DEFAULT)).commit(), "record the owner of " + base);
      if (r.isSucceeded()) {
        return;
      }
      List<KeyValue> found = r.getGetResponses().get(0).getKvs();
      if (found.isEmpty()) {
        stale = "member " + ownership.member() + " no longer owns it (its token " + ownership.token() + " is stale)";
        throw refused("recording owner '" + owner + "'");
      }
      String recorded = parseOwner(found.get(0).getValue().getBytes());
      if (!recorded.equals(owner)) {
        throw new StoreOwnerException("etcd store " + base, recorded, owner);
      }
    }
  }

  // ----------------------------------------------------------------------------------- secret

  @Override
  public byte[] secretKey() {
    synchronized (monitor) {
      if (secret == null) {
        ByteSequence key = bytes(base + "secret");
        byte[] fresh = new byte[SECRET_BYTES];
        new SecureRandom().nextBytes(fresh);
        // create-if-absent: two members racing for a new target's key end up with the same one
        TxnResponse r = coordinator.await(kv.txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
            .Then(Op.put(key, ByteSequence.from(fresh), PutOption.DEFAULT))
            .Else(Op.get(key, GetOption.DEFAULT)).commit(), "create the secret key of " + base);
        byte[] got = r.isSucceeded() ? fresh : r.getGetResponses().get(0).getKvs().get(0).getValue().getBytes();
        if (got.length != SECRET_BYTES) {
          throw new StoreCorruptException("etcd store key " + key + ": a secret key of " + got.length + " bytes, want "
              + SECRET_BYTES, null);
        }
        secret = got;
      }
      return secret.clone();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Refuses, without a round trip, once a read of this object found an entry damaged, as every
   * write of it is refused then. Whether the member still owns the target is asked when the engine
   * takes the lock ({@link dev.gitops.cluster.Coordinator#checkFence}, before anything is read or applied), and whether
   * etcd takes the write (its permissions, a quorum) only a write can tell.
   *
   * @throws StoreCorruptException naming the damaged key, until it is repaired and the store opened again
   */
  @Override
  public void checkWritable() {
    refuseIfDamaged("record a sync");
  }

  /** Nothing to release: the coordinator owns the client. */
  @Override
  public void close() {
    // the jetcd client is the coordinator's and outlives the store
  }

  @Override
  public String toString() {
    return "etcd store " + base + " (" + ownership + ")";
  }
}
