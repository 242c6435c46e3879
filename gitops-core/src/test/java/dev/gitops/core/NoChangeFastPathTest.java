package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.source.TestGitRepo;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.StoreBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The no-change fast path: a new process whose store's marker names the source content it
 * resolves takes the desired state from the store's records and decodes nothing, with the full
 * path's result; any other content (commit, variables, decoder configuration), a store written
 * after the marker, or a pending record decodes in full. Each sync here is a new process: a new
 * source, provider, store object and reconciler over the same repository, cache, target and store.
 */
class NoChangeFastPathTest {

  @TempDir Path tmp;

  TestGitRepo repo;
  Path target;
  /** Files decoded, over every process of a test. */
  final AtomicInteger decodes = new AtomicInteger();
  /** The options of every process. */
  SyncOptions options = SyncOptions.defaults();
  /** The sub-path every process reads. */
  String path = "";
  /** When set, the decoder breaks its contract: its resources name {@code elsewhere/<file>} as their origin. */
  boolean otherOrigins;

  /** The files provider's decoder, counting the files it decodes; {@code variant} is part of its fingerprint. */
  final class Counting implements Decoder {
    final Decoder delegate;
    final String variant;

    Counting(Decoder delegate, String variant) {
      this.delegate = delegate;
      this.variant = variant;
    }

    @Override
    public boolean claims(String path) {
      return delegate.claims(path);
    }

    @Override
    public List<Resource> decode(SourceFile file) {
      decodes.incrementAndGet();
      List<Resource> decoded = delegate.decode(file);
      if (!otherOrigins) {
        return decoded;
      }
      return decoded.stream().map(r -> new Resource(r.key(), r.document(),
          new dev.gitops.api.Origin("elsewhere/" + r.origin().path(), r.origin().line(), r.origin().revision()),
          r.dependsOn(), r.wave(), r.policy(), r.sensitive())).toList();
    }

    @Override
    public String fingerprint() {
      return "counting(" + variant + ")=" + delegate.fingerprint();
    }

    @Override
    public Decoder configure(SourceFile repositoryConfig) {
      return new Counting(delegate.configure(repositoryConfig), variant);
    }
  }

  @BeforeEach
  void repository() throws IOException {
    repo = TestGitRepo.init(tmp.resolve("repo"));
    for (int i = 0; i < 6; i++) {
      repo.write("conf/f" + i + ".conf", "line " + i + " ${NAME}\n");
    }
    repo.commit("gen");
    target = tmp.resolve("target");
  }

  /** One process: its result (a sync), its plan, the files it decoded and the events it reported. */
  record Run(SyncResult result, Plan plan, int decoded, List<dev.gitops.api.SyncEvent> events, long hashed,
      long digestsFromStore, dev.gitops.core.internal.plan.Planner.QuietId quietId, long resourcesHashed) {

    long count(Class<? extends dev.gitops.api.SyncEvent> type) {
      return events.stream().filter(type::isInstance).count();
    }
  }

