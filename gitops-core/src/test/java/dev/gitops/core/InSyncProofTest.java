package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.LiveVersion;
import dev.gitops.api.Observation;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.store.FileStateStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A key the store proves in sync (desired digest, rules, last-applied record and live version
 * token unchanged since it was verified) is neither read nor merged by a new process; anything
 * that moved is observed and merged as before.
 */
class InSyncProofTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final int N = 12;

  @TempDir
  Path tmp;

  final MapProvider live = new MapProvider("m", true);
  /** Observations in full (documents read), over every process of a test, and the keys they were of. */
  final AtomicInteger fullReads = new AtomicInteger();
  final java.util.Set<ResourceKey> readKeys = java.util.concurrent.ConcurrentHashMap.newKeySet();
  final AtomicInteger versionCalls = new AtomicInteger();

  /** A provider passed through, counting the keys observed in full (the SPI's default versions: none). */
  class Counting extends DelegatingProvider {
    Counting(dev.gitops.api.spi.Provider delegate) {
      super(delegate);
    }

    @Override
    public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
      fullReads.addAndGet(keys.size());
      readKeys.addAll(keys);
      return super.observe(keys, ctx);
    }
  }

  /** The map provider with version tokens answered without documents, counting full reads. */
  DelegatingProvider withVersions() {
    return new Counting(live) {
      @Override
      public Map<ResourceKey, LiveVersion> versions(Collection<ResourceKey> keys, CallContext ctx) {
        versionCalls.incrementAndGet();
        Map<ResourceKey, LiveVersion> out = new HashMap<>();
        for (ResourceKey k : keys) {
          if (live.live.containsKey(k)) {
            out.put(k, LiveVersion.of(k, live.versions.get(k), live.markOf.get(k)));
          }
        }
        return out;
      }
    };
  }

  /** The same live system through a provider that answers no versions (the SPI's default). */
  DelegatingProvider withoutVersions() {
    return new Counting(live);
  }

  /** The same live system through a provider whose observations carry no version token. */
  DelegatingProvider withoutTokens() {
    return new DelegatingProvider(live) {
      @Override
      public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
        fullReads.addAndGet(keys.size());
        Map<ResourceKey, Observation> out = new HashMap<>();
        super.observe(keys, ctx).forEach((k, o) -> out.put(k, o.isPresent()
            ? new Observation(k, o.status(), o.live(), "", o.mark(), o.reason()) : o));
        return out;
      }
    };
  }

  static JsonNode json(String s) {
    try {
      return JSON.readTree(s.replace('\'', '"'));
    } catch (Exception e) {
      throw new IllegalArgumentException(s, e);
    }
  }

  static State desired(String revision, String changedName, String changedDoc) {
    List<Resource> rs = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      String name = "k" + i;
      rs.add(Resource.of(ResourceKey.of("m", "thing", "", name),
          json(name.equals(changedName) ? changedDoc : "{'name':'" + name + "','size':" + i + "}")));
    }
    return State.of(revision, rs);
  }

  /** One sync by a new reconciler (a new process: empty planner memo), with its merge count. */
  record Run(SyncResult result, long merges) {}

  Run newProcess(State state, dev.gitops.api.spi.Provider provider, FileStateStore.Options options) {
    try (Reconciler r = Reconciler.builder().desiredState(state).provider(provider)
        .store(FileStateStore.open(tmp.resolve("store"), options)).build()) {
      SyncResult result = r.sync();
      return new Run(result, r.planner().merges());
    }
  }

  Run newProcess(State state, dev.gitops.api.spi.Provider provider) {
    return newProcess(state, provider, FileStateStore.Options.defaults());
  }

  Map<ResourceKey, StoredResource> inventory() {
    try (FileStateStore s = FileStateStore.openReadOnly(tmp.resolve("store"))) {
      return s.load().inventory();
    }
  }

  @Test
  void versionTokensThatThrowAnErrorAreObservedInFullAsTheirJavadocSays() {
    State state = desired("r1", null, null);
    assertThat(newProcess(state, withVersions()).result().isSuccessful()).isTrue();
    assertThat(inventory().values()).allSatisfy(l -> assertThat(l.inSync()).isNotNull());
    fullReads.set(0);

    DelegatingProvider broken = new Counting(live) {
      @Override
      public Map<ResourceKey, LiveVersion> versions(Collection<ResourceKey> keys, CallContext ctx) {
        versionCalls.incrementAndGet();
        throw new AssertionError("invariant broken");
      }
    };
    Run again = newProcess(state, broken);

    assertThat(versionCalls).as("the tokens were asked for").hasValue(1);
    assertThat(again.result().isSuccessful()).as(again.result().toString()).isTrue();
    assertThat(fullReads).as("every key observed in full instead").hasValue(N);
  }

  @Test
  void aNewProcessOverAnInSyncLiveSystemReadsAndMergesNothing() {
    assertThat(newProcess(desired("r1", null, null), withVersions()).result().isSuccessful()).isTrue();
    assertThat(inventory().values()).as("every verified create is committed with its proof")
        .allSatisfy(l -> assertThat(l.inSync()).isNotNull());
    fullReads.set(0);

    Run again = newProcess(desired("r1", null, null), withVersions());

    assertThat(again.result().isSuccessful()).isTrue();
    assertThat(again.result().plan().changes()).extracting(Change::action).containsOnly(Action.NOOP);
    assertThat(again.merges()).as("merges").isZero();
    assertThat(fullReads.get()).as("keys observed in full").isZero();
    assertThat(versionCalls.get()).isPositive();
  }

  /** {@code n} resources; the one at {@code moved} (none when negative) in wave 1, its document unchanged. */
  static State many(String revision, int n, int moved) {
    List<Resource> rs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Resource r = Resource.of(ResourceKey.of("m", "thing", "", "k" + i),
          json("{'name':'k" + i + "','size':" + i + "}"));
      rs.add(i != moved ? r : new Resource(r.key(), r.document(), r.origin(), r.dependsOn(), 1, r.policy(),
          r.sensitive()));
    }
    return State.of(revision, rs);
  }

  @Test
  void manyKeysAreProvenAndOneWhoseWaveMovedIsReadAlone() {
    int n = 1500;  // several chunks of the files provider's and the plan's parallel passes
    assertThat(newProcess(many("r1", n, -1), withVersions()).result().isSuccessful()).isTrue();
    fullReads.set(0);

    Run again = newProcess(many("r1", n, -1), withVersions());

    assertThat(again.merges()).isZero();
    assertThat(fullReads.get()).as("keys observed in full").isZero();
    readKeys.clear();
    // the wave is in the resource's digest, not in its document's: the proof no longer holds for that key
    Run moved = newProcess(many("r2", n, 777), withVersions());
    assertThat(readKeys).containsExactly(ResourceKey.of("m", "thing", "", "k777"));
    assertThat(moved.result().isSuccessful()).isTrue();
  }

  @Test
  void aPlanProvenInSyncIsThePlanAFullObserveAndMergeMakes() {
    newProcess(desired("r1", null, null), withVersions());
    Run proven = newProcess(desired("r1", null, null), withVersions());
    Run full = newProcess(desired("r1", null, null), withoutVersions());

    Run merged = newProcess(desired("r1", null, null), withoutTokens());

    assertThat(full.merges()).as("read in full, but the token still proves the key").isZero();
    assertThat(merged.merges()).as("without tokens every key is merged, as before").isEqualTo(N);
    assertThat(proven.result().plan().id()).isEqualTo(full.result().plan().id()).isEqualTo(merged.result().plan().id());
    assertThat(proven.result().plan().changes()).isEqualTo(full.result().plan().changes());
  }

  @Test
  void aLiveEditBehindTheEnginesBackMovesTheTokenAndIsFoundAsDrift() {
    newProcess(desired("r1", null, null), withVersions());
    ResourceKey k3 = ResourceKey.of("m", "thing", "", "k3");
    live.put(k3, json("{'name':'k3','size':99}"));  // a new version token, as any write gives
    readKeys.clear();

    Run again = newProcess(desired("r1", null, null), withVersions());

    Change c = again.result().plan().change(k3).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.UPDATE);
    assertThat(c.drift()).isTrue();
    assertThat(again.merges()).as("only the drifted key is merged").isEqualTo(1);
    assertThat(readKeys).as("only the drifted key is read (to plan, and again to verify the repair)")
        .containsExactly(k3);
    assertThat(live.live.get(k3)).isEqualTo(json("{'name':'k3','size':3}"));
  }

  @Test
  void aChangedDesiredDocumentIsReadAndMergedAloneByANewProcess() {
    newProcess(desired("r1", null, null), withVersions());
    readKeys.clear();

    Run again = newProcess(desired("r2", "k5", "{'name':'k5','size':500}"), withVersions());

    ResourceKey k5 = ResourceKey.of("m", "thing", "", "k5");
    assertThat(again.result().plan().change(k5).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(again.merges()).isEqualTo(1);
    assertThat(readKeys).containsExactly(k5);
    assertThat(inventory().get(k5).inSync()).as("proven again after its verified update").isNotNull();
    fullReads.set(0);
    assertThat(newProcess(desired("r2", "k5", "{'name':'k5','size':500}"), withVersions()).merges()).isZero();
    assertThat(fullReads.get()).isZero();
  }

  @Test
  void aProviderWithoutVersionTokensIsObservedAndMergedEveryTime() {
    newProcess(desired("r1", null, null), withoutTokens());
    assertThat(inventory().values()).as("nothing to prove with").allSatisfy(l -> assertThat(l.inSync()).isNull());
    fullReads.set(0);

    Run again = newProcess(desired("r1", null, null), withoutTokens());

    assertThat(again.merges()).isEqualTo(N);
    assertThat(fullReads.get()).isEqualTo(N);
    assertThat(again.result().plan().changes()).extracting(Change::action).containsOnly(Action.NOOP);
  }

  @Test
  void oldEntriesWithoutProofAreMergedOnceAndThenProven() {
    // a store that keeps no proofs (the journal off) writes entries as stores did before them
    newProcess(desired("r1", null, null), withVersions(), FileStateStore.Options.defaults().withJournal(false));
    assertThat(inventory().values()).allSatisfy(l -> assertThat(l.inSync()).isNull());
    fullReads.set(0);

    Run upgraded = newProcess(desired("r1", null, null), withVersions());
    assertThat(upgraded.merges()).as("entries without proof are merged").isEqualTo(N);
    assertThat(fullReads.get()).isEqualTo(N);
    assertThat(upgraded.result().plan().changes()).extracting(Change::action).containsOnly(Action.NOOP);
    assertThat(inventory().values()).as("and then get one").allSatisfy(l -> assertThat(l.inSync()).isNotNull());
    fullReads.set(0);

    Run proven = newProcess(desired("r1", null, null), withVersions());
    assertThat(proven.merges()).isZero();
    assertThat(fullReads.get()).isZero();
  }

  /** The files provider with its versions passed through, counting the keys it reads in full. */
  DelegatingProvider countingFiles(LocalFilesProvider files) {
    return new Counting(files) {
      @Override
      public Map<ResourceKey, LiveVersion> versions(Collection<ResourceKey> keys, CallContext ctx) {
        return files.versions(keys, ctx);
      }
    };
  }

  Run filesProcess(Path target) {
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    List<Resource> resources = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      resources.addAll(files.decoder().orElseThrow().decode(new SourceFile("conf/f" + i + ".conf", "blob" + i,
          ("value-" + i + "\n").getBytes(StandardCharsets.UTF_8), "r1")));
    }
    return newProcess(State.of("r1", resources), countingFiles(files));
  }

  @Test
  void aNewProcessReadsNoFileOfAnInSyncTargetAndStillFindsAnEditThatRestoredSizeAndMtime() throws Exception {
    Path target = tmp.resolve("target");
    assertThat(filesProcess(target).result().isSuccessful()).isTrue();
    readKeys.clear();
    fullReads.set(0);

    Run quiet = filesProcess(target);
    assertThat(quiet.merges()).isZero();
    assertThat(fullReads.get()).as("files read").isZero();

    Path f3 = target.resolve("conf/f3.conf");
    FileTime mtime = Files.getLastModifiedTime(f3);
    Files.write(f3, "VALUE-3\n".getBytes(StandardCharsets.UTF_8), StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
    Files.setLastModifiedTime(f3, mtime);

    Run repaired = filesProcess(target);
    ResourceKey k3 = repaired.result().plan().changes().stream().map(Change::key)
        .filter(k -> k.name().equals("conf/f3.conf")).findFirst().orElseThrow();
    Change c = repaired.result().plan().change(k3).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.UPDATE);
    assertThat(c.drift()).isTrue();
    assertThat(readKeys).containsExactly(k3);
    assertThat(repaired.merges()).isEqualTo(1);
    assertThat(Files.readString(f3)).isEqualTo("value-3\n");
  }

  @Test
  void aNoChangeSyncOfProvenKeysWritesNoStoreRecord() {
    newProcess(desired("r1", null, null), withVersions());
    Map<ResourceKey, StoredResource> before = inventory();

    newProcess(desired("r1", null, null), withVersions());

    assertThat(inventory()).as("same serials: nothing rewritten").isEqualTo(before);
  }

  /**
   * A version token of another key never proves a key in sync: a provider whose tokens are per-object
   * generations (the same "1" on many objects) and whose versions answer misses its lookup answers
   * the key with the other object's version. The drifted key must still be read and corrected.
   */
  @Test
  void aVersionOfAnotherKeyNeverProvesAKeyInSync() {
    MapProvider plain = new MapProvider("m", false);
    ResourceKey a = ResourceKey.of("m", "thing", "", "a");
    ResourceKey b = ResourceKey.of("m", "thing", "", "b");
    Map<ResourceKey, Integer> generation = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicBoolean misaligned = new java.util.concurrent.atomic.AtomicBoolean();
    DelegatingProvider generations = new DelegatingProvider(plain) {
      @Override
      public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
        Map<ResourceKey, Observation> out = new HashMap<>();
        super.observe(keys, ctx).forEach((k, o) -> out.put(k, o.isPresent() ? new Observation(k, o.status(), o.live(),
            "g" + generation.getOrDefault(k, 1), o.mark(), o.reason()) : o));
        return out;
      }

      @Override
      public Map<ResourceKey, LiveVersion> versions(Collection<ResourceKey> keys, CallContext ctx) {
        Map<ResourceKey, LiveVersion> out = new HashMap<>();
        for (ResourceKey k : keys) {
          ResourceKey looked = misaligned.get() ? b : k;  // the provider's bug: every key answered with b's version
          out.put(k, LiveVersion.of(looked, "g" + generation.getOrDefault(looked, 1)));
        }
        return out;
      }
    };
    State want = State.of("r1", List.of(Resource.of(a, json("{'v':1}")), Resource.of(b, json("{'v':1}"))));
    assertThat(newProcess(want, generations).result().isSuccessful()).isTrue();
    assertThat(newProcess(want, generations).result().isSuccessful()).isTrue();
    assertThat(inventory().get(a).inSync()).as("a's proof is recorded").isNotNull();
    // a is changed by hand: its generation moves on
    plain.put(a, json("{'v':9}"));
    generation.put(a, 2);
    misaligned.set(true);

    Run r = newProcess(want, generations);

    assertThat(r.result().plan().change(a).orElseThrow().action()).as(r.result().plan().toString())
        .isEqualTo(Action.UPDATE);
    assertThat(plain.live.get(a)).isEqualTo(json("{'v':1}"));
  }
}
