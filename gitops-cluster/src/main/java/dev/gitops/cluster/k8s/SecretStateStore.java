package dev.gitops.cluster.k8s;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
import dev.gitops.api.internal.Sha256;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link StateStore} kept in the Kubernetes cluster, for a target that may move between
 * machines with the Lease backend: one Secret per target ({@code gitops-s-<hash>}, the target's
 * name in an annotation) holding the whole state (serial, revisions, inventory, pending, bounded
 * history, each entry in the JSON form the file store writes, {@link StoreEntries}) gzipped, the
 * store's secret key and, once a sync claimed the store, its {@linkplain #owner() owner} (the data
 * key {@code owner}, {@code {"owner": "<id>"}}). When the gzipped state is larger than one chunk
 * (512 KiB by default, well under the 1 MiB object limit once base64-encoded) it goes into
 * immutable chunk Secrets ({@code gitops-s-<hash>-<generation>-<i>}) written first; the target's
 * Secret then points at the new generation (with its SHA-256), and the old chunks are deleted.
 *
 * <p>Fencing: every write checks the owner's Lease on the API server ({@link
 * LeaseCoordinator#checkFence}) and then updates the target's Secret under the resourceVersion
 * this store last saw, with the owner's grant in annotations (its token, its member and when it
 * was granted, {@link Ownership#since()}). Locking the store claims the Secret for the grant (an
 * update under resourceVersion), so once a new owner has locked it, a stale owner's next write
 * conflicts and is refused with a {@link FencedException}: a write that conflicts retries only
 * when the Secret carries no higher token and, at its own token, its own member and grant time (a
 * target Lease made anew at the same count is another grant), and after the Lease check again. A
 * Secret that names no writer (written by a build before the member and grant time annotations) is
 * compared by its token alone, as that build did, and the Lease check decides; a lock marks it as
 * the current grant's. A Secret that carries a higher token refuses every write of a lower one. Sensitive values reach the store
 * already as keyed hashes, as with the file store; protect the Secrets with RBAC.
 *
 * <p>The lock is in-process: across processes, ownership of the target is the lock.
 *
 * <pre>{@code
 * LeaseCoordinator leases = LeaseCoordinator.builder(client, "gitops", "m1").build();
 * leases.join();
 * Ownership o = leases.tryAcquire("payments").orElseThrow();
 * try (SecretStateStore store = SecretStateStore.open(leases, o);
 *      StoreLock lock = store.lock(Duration.ofSeconds(30))) {
 *   store.writePending(resource);         // throws FencedException once o is stale
 * }
 * }</pre>
 */
public final class SecretStateStore implements StateStore {

  private static final Logger LOG = LoggerFactory.getLogger(SecretStateStore.class);
  /**
   * Reads back whatever it wrote ({@link OwnJson}), decimals exact: the entries are re-embedded as
   * trees, and a double would turn a document's 1.10 into 1.1.
   */
  private static final ObjectMapper JSON = OwnJson.trusting(JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build());
  /** The default chunk: 512 KiB of gzipped state, about 683 KiB in base64, under the 1 MiB object limit. */
  public static final int DEFAULT_CHUNK_BYTES = 512 * 1024;
  static final String ROLE_STORE = "store";
  static final String ROLE_CHUNK = "store-chunk";
  static final String TOKEN_ANNOTATION = "gitops.dev/token";
  /**
   * When the writer's ownership was granted ({@link Ownership#since()}): with the token and the
   * member ({@link LeaseCoordinator#MEMBER_ANNOTATION}), the grant that last wrote the Secret.
   */
  static final String ACQUIRED_ANNOTATION = "gitops.dev/acquired";
  static final String GENERATION_ANNOTATION = "gitops.dev/generation";
  static final String CHUNKS_ANNOTATION = "gitops.dev/chunks";
  static final String DIGEST_ANNOTATION = "gitops.dev/sha256";
  static final String STORE_LABEL = "gitops.dev/store";
  /** The data key of the target's Secret naming the store's owner, {@code {"owner": "<id>"}}. */
  static final String OWNER_KEY = "owner";
  private static final int SECRET_BYTES = 32;
  private static final int FORMAT = 1;
  private static final int ATTEMPTS = 5;