  /** One new process: a plan (when {@code planOnly}) or a sync, with the files it decoded. */
  Run process(String variant, Map<String, String> variables, boolean planOnly) {
    int before = decodes.get();
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    GitSource source = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache"))
        .path(path).variables(variables).substitution(true)
        .decoder("**", new Counting(files.decoder().orElseThrow(), variant)).build();
    List<dev.gitops.api.SyncEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Reconciler r = Reconciler.builder().source(source).provider(files)
        .store(FileStateStore.open(target.resolve(".gitops"))).options(options).listener(events::add).build()) {
      if (planOnly) {
        Plan plan = r.plan();
        return new Run(null, plan, decodes.get() - before, events, r.planner().documentsHashed(),
            r.planner().documentDigestsFromStore(), r.planner().lastQuietId(), r.planner().resourcesHashed());
      }
      SyncResult result = r.sync();
      return new Run(result, result.plan(), decodes.get() - before, events, r.planner().documentsHashed(),
          r.planner().documentDigestsFromStore(), r.planner().lastQuietId(), r.planner().resourcesHashed());
    }
  }

  Run sync() {
    return process("a", Map.of("NAME", "x"), false);
  }

  Run plan() {
    return process("a", Map.of("NAME", "x"), true);
  }

  Path marker() {
    return target.resolve(".gitops").resolve("nochange.json");
  }

  /** The plan of a new process with the marker removed: the full path (its plan writes nothing). */
  Plan fullPathPlan() throws IOException {
    byte[] saved = Files.readAllBytes(marker());
    Files.delete(marker());
    try {
      Run full = plan();
      assertThat(full.decoded()).as("the full path decodes").isPositive();
      return full.plan();
    } finally {
      Files.write(marker(), saved);
    }
  }

  /** First sync, then the no-change sync that records the in-sync proofs: the marker names the head. */
  void settled() {
    assertThat(sync().result().isSuccessful()).isTrue();
    assertThat(Files.exists(marker())).as("a sync that left every key in sync records the marker").isTrue();
    Run again = sync();
    assertThat(again.result().isSuccessful()).isTrue();
  }

  /** Runs {@code write} under the store's lock with one of its records: the marker is current before it, stale after. */
  void writeStore(java.util.function.BiConsumer<FileStateStore, dev.gitops.api.spi.StoredResource> write) {
    try (FileStateStore store = FileStateStore.open(target.resolve(".gitops"));
        var lock = store.lock(java.time.Duration.ofSeconds(5))) {
      assertThat(store.noChangeMarker()).as("the marker names the store's serial").isPresent();
      write.accept(store, store.load().inventory().values().iterator().next());
      assertThat(store.noChangeMarker()).as("stale once the store is written").isEmpty();
    }
  }

  @Test
  void aNewProcessOfTheSameContentDecodesNothingAndPlansWhatTheFullPathPlans() throws IOException {
    settled();
    Run fast = sync();
    assertThat(fast.decoded()).isZero();
    assertThat(fast.result().isSuccessful()).isTrue();
    assertThat(fast.result().outcomes()).hasSize(6);
    assertThat(fast.plan().changes()).allMatch(c -> c.action() == Action.NOOP);
    assertThat(fast.count(dev.gitops.api.SyncEvent.SourceRead.class)).isEqualTo(1);

    Run fastPlan = plan();
    assertThat(fastPlan.decoded()).isZero();
    Plan full = fullPathPlan();
    assertThat(fastPlan.plan().id()).isEqualTo(full.id()).isEqualTo(fast.plan().id());
    assertThat(fastPlan.plan()).isEqualTo(full);
    assertThat(fast.plan().changes()).isEqualTo(full.changes());
  }

  @Test
  void anEditedLiveFileIsFoundAsDriftAndRepairedByTheFullPath() throws IOException {
    settled();
    Files.writeString(target.resolve("conf/f2.conf"), "edited by hand\n");
    Run fastPlan = plan();
    assertThat(fastPlan.decoded()).as("the drift is found on the records, then planned from a decode").isPositive();
    Change f2 = fastPlan.plan().changes().stream().filter(Change::drift).findFirst().orElseThrow();
    assertThat(f2.action()).isEqualTo(Action.UPDATE);
    assertThat(fastPlan.plan()).isEqualTo(fullPathPlan());
    assertThat(fastPlan.count(dev.gitops.api.SyncEvent.SourceRead.class)).as("reported once").isEqualTo(1);
    assertThat(fastPlan.count(dev.gitops.api.SyncEvent.Planned.class)).isEqualTo(1);
    assertThat(fastPlan.count(dev.gitops.api.SyncEvent.DriftDetected.class)).isEqualTo(1);

    Run repaired = sync();
    assertThat(repaired.result().isSuccessful()).isTrue();
    assertThat(Files.readString(target.resolve("conf/f2.conf"))).isEqualTo("line 2 x\n");
  }

  @Test
  void otherMergeRulesPlanAsTheFullPathDoes() throws IOException {
    settled();
    // the rules shape no decode: the records still are the desired state, and the planner, not the
    // proofs (recorded under the old rules), decides every key
    options = SyncOptions.builder().rules(dev.gitops.api.MergeRules.builder().ignore("/mode").build()).build();
    Run fastPlan = plan();
    assertThat(fastPlan.decoded()).isZero();
    assertThat(fastPlan.plan()).isEqualTo(fullPathPlan());
    Run synced = sync();
    assertThat(synced.result().isSuccessful()).isTrue();
  }

  /**
   * A new process at a new commit whose marker's content differs only in the commit: it decodes
   * {@code files} files, plans what the full path plans (same plan and id), and its sync records
   * the marker of the new content (the next process decodes nothing).
   */
  Run sinceMarker(int files) throws IOException {
    Run p = plan();
    assertThat(p.decoded()).as("only the changed files are decoded").isEqualTo(files);
    Plan full = fullPathPlan();
    assertThat(p.plan().id()).isEqualTo(full.id());
    assertThat(p.plan()).isEqualTo(full);
    assertThat(p.count(dev.gitops.api.SyncEvent.SourceRead.class)).isEqualTo(1);
    Run synced = sync();
    assertThat(synced.decoded()).isEqualTo(files);
    assertThat(synced.result().isSuccessful()).isTrue();
    assertThat(synced.plan()).isEqualTo(full);
    assertThat(sync().decoded()).as("the sync recorded the marker of the new content").isZero();
    return synced;
  }

  /** An edited file ({@code conf/f3.conf}) or an added one in a new directory: the only file decoded. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"conf/f3.conf, changed, changed", "conf/sub/new.conf, new ${NAME}, new x"})
  void aNewCommitDecodesOnlyTheEditedOrAddedFile(String file, String content, String written) throws IOException {
    settled();
    repo.write(file, content + "\n").commit("edit or add");
    sinceMarker(1);
    assertThat(Files.readString(target.resolve(file))).isEqualTo(written + "\n");
  }

  @Test
  void aKeyDeletedInGitDecodesNothingAndIsPruned() throws IOException {
    settled();
    repo.delete("conf/f4.conf").commit("remove f4");
    Run next = sinceMarker(0);
    assertThat(next.plan().changes()).filteredOn(c -> c.action() != Action.NOOP).singleElement()
        .satisfies(c -> assertThat(c.action()).isEqualTo(Action.DELETE));
    assertThat(Files.exists(target.resolve("conf/f4.conf"))).isFalse();
  }

  @Test
  void aRemovedFileThatNoRecordNamesIsReadInFullAndItsKeyPruned() throws IOException {
    otherOrigins = true;
    settled();
    repo.delete("conf/f4.conf").commit("remove f4");
    Run next = sync();
    assertThat(next.decoded()).as("no record names conf/f4.conf: the full read decides").isEqualTo(5);
    assertThat(next.plan().changes()).filteredOn(c -> c.action() != Action.NOOP).singleElement()
        .satisfies(c -> assertThat(c.action()).isEqualTo(Action.DELETE));
    assertThat(Files.exists(target.resolve("conf/f4.conf"))).isFalse();
  }

  @Test
  void aMovedFileIsDecodedAtItsNewPath() throws IOException {
    settled();
    repo.delete("conf/f2.conf").write("moved/f2.conf", "line 2 ${NAME}\n").commit("move");
    Run next = sinceMarker(1);
    Change created = next.plan().changes().stream().filter(c -> c.action() == Action.CREATE).findFirst().orElseThrow();
    assertThat(created.resource().origin().path()).isEqualTo("moved/f2.conf");
    assertThat(created.resource().origin().revision()).contains(repo.head());
    assertThat(Files.exists(target.resolve("conf/f2.conf"))).isFalse();
    assertThat(Files.readString(target.resolve("moved/f2.conf"))).isEqualTo("line 2 x\n");
  }

  @Test
  void twoCommitsAheadDecodesWhatChangedSinceTheMarker() throws IOException {
    settled();
    repo.write("conf/f1.conf", "one\n").commit("c2");
    repo.write("conf/f1.conf", "one again\n").write("conf/f5.conf", "five\n").delete("conf/f0.conf").commit("c3");
    sinceMarker(2);
    assertThat(Files.readString(target.resolve("conf/f1.conf"))).isEqualTo("one again\n");
    assertThat(Files.exists(target.resolve("conf/f0.conf"))).isFalse();
  }

  @Test
  void aChangedFileThatNoLongerDecodesFailsAsOnTheFullPath() throws IOException {
    settled();
    repo.write(".gitops/journal.conf", "into the store\n").commit("a file the provider refuses");
    Throwable since = org.assertj.core.api.Assertions.catchThrowable(this::plan);
    byte[] saved = Files.readAllBytes(marker());
    Files.delete(marker());
    Throwable full = org.assertj.core.api.Assertions.catchThrowable(this::plan);
    Files.write(marker(), saved);
    assertThat(full).isInstanceOf(dev.gitops.api.DecodeException.class);
    assertThat(since).isInstanceOf(full.getClass()).hasMessage(full.getMessage());
  }

  @Test
  void driftOnAKeyTakenFromItsRecordIsPlannedFromAFullDecode() throws IOException {
    settled();
    repo.write("conf/f3.conf", "changed\n").commit("change");
    Files.writeString(target.resolve("conf/f2.conf"), "edited by hand\n");
    Run p = plan();
    assertThat(p.decoded()).as("f2's UPDATE is planned from a decode").isGreaterThan(1);
    assertThat(p.plan()).isEqualTo(fullPathPlan());
    assertThat(p.count(dev.gitops.api.SyncEvent.SourceRead.class)).as("reported once").isEqualTo(1);
    assertThat(sync().result().isSuccessful()).isTrue();
    assertThat(Files.readString(target.resolve("conf/f2.conf"))).isEqualTo("line 2 x\n");
  }

  @Test
  void aNewCommitWithOtherVariablesDecoderPathConfigOrIgnoreFileDecodesInFull() throws IOException {
    settled();
    repo.write("conf/f3.conf", "c2\n").commit("c2");
    assertThat(process("a", Map.of("NAME", "y"), true).decoded()).as("variables").isEqualTo(6);
    assertThat(process("b", Map.of("NAME", "x"), true).decoded()).as("decoder").isEqualTo(6);
    path = "conf";
    assertThat(plan().decoded()).as("sub-path").isEqualTo(6);
    path = "";
    repo.write(".gitops.yaml", "# no settings\n").commit("repository config");
    assertThat(plan().decoded()).as("the repository config").isEqualTo(6);
    repo.write(".gitopsignore", "nothing-matches\n").commit("ignore file");
    assertThat(plan().decoded()).as("an ignore file").isEqualTo(6);
    repo.write("conf/f3.conf", "c4\n").commit("c4");
    assertThat(plan().decoded()).as("a change under an ignore file").isEqualTo(6);
  }

  @Test
  void aNewCommitOnAStaleMarkerOrAPendingRecordDecodesInFull() throws IOException {
    settled();
    repo.write("conf/f3.conf", "c2\n").commit("c2");
    writeStore((store, l) -> store.appendHistory(new dev.gitops.api.spi.HistoryEntry("x", java.time.Instant.now(), "r",
        "p", SyncResult.Status.SUCCEEDED, Map.of(), "written after the marker")));
    assertThat(plan().decoded()).as("stale marker").isEqualTo(6);
    repo.write("conf/f3.conf", "c3\n").commit("c3");
    settled();
    repo.write("conf/f3.conf", "c4\n").commit("c4");
    writeStore((store, l) -> store.writePending(l.resource()));
    assertThat(plan().decoded()).as("pending record").isEqualTo(6);
  }

  @Test
  void changedVariablesOrDecoderConfigurationDecodeInFull() {
    settled();
    Run vars = process("a", Map.of("NAME", "y"), false);
    assertThat(vars.decoded()).isPositive();
    assertThat(vars.plan().changes()).anyMatch(c -> c.action() == Action.UPDATE);

    settled();
    Run decoder = process("b", Map.of("NAME", "x"), true);
    assertThat(decoder.decoded()).isPositive();
  }

  @Test
  void aStoreWrittenAfterTheMarkerOrAPendingRecordDecodesInFull() throws IOException {
    settled();
    writeStore((store, l) -> {
      store.appendHistory(new dev.gitops.api.spi.HistoryEntry("x", java.time.Instant.now(), "r", "p",
          SyncResult.Status.SUCCEEDED, Map.of(), "written after the marker"));
      store.writePending(l.resource());
    });
    Run pending = sync();
    assertThat(pending.decoded()).isPositive();
    assertThat(pending.result().isSuccessful()).isTrue();
    sync();
    assertThat(sync().decoded()).isZero();
  }

  @Test
  void aRecordThatIsNotItsDesiredResourceRecordsNoMarker() throws IOException {
    settled();
    // the record of one key no longer is its desired resource (as after a rules change that strips a field)
    writeStore((store, l) -> store.writeBatch(StoreBatch.builder().applied(l.resource().withDocument(
        dev.gitops.api.Documents.object(Map.of("other", dev.gitops.api.Documents.nodes().textNode("x")))),
        l.revision(), null).build()));
    Run full = sync();
    assertThat(full.decoded()).isPositive();
    assertThat(full.result().isSuccessful()).isTrue();
  }

  @Test
  void aProcessThatTookTheFastPathSeesTheNextCommitAtItsNextSync() throws IOException {
    settled();
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    GitSource source = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache"))
        .variables(Map.of("NAME", "x")).substitution(true)
        .decoder("**", new Counting(files.decoder().orElseThrow(), "a")).build();
    try (Reconciler r = Reconciler.builder().source(source).provider(files)
        .store(FileStateStore.open(target.resolve(".gitops"))).options(options).build()) {
      int before = decodes.get();
      assertThat(r.sync().isSuccessful()).isTrue();
      assertThat(decodes.get()).as("the first sync of the process takes the fast path").isEqualTo(before);
      repo.write("conf/f1.conf", "next commit\n").commit("next");
      SyncResult next = r.sync();
      assertThat(next.isSuccessful()).isTrue();
      assertThat(next.revision()).contains(repo.head());
      assertThat(Files.readString(target.resolve("conf/f1.conf"))).isEqualTo("next commit\n");
    }
  }

  Path digestsFile() {
    return target.resolve(".gitops").resolve("nochange-digests");
  }

  /**
   * The store's digests name its current marker, one per record: the digest of that record's
   * document, a colon, the digest of the resource.
   */
  void assertDigestsAreThoseOfTheRecords() {
    try (FileStateStore store = FileStateStore.open(target.resolve(".gitops"));
        var lock = store.lock(java.time.Duration.ofSeconds(5))) {
      Map<String, String> digests = store.noChangeDigests(store.noChangeMarker().orElseThrow());
      assertThat(digests).hasSize(6);
      store.load().inventory().forEach((key, l) ->
          assertThat(digests.get(key.toString()))
              .isEqualTo(dev.gitops.api.Documents.digest(l.resource().document()) + ":" + l.resource().digest()));
    }
  }

  @Test
  void aProcessesFirstMarkerFromAFullDecodeRecordsTheDigestsSoTheFirstNoChangeSyncHashesNothing() throws IOException {
    Run first = sync();
    assertThat(first.decoded()).as("the first sync decodes in full").isPositive();
    assertThat(Files.exists(marker())).isTrue();
    assertThat(Files.exists(digestsFile())).as("its marker is the process's first: the digests are recorded beside it")
        .isTrue();
    assertDigestsAreThoseOfTheRecords();

    Run next = sync();
    assertThat(next.decoded()).isZero();
    assertThat(next.digestsFromStore()).isEqualTo(6);
    assertThat(next.hashed()).as("the first no-change sync hashes no document").isZero();
    assertThat(next.resourcesHashed()).as("nor a resource for its in-sync proof").isZero();
    assertThat(next.plan().id()).isEqualTo(fullPathPlan().id());
  }

  @Test
  void aLongRunningProcessRecordsTheDigestsWithItsFirstMarkerOnly() throws IOException {
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    GitSource source = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache"))
        .variables(Map.of("NAME", "x")).substitution(true).decoder("**", files.decoder().orElseThrow()).build();
    try (Reconciler r = Reconciler.builder().source(source).provider(files)
        .store(FileStateStore.open(target.resolve(".gitops"))).options(options).build()) {
      assertThat(r.sync().isSuccessful()).isTrue();
      assertThat(Files.exists(digestsFile())).isTrue();
      Files.delete(digestsFile());
      String firstMarker = Files.readString(marker());
      repo.write("conf/f1.conf", "next commit\n").commit("next");
      assertThat(r.sync().isSuccessful()).isTrue();
      assertThat(Files.readString(marker())).as("the marker of the new commit").isNotEqualTo(firstMarker);
      assertThat(Files.exists(digestsFile())).as("no digests beside a later marker of the same process").isFalse();
    }
  }

  @Test
  void aNewProcessTakesEachDocumentDigestFromTheStoreAndPlansTheFullPathsPlan() throws IOException {
    settled();
    Files.deleteIfExists(digestsFile());
    Run first = sync();
    assertThat(first.decoded()).isZero();
    assertThat(first.digestsFromStore()).as("no digests recorded").isZero();
    assertThat(first.hashed()).as("so it hashes every document").isGreaterThanOrEqualTo(6);
    assertThat(Files.exists(digestsFile())).as("and records them for the next process").isTrue();

    Run next = sync();
    assertThat(next.decoded()).isZero();
    assertThat(next.digestsFromStore()).isEqualTo(6);
    assertThat(next.hashed()).as("no document serialised and hashed").isZero();
    assertThat(next.resourcesHashed()).as("no resource hashed").isZero();
    assertThat(next.result().isSuccessful()).isTrue();
    assertThat(next.plan().changes()).allMatch(c -> c.action() == Action.NOOP);

    Run fastPlan = plan();
    assertThat(fastPlan.hashed()).isZero();
    Plan full = fullPathPlan();
    assertThat(fastPlan.plan().id()).isEqualTo(full.id()).isEqualTo(next.plan().id()).isEqualTo(first.plan().id());
    assertThat(fastPlan.plan()).isEqualTo(full);

    assertDigestsAreThoseOfTheRecords();
  }

  Path planIdFile() {
    return target.resolve(".gitops").resolve("nochange-plan");
  }

  @Test
  void aNoChangeSyncRecordsItsPlanIdAndTheNextProcessOfEqualInputsTakesIt() throws IOException {
    settled();
    Files.deleteIfExists(planIdFile());
    Run computed = sync();
    assertThat(computed.decoded()).isZero();
    assertThat(computed.quietId()).as("every change a plain NOOP").isNotNull();
    assertThat(computed.quietId().fromStore()).as("no id recorded yet: computed").isFalse();
    assertThat(Files.exists(planIdFile())).as("and recorded beside the marker").isTrue();

    Run taken = sync();
    assertThat(taken.decoded()).isZero();
    assertThat(taken.quietId().fromStore()).as("equal inputs: the id is the store's").isTrue();
    assertThat(taken.result().isSuccessful()).isTrue();
    Plan full = fullPathPlan();
    assertThat(taken.plan().id()).isEqualTo(computed.plan().id()).isEqualTo(full.id());
    assertThat(taken.plan().withId("")).isEqualTo(full.withId(""));
    assertThat(dev.gitops.core.internal.plan.PlanFiles.id(taken.plan(), secretKey()))
        .as("the id of the plan's content, computed in full").isEqualTo(taken.plan().id());

    // other options: other inputs, so the id is computed (and equals the full path's)
    options = SyncOptions.builder().adopt(true).build();
    Run other = plan();
    assertThat(other.decoded()).isZero();
    assertThat(other.quietId().fromStore()).isFalse();
    assertThat(other.plan().id()).isNotEqualTo(full.id()).isEqualTo(fullPathPlan().id());
    options = SyncOptions.defaults();

    // a file changed on disk is still found and repaired: its change is no plain NOOP
    Files.writeString(target.resolve("conf/f3.conf"), "edited by hand\n");
    Run repaired = sync();
    assertThat(repaired.result().isSuccessful()).isTrue();
    assertThat(repaired.plan().changes()).anyMatch(c -> c.action() == Action.UPDATE && c.drift());
    assertThat(Files.readString(target.resolve("conf/f3.conf"))).isEqualTo("line 3 x\n");
    Run after = sync();
    assertThat(after.plan().changes()).allMatch(c -> c.action() == Action.NOOP);
    assertThat(after.plan().id()).isEqualTo(fullPathPlan().id());
  }

  @Test
  void aCorruptedPlanIdFileIsIgnoredAndTheIdComputed() throws IOException {
    settled();
    sync();
    byte[] bytes = Files.readAllBytes(planIdFile());
    bytes[bytes.length / 2] ^= 1;
    Files.write(planIdFile(), bytes);
    Run next = sync();
    assertThat(next.quietId().fromStore()).isFalse();
    assertThat(next.plan().id()).isEqualTo(fullPathPlan().id());
    assertThat(sync().quietId().fromStore()).as("recorded again").isTrue();
  }

  byte[] secretKey() {
    try (FileStateStore store = FileStateStore.open(target.resolve(".gitops"))) {
      return store.secretKey();
    }
  }

  /**
   * A digests file an older build wrote holds each document's digest alone: those are taken, and
   * the resources are hashed for their in-sync proofs, as before; the plan is the full path's, and
   * the file is written again with both digests, which the next process takes.
   */
  @Test
  void digestsOfDocumentsAloneAreTakenAndTheResourcesHashed() throws IOException {
    settled();
    sync();
    try (FileStateStore store = FileStateStore.open(target.resolve(".gitops"));
        var lock = store.lock(java.time.Duration.ofSeconds(5))) {
      String marker = store.noChangeMarker().orElseThrow();
      Map<String, String> documents = new java.util.HashMap<>();
      store.load().inventory().forEach((key, l) ->
          documents.put(key.toString(), dev.gitops.api.Documents.digest(l.resource().document())));
      store.recordNoChangeDigests(marker, documents);
    }

    Run older = sync();

    assertThat(older.decoded()).isZero();
    assertThat(older.digestsFromStore()).isEqualTo(6);
    assertThat(older.hashed()).isZero();
    assertThat(older.resourcesHashed()).as("each resource's digest computed for its proof").isGreaterThanOrEqualTo(6);
    assertThat(older.plan().id()).isEqualTo(fullPathPlan().id());
    assertDigestsAreThoseOfTheRecords();
    Run next = sync();
    assertThat(next.resourcesHashed()).as("recorded again, with the resources' digests").isZero();
  }

  @Test
  void aCorruptedDigestsFileIsIgnoredTheDocumentsAreHashedAndItIsRecordedAgain() throws IOException {
    settled();
    sync();
    byte[] bytes = Files.readAllBytes(digestsFile());
    String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    // one digest's first hex digit changed: the checksum no longer holds
    int at = text.indexOf('\n', text.indexOf('\n', text.indexOf('\n', text.indexOf('\n') + 1) + 1) + 1) + 1;
    bytes[at] = (byte) (bytes[at] == '0' ? '1' : '0');
    Files.write(digestsFile(), bytes);

    Run corrupted = sync();
    assertThat(corrupted.decoded()).isZero();
    assertThat(corrupted.digestsFromStore()).isZero();
    assertThat(corrupted.hashed()).isGreaterThanOrEqualTo(6);
    assertThat(corrupted.result().isSuccessful()).isTrue();
    assertThat(corrupted.plan().id()).isEqualTo(fullPathPlan().id());

    Run next = sync();
    assertThat(next.digestsFromStore()).as("recorded again by the sync that hashed").isEqualTo(6);
    assertThat(next.hashed()).isZero();
  }

  @Test
  void hintsAMachineCrashLeftEmptyOrDamagedCostTheShortCutOnly() throws IOException {
    // the marker, digests and plan id are not forced: a crash of the machine may leave them empty or
    // holding other bytes, which must read as no hint, never as a damaged store or a wrong plan
    settled();
    sync();
    for (byte[] left : new byte[][] {new byte[0], "{\"serial\": 1, \"fing".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        new byte[512]}) {
      for (Path hint : List.of(marker(), digestsFile(), planIdFile())) {
        Files.write(hint, left);
      }
      Run after = sync();
      assertThat(after.result().isSuccessful()).as("%d bytes left", left.length).isTrue();
      assertThat(after.decoded()).as("no marker: decoded in full").isEqualTo(6);
      assertThat(after.plan().id()).isEqualTo(fullPathPlan().id());
      Run next = sync();
      assertThat(next.decoded()).as("the marker recorded again").isZero();
      assertThat(next.plan().id()).isEqualTo(after.plan().id());
    }
  }

  @Test
  void digestsOfAnEarlierMarkerAreNotUsed() throws IOException {
    settled();
    sync();
    byte[] old = Files.readAllBytes(digestsFile());
    repo.write("conf/f3.conf", "changed\n").commit("change");
    sync();
    sync();  // records the proof of f3 and the marker of the new head
    Files.write(digestsFile(), old);
    Run fast = sync();
    assertThat(fast.decoded()).isZero();
    assertThat(fast.digestsFromStore()).as("another serial's digests").isZero();
    assertThat(fast.plan().id()).isEqualTo(fullPathPlan().id());
    assertThat(sync().digestsFromStore()).isEqualTo(6);
  }

  @Test
  void aNewCommitTakesTheDigestsOfKeysFromRecordsAndRecordsThoseOfTheNewMarker() throws IOException {
    settled();
    sync();  // the digests of the marker's records
    repo.write("conf/f3.conf", "changed\n").commit("edit");
    Run p = sinceMarker(1);
    assertThat(p.digestsFromStore()).as("each key taken from its record").isEqualTo(5);
    Run planOnly = plan();
    assertThat(planOnly.digestsFromStore()).as("the marker of the new content has all digests").isEqualTo(6);
    assertThat(planOnly.hashed()).isZero();

    // the next commit: again only the decoded document is hashed, with the full path's plan
    repo.write("conf/f1.conf", "changed too\n").commit("edit again");
    Run next = sinceMarker(1);
    assertThat(next.digestsFromStore()).isEqualTo(5);
    assertThat(next.hashed()).as("the decoded document, not the 5 taken from records").isLessThan(5);
    Run quiet = sync();
    assertThat(quiet.decoded()).isZero();
    assertThat(quiet.digestsFromStore()).isEqualTo(6);
    assertThat(quiet.hashed()).isZero();
    assertThat(quiet.plan().id()).isEqualTo(fullPathPlan().id());
    assertDigestsAreThoseOfTheRecords();
  }

  @Test
  void aNewCommitWithoutDigestsHashesAsBeforeAndRecordsThem() throws IOException {
    settled();
    Files.deleteIfExists(digestsFile());
    repo.write("conf/f3.conf", "changed\n").commit("edit");
    Run p = sinceMarker(1);
    assertThat(p.digestsFromStore()).isZero();
    assertThat(p.hashed()).isGreaterThanOrEqualTo(6);
    Run quiet = sync();
    assertThat(quiet.digestsFromStore()).isEqualTo(6);
    assertThat(quiet.hashed()).isZero();
  }
}
