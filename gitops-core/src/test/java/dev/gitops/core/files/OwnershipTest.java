package dev.gitops.core.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.core.internal.fs.FileChunks;
import dev.gitops.core.internal.fs.KeyFileNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ownership record on disk: claims as symbolic links, older claim files, long paths, foreign links. */
class OwnershipTest {

  @TempDir
  Path tmp;

  private Path claimOf(String path) {
    return tmp.resolve("owners").resolve(KeyFileNames.of(path));
  }

  @Test
  void aClaimMadeFirstForAnAbsentFileMakesTheRecordDirectoryAndStillRespectsEveryHeldClaim() throws IOException {
    Path dir = tmp.resolve("own").resolve("owners");
    Ownership o = new Ownership(dir);
    List<Path> forced = new ArrayList<>();
    o.claim("conf/a.conf", "team-a", forced::add, true);  // no directory yet: made on the way
    assertThat(Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)).isTrue();
    assertThat(o.ownerOf("conf/a.conf")).isEqualTo("team-a");
    assertThat(forced).containsExactly(dir);

    o.claim("conf/a.conf", "team-a", forced::add, true);  // its own claim: kept, nothing new to force
    assertThat(forced).containsExactly(dir);
    assertThatThrownBy(() -> o.claim("conf/a.conf", "team-b", forced::add, true))
        .isInstanceOf(Ownership.ClaimedException.class).hasMessageContaining("team-a");
    // an older claim file (not a link) held by another owner is found the same way
    Files.write(dir.resolve(KeyFileNames.of("old.conf")),
        "{\"owner\":\"team-b\",\"path\":\"old.conf\"}".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> o.claim("old.conf", "team-a", forced::add, true))
        .isInstanceOf(Ownership.ClaimedException.class).hasMessageContaining("team-b");
    assertThat(o.all(false)).isEqualTo(Map.of("conf/a.conf", "team-a", "old.conf", "team-b"));
  }

  @Test
  void aClaimIsASymbolicLinkNamingItsOwnerUnderTheNameThatSpellsItsPathAndReadsBack() throws IOException {
    Ownership o = new Ownership(tmp.resolve("owners"));
    o.claim("conf/a.conf", "team-a");

    Path f = claimOf("conf/a.conf");
    assertThat(Files.isSymbolicLink(f)).isTrue();
    assertThat(Files.readSymbolicLink(f).toString()).as("short enough to live in the inode")
        .isEqualTo(Ownership.OWNER_PREFIX + "team-a").hasSizeLessThanOrEqualTo(Ownership.MAX_COMPACT);
    assertThat(o.ownerOf("conf/a.conf")).isEqualTo("team-a");
    assertThat(o.all(false)).isEqualTo(Map.of("conf/a.conf", "team-a"));

    o.claim("conf/a.conf", "team-a");  // kept
    assertThatThrownBy(() -> o.claim("conf/a.conf", "team-b"))
        .isInstanceOf(Ownership.ClaimedException.class).hasMessageContaining("team-a");
    o.release("conf/a.conf", "team-a");
    assertThat(Files.exists(f, LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(o.ownerOf("conf/a.conf")).isNull();
  }

  @Test
  void aClaimIsRecognisedByItsLinkTextAndAnyOtherOwnersClaimIsStillRead() throws IOException {
    Ownership o = new Ownership(tmp.resolve("owners"));
    o.claim("conf/a.conf", "team-a");
    o.claim("conf/\u00e9t\u00e9.conf", "team-\"b\"");

    assertThat(Files.readSymbolicLink(claimOf("conf/a.conf")).toString())
        .isEqualTo(Ownership.linkText("team-a", "conf/a.conf"));
    assertThat(o.ownerOf("conf/a.conf", "team-a")).isEqualTo("team-a");
    assertThat(o.ownerOf("conf/a.conf", "team-b")).as("another owner's claim, read in full").isEqualTo("team-a");
    assertThat(Ownership.linkText("team-\"b\"", "conf/x")).as("text JSON escapes is never guessed").isNull();
    assertThat(o.ownerOf("conf/\u00e9t\u00e9.conf", "team-\"b\"")).isEqualTo("team-\"b\"");
    assertThat(o.ownerOf("conf/none.conf", "team-a")).isNull();
  }

  @Test
  void claimFilesOfEarlierVersionsAreStillRead() throws IOException {
    Files.createDirectories(tmp.resolve("owners"));
    Files.writeString(claimOf("old.conf"), "{\"owner\":\"team-a\",\"path\":\"old.conf\"}");
    Ownership o = new Ownership(tmp.resolve("owners"));
    o.claim("new.conf", "team-a");

    assertThat(o.ownerOf("old.conf")).isEqualTo("team-a");
    assertThat(o.ownerOf("old.conf", "team-a")).isEqualTo("team-a");
    assertThat(o.all(false)).isEqualTo(Map.of("old.conf", "team-a", "new.conf", "team-a"));
    assertThatThrownBy(() -> o.claim("old.conf", "team-b")).isInstanceOf(Ownership.ClaimedException.class);
    o.release("old.conf", "team-a");
    assertThat(o.ownerOf("old.conf")).isNull();
  }

  @Test
  void aRecordTooLongForALinkIsAClaimFile() throws IOException {
    String path = "d/" + "x".repeat(900) + ".conf";
    Ownership o = new Ownership(tmp.resolve("owners"));
    o.claim(path, "team-a");

    Path f = claimOf(path);
    assertThat(Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).isTrue();
    assertThat(o.ownerOf(path)).isEqualTo("team-a");
    assertThat(o.all(false)).containsEntry(path, "team-a");
  }

  /** Writes {@code owner}'s claim on {@code path} as {@link Ownership#claim} would, without its fsync. */
  private void linkClaim(String path, String owner) throws IOException {
    Files.createSymbolicLink(claimOf(path), tmp.getFileSystem().getPath(Ownership.linkText(owner, path)));
  }

  @Test
  void manyClaimsReadInChunksComeBackWholeAndSortedAndTheFirstDamagedListedIsNamed() throws IOException {
    Files.createDirectories(tmp.resolve("owners"));
    int n = 3 * dev.gitops.core.internal.fs.FileChunks.PARALLEL_FROM + 7;  // several chunks, in parallel
    Map<String, String> claimed = new java.util.TreeMap<>();
    for (int i = 0; i < n; i++) {
      String path = "conf/d" + (i % 13) + "/f" + i + ".conf";
      String owner = i % 5 == 0 ? "team-b" : "team-a";
      linkClaim(path, owner);
      claimed.put(path, owner);
    }
    Ownership o = new Ownership(tmp.resolve("owners"));

    Map<String, String> all = o.all(false);
    assertThat(all).isEqualTo(claimed);
    assertThat(new ArrayList<>(all.keySet())).isSorted();

    // two damaged claims far apart: the one listed first is thrown, the other suppressed in it, every time
    List<Path> listed = new ArrayList<>();
    try (var ds = Files.newDirectoryStream(tmp.resolve("owners"))) {
      ds.forEach(listed::add);
    }
    Path first = listed.get(3);
    Path last = listed.get(listed.size() - 2);
    for (Path damaged : List.of(first, last)) {
      Files.delete(damaged);
      Files.createSymbolicLink(damaged, tmp.getFileSystem().getPath("elsewhere"));
    }
    for (int round = 0; round < 5; round++) {
      assertThatThrownBy(() -> o.all(false)).isInstanceOf(IOException.class).hasMessageContaining(first.toString())
          .hasMessageContaining("not a claim")
          .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
              .satisfies(s -> assertThat(s).hasMessageContaining(last.toString())));
    }
  }

  @Test
  void aLinkThatIsNotAClaimIsNeverFollowedAndNamedAsDamage() throws IOException {
    Files.createDirectories(tmp.resolve("owners"));
    // A link to a file holding a valid record for the path: following it would accept a forged claim.
    Path forged = Files.writeString(tmp.resolve("forged.json"), "{\"owner\":\"mallory\",\"path\":\"a.conf\"}");
    Files.createSymbolicLink(claimOf("a.conf"), forged);
    Ownership o = new Ownership(tmp.resolve("owners"));

    assertThatThrownBy(() -> o.ownerOf("a.conf")).isInstanceOf(IOException.class)
        .hasMessageContaining(claimOf("a.conf").toString()).hasMessageContaining("not a claim");
    assertThatThrownBy(() -> o.all(false)).isInstanceOf(IOException.class).hasMessageContaining("not a claim");
  }

  @Test
  void aClaimThatIsADirectoryGarbageOrHugeIsNamedInOneReadableLine() throws IOException {
    Files.createDirectories(claimOf("dir.conf"));
    Ownership o = new Ownership(tmp.resolve("owners"));
    assertThatThrownBy(() -> o.ownerOf("dir.conf")).isInstanceOf(IOException.class)
        .hasMessage("cannot read ownership record " + claimOf("dir.conf") + ": it is a directory, not a claim");
    Files.delete(claimOf("dir.conf"));

    Files.write(claimOf("bin.conf"), new byte[] {(byte) 0x9a, 0x01, 0x02});
    assertThatThrownBy(() -> o.ownerOf("bin.conf")).isInstanceOf(IOException.class)
        .hasMessageStartingWith("ownership record " + claimOf("bin.conf") + " is not valid JSON (")
        .hasMessageNotContaining("REDACTED").hasMessageNotContaining("StreamReadFeature");
    Files.delete(claimOf("bin.conf"));

    Files.writeString(claimOf("cut.conf"), "{\"owner\":\"team-a\",\"pa");
    assertThatThrownBy(() -> o.ownerOf("cut.conf")).isInstanceOf(IOException.class)
        .hasMessageContaining(claimOf("cut.conf") + " is not valid JSON (").hasMessageContaining("line 1, column ")
        .hasMessageNotContaining("REDACTED");
    Files.delete(claimOf("cut.conf"));

    Files.writeString(claimOf("big.conf"), "{\"owner\": null, \"x\": \"" + "y".repeat(100_000) + "\"}");
    assertThatThrownBy(() -> o.ownerOf("big.conf")).isInstanceOf(IOException.class)
        .hasMessageContaining(claimOf("big.conf") + " is damaged").hasMessageEndingWith("... (100024 bytes)")
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(600));
    Files.delete(claimOf("big.conf"));
    Files.writeString(claimOf("empty.conf"), "");
    assertThatThrownBy(() -> o.ownerOf("empty.conf")).isInstanceOf(IOException.class)
        .hasMessageEndingWith("got an empty file");
  }

  /**
   * A FIFO where a claim file or the claim listing is would block an open until some writer came:
   * neither is opened. The claim is named as no claim (the listing of claims fails, as for a
   * directory there), the listing is not taken (the claims are read one by one).
   */
  @Test
  void aFifoWhereAClaimOrTheListingIsIsNeverOpened() throws Exception {
    Ownership o = new Ownership(tmp.resolve("owners"));
    o.claim("a.conf", "team-a");
    Path fifo = claimOf("b.conf");
    org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo(fifo), "mkfifo");
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> {
      assertThatThrownBy(() -> o.ownerOf("b.conf")).isInstanceOf(IOException.class)
          .hasMessageContaining(fifo.toString()).hasMessageContaining("not a regular file");
      assertThatThrownBy(() -> o.all(false)).isInstanceOf(IOException.class).hasMessageContaining(fifo.toString());
    });
    Files.delete(fifo);

    Path listing = tmp.resolve("owners").resolveSibling(ClaimListing.FILE);
    assertThat(mkfifo(listing)).isTrue();
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> {
      assertThat(ClaimListing.read(listing, LocalFilesProvider.Stat.of(tmp.resolve("owners")).token())).isNull();
      assertThat(o.all(true)).isEqualTo(Map.of("a.conf", "team-a"));
    });
  }

  private static boolean mkfifo(Path p) throws IOException, InterruptedException {
    try {
      return new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor() == 0;
    } catch (IOException e) {
      return false;  // no mkfifo here
    }
  }

  @Test
  void aLinkRecordForAnotherPathIsDamage() throws IOException {
    Files.createDirectories(tmp.resolve("owners"));
    String other = Base64.getUrlEncoder().withoutPadding()
        .encodeToString("{\"owner\":\"team-a\",\"path\":\"b.conf\"}".getBytes(StandardCharsets.UTF_8));
    Files.createSymbolicLink(claimOf("a.conf"), tmp.getFileSystem().getPath(Ownership.LINK_PREFIX + other));
    Ownership o = new Ownership(tmp.resolve("owners"));

    assertThatThrownBy(() -> o.ownerOf("a.conf")).isInstanceOf(IOException.class).hasMessageContaining("damaged");
  }

  @Test
  void aPlainRecordIsReadWithoutAParserAsAParserReadsItAndAnythingElseIsLeftToTheParser() throws IOException {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    for (String[] claim : new String[][] {{"team-a", "conf/a.conf"}, {"", "x"}, {"o", "d/e/f g.conf"}}) {
      byte[] written = json.writeValueAsBytes(json.createObjectNode().put("owner", claim[0]).put("path", claim[1]));
      assertThat(Ownership.plainRecord(written)).isEqualTo(Map.of(claim[1], claim[0]));
    }
    for (String other : new String[] {"{\"owner\":\"a\\\"b\",\"path\":\"p\"}", "{\"path\":\"p\",\"owner\":\"a\"}",
        "{\"owner\":\"a\",\"path\":\"p\"} ", "{\"owner\":\"a\",\"path\":\"p\",\"x\":1}", "{\"owner\":\"a\"}",
        "{\"owner\":\"\u00e9\",\"path\":\"p\"}"}) {
      assertThat(Ownership.plainRecord(other.getBytes(StandardCharsets.UTF_8))).as(other).isNull();
    }
  }

  @Test
  void aPlainRecordUnderAnotherPathsNameIsStillDamage() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("owners"));
    Files.createSymbolicLink(dir.resolve(KeyFileNames.of("a.conf")), Path.of(Ownership.recordText("team-a", "b.conf")));
    Ownership o = new Ownership(dir);

    assertThatThrownBy(() -> o.all(false)).isInstanceOf(IOException.class).hasMessageContaining("damaged");
    assertThatThrownBy(() -> o.ownerOf("a.conf")).isInstanceOf(IOException.class).hasMessageContaining("damaged");
  }

  @Test
  void aClaimWhoseNameIsShortenedOrWhoseOwnerIsLongHoldsTheWholeRecordInItsLink() throws IOException {
    Ownership o = new Ownership(tmp.resolve("owners"));
    String longPath = "d/" + "y".repeat(300) + ".conf";  // its claim's name is cut short with a hash
    String longOwner = "o".repeat(Ownership.MAX_COMPACT);
    o.claim(longPath, "team-a");
    o.claim("conf/b.conf", longOwner);

    for (String[] claim : new String[][] {{longPath, "team-a"}, {"conf/b.conf", longOwner}}) {
      String link = Files.readSymbolicLink(claimOf(claim[0])).toString();
      assertThat(link).startsWith(Ownership.LINK_PREFIX);
      assertThat(new String(Base64.getUrlDecoder().decode(link.substring(Ownership.LINK_PREFIX.length())),
          StandardCharsets.UTF_8)).isEqualTo("{\"owner\":\"" + claim[1] + "\",\"path\":\"" + claim[0] + "\"}");
      assertThat(o.ownerOf(claim[0], claim[1])).isEqualTo(claim[1]);
    }
    assertThat(o.all(false)).isEqualTo(Map.of(longPath, "team-a", "conf/b.conf", longOwner));
  }

  @Test
  void aPathHoldingASurrogateIsClaimedInTheRecordFormAndReadBackAsItself() throws IOException {
    Ownership o = new Ownership(tmp.resolve("owners"));
    // UTF-8 writes an unpaired surrogate as '?': its name is that of "conf/?.conf", which it must not read back as
    String unpaired = "conf/\uD800.conf";
    String paired = "conf/\uD83D\uDE00.conf";
    o.claim(unpaired, "team-a");
    o.claim(paired, "team-b");
    o.claim("conf/a.conf", "team-a");

    assertThat(Files.readSymbolicLink(claimOf(unpaired)).toString()).startsWith(Ownership.LINK_PREFIX);
    assertThat(Files.readSymbolicLink(claimOf(paired)).toString()).startsWith(Ownership.LINK_PREFIX);
    assertThat(Files.readSymbolicLink(claimOf("conf/a.conf")).toString()).isEqualTo(Ownership.OWNER_PREFIX + "team-a");
    assertThat(o.ownerOf(unpaired, "team-a")).isEqualTo("team-a");
    assertThat(o.ownerOf(paired, "team-b")).isEqualTo("team-b");
    assertThat(o.all(false)).isEqualTo(Map.of(unpaired, "team-a", paired, "team-b", "conf/a.conf", "team-a"));
  }

  @Test
  void claimsInTheRecordFormEarlierVersionsWroteAreStillReadAndHeld() throws IOException {
    Files.createDirectories(tmp.resolve("owners"));
    Files.createSymbolicLink(claimOf("conf/a.conf"),
        tmp.getFileSystem().getPath(Ownership.recordText("team-a", "conf/a.conf")));
    Files.createSymbolicLink(claimOf("conf/b.conf"),
        tmp.getFileSystem().getPath(Ownership.recordText("team-b", "conf/b.conf")));
    Ownership o = new Ownership(tmp.resolve("owners"));

    assertThat(o.ownerOf("conf/a.conf", "team-a")).isEqualTo("team-a");
    assertThat(o.ownerOf("conf/b.conf", "team-a")).isEqualTo("team-b");
    o.claim("conf/a.conf", "team-a");  // kept as it is
    assertThat(Files.readSymbolicLink(claimOf("conf/a.conf")).toString()).startsWith(Ownership.LINK_PREFIX);
    assertThatThrownBy(() -> o.claim("conf/b.conf", "team-a")).isInstanceOf(Ownership.ClaimedException.class)
        .hasMessageContaining("team-b");
    o.claim("conf/c.conf", "team-a");
    assertThat(o.all(false)).isEqualTo(Map.of("conf/a.conf", "team-a", "conf/b.conf", "team-b", "conf/c.conf", "team-a"));
  }

  @Test
  void aCompactClaimUnderANameThatDoesNotSpellAPathIsDamage() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("owners"));
    String shortened = KeyFileNames.of("d/" + "z".repeat(300));
    Files.createSymbolicLink(dir.resolve(shortened), Path.of(Ownership.OWNER_PREFIX + "team-a"));
    Ownership o = new Ownership(dir);

    assertThatThrownBy(() -> o.all(false)).isInstanceOf(IOException.class).hasMessageContaining("damaged")
        .hasMessageContaining(shortened);
  }

  /** A wall clock far enough ahead that every directory made now looks settled to a listing. */
  private static long settled() {
    return System.currentTimeMillis() + 10 * ClaimListing.SETTLED_MILLIS;
  }

  private Map<String, String> manyClaims(Path dir, int n) throws IOException {
    Files.createDirectories(dir);
    Map<String, String> claimed = new java.util.TreeMap<>();
    for (int i = 0; i < n; i++) {
      String path = "conf/f" + i + ".conf";
      String owner = i % 3 == 0 ? "team-b" : "team-a";
      Files.createSymbolicLink(dir.resolve(KeyFileNames.of(path)),
          tmp.getFileSystem().getPath(Ownership.linkText(owner, path)));
      claimed.put(path, owner);
    }
    return claimed;
  }

  @Test
  void aSettledDirectoryOfLinksIsListedOnceAndItsListingTakenUntilAClaimIsMadeOrDropped() throws IOException {
    Path dir = tmp.resolve("own").resolve("owners");
    Map<String, String> claimed = manyClaims(dir, FileChunks.PARALLEL_FROM + 3);
    Path listing = dir.resolveSibling(ClaimListing.FILE);
    Ownership o = new Ownership(dir, OwnershipTest::settled);

    assertThat(o.all(true)).isEqualTo(claimed);
    assertThat(listing).exists();
    // what the listing says is what is taken while the directory is as it was: shown by a listing
    // that lies (which only a hand could write there)
    ClaimListing.write(listing, LocalFilesProvider.Stat.of(dir).token(), Map.of("made/up.conf", "team-z"));
    assertThat(o.all(true)).isEqualTo(Map.of("made/up.conf", "team-z"));
    assertThat(o.all(false)).as("taken also where none would be kept").isEqualTo(Map.of("made/up.conf", "team-z"));

    // a claim made changes the directory: the claims are read again (and the listing kept anew)
    o.claim("conf/new.conf", "team-a");
    claimed.put("conf/new.conf", "team-a");
    assertThat(o.all(true)).isEqualTo(claimed);
    assertThat(o.all(true)).isEqualTo(claimed);
    // and so does a claim dropped, or one replaced by another owner's under the same name
    o.release("conf/f1.conf", "team-a");
    claimed.remove("conf/f1.conf");
    assertThat(o.all(true)).isEqualTo(claimed);
    Path f2 = dir.resolve(KeyFileNames.of("conf/f2.conf"));
    Path replacement = dir.resolve("replacement");
    Files.createSymbolicLink(replacement, tmp.getFileSystem().getPath(Ownership.linkText("team-c", "conf/f2.conf")));
    Files.move(replacement, f2, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    claimed.put("conf/f2.conf", "team-c");
    assertThat(o.all(true)).isEqualTo(claimed);
    // a directory made anew with the same names (another inode) is not the one listed
    Map<String, String> before = o.all(true);
    Path moved = tmp.resolve("own").resolve("moved");
    Files.move(dir, moved);
    Map<String, String> fresh = manyClaims(dir, 5);
    assertThat(o.all(true)).isEqualTo(fresh).isNotEqualTo(before);
  }

  @Test
  void aListingIsNotKeptForADirectoryJustChangedOrHoldingAClaimFileOrWhenNotAskedTo() throws IOException {
    Path dir = tmp.resolve("own").resolve("owners");
    Map<String, String> claimed = manyClaims(dir, 10);
    Path listing = dir.resolveSibling(ClaimListing.FILE);

    // by the real clock the directory changed just now: a change in the same tick could go unseen
    assertThat(new Ownership(dir).all(true)).isEqualTo(claimed);
    assertThat(listing).doesNotExist();
    Ownership o = new Ownership(dir, OwnershipTest::settled);
    assertThat(o.all(false)).isEqualTo(claimed);
    assertThat(listing).doesNotExist();
    // a claim file's bytes can be rewritten in place, which the directory would not show
    Files.write(dir.resolve(KeyFileNames.of("old.conf")),
        "{\"owner\":\"team-b\",\"path\":\"old.conf\"}".getBytes(StandardCharsets.UTF_8));
    claimed.put("old.conf", "team-b");
    assertThat(o.all(true)).isEqualTo(claimed);
    assertThat(listing).doesNotExist();
  }

  @Test
  void aTornDamagedOrForeignListingIsReadAsNoneAndTheClaimsAreReadOneByOne() throws IOException {
    Path dir = tmp.resolve("own").resolve("owners");
    Map<String, String> claimed = manyClaims(dir, 40);
    Path listing = dir.resolveSibling(ClaimListing.FILE);
    Ownership o = new Ownership(dir, OwnershipTest::settled);
    o.all(true);
    byte[] whole = Files.readAllBytes(listing);
    String token = LocalFilesProvider.Stat.of(dir).token();
    assertThat(ClaimListing.read(listing, token)).isEqualTo(claimed);

    for (int cut : new int[] {0, 3, 9, whole.length / 2, whole.length - 1}) {
      Files.write(listing, java.util.Arrays.copyOf(whole, cut));
      assertThat(ClaimListing.read(listing, token)).as("cut at %d", cut).isNull();
      assertThat(o.all(false)).isEqualTo(claimed);
    }
    for (int at : new int[] {0, 7, whole.length / 2, whole.length - 3}) {
      byte[] flipped = whole.clone();
      flipped[at] ^= 0x20;
      Files.write(listing, flipped);
      assertThat(ClaimListing.read(listing, token)).as("byte %d flipped", at).isNull();
      assertThat(o.all(false)).isEqualTo(claimed);
    }
    Files.write(listing, whole);
    assertThat(ClaimListing.read(listing, token + "-other")).as("another directory's listing").isNull();
    Files.delete(listing);
    Files.createDirectory(listing);
    assertThat(o.all(true)).as("a listing that cannot be read or replaced").isEqualTo(claimed);
  }

  @Test
  void aListingRoundTripsAnyPathAndOwnerAndNoLinkAtItsNamesIsFollowed() throws IOException {
    Path file = tmp.resolve(ClaimListing.FILE);
    Map<String, String> odd = new java.util.TreeMap<>(Map.of("conf/with space.conf", "team a",
        "conf/tab\t and\nnewline", "team-b", "conf/ünïcødé/日本.conf", "チーム", "conf/\uD800lone surrogate", "x",
        "", "empty-path", "conf/" + "long/".repeat(2000) + "f", "team-a"));
    ClaimListing.write(file, "token-1", odd);
    assertThat(ClaimListing.read(file, "token-1")).isEqualTo(odd);
    ClaimListing.write(file, "token-2", Map.of());
    assertThat(ClaimListing.read(file, "token-2")).isEmpty();

    // links planted at the listing's name and at its temporary name: neither read nor written through
    Path elsewhere = tmp.resolve("elsewhere");
    ClaimListing.write(elsewhere, "token-3", Map.of("made/up.conf", "team-z"));
    Files.delete(file);
    Files.createSymbolicLink(file, elsewhere);
    assertThat(ClaimListing.read(file, "token-3")).as("a link is not followed").isNull();
    Path victim = Files.writeString(tmp.resolve("victim"), "keep me");
    Path temp = tmp.resolve(ClaimListing.FILE + ".tmp");
    Files.createSymbolicLink(temp, victim);
    ClaimListing.write(file, "token-4", odd);
    assertThat(Files.readString(victim)).isEqualTo("keep me");
    assertThat(Files.isSymbolicLink(file)).as("the link at the name replaced, not written through").isFalse();
    assertThat(ClaimListing.read(file, "token-4")).isEqualTo(odd);
  }
}