  private final LeaseCoordinator coordinator;
  private final Ownership ownership;
  private final String name;
  private final int historyLimit;
  private final int chunkBytes;
  private final InProcessStoreLock lock;
  private final Object monitor = new Object();
  /** The target's Secret as this store last read or wrote it (its resourceVersion guards the next write). */
  private Secret head;
  private State state;
  private byte[] secret;
  /**
   * The damage a read met (a state that is not gzip or not JSON, cut short, chunks that do not
   * match their digest or are missing), once one did: every write is refused with it until the
   * store is repaired and opened again, since a write replaces the whole state and would lose what
   * could not be read.
   */
  private volatile StoreCorruptException damaged;

  private SecretStateStore(LeaseCoordinator coordinator, Ownership ownership, int historyLimit, int chunkBytes) {
    this.coordinator = Objects.requireNonNull(coordinator, "coordinator");
    this.ownership = Objects.requireNonNull(ownership, "ownership");
    if (historyLimit < 1) {
      throw new IllegalArgumentException("history limit must be at least 1, got " + historyLimit);
    }
    if (chunkBytes < 1024 || chunkBytes > DEFAULT_CHUNK_BYTES) {
      throw new IllegalArgumentException("chunk size must be between 1 KiB and " + DEFAULT_CHUNK_BYTES
          + " bytes (a Secret holds at most 1 MiB, base64-encoded), got " + chunkBytes);
    }
    this.name = coordinator.leaseName("s", ownership.target());
    this.historyLimit = historyLimit;
    this.chunkBytes = chunkBytes;
    this.lock = new InProcessStoreLock("Secret store " + coordinator.namespace() + "/" + name);
  }

  /** The store of {@code ownership}'s target, keeping 100 history entries. */
  public static SecretStateStore open(LeaseCoordinator coordinator, Ownership ownership) {
    return open(coordinator, ownership, 100, DEFAULT_CHUNK_BYTES);
  }

  /**
   * The store of {@code ownership}'s target, keeping {@code historyLimit} history entries and
   * splitting state larger than {@code chunkBytes} (gzipped) into chunk Secrets.
   */
  public static SecretStateStore open(LeaseCoordinator coordinator, Ownership ownership, int historyLimit,
      int chunkBytes) {
    return new SecretStateStore(coordinator, ownership, historyLimit, chunkBytes);
  }

  /** The ownership whose token guards every write. */
  public Ownership ownership() {
    return ownership;
  }

  /** The name of the target's Secret, in the coordinator's namespace. */
  public String secretName() {
    return name;
  }

  /** The state as the Secret holds it: entries kept as the bytes {@link StoreEntries} writes. */
  private record State(long serial, String attempted, String applied, TreeMap<ResourceKey, byte[]> inventory,
      TreeMap<ResourceKey, byte[]> pending, List<byte[]> history) {

    static State empty() {
      return new State(0, "", "", new TreeMap<>(), new TreeMap<>(), new ArrayList<>());
    }

    /** A copy with the serial bumped, to mutate. */
    State next() {
      return new State(serial + 1, attempted, applied, new TreeMap<>(inventory), new TreeMap<>(pending),
          new ArrayList<>(history));
    }

    State withRevisions(String attempted, String applied) {
      return new State(serial, attempted, applied, inventory, pending, history);
    }
  }

  // ------------------------------------------------------------------------------------- lock

  @Override
  public StoreLock lock(Duration timeout) {
    return lock.acquire(timeout, () -> {
      synchronized (monitor) {
        answered(() -> {
          coordinator.checkFence(ownership);
          claim();
          return null;
        });
      }
    });
  }

