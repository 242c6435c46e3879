package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One store, two owners, each with its own store object (as two processes): the store belongs to
 * the owner whose sync first wrote it, and another owner whose provider marks nothing is refused
 * before anything is applied or recorded.
 */
class StoreOwnerTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private Path dir() {
    return tmp.resolve("shared/.gitops");
  }

  private static ResourceKey key(String name) {
    return ResourceKey.of("m", "host", "", name);
  }

  private static State declares(String revision, String... names) {
    return State.of(revision, Stream.of(names).map(n -> Resource.of(key(n), JSON.createObjectNode().put("name", n)))
        .toList());
  }

  private Reconciler reconciler(String owner, MapProvider p, State desired, SyncOptions options) {
    return Reconciler.builder().source(Source.of(() -> desired)).provider(p).store(FileStateStore.open(dir()))
        .owner(owner).options(options).build();
  }

  private Reconciler reconciler(String owner, MapProvider p, State desired) {
    return reconciler(owner, p, desired, SyncOptions.defaults());
  }

  /** Every file of the store with its bytes, the lock file aside (each lock writes its holder's pid). */
  private Map<String, String> storeFiles() throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(dir())) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f) && !f.getFileName().toString().equals("lock")) {
          out.put(dir().relativize(f).toString(), new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
        }
      }
    }
    return out;
  }

  @Test
  void anotherOwnerWithAProviderThatMarksNothingIsRefusedAndTheFirstOwnersRecordsStay() throws IOException {
    MapProvider fleetA = new MapProvider("m", false);
    MapProvider fleetB = new MapProvider("m", false);
    try (Reconciler a = reconciler("a", fleetA, declares("r1", "h1", "h2"))) {
      assertThat(a.sync().isSuccessful()).isTrue();
    }
    Map<String, String> before = storeFiles();

    State bWants = declares("r1", "h3");
    try (Reconciler b = reconciler("b", fleetB, bWants)) {
      assertThatThrownBy(b::sync).isInstanceOf(StoreOwnerException.class)
          .hasMessageContaining(dir().toAbsolutePath().toString())
          .hasMessageContaining("owner 'a'").hasMessageContaining("owner 'b'")
          .hasMessageContaining("Run as owner 'a', or give owner 'b' a state store of its own");
      assertThatThrownBy(b::plan).isInstanceOf(StoreOwnerException.class);
      assertThatThrownBy(() -> b.sync("r1", new dev.gitops.api.Cancellation()))
          .as("a rollback is a sync of an earlier revision").isInstanceOf(StoreOwnerException.class);
      assertThatThrownBy(() -> b.destroy(Reconciler.DeletionPolicy.ORPHAN)).isInstanceOf(StoreOwnerException.class);
    }
    try (Reconciler dry = reconciler("b", fleetB, bWants, SyncOptions.builder().dryRun(true).build())) {
      assertThatThrownBy(dry::sync).isInstanceOf(StoreOwnerException.class);
    }
    assertThat(fleetB.applied).as("nothing applied for owner b").isEmpty();
    assertThat(storeFiles()).as("nothing recorded for owner b").isEqualTo(before);
    try (FileStateStore s = FileStateStore.openReadOnly(dir())) {
      assertThat(s.load().inventory()).containsOnlyKeys(key("h1"), key("h2"));
      assertThat(s.owner()).contains("a");
    }
    try (Reconciler a = reconciler("a", fleetA, declares("r2", "h1", "h2"))) {
      assertThat(a.sync().isSuccessful()).as("the store's own owner goes on").isTrue();
      assertThat(a.store().load().inventory()).containsOnlyKeys(key("h1"), key("h2"));
    }
  }

  @Test
  void ownersWhoseProvidersAllMarkStillShareAStore() {
    // docs/cli.md: two owners of a target may share its default store; the marks tell their objects apart
    MapProvider live = new MapProvider("m", true);
    try (Reconciler a = reconciler("a", live, declares("r1", "h1"))) {
      assertThat(a.sync().isSuccessful()).isTrue();
    }
    try (Reconciler b = reconciler("b", live, declares("r1", "h2"))) {
      assertThat(b.sync().isSuccessful()).isTrue();
      assertThat(b.store().load().inventory()).containsOnlyKeys(key("h1"), key("h2"));
      assertThat(b.store().owner()).contains("a");
    }
    assertThat(live.live).containsOnlyKeys(key("h1"), key("h2"));
  }

  @Test
  void aStoreWithoutAnOwnerIsClaimedByTheFirstOwnerWhoseSyncWritesIt() throws IOException {
    // a store written before owners were recorded: records, no owner
    try (FileStateStore old = FileStateStore.open(dir()); StoreLock l = old.lock(Duration.ofSeconds(10))) {
      old.commit(Resource.of(key("h1"), JSON.createObjectNode().put("name", "h1")), "r0");
      old.recordRevisions("r0", "r0");
    }
    MapProvider fleetA = new MapProvider("m", false);
    fleetA.put(key("h1"), JSON.createObjectNode().put("name", "h1"));
    MapProvider fleetB = new MapProvider("m", false);
    State bWants = declares("r1", "h3");
    try (Reconciler b = reconciler("b", fleetB, bWants)) {
      assertThat(b.plan().changes()).as("a plan reads it, claiming nothing").isNotEmpty();
    }
    try (Reconciler dry = reconciler("b", fleetB, bWants, SyncOptions.builder().dryRun(true).build())) {
      dry.sync();
    }
    try (FileStateStore s = FileStateStore.openReadOnly(dir())) {
      assertThat(s.owner()).as("neither a plan nor a dry run claims").isEmpty();
    }
    try (Reconciler a = reconciler("a", fleetA, declares("r1", "h1", "h2"))) {
      assertThat(a.sync().isSuccessful()).isTrue();
      assertThat(a.store().owner()).contains("a");
      assertThat(a.store().load().inventory()).containsOnlyKeys(key("h1"), key("h2"));
    }
    try (Reconciler b = reconciler("b", fleetB, bWants)) {
      assertThatThrownBy(b::sync).isInstanceOf(StoreOwnerException.class);
    }
    assertThat(fleetB.applied).isEmpty();
    assertThat(List.copyOf(storeFiles().keySet())).contains("owner");
  }

  @Test
  void aSyncThatWritesNothingClaimsNoStore() throws IOException {
    // a store written before owners were recorded holds owner a's records and no owner
    try (FileStateStore old = FileStateStore.open(dir()); StoreLock l = old.lock(Duration.ofSeconds(10))) {
      old.commit(Resource.of(key("h1"), JSON.createObjectNode().put("name", "h1")), "r0");
      old.commit(Resource.of(key("h2"), JSON.createObjectNode().put("name", "h2")), "r0");
      old.recordRevisions("r0", "r0");
    }
    MapProvider fleetB = new MapProvider("m", false);
    fleetB.put(key("h1"), JSON.createObjectNode().put("name", "h1"));
    fleetB.put(key("h2"), JSON.createObjectNode().put("name", "h2"));
    // owner b, pointed at a's store by mistake: its Git cannot be read (a wrong --ref), its plan is
    // refused by the mass-deletion guard, its reviewed plan no longer holds; none of these writes anything
    Reconciler unreadable = Reconciler.builder()
        .source(Source.of(() -> {
          throw new dev.gitops.api.SourceException("ref 'nosuchbranch' not found");
        }))
        .provider(fleetB).store(FileStateStore.open(dir())).owner("b").build();
    try (unreadable) {
      assertThatThrownBy(unreadable::sync).isInstanceOf(dev.gitops.api.SourceException.class);
    }
    try (Reconciler empty = reconciler("b", fleetB, declares("r1"),
        SyncOptions.builder().prune(true).build())) {
      assertThatThrownBy(empty::sync).isInstanceOf(dev.gitops.api.PlanRefusedException.class);
    }
    dev.gitops.api.Plan reviewed;
    try (Reconciler b = reconciler("b", fleetB, declares("r1", "h1", "h2"))) {
      reviewed = b.plan();
    }
    fleetB.put(key("h1"), JSON.createObjectNode().put("name", "changed by hand"));
    try (Reconciler b = reconciler("b", fleetB, declares("r1", "h1", "h2"))) {
      assertThatThrownBy(() -> b.apply(reviewed)).isInstanceOf(dev.gitops.api.PlanMismatchException.class);
    }
    try (FileStateStore s = FileStateStore.openReadOnly(dir())) {
      assertThat(s.owner()).as("no sync of owner b wrote the store").isEmpty();
    }
    MapProvider fleetA = new MapProvider("m", false);
    fleetA.put(key("h1"), JSON.createObjectNode().put("name", "h1"));
    fleetA.put(key("h2"), JSON.createObjectNode().put("name", "h2"));
    try (Reconciler a = reconciler("a", fleetA, declares("r1", "h1", "h2"))) {
      assertThat(a.sync().isSuccessful()).as("the store's first writer is still free to claim it").isTrue();
      assertThat(a.store().owner()).contains("a");
      assertThat(a.store().load().inventory()).containsOnlyKeys(key("h1"), key("h2"));
    }
    assertThat(fleetB.applied).isEmpty();
  }
}
