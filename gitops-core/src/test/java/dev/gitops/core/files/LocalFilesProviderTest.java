package dev.gitops.core.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.LiveVersion;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFilesProviderTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private Path target() {
    return tmp.resolve("target");
  }

  private LocalFilesProvider provider() {
    return LocalFilesProvider.builder(target()).structured("**/*.json", "config/*.yaml").build();
  }

  private static CallContext ctx() {
    return CallContext.of("test-owner", "main@sha1:0", Duration.ofSeconds(30));
  }

  private static JsonNode json(String text) {
    try {
      return Documents.freeze(JSON.readTree(text));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Change change(ResourceKey key, Action action, JsonNode target) {
    return Change.builder(key, action).desired(target == null ? null : Resource.of(key, target)).target(target)
        .reason("test").build();
  }

  private static JsonNode text(String content, String mode) {
    return json("{\"content\":" + JSON.valueToTree(content) + ",\"mode\":\"" + mode + "\"}");
  }

  private Observation observe(LocalFilesProvider p, ResourceKey key) {
    return p.observe(List.of(key), ctx()).get(key);
  }

  private static String mode(Path file) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aBatchWritesEveryFileInParallelAndFailsOnlyTheKeysAtFault() throws IOException {
    LocalFilesProvider p = provider();
    assertThat(p.prefersBatches()).as("the executor hands it batches").isTrue();
    ResourceKey existing = p.keyOf("d0/existing.txt");
    ResourceKey gone = p.keyOf("d1/gone.txt");
    p.apply(change(existing, Action.CREATE, text("old\n", "0644")), ctx());
    p.apply(change(gone, Action.CREATE, text("bye\n", "0644")), ctx());
    List<Change> batch = new java.util.ArrayList<>();
    for (int i = 0; i < 40; i++) {
      batch.add(change(p.keyOf("d" + (i % 4) + "/f" + i + ".txt"), Action.CREATE, text("file " + i + "\n", "0640")));
    }
    ResourceKey bad = p.keyOf("d2/bad.txt");
    batch.add(change(bad, Action.CREATE, json("{\"mode\":\"0644\"}")));
    batch.add(change(existing, Action.UPDATE, text("new\n", "0644")));
    batch.add(change(gone, Action.DELETE, null));

    Map<ResourceKey, Outcome> out = p.applyAll(batch, ctx());

    assertThat(out.keySet()).as("one outcome per change, in order").containsExactlyElementsOf(
        batch.stream().map(Change::key).toList());
    for (int i = 0; i < 40; i++) {
      Path f = target().resolve("d" + (i % 4) + "/f" + i + ".txt");
      assertThat(out.get(p.keyOf("d" + (i % 4) + "/f" + i + ".txt")).kind()).isEqualTo(Outcome.Kind.CREATED);
      assertThat(Files.readString(f)).isEqualTo("file " + i + "\n");
      assertThat(mode(f)).isEqualTo("rw-r-----");
    }
    assertThat(out.get(bad).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(out.get(bad).message()).contains("'content'");
    assertThat(Files.readString(target().resolve("d0/existing.txt"))).isEqualTo("new\n");
    assertThat(out.get(gone).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(target().resolve("d1/gone.txt")).doesNotExist();
    try (Stream<Path> left = Files.list(target().resolve(".gitops/files/tmp"))) {
      assertThat(left.toList()).as("no temp file is left behind").isEmpty();
    }
  }

  @Test
  void createWritesContentAndSetsModeAndParents() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("etc/app/secret.conf");
    Outcome o = p.apply(change(key, Action.CREATE, text("token=1\n", "0600")), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.CREATED);
    Path file = target().resolve("etc/app/secret.conf");
    assertThat(Files.readString(file)).isEqualTo("token=1\n");
    assertThat(mode(file)).isEqualTo("rw-------");
    Observation obs = observe(p, key);
    assertThat(obs.isPresent()).isTrue();
    assertThat(obs.live()).isEqualTo(text("token=1\n", "0600"));
  }

  @Test
  void versionsAreObservesTokensAndMarksWithoutTheFilesAndLeaveOutWhatIsNotARegularFile() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey app = p.keyOf("conf/app.conf");
    ResourceKey missing = p.keyOf("conf/missing.conf");
    ResourceKey link = p.keyOf("conf/link.conf");
    p.apply(change(app, Action.CREATE, text("a=1\n", "0644")), ctx());
    Files.createSymbolicLink(target().resolve("conf/link.conf"), target().resolve("conf/app.conf"));
    Files.createSymbolicLink(target().resolve("linked"), target().resolve("conf"));
    ResourceKey throughLink = p.keyOf("linked/app.conf");

    Map<ResourceKey, LiveVersion> versions = p.versions(List.of(app, missing, link, throughLink), ctx());

    Observation full = observe(p, app);
    assertThat(versions).containsOnlyKeys(app);
    assertThat(versions.get(app).version()).isEqualTo(full.version());
    assertThat(versions.get(app).mark()).isEqualTo(full.mark());
  }

  @Test
  void manyKeysGetTheTokensAndMarksTheirObservesGiveAndWhatIsNotARegularFileIsLeftOut() throws IOException {
    LocalFilesProvider p = provider();
    List<ResourceKey> keys = new ArrayList<>();
    List<ResourceKey> files = new ArrayList<>();
    int n = 2 * dev.gitops.core.internal.fs.FileChunks.PARALLEL_FROM + 11;  // chunks stat'ed in parallel
    for (int i = 0; i < n; i++) {
      ResourceKey key = p.keyOf("conf/d" + (i % 17) + "/f" + i + ".conf");
      keys.add(key);
      if (i % 7 == 3) {
        continue;  // missing
      }
      Path file = target().resolve(key.name());
      Files.createDirectories(file.getParent());
      if (i % 7 == 5) {
        Files.createDirectory(file);  // a directory, not the file
        continue;
      }
      Files.writeString(file, "n=" + i + "\n");
      files.add(key);
    }
    Files.createSymbolicLink(target().resolve("linked"), target().resolve("conf"));
    ResourceKey throughLink = p.keyOf("linked/d1/f1.conf");
    keys.add(throughLink);
    new Ownership(target().resolve(".gitops/files/owners")).claim(files.get(9).name(), "other-owner");

    Map<ResourceKey, LiveVersion> versions = p.versions(keys, ctx());

    assertThat(versions).containsOnlyKeys(files);
    Map<ResourceKey, Observation> observed = p.observe(new java.util.TreeSet<>(files), ctx());
    for (ResourceKey key : files) {
      assertThat(versions.get(key).version()).as(key.name()).isEqualTo(observed.get(key).version());
      assertThat(versions.get(key).mark()).as(key.name()).isEqualTo(observed.get(key).mark());
    }
    assertThat(versions.get(files.get(9)).mark().owner()).isEqualTo("other-owner");
  }

  @Test
  void aWriteThatFailsBeforeItsNewFileExistsDropsTheClaimItMadeAndKeepsOneHeldBefore() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey kept = p.keyOf("conf/kept.conf");
    assertThat(p.apply(change(kept, Action.CREATE, text("a=1\n", "0644")), ctx()).isOk()).isTrue();
    // every write's temp file now fails to be made, as on a full disk: its directory is a file
    Path temps = target().resolve(".gitops/files/tmp");
    Files.delete(temps);
    Files.writeString(temps, "");
    ResourceKey created = p.keyOf("conf/new.conf");
    ResourceKey batched = p.keyOf("conf/batched.conf");

    Outcome o = p.apply(change(created, Action.CREATE, text("b=1\n", "0644")), ctx());
    Map<ResourceKey, Outcome> batch = p.applyAll(List.of(change(batched, Action.CREATE, text("c=1\n", "0644")),
        change(kept, Action.UPDATE, text("a=2\n", "0644"))), ctx());

    assertThat(o.isOk()).isFalse();
    assertThat(o.message()).contains(target().resolve("conf/new.conf").toString());
    assertThat(batch.values()).noneMatch(Outcome::isOk);
    assertThat(target().resolve("conf/new.conf")).doesNotExist();
    assertThat(target().resolve("conf/batched.conf")).doesNotExist();
    // no claim for a file that is not there (once Git drops it, nothing would ever release it) ...
    assertThat(p.listMarked("test-owner", ctx())).containsExactly(kept);
    // ... so another owner may have the path; the file the update left as it was stays claimed
    Files.delete(temps);
    CallContext other = CallContext.of("other-owner", "main@sha1:0", Duration.ofSeconds(30));
    assertThat(p.apply(change(created, Action.CREATE, text("b=1\n", "0644")), other).isOk()).isTrue();
    assertThat(p.apply(change(kept, Action.UPDATE, text("a=3\n", "0644")), other).message())
        .contains("belongs to owner 'test-owner'");
    assertThat(target().resolve("conf/kept.conf")).hasContent("a=1\n");
  }

  @Test
  void theClaimsListMarkedReadAreNotReadAgainByTheSameCallsVersionsAndObserve() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey mine = p.keyOf("conf/mine.conf");
    ResourceKey theirs = p.keyOf("conf/theirs.conf");
    ResourceKey unclaimed = p.keyOf("conf/unclaimed.conf");
    p.apply(change(mine, Action.CREATE, text("a=1\n", "0644")), ctx());
    Files.writeString(target().resolve("conf/theirs.conf"), "b=1\n");
    Files.writeString(target().resolve("conf/unclaimed.conf"), "c=1\n");
    new Ownership(target().resolve(".gitops/files/owners")).claim("conf/theirs.conf", "other-owner");
    List<ResourceKey> keys = List.of(mine, theirs, unclaimed);
    Map<ResourceKey, LiveVersion> elsewhere = p.versions(keys, ctx());
    long reads = p.claimReads();

    CallContext sync = ctx();
    assertThat(p.listMarked("test-owner", sync)).containsExactly(mine);
    // as the engine calls them: each call of the sync with a deadline of its own
    Map<ResourceKey, LiveVersion> versions = p.versions(keys, sync.withDeadline(sync.deadline().plusSeconds(1)));
    Map<ResourceKey, Observation> observed = p.observe(keys, sync.withDeadline(sync.deadline().plusSeconds(2)));

    assertThat(p.claimReads() - reads).as("only the claims listMarked did not find the caller's are read").isEqualTo(4);
    assertThat(versions).isEqualTo(elsewhere);
    assertThat(versions.get(theirs).mark().owner()).isEqualTo("other-owner");
    assertThat(versions.get(mine).mark().owner()).isEqualTo("test-owner");
    assertThat(observed).isEqualTo(provider().observe(keys, ctx()));
    // another call's listing (the same values, another context) vouches for nothing
    reads = p.claimReads();
    p.versions(keys, ctx());
    assertThat(p.claimReads() - reads).isEqualTo(3);
    // nor one of the same sync's token at another revision
    reads = p.claimReads();
    p.versions(keys, new CallContext("test-owner", "main@sha1:1", sync.deadline(), sync.cancellation()));
    assertThat(p.claimReads() - reads).isEqualTo(3);
    // nor does a listing made before a write of this provider (a write may claim or release a path)
    p.listMarked("test-owner", sync);
    p.apply(change(mine, Action.UPDATE, text("a=2\n", "0644")), sync);
    reads = p.claimReads();
    p.versions(keys, sync);
    assertThat(p.claimReads() - reads).isEqualTo(3);
  }

  @Test
  void listMarkedKeepsTheListingOfSettledClaimsForTheNextCallButAPreviewWritesNothing() throws Exception {
    LocalFilesProvider p = provider();
    List<ResourceKey> mine = List.of(p.keyOf("conf/a.conf"), p.keyOf("conf/b.conf"));
    for (ResourceKey k : mine) {
      p.apply(change(k, Action.CREATE, text("a=1\n", "0644")), ctx());
    }
    Path owners = target().resolve(".gitops/files/owners");
    Path listing = owners.resolveSibling(ClaimListing.FILE);
    // the claims' directory is kept only once it has been still for a while (bounded: a few seconds)
    long changed = LocalFilesProvider.Stat.of(owners).ctimeNanos() / 1_000_000;
    long wait = changed + ClaimListing.SETTLED_MILLIS + 50 - System.currentTimeMillis();
    if (wait > 0) {
      Thread.sleep(Math.min(wait, 3 * ClaimListing.SETTLED_MILLIS));
    }

    LocalFilesProvider preview = LocalFilesProvider.builder(target()).preview(true).build();
    assertThat(preview.listMarked("test-owner", ctx())).containsExactlyElementsOf(mine);
    assertThat(listing).as("a preview writes nothing into the target").doesNotExist();
    assertThat(p.listMarked("test-owner", ctx())).containsExactlyElementsOf(mine);
    assertThat(listing).exists();
    assertThat(preview.listMarked("test-owner", ctx())).containsExactlyElementsOf(mine);
    // a claim made since is listed: the directory changed
    ResourceKey c = p.keyOf("conf/c.conf");
    p.apply(change(c, Action.CREATE, text("c=1\n", "0644")), ctx());
    assertThat(p.listMarked("test-owner", ctx())).containsExactly(mine.get(0), mine.get(1), c);
  }

  @Test
  void anEditInPlaceThatKeepsSizeAndRestoresTheMtimeStillMovesTheToken() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("app.conf");
    p.apply(change(key, Action.CREATE, text("a=1\n", "0644")), ctx());
    Path file = target().resolve("app.conf");
    String before = p.versions(List.of(key), ctx()).get(key).version();
    java.nio.file.attribute.FileTime mtime = Files.getLastModifiedTime(file);

    // same inode, same size, the mtime put back: only the change time (which no user can set) moves
    Files.write(file, "a=2\n".getBytes(StandardCharsets.UTF_8), StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
    Files.setLastModifiedTime(file, mtime);

    assertThat(p.versions(List.of(key), ctx()).get(key).version()).isNotEqualTo(before);
    assertThat(observe(p, key).live()).isEqualTo(text("a=2\n", "0644"));
    assertThat(p.fileReads()).as("what the provider wrote is not taken once the token moved").isEqualTo(1);
  }

  @Test
  void theVerificationOfAWriteReadsNoFileWhileItsTokenHoldsAndSeesWhatAReadWould() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey plain = p.keyOf("a.txt");
    ResourceKey structured = p.keyOf("conf.json");
    ResourceKey single = p.keyOf("b.txt");
    p.applyAll(List.of(change(plain, Action.CREATE, text("one\n", "0640")),
        change(structured, Action.CREATE, json("{\"data\":{\"b\":[1,2],\"a\":\"x\"}}"))), ctx());
    p.apply(change(single, Action.CREATE, text("two", "0644")), ctx());

    Map<ResourceKey, Observation> verified = p.observe(List.of(plain, structured, single), ctx());
    assertThat(p.fileReads()).as("the files were just written by this provider").isZero();
    // what a provider that did not write them reads, field for field
    Map<ResourceKey, Observation> read = provider().observe(List.of(plain, structured, single), ctx());
    assertThat(verified).isEqualTo(read);

    // taken once: the next observe reads
    p.observe(List.of(plain), ctx());
    assertThat(p.fileReads()).isEqualTo(1);
  }

  @Test
  void aModeOnlyChangeReplacesTheFileSoAHardLinkOutsideTheTargetKeepsItsMode() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("run.sh");
    p.apply(change(key, Action.CREATE, text("#!/bin/sh\n", "0644")), ctx());
    String before = observe(p, key).version();
    // another name for the same inode, outside the target: not gitops's to change
    Path outside = tmp.resolve("outside.sh");
    Files.createLink(outside, target().resolve("run.sh"));
    Outcome o = p.apply(change(key, Action.UPDATE, text("#!/bin/sh\n", "0755")), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(mode(target().resolve("run.sh"))).isEqualTo("rwxr-xr-x");
    Observation after = observe(p, key);
    assertThat(after.live().get("mode").asText()).isEqualTo("0755");
    assertThat(after.version()).isNotEqualTo(before);
    assertThat(mode(outside)).isEqualTo("rw-r--r--");
    assertThat(Files.readString(outside)).isEqualTo("#!/bin/sh\n");
  }

  @Test
  void aSetuidBitSetByHandIsSeenAndClearedByTheNextWrite() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("run.sh");
    p.apply(change(key, Action.CREATE, text("#!/bin/sh\n", "0755")), ctx());
    String before = observe(p, key).version();
    Path file = target().resolve("run.sh");
    Files.setAttribute(file, "unix:mode", 04755);

    Observation setuid = observe(p, key);
    assertThat(setuid.live().get("mode").asText()).isEqualTo("4755");
    assertThat(setuid.version()).isNotEqualTo(before);

    assertThat(p.apply(change(key, Action.UPDATE, text("#!/bin/sh\n", "0755")), ctx()).isOk()).isTrue();
    assertThat((Integer) Files.getAttribute(file, "unix:mode") & 07777).isEqualTo(0755);
    assertThat(observe(p, key).live().get("mode").asText()).isEqualTo("0755");
  }

  @Test
  void targetWithoutModeKeepsTheLiveMode() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("a.txt");
    p.apply(change(key, Action.CREATE, text("one", "0640")), ctx());
    p.apply(change(key, Action.UPDATE, json("{\"content\":\"two\"}")), ctx());
    assertThat(Files.readString(target().resolve("a.txt"))).isEqualTo("two");
    assertThat(mode(target().resolve("a.txt"))).isEqualTo("rw-r-----");
  }

  @Test
  void atomicWriteLeavesNoTemporaryFile() throws IOException {
    LocalFilesProvider p = provider();
    for (int i = 0; i < 5; i++) {
      Outcome o = p.apply(change(p.keyOf("d/f.txt"), Action.UPDATE, text("v" + i, "0644")), ctx());
      assertThat(o.isOk()).isTrue();
    }
    try (Stream<Path> s = Files.list(target().resolve("d"))) {
      assertThat(s.map(x -> x.getFileName().toString())).containsExactly("f.txt");
    }
    assertThat(Files.readString(target().resolve("d/f.txt"))).isEqualTo("v4");
  }

  @Test
  void refusesASymlinkedDirectoryInThePath() throws IOException {
    LocalFilesProvider p = provider();
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.createDirectories(target());
    Files.createSymbolicLink(target().resolve("link"), outside);
    ResourceKey key = p.keyOf("link/evil.txt");

    Outcome o = p.apply(change(key, Action.CREATE, text("x", "0644")), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(o.message()).contains(key.toString()).contains(target().resolve("link").toString());
    assertThat(outside.resolve("evil.txt")).doesNotExist();

    Files.writeString(outside.resolve("evil.txt"), "planted");
    assertThat(observe(p, key).isUnknown()).isTrue();
    Outcome d = p.apply(change(key, Action.DELETE, null), ctx());
    assertThat(d.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(outside.resolve("evil.txt")).exists();
  }

  @Test
  void aBatchRefusesEveryWriteThroughALinkAndRechecksItsDirectoriesInTheNextBatch() throws IOException {
    LocalFilesProvider p = provider();
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Path victim = Files.writeString(tmp.resolve("victim"), "keep");
    Files.createDirectories(target().resolve("real/sub"));
    Files.createSymbolicLink(target().resolve("real/link"), outside);
    Files.createSymbolicLink(target().resolve("real/sub/f.txt"), victim);
    List<Change> batch = new java.util.ArrayList<>();
    for (int i = 0; i < 24; i++) {
      String dir = switch (i % 3) {
        case 0 -> "real/sub/";
        case 1 -> "real/link/";
        default -> "real/link/deeper/";
      };
      batch.add(change(p.keyOf(dir + "f" + i + ".txt"), Action.CREATE, text("file " + i, "0644")));
    }
    ResourceKey overLink = p.keyOf("real/sub/f.txt");
    batch.add(change(overLink, Action.UPDATE, text("overwritten", "0644")));

    Map<ResourceKey, Outcome> out = p.applyAll(batch, ctx());

    for (int i = 0; i < 24; i++) {
      Outcome o = out.get(batch.get(i).key());
      if (i % 3 == 0) {
        assertThat(o.kind()).isEqualTo(Outcome.Kind.CREATED);
      } else {
        assertThat(o.kind()).as(batch.get(i).key().toString()).isEqualTo(Outcome.Kind.PERMANENT);
        assertThat(o.message()).contains("symlink " + target().resolve("real/link"));
      }
    }
    assertThat(out.get(overLink).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(out.get(overLink).message()).contains("symlink " + target().resolve("real/sub/f.txt"));
    assertThat(Files.readString(victim)).isEqualTo("keep");
    try (Stream<Path> s = Files.list(outside)) {
      assertThat(s).as("nothing written through the link").isEmpty();
    }

    // one observe of them all: what is behind the link is unknown, whatever was observed before it
    Map<ResourceKey, Observation> seen = p.observe(batch.stream().map(Change::key).toList(), ctx());
    for (int i = 0; i < 24; i++) {
      Observation o = seen.get(batch.get(i).key());
      if (i % 3 == 0) {
        assertThat(o.isPresent()).as(batch.get(i).key().toString()).isTrue();
      } else {
        assertThat(o.isUnknown()).as(batch.get(i).key().toString()).isTrue();
      }
    }
    assertThat(seen.get(overLink).isUnknown()).isTrue();

    // the next batch does not trust what the last one verified: real/sub is now a link
    Path moved = tmp.resolve("moved");
    Files.move(target().resolve("real/sub"), moved);
    Files.createSymbolicLink(target().resolve("real/sub"), outside);
    Map<ResourceKey, Outcome> next = p.applyAll(List.of(
        change(p.keyOf("real/sub/g1.txt"), Action.CREATE, text("g1", "0644")),
        change(p.keyOf("real/sub/g2.txt"), Action.CREATE, text("g2", "0644"))), ctx());
    assertThat(next.values()).allSatisfy(o -> {
      assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains("symlink " + target().resolve("real/sub"));
    });
    try (Stream<Path> s = Files.list(outside)) {
      assertThat(s).isEmpty();
    }
  }

  @Test
  void aFileIsLookedAtBeforeItsWriteUnlessThisBatchMadeItsDirectoryAndALinkPlantedLaterIsStillRefused()
      throws IOException {
    LocalFilesProvider p = provider();
    Path victim = Files.writeString(tmp.resolve("victim"), "keep");
    List<Change> first = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      first.add(change(p.keyOf("fresh/deep/f" + i + ".txt"), Action.CREATE, text("file " + i, "0644")));
    }
    assertThat(p.applyAll(first, ctx()).values()).allSatisfy(o -> assertThat(o.kind()).isEqualTo(Outcome.Kind.CREATED));
    for (int i = 0; i < 8; i++) {
      assertThat(Files.readString(target().resolve("fresh/deep/f" + i + ".txt"))).isEqualTo("file " + i);
      assertThat(observe(p, p.keyOf("fresh/deep/f" + i + ".txt")).live()).isEqualTo(text("file " + i, "0644"));
    }

    // the directory stands now, made by the last batch: this one looks at each file again
    Files.createSymbolicLink(target().resolve("fresh/deep/planted.txt"), victim);
    ResourceKey planted = p.keyOf("fresh/deep/planted.txt");
    ResourceKey beside = p.keyOf("fresh/deep/beside.txt");
    Map<ResourceKey, Outcome> out = p.applyAll(List.of(
        change(planted, Action.CREATE, text("overwritten", "0644")),
        change(beside, Action.CREATE, text("beside", "0644"))), ctx());
    assertThat(out.get(planted).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(out.get(planted).message()).contains("symlink " + target().resolve("fresh/deep/planted.txt"));
    assertThat(out.get(beside).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(Files.readString(victim)).isEqualTo("keep");
    assertThat(Files.isSymbolicLink(target().resolve("fresh/deep/planted.txt"))).isTrue();
    // a single write into a directory it makes itself, and one into a directory that stands
    assertThat(p.apply(change(p.keyOf("other/one.txt"), Action.CREATE, text("one", "0600")), ctx()).kind())
        .isEqualTo(Outcome.Kind.CREATED);
    assertThat(mode(target().resolve("other/one.txt"))).isEqualTo("rw-------");
    Files.createSymbolicLink(target().resolve("other/two.txt"), victim);
    assertThat(p.apply(change(p.keyOf("other/two.txt"), Action.CREATE, text("two", "0644")), ctx()).kind())
        .isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(Files.readString(victim)).isEqualTo("keep");
  }

  @Test
  void refusesToWriteOverASymlinkedFile() throws IOException {
    LocalFilesProvider p = provider();
    Path victim = Files.writeString(tmp.resolve("victim"), "keep");
    Files.createDirectories(target());
    Files.createSymbolicLink(target().resolve("f.txt"), victim);
    ResourceKey key = p.keyOf("f.txt");
    Outcome o = p.apply(change(key, Action.UPDATE, text("overwritten", "0644")), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(o.message()).contains("symlink").contains(key.toString());
    assertThat(Files.readString(victim)).isEqualTo("keep");
    assertThat(Files.isSymbolicLink(target().resolve("f.txt"))).isTrue();
    assertThat(observe(p, key).isUnknown()).isTrue();
  }

  @Test
  void refusesPathsEscapingTheTarget() {
    LocalFilesProvider p = provider();
    for (String name : List.of("../escape.txt", "a/../../escape.txt", "/etc/passwd", "a//b", "./a")) {
      ResourceKey key = p.keyOf(name);
      Outcome o = p.apply(change(key, Action.CREATE, text("x", "0644")), ctx());
      assertThat(o.kind()).as(name).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).as(name).contains(name);
      assertThat(((ProviderException) o.cause()).key()).isEqualTo(key);
      assertThat(observe(p, key).isUnknown()).as(name).isTrue();
    }
    assertThat(tmp.resolve("escape.txt")).doesNotExist();
  }

  @Test
  void refusesPathsThroughAGitDirectory() throws Exception {
    LocalFilesProvider p = provider();
    Files.createDirectories(target().resolve(".git/hooks"));
    for (String name : List.of(".git/hooks/post-commit", "sub/.GIT/config", ".git", "a/.git. /x", "GIT~1/config",
        ".g\u200cit/hooks/pre-commit")) {
      ResourceKey key = p.keyOf(name);
      Outcome o = p.apply(change(key, Action.CREATE, text("#!/bin/sh\necho pwned\n", "0755")), ctx());
      assertThat(o.kind()).as(name).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).as(name).contains(name).contains("Git directory");
    }
    assertThat(target().resolve(".git/hooks/post-commit")).doesNotExist();
    assertThat(target().resolve("sub")).doesNotExist();
    assertThat(p.apply(change(p.keyOf(".gitignore"), Action.CREATE, text("x", "0644")), ctx()).isOk()).isTrue();
    assertThat(p.apply(change(p.keyOf("a.git/x"), Action.CREATE, text("x", "0644")), ctx()).isOk()).isTrue();
  }

  @Test
  void refusesTheDefaultAndConfiguredStoreDirectories() {
    LocalFilesProvider p = LocalFilesProvider.builder(target()).exclude(Path.of("state")).build();
    for (String name : List.of(".gitops/store.json", "state/x", "state")) {
      ResourceKey key = p.keyOf(name);
      Outcome o = p.apply(change(key, Action.CREATE, text("x", "0644")), ctx());
      assertThat(o.kind()).as(name).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).as(name).contains("excluded").contains(name);
      assertThat(p.apply(change(key, Action.DELETE, null), ctx()).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    }
    assertThat(target().resolve(".gitops")).doesNotExist();
    assertThat(p.apply(change(p.keyOf("statefile"), Action.CREATE, text("x", "0644")), ctx()).isOk()).isTrue();
  }

  @Test
  void anEmptyTargetPathIsRefusedNotTakenAsTheWorkingDirectory() {
    // as FileStateStore.open(Path.of("")) is: an unset setting would sync Git's files into wherever the process runs
    assertThatThrownBy(() -> LocalFilesProvider.builder(Path.of(""))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("target directory is an empty path");
  }

  @Test
  void refusesStoreDirectoriesSpeltAsACaseInsensitiveFileSystemReadsThem() throws IOException {
    // on macOS or Windows .GITOPS/meta.json is the store's meta.json: Git content would rewrite the
    // record of what gitops owns; refused on every file system, as .git is in any case
    Files.createDirectories(target());
    LocalFilesProvider p = LocalFilesProvider.builder(target()).exclude(Path.of("state/db")).build();
    Decoder decoder = p.decoder().orElseThrow();
    for (String name : List.of(".GITOPS/meta.json", ".GitOps", ".gitops./journal", ".gitops:x/y",
        ".git\u200cops/secret.key", "State/DB/x", "app/.GITOPS/owner", "a/b/.Gitops /files/owners/x")) {
      ResourceKey key = p.keyOf(name);
      Outcome o = p.apply(change(key, Action.CREATE, text("x", "0644")), ctx());
      assertThat(o.kind()).as(name).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).as(name).contains(name).containsAnyOf("excluded", "state store");
      assertThat(observe(p, key).isUnknown()).as(name).isTrue();
      assertThatThrownBy(() -> decoder.decode(new SourceFile(name, "b", new byte[0], "rev1"))).as(name)
          .isInstanceOf(DecodeException.class).hasMessageContaining(name);
    }
    try (Stream<Path> made = Files.list(target())) {
      assertThat(made).isEmpty();
    }
    for (String name : List.of(".gitopsx/a", "x.gitops/a", "app/.gitops", "statefile", "state/dbx")) {
      assertThat(p.apply(change(p.keyOf(name), Action.CREATE, text("x", "0644")), ctx()).isOk()).as(name).isTrue();
    }
  }

  @Test
  void aNameTooLongForTheFileSystemIsAPermanentFailureNamingTheFileNotRetried() {
    LocalFilesProvider p = provider();
    // a path component over 255 bytes: ENAMETOOLONG, which no retry mends
    String name = "dir/" + "a".repeat(300) + ".txt";
    ResourceKey key = p.keyOf(name);
    Outcome o = p.apply(change(key, Action.CREATE, text("x", "0644")), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(o.message()).contains(target().resolve(name).toString()).contains("File name too long");
    Outcome d = p.apply(change(key, Action.DELETE, null), ctx());
    assertThat(d.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(d.message()).contains(target().resolve(name).toString()).contains("File name too long");
    // no file can have the name, so none is there: absent, not an unobservable key that holds back pruning
    assertThat(observe(p, key).isAbsent()).isTrue();
    assertThat(observe(p, p.keyOf("b".repeat(300) + "/x.txt")).isAbsent()).isTrue();
  }

  @Test
  void failuresNoRetryMendsArePermanentAndUnknownOnesStayTransient() {
    for (String reason : List.of("File name too long", "Read-only file system", "Operation not permitted")) {
      assertThat(LocalFilesProvider.retryable(new FileSystemException("/srv/a.txt", null, reason))).as(reason)
          .isFalse();
    }
    assertThat(LocalFilesProvider.retryable(new FileSystemException("/srv/a.txt", null, "Input/output error")))
        .isTrue();
    assertThat(LocalFilesProvider.retryable(new FileSystemException("/srv/a.txt"))).isTrue();
    assertThat(LocalFilesProvider.retryable(new IOException("No space left on device"))).isTrue();
  }

  @Test
  void refusesKeysOfAnotherProvider() {
    LocalFilesProvider p = provider();
    ResourceKey key = ResourceKey.of("k8s", "file", "", "a.txt");
    assertThat(p.apply(change(key, Action.CREATE, text("x", "0644")), ctx()).kind())
        .isEqualTo(Outcome.Kind.PERMANENT);
  }

  @Test
  void invalidModeIsAPermanentFailureNamingTheKey() {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("a.txt");
    Outcome o = p.apply(change(key, Action.CREATE, text("x", "rwxrwxrwx")), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(o.message()).contains(key.toString()).contains("rwxrwxrwx");
    assertThat(target().resolve("a.txt")).doesNotExist();
  }

  @Test
  void deleteRemovesNowEmptyParentsUpToTheTarget() throws IOException {
    LocalFilesProvider p = provider();
    p.apply(change(p.keyOf("a/b/c/one.txt"), Action.CREATE, text("1", "0644")), ctx());
    p.apply(change(p.keyOf("a/two.txt"), Action.CREATE, text("2", "0644")), ctx());
    Outcome o = p.apply(change(p.keyOf("a/b/c/one.txt"), Action.DELETE, null), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(target().resolve("a/b")).doesNotExist();
    assertThat(target().resolve("a/two.txt")).exists();
    p.apply(change(p.keyOf("a/two.txt"), Action.DELETE, null), ctx());
    assertThat(target().resolve("a")).doesNotExist();
    assertThat(target()).isDirectory();
  }

  @Test
  void deleteOfAMissingFileSucceeds() {
    LocalFilesProvider p = provider();
    assertThat(p.apply(change(p.keyOf("never/was.txt"), Action.DELETE, null), ctx()).kind())
        .isEqualTo(Outcome.Kind.DELETED);
  }

  @Test
  void aDirectoryWhereAFileWasIsNoFileAndIsNeverDeletedOrOverwritten() throws IOException {
    LocalFilesProvider p = provider();
    Files.createDirectories(target().resolve("conf"));
    Files.writeString(target().resolve("conf/users.txt"), "not ours\n");
    assertThat(observe(p, p.keyOf("conf")).isAbsent()).isTrue();
    assertThat(p.apply(change(p.keyOf("conf"), Action.DELETE, null), ctx()).kind()).isEqualTo(Outcome.Kind.DELETED);
    Outcome create = p.apply(change(p.keyOf("conf"), Action.CREATE, text("x", "0644")), ctx());
    assertThat(create.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(create.message()).contains(target().resolve("conf").toString()).contains("directory");
    assertThat(target().resolve("conf/users.txt")).hasContent("not ours");
  }

  @Test
  void aManagedFileReplacedByASymlinkOrASpecialFileIsUnknownWithTheReason() throws IOException, InterruptedException {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("app.conf");
    p.apply(change(key, Action.CREATE, text("x", "0644")), ctx());
    Files.delete(target().resolve("app.conf"));
    Files.createSymbolicLink(target().resolve("app.conf"), tmp.resolve("elsewhere"));
    Observation link = observe(p, key);
    assertThat(link.isUnknown()).isTrue();
    assertThat(link.reason()).contains(target().resolve("app.conf").toString()).contains("symbolic link");

    Files.delete(target().resolve("app.conf"));
    Process mkfifo = new ProcessBuilder("mkfifo", target().resolve("app.conf").toString()).start();
    assertThat(mkfifo.waitFor()).isZero();
    Observation fifo = observe(p, key);
    assertThat(fifo.isUnknown()).isTrue();
    assertThat(fifo.reason()).contains(target().resolve("app.conf").toString()).contains("special file");
  }

  @Test
  void aManagedFileGrownPastWhatALiveFileIsReadUpToIsUnknownNamingItsSizeAndTheOthersAreStillObserved()
      throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey big = p.keyOf("data/huge.bin");
    ResourceKey small = p.keyOf("data/small.conf");
    p.apply(change(big, Action.CREATE, text("x", "0644")), ctx());
    p.apply(change(small, Action.CREATE, text("y", "0644")), ctx());
    // sparse: 3 GiB that take no disk, more than any Java array holds (read whole, it ended the process)
    long size = 3L << 30;
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(target().resolve("data/huge.bin").toFile(), "rw")) {
      f.setLength(size);
    }
    Map<ResourceKey, Observation> seen = p.observe(List.of(big, small), ctx());
    assertThat(seen.get(big).isUnknown()).isTrue();
    assertThat(seen.get(big).reason()).contains(target().resolve("data/huge.bin").toString())
        .contains(size + " bytes").contains(LocalFilesProvider.MAX_LIVE_SIZE + " bytes");
    assertThat(seen.get(small).isPresent()).isTrue();
    assertThat(seen.get(small).live().get("content").textValue()).isEqualTo("y");
    assertThat(Files.size(target().resolve("data/huge.bin"))).isEqualTo(size);
  }

  @Test
  void unreadableFileIsUnknown() throws IOException {
    assumeFalse("root".equals(System.getProperty("user.name")), "root reads files regardless of permissions");
    LocalFilesProvider p = provider();
    p.apply(change(p.keyOf("locked.txt"), Action.CREATE, text("x", "0000")), ctx());
    Observation obs = observe(p, p.keyOf("locked.txt"));
    assertThat(obs.isUnknown()).isTrue();
    assertThat(obs.reason()).contains("locked.txt");
  }

  @Test
  void missingFileAndMissingParentAreAbsent() throws IOException {
    LocalFilesProvider p = provider();
    assertThat(observe(p, p.keyOf("nothing.txt")).isAbsent()).isTrue();
    Files.createDirectories(target());
    Files.writeString(target().resolve("plain"), "x");
    assertThat(observe(p, p.keyOf("no/such/file")).isAbsent()).isTrue();
    assertThat(observe(p, p.keyOf("plain/child")).isAbsent()).isTrue();
  }

  @Test
  void oneObserveOfManyKeysUnderMissingDirectoriesFindsEachAbsentAndStillSeesWhatExistsAndTheLinks() throws IOException {
    LocalFilesProvider p = provider();
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("evil.txt"), "planted");
    Files.createDirectories(target().resolve("real"));
    Files.writeString(target().resolve("real/here.txt"), "here");
    Files.createSymbolicLink(target().resolve("link"), outside);
    List<ResourceKey> keys = List.of(p.keyOf("gone/a/1.txt"), p.keyOf("gone/a/2.txt"), p.keyOf("gone/b/3.txt"),
        p.keyOf("real/here.txt"), p.keyOf("real/missing/4.txt"), p.keyOf("link/evil.txt"), p.keyOf("real/missing/5.txt"),
        p.keyOf("gone/c.txt"));

    Map<ResourceKey, Observation> seen = p.observe(keys, ctx());

    assertThat(seen).containsOnlyKeys(keys);
    for (String absent : List.of("gone/a/1.txt", "gone/a/2.txt", "gone/b/3.txt", "real/missing/4.txt",
        "real/missing/5.txt", "gone/c.txt")) {
      assertThat(seen.get(p.keyOf(absent)).isAbsent()).as(absent).isTrue();
    }
    assertThat(seen.get(p.keyOf("real/here.txt")).live().get("content").asText()).isEqualTo("here");
    assertThat(seen.get(p.keyOf("link/evil.txt")).isUnknown()).isTrue();
    assertThat(seen.get(p.keyOf("link/evil.txt")).reason()).contains(target().resolve("link").toString());

    // the next observe looks again: a directory made since is seen
    Files.createDirectories(target().resolve("gone/a"));
    Files.writeString(target().resolve("gone/a/2.txt"), "two");
    Map<ResourceKey, Observation> again = p.observe(keys, ctx());
    assertThat(again.get(p.keyOf("gone/a/1.txt")).isAbsent()).isTrue();
    assertThat(again.get(p.keyOf("gone/a/2.txt")).live().get("content").asText()).isEqualTo("two");
    assertThat(again.get(p.keyOf("gone/b/3.txt")).isAbsent()).isTrue();
  }

  @Test
  void binaryContentRoundTripsAsBase64() throws IOException {
    LocalFilesProvider p = provider();
    byte[] bytes = {(byte) 0xff, 0, (byte) 0xc3, 0x28, 10};
    Files.createDirectories(target());
    Files.write(target().resolve("blob.bin"), bytes);
    Observation obs = observe(p, p.keyOf("blob.bin"));
    assertThat(obs.live().has("content")).isFalse();
    assertThat(obs.live().get("contentBase64").asText()).isEqualTo("/wDDKAo=");
    Files.delete(target().resolve("blob.bin"));
    assertThat(p.apply(change(p.keyOf("blob.bin"), Action.CREATE, obs.live()), ctx()).isOk()).isTrue();
    assertThat(Files.readAllBytes(target().resolve("blob.bin"))).isEqualTo(bytes);
  }

  @Test
  void structuredJsonIsObservedAsDataAndWrittenPretty() throws IOException {
    LocalFilesProvider p = provider();
    Files.createDirectories(target().resolve("svc"));
    Files.writeString(target().resolve("svc/app.json"), "{\"port\":8080,\"tags\":[\"a\"],\"handAdded\":true}");
    ResourceKey key = p.keyOf("svc/app.json");
    Observation obs = observe(p, key);
    assertThat(obs.live().get("data")).isEqualTo(json("{\"port\":8080,\"tags\":[\"a\"],\"handAdded\":true}"));
    assertThat(obs.live().has("content")).isFalse();

    JsonNode target = json("{\"data\":{\"port\":9090,\"tags\":[\"a\",\"b\"],\"handAdded\":true},\"mode\":\"0644\"}");
    assertThat(p.apply(change(key, Action.UPDATE, target), ctx()).isOk()).isTrue();
    String written = Files.readString(target().resolve("svc/app.json"));
    assertThat(written).startsWith("{\n  \"port\": 9090,\n  \"tags\": [\n    \"a\",").endsWith("}\n");
    assertThat(observe(p, key).live()).isEqualTo(target);
  }

  @Test
  void structuredYamlRoundTripsTrickyScalars() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("config/app.yaml");
    JsonNode data = json("{\"a\":\"yes\",\"b\":\"123\",\"c\":\"true\",\"d\":\"null\",\"e\":1.5,\"f\":null,"
        + "\"g\":[1,{\"x\":\"multi\\nline\"}],\"h\":\"\",\"i\":\"# not a comment\",\"j\":{}}");
    JsonNode target = Documents.object(Map.of("data", data, "mode", Documents.nodes().textNode("0644")));
    assertThat(p.apply(change(key, Action.CREATE, target), ctx()).isOk()).isTrue();
    String written = Files.readString(target().resolve("config/app.yaml"));
    assertThat(written).doesNotStartWith("---").contains("b: \"123\"").contains("a: \"yes\"");
    assertThat(observe(p, key).live()).isEqualTo(target);
  }

  @Test
  void filesOutsideTheStructuredGlobsStayPlain() throws IOException {
    LocalFilesProvider p = provider();
    Files.createDirectories(target().resolve("other"));
    Files.writeString(target().resolve("other/x.yaml"), "a: 1\n");
    assertThat(observe(p, p.keyOf("other/x.yaml")).live()).isEqualTo(text("a: 1\n", "0644"));
    assertThat(p.isStructured("top.json")).isTrue();
    assertThat(p.isStructured("config/deep/x.yaml")).isFalse();
  }

  @Test
  void unparsableLiveStructuredFileIsObservedAsContentAndRepairable() throws IOException {
    LocalFilesProvider p = provider();
    Files.createDirectories(target());
    Files.writeString(target().resolve("broken.json"), "{\"a\":");
    ResourceKey key = p.keyOf("broken.json");
    Observation obs = observe(p, key);
    assertThat(obs.isPresent()).isTrue();
    assertThat(obs.live().get("content").asText()).isEqualTo("{\"a\":");
    JsonNode target = json("{\"data\":{\"a\":1},\"content\":\"{\\\"a\\\":\",\"mode\":\"0644\"}");
    assertThat(p.apply(change(key, Action.UPDATE, target), ctx()).isOk()).isTrue();
    assertThat(observe(p, key).live()).isEqualTo(json("{\"data\":{\"a\":1},\"mode\":\"0644\"}"));
  }

  @Test
  void versionTokenChangesWithEveryWriteAndNotWithoutOne() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("v.txt");
    p.apply(change(key, Action.CREATE, text("aaaa", "0644")), ctx());
    String v1 = observe(p, key).version();
    assertThat(observe(p, key).version()).isEqualTo(v1);
    p.apply(change(key, Action.UPDATE, text("bbbb", "0644")), ctx());
    assertThat(observe(p, key).version()).isNotEqualTo(v1);
  }

  @Test
  void cancelledContextStopsBetweenFiles() {
    LocalFilesProvider p = provider();
    CallContext c = ctx();
    c.cancellation().cancel("new revision");
    Outcome o = p.apply(change(p.keyOf("a.txt"), Action.CREATE, text("x", "0644")), c);
    assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(o.message()).contains("new revision");
    assertThat(target().resolve("a.txt")).doesNotExist();
    Map<ResourceKey, Observation> obs = p.observe(List.of(p.keyOf("a.txt"), p.keyOf("b.txt")), c);
    assertThat(obs.values()).allMatch(Observation::isUnknown);
  }

  @Test
  void decoderMapsEveryFileWithOriginAndDefaultMode() {
    LocalFilesProvider p = provider();
    Decoder d = p.decoder().orElseThrow();
    assertThat(d.claims("anything/at/all.bin")).isTrue();
    List<Resource> rs = d.decode(new SourceFile("etc/motd", "blob1", "hi\n".getBytes(StandardCharsets.UTF_8),
        "main@sha1:abc"));
    assertThat(rs).hasSize(1);
    Resource r = rs.get(0);
    assertThat(r.key()).isEqualTo(ResourceKey.of("files", "file", "", "etc/motd"));
    assertThat(r.document()).isEqualTo(text("hi\n", "0644"));
    assertThat(r.origin().path()).isEqualTo("etc/motd");
    assertThat(r.origin().line()).isEqualTo(1);
    assertThat(r.origin().revision()).isEqualTo("main@sha1:abc");

    Resource s = d.decode(new SourceFile("svc/a.json", "blob2", "{\"x\":[1,2]}".getBytes(StandardCharsets.UTF_8),
        "r")).get(0);
    assertThat(s.document()).isEqualTo(json("{\"data\":{\"x\":[1,2]},\"mode\":\"0644\"}"));
  }

  @Test
  void decoderReportsBadStructuredFilesWithFileAndLine() {
    Decoder d = provider().decoder().orElseThrow();
    assertThatThrownBy(() -> d.decode(new SourceFile("config/a.yaml", "b",
        "a: 1\nb: [\n".getBytes(StandardCharsets.UTF_8), "rev1")))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("config/a.yaml")
        .hasMessageContaining("rev1");
    assertThatThrownBy(() -> d.decode(new SourceFile("x.json", "b",
        "{\"a\":1,\n\"a\":2}".getBytes(StandardCharsets.UTF_8), "rev1")))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("x.json:2");
    assertThatThrownBy(() -> d.decode(new SourceFile("config/m.yaml", "b",
        "a: 1\n---\nb: 2\n".getBytes(StandardCharsets.UTF_8), "rev1")))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("more than one YAML document");
  }

  @Test
  void aStructuredFileIsOneDocumentWhateverItsLineEndsAndTrailingEmptyDocumentsAndItsErrorsNameTheLine() {
    Decoder d = provider().decoder().orElseThrow();
    // a trailing '---' (with or without a comment after it) holds nothing: the file is still one document
    for (String text : List.of("a: 1\n---\n", "a: 1\r\n---\r\n# end\r\n", "a: 1\n---\n---\n")) {
      Resource r = d.decode(new SourceFile("config/t.yaml", "b", text.getBytes(StandardCharsets.UTF_8), "rev1")).get(0);
      assertThat(r.document().get("data")).as(text).isEqualTo(json("{\"a\":1}"));
    }
    // a second document with content is refused at its line, LF or CRLF alike; so is an explicit null one
    for (String text : List.of("a: 1\n\n---\nb: 2\n", "a: 1\r\n\r\n---\r\nb: 2\r\n", "a: 1\n\n---\nnull\n")) {
      assertThatThrownBy(() -> d.decode(new SourceFile("config/m.yaml", "b", text.getBytes(StandardCharsets.UTF_8),
          "rev1"))).as(text).isInstanceOf(DecodeException.class).hasMessageStartingWith("config/m.yaml:4@rev1")
          .hasMessageContaining("more than one YAML document");
    }
    // bytes that are not UTF-8 are named at their line, not at the top of the file
    byte[] latin1 = "a: 1\r\nb: 2\r\nc: caf\u00e9\r\n".getBytes(StandardCharsets.ISO_8859_1);
    assertThatThrownBy(() -> d.decode(new SourceFile("config/l.yaml", "b", latin1, "rev1")))
        .isInstanceOf(DecodeException.class).hasMessageStartingWith("config/l.yaml:3@rev1")
        .hasMessageContaining("not UTF-8 (byte 0xE9").hasMessageNotContaining("CharConversionException");
  }

  @Test
  void decoderRefusesFilesMappingIntoTheStoreDirectory() {
    Decoder d = provider().decoder().orElseThrow();
    assertThatThrownBy(() -> d.decode(new SourceFile(".gitops/lock", "b", new byte[0], "rev1")))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining(".gitops/lock");
  }

  @Test
  void yamlAliasesAndCustomTagsAreRefusedNotMisread() {
    Decoder d = provider().decoder().orElseThrow();
    assertThatThrownBy(() -> d.decode(new SourceFile("config/a.yaml", "b",
        "a: &x [1, 2]\nb: *x\n".getBytes(StandardCharsets.UTF_8), "rev1")))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("config/a.yaml:2")
        .hasMessageContaining("alias");
    assertThatThrownBy(() -> d.decode(new SourceFile("config/t.yaml", "b",
        "a: 1\nb: !custom foo\n".getBytes(StandardCharsets.UTF_8), "rev1")))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("config/t.yaml:2")
        .hasMessageContaining("custom");
    Resource r = d.decode(new SourceFile("config/s.yaml", "b",
        "a: !!str 12\n".getBytes(StandardCharsets.UTF_8), "rev1")).get(0);
    assertThat(r.document().get("data").get("a").isTextual()).isTrue();
  }

  @Test
  void normalizeGivesTheFormObserveReports() throws IOException {
    LocalFilesProvider p = provider();
    ResourceKey key = p.keyOf("n.txt");
    JsonNode handBuilt = json("{\"contentBase64\":\"aGk=\",\"mode\":\"600\"}");
    assertThat(p.normalize(key, handBuilt)).isEqualTo(text("hi", "0600"));
    assertThat(p.normalize(key, text("a\u0000b", "0644")))
        .isEqualTo(json("{\"contentBase64\":\"YQBi\",\"mode\":\"0644\"}"));
    p.apply(change(key, Action.CREATE, handBuilt), ctx());
    assertThat(observe(p, key).live()).isEqualTo(p.normalize(key, handBuilt));
    JsonNode invalid = json("{\"contentBase64\":\"***\",\"mode\":\"x\"}");
    assertThat(p.normalize(key, invalid)).isEqualTo(invalid);
  }
}