  /** Reads the Secret and, when it carries an older token, writes ours under its resourceVersion. */
  private void claim() {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Secret current = secrets().withName(name).get();
      if (current == null) {
        head = null;
        state = State.empty();
        return;
      }
      long token = tokenOf(current);
      if (token > ownership.token()) {
        throw fenced("lock", "the Secret carries the newer token " + token);
      }
      State read;
      try {
        read = readState(current);
      } catch (ChunkGoneException e) {
        if (attempt + 1 < ATTEMPTS) {
          continue;  // rewritten between our reads: read it again
        }
        damaged(new StoreCorruptException(store() + ": " + e.getMessage(), null));
        return;
      } catch (StoreCorruptException e) {
        // the lock is still handed out, as the file store's is, so that load() says what is damaged; every write is
        // refused, and nothing is marked or written over
        damaged(e);
        return;
      }
      if (token == ownership.token() && ours(current)) {
        head = current;
        state = read;
        return;
      }
      // an older token, or ours written by another grant of the same count (a target Lease made anew, or taken
      // again, at the number this one has; the Lease check just passed says this grant is the current one):
      // marked as ours, so that the other writer's next write conflicts and finds it is not its own
      try {
        head = secrets().resource(new SecretBuilder(current).editMetadata().addToAnnotations(marks()).endMetadata()
            .build()).update();
        state = read;
        LOG.info("{} claimed Secret store {} (token {} after {})", ownership.member(), where(), ownership.token(), token);
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        // written meanwhile: read it again
      }
    }
    throw new StoreException("Secret store " + where() + " kept changing while " + ownership.member()
        + " claimed it; retried " + ATTEMPTS + " times");
  }

  // ------------------------------------------------------------------------------------- read

  @Override
  public StoredState load() {
    State s = answered(this::read);
    if (s == null) {
      return StoredState.empty();
    }
    String at = store();
    TreeMap<ResourceKey, StoredResource> inventory = new TreeMap<>();
    TreeMap<ResourceKey, Resource> pending = new TreeMap<>();
    try {
      s.inventory().forEach((k, v) -> inventory.put(k, StoreEntries.readInventoryEntry(v, at)));
      s.pending().forEach((k, v) -> pending.put(k, StoreEntries.readPendingEntry(v, at)));
    } catch (StoreCorruptException e) {
      throw damaged(e);
    }
    return new StoredState(s.serial(), inventory, pending, s.attempted(), s.applied(), false);
  }

  @Override
  public List<HistoryEntry> history() {
    State s = answered(this::read);
    List<HistoryEntry> out = new ArrayList<>();
    if (s != null) {
      for (int i = s.history().size() - 1; i >= 0; i--) {
        try {
          out.add(StoreEntries.readHistoryEntry(s.history().get(i), historyEntryAt(s.history().size() - i)));
        } catch (StoreCorruptException e) {
          throw damaged(e);
        }
      }
    }
    return List.copyOf(out);
  }

  /**
   * The damage {@code e}, kept so that every write is refused with it ({@link #damaged}), and
   * returned to be thrown.
   */
  private StoreCorruptException damaged(StoreCorruptException e) {
    if (damaged == null) {
      LOG.debug("{}: {}", store(), e.getMessage());
    }
    damaged = e;
    return e;
  }

  /** Refuses a write once a read met damage: it would replace the whole state, and lose what could not be read. */
  private void refuseIfDamaged(String what) {
    StoreCorruptException d = damaged;
    if (d != null) {
      throw new StoreCorruptException(store() + " refuses to " + what + ": " + d.getMessage() + "; it refuses"
          + " writes until the Secret is repaired (or deleted) and the store opened again", d);
    }
  }

  /** The state on the API server, or null when nothing was written yet; damage it meets is kept ({@link #damaged}). */
  private State read() {
    try {
      return readOnce();
    } catch (StoreCorruptException e) {
      throw damaged(e);
    }
  }

  private State readOnce() {
    for (int attempt = 0; ; attempt++) {
      Secret current = secrets().withName(name).get();
      if (current == null || !hasState(current)) {
        return null;
      }
      try {
        return readState(current);
      } catch (ChunkGoneException e) {
        // a writer replaced the generation between our two reads: read the new one
        if (attempt + 1 >= ATTEMPTS) {
          throw new StoreCorruptException(store() + ": " + e.getMessage(), null);
        }
      }
    }
  }

  private static boolean hasState(Secret s) {
    return (s.getData() != null && s.getData().containsKey("state")) || annotation(s, GENERATION_ANNOTATION) != null;
  }

  /** A chunk the Secret points at is missing: a concurrent rewrite, or damage if it persists. */
  private static final class ChunkGoneException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ChunkGoneException(String message) {
      super(message);
    }
  }

  private State readState(Secret s) {
    if (!hasState(s)) {
      return State.empty();
    }
    byte[] gz;
    String generation = annotation(s, GENERATION_ANNOTATION);
    if (generation == null) {
      gz = decode(s.getData().get("state"), "state");
    } else {
      int chunks = parseInt(annotation(s, CHUNKS_ANNOTATION), CHUNKS_ANNOTATION);
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      for (int i = 0; i < chunks; i++) {
        Secret chunk = secrets().withName(chunkName(generation, i)).get();
        if (chunk == null || chunk.getData() == null || !chunk.getData().containsKey("part")) {
          throw new ChunkGoneException("chunk Secret " + chunkName(generation, i) + " is missing");
        }
        all.writeBytes(decode(chunk.getData().get("part"), chunkName(generation, i)));
      }
      gz = all.toByteArray();
      if (!Sha256.hex(gz).equals(annotation(s, DIGEST_ANNOTATION))) {
        throw new ChunkGoneException("the chunks of generation " + generation + " do not match the digest "
            + annotation(s, DIGEST_ANNOTATION));
      }
    }
    return parse(gunzip(gz));
  }

  private State parse(byte[] json) {
    String at = store();
    try {
      JsonNode n = JSON.readTree(json);
      if (n == null || n.path("format").asInt() != FORMAT || !n.path("serial").canConvertToLong()
          || !n.path("attempted").isTextual() || !n.path("applied").isTextual() || !n.path("inventory").isArray()
          || !n.path("pending").isArray() || !n.path("history").isArray()) {
        throw new StoreCorruptException(at + ": not a format-" + FORMAT + " state", null);
      }
      // a key twice (an entry's key edited by hand) is damage: in the map one entry hid the other, and the next
      // write would have dropped it
      TreeMap<ResourceKey, byte[]> inventory = new TreeMap<>();
      for (JsonNode e : n.get("inventory")) {
        byte[] b = JSON.writeValueAsBytes(e);
        once(inventory, StoreEntries.readInventoryEntry(b, at).resource().key(), b, "inventory");
      }
      TreeMap<ResourceKey, byte[]> pending = new TreeMap<>();
      for (JsonNode e : n.get("pending")) {
        byte[] b = JSON.writeValueAsBytes(e);
        once(pending, StoreEntries.readPendingEntry(b, at).key(), b, "pending");
      }
      // read here, not only by history(): every write rewrites the history with the rest, and one that trims it
      // would drop a damaged entry no read had named
      List<byte[]> history = new ArrayList<>();
      int size = n.get("history").size();
      for (JsonNode e : n.get("history")) {
        byte[] b = JSON.writeValueAsBytes(e);
        StoreEntries.readHistoryEntry(b, historyEntryAt(size - history.size()));
        history.add(b);
      }
      return new State(n.get("serial").longValue(), n.get("attempted").asText(), n.get("applied").asText(), inventory,
          pending, history);
    } catch (IOException e) {
      throw new StoreCorruptException(at + ": not valid JSON (" + JsonErrors.describe(e) + ")", e);
    }
  }

  /** Puts {@code entry} under {@code key}, refusing a key the state holds already as damage naming it. */
  private void once(TreeMap<ResourceKey, byte[]> entries, ResourceKey key, byte[] entry, String kind) {
    if (entries.putIfAbsent(key, entry) != null) {
      throw new StoreCorruptException(store() + ": holds two " + kind + " entries of " + key, null);
    }
  }

  /** Where the history entry {@code n} is, counted from the newest (1), as {@link #history()} lists them. */
  private String historyEntryAt(int n) {
    return store() + ", history entry " + n;
  }

  private static byte[] serialize(State s) {
    try {
      ObjectNode n = JSON.createObjectNode();
      n.put("format", FORMAT);
      n.put("serial", s.serial());
      n.put("attempted", s.attempted());
      n.put("applied", s.applied());
      ArrayNode inventory = n.putArray("inventory");
      for (byte[] e : s.inventory().values()) {
        inventory.add(JSON.readTree(e));
      }
      ArrayNode pending = n.putArray("pending");
      for (byte[] e : s.pending().values()) {
        pending.add(JSON.readTree(e));
      }
      ArrayNode history = n.putArray("history");
      for (byte[] e : s.history()) {
        history.add(JSON.readTree(e));
      }
      return JSON.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new UncheckedIOException("serialising a store state in memory", e);
    }
  }

  // ------------------------------------------------------------------------------------ write

  /** Applies {@code change} to the state and writes it, guarded by the token; the state written. */
  private State write(String what, UnaryOperator<State> change) {
    synchronized (monitor) {
      if (!lock.isHeld()) {
        throw new IllegalStateException("Secret store " + where() + ": " + what + " needs the store lock; call lock()"
            + " first");
      }
      refuseIfDamaged(what);
      try {
        coordinator.checkFence(ownership);
      } catch (FencedException e) {
        throw fenced(what, "its Lease says so");
      }
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        State next = change.apply(state.next());
        Secret before = head;
        List<String> newChunks = new ArrayList<>();
        try {
          head = put(next, newChunks);
          state = next;
          deleteChunksOf(before);
          return next;
        } catch (KubernetesClientException e) {
          deleteChunks(newChunks);
          if (e.getCode() != 409) {
            throw new StoreException("Secret store " + where() + ": " + what + " failed: "
                + coordinator.unanswered(e).getMessage(), e);
          }
        }
        // someone else wrote the Secret since we read it: a newer owner, another grant of our token's number (a
        // target Lease made anew or taken again at the same count), or a second store of this same grant. The fence
        // is checked again as a fresh write checks it: the Secret's writer (token, member and grant time; by its token
        // alone when it names none, a previous build's write), then the Lease, before anything is written over what
        // that writer wrote
        Secret current = answered(() -> secrets().withName(name).get());
        String foreign = current == null ? null : foreign(current);
        if (foreign != null) {
          throw fenced(what, foreign);
        }
        try {
          coordinator.checkFence(ownership);
        } catch (FencedException e) {
          throw fenced(what, "its Lease says so");
        }
        try {
          state = current == null ? State.empty() : readState(current);
          head = current;
        } catch (ChunkGoneException e) {
          // rewritten between our reads: the next attempt conflicts again and reads it anew
        } catch (StoreCorruptException e) {
          throw damaged(e);  // written damaged meanwhile: nothing is written over it
        }
      }
      throw new StoreException("Secret store " + where() + ": " + what + " kept conflicting; retried " + ATTEMPTS
          + " times");
    }
  }

  /** Writes {@code next}: chunks first when it needs them, then the Secret under its resourceVersion. */
  private Secret put(State next, List<String> newChunks) {
    byte[] gz = gzip(serialize(next));
    Map<String, String> annotations = new HashMap<>();
    annotations.put(LeaseCoordinator.TARGET_ANNOTATION, ownership.target());
    annotations.putAll(marks());
    Map<String, String> data = new LinkedHashMap<>();
    if (head != null && head.getData() != null && head.getData().containsKey("secret")) {
      data.put("secret", head.getData().get("secret"));
    }
    if (head != null && head.getData() != null && head.getData().containsKey(OWNER_KEY)) {
      data.put(OWNER_KEY, head.getData().get(OWNER_KEY));  // under head's resourceVersion: never a stale copy
    }
    if (gz.length <= chunkBytes) {
      data.put("state", Base64.getEncoder().encodeToString(gz));
    } else {
      String generation = next.serial() + "-" + randomHex(4);
      int chunks = (gz.length + chunkBytes - 1) / chunkBytes;
      for (int i = 0; i < chunks; i++) {
        byte[] part = Arrays.copyOfRange(gz, i * chunkBytes, Math.min(gz.length, (i + 1) * chunkBytes));
        String chunkName = chunkName(generation, i);
        secrets().resource(new SecretBuilder().withNewMetadata().withName(chunkName)
            .withNamespace(coordinator.namespace()).addToLabels(labels(ROLE_CHUNK)).addToLabels(STORE_LABEL, name)
            .endMetadata().withType("Opaque").withImmutable(true)
            .addToData("part", Base64.getEncoder().encodeToString(part)).build()).create();
        newChunks.add(chunkName);
      }
      annotations.put(GENERATION_ANNOTATION, generation);
      annotations.put(CHUNKS_ANNOTATION, Integer.toString(chunks));
      annotations.put(DIGEST_ANNOTATION, Sha256.hex(gz));
    }
    if (head == null) {
      return secrets().resource(new SecretBuilder().withNewMetadata().withName(name)
          .withNamespace(coordinator.namespace()).addToLabels(labels(ROLE_STORE)).withAnnotations(annotations)
          .endMetadata().withType("Opaque").withData(data).build()).create();
    }
    // the resourceVersion we last saw stays in the metadata: a write in between makes this a 409
    return secrets().resource(new SecretBuilder(head).editMetadata().withAnnotations(annotations).endMetadata()
        .withData(data).build()).update();
  }

  private void deleteChunksOf(Secret old) {
    String generation = old == null ? null : annotation(old, GENERATION_ANNOTATION);
    if (generation == null) {
      return;
    }
    List<String> names = new ArrayList<>();
    int chunks = parseInt(annotation(old, CHUNKS_ANNOTATION), CHUNKS_ANNOTATION);
    for (int i = 0; i < chunks; i++) {
      names.add(chunkName(generation, i));
    }
    deleteChunks(names);
  }

  private void deleteChunks(List<String> names) {
    for (String n : names) {
      try {
        secrets().withName(n).delete();
      } catch (KubernetesClientException e) {
        // an orphaned chunk wastes space but is never read: nothing points at it any more
        LOG.warn("Secret store {}: could not delete the old chunk {}: {}", where(), n, e.toString());
      }
    }
  }

  private FencedException fenced(String what, String why) {
    return new FencedException("fenced: " + what + " in the Secret store of target " + ownership.target()
        + " refused; member " + ownership.member() + " no longer owns it (its token " + ownership.token()
        + " is stale: " + why + ")");
  }

  @Override
  public void writePending(Resource desired) {
    Objects.requireNonNull(desired, "desired");
    byte[] entry = StoreEntries.pendingEntry(desired);
    write("write pending " + desired.key(), s -> {
      s.pending().put(desired.key(), entry);
      return s;
    });
  }

  @Override
  public StoredResource commit(Resource lastApplied, String revision) {
    Objects.requireNonNull(lastApplied, "lastApplied");
    Objects.requireNonNull(revision, "revision");
    State written = write("commit " + lastApplied.key(), s -> {
      s.inventory().put(lastApplied.key(),
          StoreEntries.inventoryEntry(new StoredResource(lastApplied, s.serial(), revision)));
      s.pending().remove(lastApplied.key());
      return s;
    });
    return new StoredResource(lastApplied, written.serial(), revision);
  }

  @Override
  public void clearPending(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    write("clear pending " + key, s -> {
      s.pending().remove(key);
      return s;
    });
  }

  @Override
  public void forget(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    write("forget " + key, s -> {
      s.pending().remove(key);
      s.inventory().remove(key);
      return s;
    });
  }

  @Override
  public void recordRevisions(String attempted, String applied) {
    Objects.requireNonNull(attempted, "attempted");
    write("record revisions", s -> s.withRevisions(attempted, applied == null ? s.applied() : applied));
  }

  @Override
  public void appendHistory(HistoryEntry entry) {
    Objects.requireNonNull(entry, "entry");
    byte[] bytes = StoreEntries.historyEntry(entry);
    write("append history " + entry.id(), s -> {
      s.history().add(bytes);
      while (s.history().size() > historyLimit) {
        s.history().remove(0);
      }
      return s;
    });
  }

  // ------------------------------------------------------------------------------------ owner

  /**
   * {@inheritDoc}
   *
   * <p>Read from the data key {@code owner} of the target's Secret on the API server; a store
   * without it (never written, or written by a build before owners were recorded) has none.
   *
   * @throws StoreCorruptException naming the Secret when the key is not base64 of {@code {"owner":
   *     "<id>"}}
   */
  @Override
  public Optional<String> owner() {
    Secret current = answered(() -> secrets().withName(name).get());
    return Optional.ofNullable(current == null ? null : ownerOf(current));
  }

  /** The owner {@code s} records, or null when it records none. */
  private String ownerOf(Secret s) {
    String value = s.getData() == null ? null : s.getData().get(OWNER_KEY);
    return value == null ? null : StoreEntries.readOwnerEntry(decode(value, "data key " + OWNER_KEY),
        "Secret store " + where() + ", data key " + OWNER_KEY);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Adds the data key {@code owner} to the target's Secret (creating it when absent) under the
   * resourceVersion just read, after the owner's Lease check and only while the Secret carries no
   * newer token, so a stale owner records nothing ({@link FencedException}) and two members
   * racing for a new store record one owner (the second one's write conflicts and reads the first
   * one's owner).
   */
  @Override
  public void claimOwner(String owner) {
    StoreEntries.requireOwner(owner);
    String what = "record owner '" + owner + "'";
    synchronized (monitor) {
      if (!lock.isHeld()) {
        throw new IllegalStateException("Secret store " + where() + ": claiming it for owner '" + owner
            + "' needs the store lock; call lock() first");
      }
      refuseIfDamaged(what);
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        Secret current = answered(() -> secrets().withName(name).get());
        String recorded = current == null ? null : ownerOf(current);
        if (recorded != null) {
          if (!recorded.equals(owner)) {
            throw new StoreOwnerException("Secret " + where() + " (target " + ownership.target() + ")", recorded,
                owner);
          }
          return;
        }
        try {
          coordinator.checkFence(ownership);
        } catch (FencedException e) {
          throw fenced(what, "its Lease says so");
        }
        String foreign = current == null ? null : foreign(current);
        if (foreign != null) {
          throw fenced(what, foreign);
        }
        String encoded = Base64.getEncoder().encodeToString(StoreEntries.ownerEntry(owner));
        try {
          // create-if-absent, or add under the resourceVersion just read: a write in between is a 409
          Secret written = current == null
              ? secrets().resource(new SecretBuilder().withNewMetadata().withName(name)
                  .withNamespace(coordinator.namespace()).addToLabels(labels(ROLE_STORE))
                  .addToAnnotations(LeaseCoordinator.TARGET_ANNOTATION, ownership.target())
                  .addToAnnotations(marks()).endMetadata()
                  .withType("Opaque").addToData(OWNER_KEY, encoded).build()).create()
              : secrets().resource(new SecretBuilder(current).editMetadata().addToAnnotations(marks()).endMetadata()
                  .addToData(OWNER_KEY, encoded).build()).update();
          if (head == null ? current == null
              : current != null && Objects.equals(head.getMetadata().getResourceVersion(),
                  current.getMetadata().getResourceVersion())) {
            head = written;  // our own cached view stays current, so the next write does not conflict
          }
          LOG.info("Secret store {}: recorded owner '{}' ({}, token {})", where(), owner, ownership.member(),
              ownership.token());
          return;
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw new StoreException("Secret store " + where() + ": " + what + " failed: "
                + coordinator.unanswered(e).getMessage(), e);
          }
          // created or changed meanwhile: read it again (a newer token is fenced, another owner refused)
        }
      }
      throw new StoreException("Secret store " + where() + " kept changing while " + ownership.member()
          + " recorded owner '" + owner + "'; retried " + ATTEMPTS + " times");
    }
  }

  // ----------------------------------------------------------------------------------- secret

  @Override
  public byte[] secretKey() {
    synchronized (monitor) {
      for (int attempt = 0; secret == null; attempt++) {
        if (attempt >= ATTEMPTS) {
          throw new StoreException("Secret store " + where() + " kept changing while creating its secret key");
        }
        Secret current = answered(() -> secrets().withName(name).get());
        String found = current == null || current.getData() == null ? null : current.getData().get("secret");
        if (found != null) {
          byte[] got = decode(found, "secret");
          if (got.length != SECRET_BYTES) {
            throw new StoreCorruptException(store() + ": a secret key of " + got.length + " bytes, want "
                + SECRET_BYTES, null);
          }
          secret = got;
          break;
        }
        byte[] fresh = new byte[SECRET_BYTES];
        new SecureRandom().nextBytes(fresh);
        String encoded = Base64.getEncoder().encodeToString(fresh);
        try {
          // create-if-absent, or add under the resourceVersion: two members racing end up with the same key
          Secret written = current == null
              ? secrets().resource(new SecretBuilder().withNewMetadata().withName(name)
                  .withNamespace(coordinator.namespace()).addToLabels(labels(ROLE_STORE))
                  .addToAnnotations(LeaseCoordinator.TARGET_ANNOTATION, ownership.target())
                  .addToAnnotations(marks()).endMetadata()
                  .withType("Opaque").addToData("secret", encoded).build()).create()
              : secrets().resource(new SecretBuilder(current).addToData("secret", encoded).build()).update();
          if (head == null || current == null
              || Objects.equals(head.getMetadata().getResourceVersion(), current.getMetadata().getResourceVersion())) {
            head = written;  // our own cached view stays current, so the next write does not conflict
          }
          secret = fresh;
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
          // someone created or changed it meanwhile: read it again
        }
      }
      return secret.clone();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Refuses, without a call to the API server, once a read of this object found the Secret's
   * state damaged, as every write of it is refused then. Whether the member still owns the target
   * is asked when the engine takes the lock (its Lease, before anything is read or applied), and
   * whether the API server takes the write (RBAC, an admission webhook) only a write can tell.
   *
   * @throws StoreCorruptException naming the Secret and the damage, until it is repaired and the
   *     store opened again
   */
  @Override
  public void checkWritable() {
    refuseIfDamaged("record a sync");
  }

  /** Nothing to release: the coordinator owns the client. */
  @Override
  public void close() {
    // the Kubernetes client is the coordinator's (or the placement's) and outlives the store
  }

  @Override
  public String toString() {
    return "Secret store " + where() + " (" + ownership + ")";
  }

  // ---------------------------------------------------------------------------------- helpers

  /**
   * What {@code call} returns; a request the API server never answered is said again naming the
   * server, why and the kubeconfig and context ({@link ApiServerUnreachableException}).
   */
  private <T> T answered(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (KubernetesClientException e) {
      throw coordinator.unanswered(e);
    }
  }

  private String where() {
    return coordinator.namespace() + "/" + name;
  }

  /** {@code Secret store <namespace>/<name> (target <target>)}: what a message about damage names. */
  private String store() {
    return "Secret store " + where() + " (target " + ownership.target() + ")";
  }

  private String chunkName(String generation, int i) {
    return name + "-" + generation + "-" + i;
  }

  private Map<String, String> labels(String role) {
    return Map.of(LeaseCoordinator.CLUSTER_LABEL, coordinator.cluster(), LeaseCoordinator.ROLE_LABEL, role);
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<Secret, io.fabric8.kubernetes.api.model.SecretList,
      io.fabric8.kubernetes.client.dsl.Resource<Secret>> secrets() {
    return coordinator.client().secrets().inNamespace(coordinator.namespace());
  }

  private static String annotation(Secret s, String key) {
    Map<String, String> a = s.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }

  /** The annotations that say which grant wrote the Secret: this store's token, member and grant time. */
  private Map<String, String> marks() {
    return Map.of(TOKEN_ANNOTATION, Long.toString(ownership.token()),
        LeaseCoordinator.MEMBER_ANNOTATION, ownership.member(),
        ACQUIRED_ANNOTATION, ownership.since().toString());
  }

  /** Whether {@code s} was last written under this store's grant: its token, its member and its grant time. */
  private boolean ours(Secret s) {
    return tokenOf(s) == ownership.token()
        && ownership.member().equals(annotation(s, LeaseCoordinator.MEMBER_ANNOTATION))
        && ownership.since().toString().equals(annotation(s, ACQUIRED_ANNOTATION));
  }

  /**
   * Why {@code s} refuses a write of this store's grant, or null: a newer token, or this token's number
   * written by another grant (another member, or the same one granted it at another time: a target
   * Lease made anew or taken again at the same count). The number alone does not tell two grants
   * apart. A Secret that names no writer at all (neither member nor grant time: last written by a
   * build before these annotations, during a rolling upgrade) is compared by its token alone, as
   * that build compared it: at this token it is not refused here, and the Lease check that follows,
   * which compares the whole grant, decides. Refused here, the current owner would fail a sync at
   * every such conflict; taken for ours without that check, a stale writer would write over it.
   * It is never taken for ours by a lock, which marks it as this grant's ({@link #claim}).
   */
  private String foreign(Secret s) {
    long token = tokenOf(s);
    if (token > ownership.token()) {
      return "the Secret carries the newer token " + token;
    }
    if (token == ownership.token() && namesItsWriter(s) && !ours(s)) {
      return "the Secret carries token " + token + " of another grant (member "
          + annotation(s, LeaseCoordinator.MEMBER_ANNOTATION) + ", acquired " + annotation(s, ACQUIRED_ANNOTATION)
          + "; this one: member " + ownership.member() + ", acquired " + ownership.since()
          + "): its target Lease was made anew or taken again at the same count";
    }
    return null;
  }

  /**
   * Whether {@code s} names the grant that wrote it (its member or its grant time): every write of
   * this build does; a build before these annotations wrote the token alone, and dropped them.
   */
  private static boolean namesItsWriter(Secret s) {
    return annotation(s, LeaseCoordinator.MEMBER_ANNOTATION) != null || annotation(s, ACQUIRED_ANNOTATION) != null;
  }

  private long tokenOf(Secret s) {
    String t = annotation(s, TOKEN_ANNOTATION);
    if (t == null) {
      return Long.MIN_VALUE;  // written by nobody's token yet: any owner may claim it
    }
    try {
      return Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw new StoreCorruptException(store() + ": annotation " + TOKEN_ANNOTATION + " is not a number: " + t, e);
    }
  }

  private int parseInt(String value, String annotation) {
    try {
      return Integer.parseInt(Objects.requireNonNull(value, "missing"));
    } catch (RuntimeException e) {
      throw new StoreCorruptException(store() + ": annotation " + annotation + " is not a number: " + value, e);
    }
  }

  private byte[] decode(String base64, String field) {
    try {
      return Base64.getDecoder().decode(base64 == null ? "" : base64);
    } catch (IllegalArgumentException e) {
      throw new StoreCorruptException(store() + ": " + field + " is not base64", e);
    }
  }

  private static byte[] gzip(byte[] raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(raw);
    } catch (IOException e) {
      throw new UncheckedIOException("gzip in memory", e);
    }
    return out.toByteArray();
  }

  private byte[] gunzip(byte[] gz) {
    try (GZIPInputStream z = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return z.readAllBytes();
    } catch (IOException e) {
      throw new StoreCorruptException(store() + ": the state is not gzip (" + e.getMessage() + ")", e);
    }
  }

  private static String randomHex(int bytes) {
    byte[] r = new byte[bytes];
    new SecureRandom().nextBytes(r);
    return HexFormat.of().formatHex(r);
  }
}
