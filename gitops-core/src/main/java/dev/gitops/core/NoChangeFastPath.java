package dev.gitops.core;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Origin;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.internal.plan.Planner;
import dev.gitops.core.source.Fingerprinted;
import dev.gitops.core.store.BatchedStateStore;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The no-change fast path: the desired state of a sync taken from the store's last-applied records
 * instead of decoding the source, when the store's no-change marker vouches that the source content
 * of that fingerprint decodes to exactly those records (each re-dated at the revision). Every key
 * is observed and planned as always on that state, so drift is found; a plan that is not a
 * no-change plan ({@link Plan#isQuiet}) is dropped unreported and the sync reads the source in full, so
 * whatever the sync does, and what a decode refuses or keeps for the apply, comes from a decode.
 * See {@code docs/architecture.md}.
 */
final class NoChangeFastPath {

  private static final Logger LOG = LoggerFactory.getLogger(NoChangeFastPath.class);

  private NoChangeFastPath() {}

  /**
   * A desired state, the fingerprint of the source content it stands for (null when unknown),
   * whether it was taken from the store's records, when it was read since the marker's content
   * ({@link Fingerprinted#readSince}) the keys decoded (null when every key was decoded, or none),
   * and the fingerprint of the store's marker that vouched for the records taken (null when none
   * was taken).
   */
  record Read(State state, Fingerprinted.Resolved resolved, boolean fromStore, Set<ResourceKey> decoded,
      String marker) {

    Read(State state, Fingerprinted.Resolved resolved, boolean fromStore) {
      this(state, resolved, fromStore, null, fromStore ? resolved.fingerprint() : null);
    }

    /** Whether some resources come from the store's records: the plan must then {@link #stands stand}. */
    boolean fromRecords() {
      return fromStore || decoded != null;
    }
  }

  /**
   * Whether {@code plan}, made on {@code read}, is the one to report and run: any plan on a decoded
   * state; on the records alone, a {@link Plan#isQuiet quiet} plan; on a state read since the marker's content,
   * a plan whose every change of a key taken from a record is a NOOP (what a sync writes is planned
   * from decoded resources, as on the full path).
   */
  static boolean stands(Plan plan, Read read) {
    if (read.fromStore()) {
      return plan.isQuiet();
    }
    if (read.decoded() == null) {
      return true;
    }
    Map<ResourceKey, Resource> desired = read.state().resources();
    for (Change c : plan.changes()) {
      if (c.action() != Action.NOOP && !read.decoded().contains(c.key()) && desired.containsKey(c.key())) {
        return false;
      }
    }
    return true;
  }

  /**
   * The store's records and, when {@code request} is given and the store holds a no-change marker
   * ({@link #fromStore} will compare it with the source's fingerprint), that fingerprint: the
   * records are loaded on a thread of their own while this thread resolves it (for a Git source,
   * the ref listing and the fetch of new commits), since neither needs the other. The load is
   * always waited for, and its failure is the one thrown: the store's damage is reported as
   * without the source.
   *
   * @param request the read, or null when the desired state will not come from the store's records
   */
  static Loaded load(Source source, StateStore store, Source.ReadRequest request) {
    if (request == null || !(source instanceof Fingerprinted f) || !(store instanceof BatchedStateStore b)) {
      return new Loaded(store.load(), null, null);
    }
    Optional<String> marker = b.noChangeMarker();
    if (marker.isEmpty()) {
      return new Loaded(store.load(), marker, null);
    }
    FutureTask<StoredState> loading = new FutureTask<>(store::load);
    Thread loader = new Thread(loading, "gitops-store-load");
    loader.setDaemon(true);
    loader.start();
    Optional<Fingerprinted.Resolved> resolved;
    try {
      resolved = f.fingerprint(request, marker.get());
    } finally {
      // also when resolving failed: nothing of this sync runs on after it returns
      awaitUninterruptibly(loading);
    }
    try {
      return new Loaded(loading.get(), marker, resolved);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("loading the store failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      throw new AssertionError("the load has ended", e);
    }
  }

  /**
   * What {@link #load} read: the store's records, its no-change marker when it was read (null when
   * not: {@link #fromStore} reads it), and the source's fingerprint when it was resolved beside
   * the records (null when not: {@link #fromStore} resolves it).
   */
  record Loaded(StoredState stored, Optional<String> marker, Optional<Fingerprinted.Resolved> resolved) {}

  /** Waits for {@code task} to end; an interrupt meanwhile is kept for the caller to see. */
  private static void awaitUninterruptibly(FutureTask<?> task) {
    boolean interrupted = false;
    while (!task.isDone()) {
      try {
        task.get();
      } catch (InterruptedException e) {
        interrupted = true;  // the load is bounded (it reads local files): wait for it, then pass the interrupt on
      } catch (ExecutionException e) {
        break;  // ended; the caller reads its failure from the task
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The desired state from {@code loaded}'s records when the store's marker names the fingerprint
   * {@code source} resolves {@code request} to (the one {@code loaded} holds, when it holds one);
   * null otherwise (the caller reads the source).
   */
  static Read fromStore(Source source, StateStore store, Source.ReadRequest request, Loaded loaded) {
    StoredState stored = loaded.stored();
    if (!(source instanceof Fingerprinted f) || !(store instanceof BatchedStateStore b)
        || !stored.pending().isEmpty() || stored.inventory().isEmpty()) {
      return null;
    }
    Optional<String> marker = loaded.marker() != null ? loaded.marker() : b.noChangeMarker();
    if (marker.isEmpty()) {
      return null;
    }
    Optional<Fingerprinted.Resolved> resolved = loaded.resolved() != null ? loaded.resolved()
        : f.fingerprint(request, marker.get());
    if (resolved.isEmpty()) {
      return null;
    }
    if (!resolved.get().fingerprint().equals(marker.get())) {
      List<Resource> records = new ArrayList<>(stored.inventory().size());
      stored.inventory().values().forEach(l -> records.add(l.resource()));
      Optional<Fingerprinted.Delta> delta = f.readSince(request, marker.get(), records);
      if (delta.isEmpty()) {
        LOG.debug("{}: the source content differs from the store's no-change marker; reading it in full",
            source.describe());
        return null;
      }
      return new Read(delta.get().state(), resolved.get(), false, delta.get().decoded(), marker.get());
    }
    String revision = resolved.get().revision();
    List<Resource> resources = new ArrayList<>(stored.inventory().size());
    for (StoredResource l : stored.inventory().values()) {
      resources.add(redated(l.resource(), revision));
    }
    LOG.info("{}: {} is the content the store's no-change marker vouches for: its {} resources are taken from the"
        + " store's records, nothing decoded", source.describe(), revision, resources.size());
    return new Read(State.of(revision, resources), resolved.get(), true);
  }

  /**
   * Hands {@code planner} the store's digests of each record, of its document and of the resource
   * ({@link #recorded}), for every key {@code read} took from those records ({@link
   * BatchedStateStore#noChangeDigests}): all of them on the fast path, those not decoded when read
   * since the marker's content. No such document is serialised and hashed for its digest, nor the
   * resource hashed for the in-sync proof's check; a key without a well-formed stored digest is
   * hashed as always, and a decoded key always is. The digests are bound to the marker's serial
   * and fingerprint, so they are those of the very records read.
   */
  static void rememberDigests(StateStore store, Read read, Planner planner) {
    offerPlanId(store, read, planner);
    if (read.marker() == null || !(store instanceof BatchedStateStore b)) {
      return;
    }
    Map<String, String> digests = b.noChangeDigests(read.marker());
    if (digests.isEmpty()) {
      return;
    }
    int taken = 0;
    for (Resource r : read.state().resources().values()) {
      if (read.decoded() != null && read.decoded().contains(r.key())) {
        continue;
      }
      String digest = digests.get(r.key().toString());
      if (digest == null) {
        continue;
      }
      String document = digest;
      String resource = null;
      if (digest.length() == 2 * SHA256_HEX + 1 && digest.charAt(SHA256_HEX) == ':') {
        document = digest.substring(0, SHA256_HEX);
        resource = digest.substring(SHA256_HEX + 1);
      }
      if (isSha256Hex(document)) {
        planner.rememberDesiredDocumentDigest(r, document);
        taken++;
        if (resource != null && isSha256Hex(resource)) {
          planner.rememberDesiredResourceDigest(r, resource);
        }
      }
    }
    planner.tookDocumentDigestsFromStore(taken);
    LOG.debug("{} of {} document digests taken from the store", taken, read.state().resources().size());
  }

  /**
   * On the fast path, offers {@code planner} the plan id the store recorded for the marker ({@link
   * BatchedStateStore#noChangePlanId}): a plan whose changes are all plain NOOPs of the same inputs
   * takes it instead of computing it, and any such plan has its inputs and id kept for {@link
   * #record}. Off the fast path, nothing is offered (no input is digested).
   */
  private static void offerPlanId(StateStore store, Read read, Planner planner) {
    if (!read.fromStore() || !(store instanceof BatchedStateStore b)) {
      planner.offerQuietId(null);
      return;
    }
    planner.offerQuietId(b.noChangePlanId(read.marker())
        .map(v -> new Planner.QuietId(v.inputs(), v.id(), true))
        .orElse(new Planner.QuietId("", "", true)));
  }

  /**
   * After a sync from the store's records whose changes were all plain NOOPs and whose plan id
   * was computed (not taken from the store): records that id and its inputs for the marker, so the
   * next new process's plan of equal inputs takes it ({@link Planner#offerQuietId}).
   */
  private static void recordPlanId(BatchedStateStore b, Read read, Planner planner, Plan plan) {
    Planner.QuietId q = planner.lastQuietId();
    if (!read.fromStore() || plan == null || q == null || q.fromStore() || !q.id().equals(plan.id())) {
      return;
    }
    b.recordNoChangePlanId(read.resolved().fingerprint(), q.inputs(), q.id());
    LOG.debug("no-change plan id {} recorded for {}", q.id(), read.state().revision());
  }

  /**
   * After a sync from the store's records that had to hash documents or resources the store held
   * no digest for (as from a file an older build wrote, of documents alone), one read since the
   * marker's content that recorded the marker of the new content, or the first marker a process
   * records from a full decode ({@code firstOfProcess}): records every key's digests for the
   * marker, so the next new process hashes none (the keys taken from records have their digests
   * from the store already, a decoded one was hashed by the plan and the observe). A process that
   * keeps running (an agent) never reads them, so after its first marker it writes nothing more
   * than the marker on the full path.
   */
  private static void recordDigests(BatchedStateStore b, Read read, Planner planner, boolean firstOfProcess) {
    Map<ResourceKey, Resource> desired = read.state().resources();
    boolean allFromStore = planner.documentDigestsFromStore() >= desired.size()
        && planner.resourceDigestsFromStore() >= desired.size();
    if (!read.fromRecords() && !firstOfProcess || read.fromStore() && allFromStore) {
      return;
    }
    Map<String, String> digests = new java.util.HashMap<>(desired.size() * 4 / 3 + 1);
    for (Resource d : desired.values()) {
      digests.put(d.key().toString(), recorded(planner, d));
    }
    b.recordNoChangeDigests(read.resolved().fingerprint(), digests);
    LOG.debug("no-change digests recorded for {} ({} documents)", read.state().revision(), digests.size());
  }

  /**
   * What the digests file holds for desired resource {@code d}: the digest of its document, a
   * colon and the digest of the resource ({@link Planner#desiredResourceDigest}, which its in-sync
   * proof is checked against at every observe). Both are known after the sync that records them
   * (the plan digested every document, the observe every resource whose proof it checked). A file
   * of an older build holds the document's digest alone, which is taken as such.
   */
  private static String recorded(Planner planner, Resource d) {
    return planner.desiredDocumentDigest(d) + ":" + planner.desiredResourceDigest(d);
  }

  private static final int SHA256_HEX = 64;

  private static boolean isSha256Hex(String s) {
    if (s.length() != SHA256_HEX) {
      return false;
    }
    for (int i = 0; i < SHA256_HEX; i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  /** {@code r} as read at {@code revision}: its origin names that revision (when it names one at all). */
  static Resource redated(Resource r, String revision) {
    Origin o = r.origin();
    if (o.revision().isEmpty() || o.revision().equals(revision)) {
      return r;
    }
    return new Resource(r.key(), r.document(), new Origin(o.path(), o.line(), revision), r.dependsOn(), r.wave(),
        r.policy(), r.sensitive());
  }

  /**
   * After a sync that succeeded in full from {@code read}: records the store's marker when every
   * record the store now holds is, re-dated, the desired resource of its key (the same keys, no
   * pending record), so the next sync of the same content may skip decoding. Nothing when the
   * marker already names this content at the store's serial. With {@code firstOfProcess} (the
   * process's first marker) the document digests are recorded beside a marker recorded from a full
   * decode too, so a new process's first no-change sync after a first sync hashes nothing. After
   * a sync from the records whose {@code plan} changed nothing, its id is recorded beside the
   * marker ({@link #recordPlanId}).
   *
   * @return whether a marker was recorded
   */
  static boolean record(StateStore store, Read read, Planner planner, Plan plan, boolean firstOfProcess) {
    if (read.resolved() == null || !(store instanceof BatchedStateStore b)
        || !read.resolved().revision().equals(read.state().revision())) {
      return false;
    }
    String fingerprint = read.resolved().fingerprint();
    if (b.noChangeMarker().filter(fingerprint::equals).isPresent()) {
      recordDigests(b, read, planner, false);
      recordPlanId(b, read, planner, plan);
      return false;
    }
    StoredState now = store.load();
    Map<ResourceKey, Resource> desired = read.state().resources();
    if (!now.pending().isEmpty() || now.inventory().size() != desired.size()) {
      return false;
    }
    String revision = read.state().revision();
    // both maps are sorted by key and of one size: walked side by side, each record meets the
    // desired resource of its own key exactly when the two hold the same keys
    Iterator<Resource> wanted = desired.values().iterator();
    for (StoredResource l : now.inventory().values()) {
      Resource d = wanted.next();
      if (!d.key().equals(l.resource().key())) {
        LOG.debug("no no-change marker at {}: the store holds {} where the desired state holds {}", revision,
            l.resource().key(), d.key());
        return false;
      }
      // a key taken from its record, whose change was a NOOP (stands), holds that record: equal by construction
      boolean decoded = read.decoded() == null || read.decoded().contains(l.resource().key());
      if (decoded && !redated(l.resource(), revision).equals(d)) {
        LOG.debug("no no-change marker at {}: the record of {} is not its desired resource", revision,
            l.resource().key());
        return false;
      }
    }
    b.recordNoChangeMarker(fingerprint);
    LOG.debug("no-change marker recorded for {} ({} records)", revision, desired.size());
    if (read.decoded() != null || firstOfProcess) {
      // the digests file names the marker's serial and fingerprint: the old one's is stale now
      recordDigests(b, read, planner, firstOfProcess);
    }
    recordPlanId(b, read, planner, plan);
    return true;
  }
}
