package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.api.Cancellation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.LogCapture;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Refs that do not say plainly what they read: a name that is both a tag and a branch (refused), a version
 * range whose best tag went away, a ref that is not there (an abbreviated commit id, a deleted
 * branch, a typo), {@code heads/} and {@code tags/} prefixes, and commit ids in upper case. Each is
 * read over {@code git://} (a real git daemon) and as a local path, and "a new process" is a new
 * source over the same cache given the revision the store recorded, as the Reconciler gives it.
 */
class GitSourceHostileRefsTest {

  @TempDir Path tmp;
  private TestGitRepo repo;
  private GitDaemonServer daemon;
  private final List<GitSource> sources = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    repo = TestGitRepo.init(tmp.resolve("served/repo"));
    daemon = GitDaemonServer.start(tmp.resolve("served"));
  }

  @AfterEach
  void tearDown() throws Exception {
    sources.forEach(GitSource::close);
    daemon.close();
  }

  private String url(String transport) {
    return transport.equals("daemon") ? daemon.url("repo") : repo.dir().toString();
  }

  private GitSource source(String url, String ref) {
    return source(url, ref, "cache");
  }

  private GitSource source(String url, String ref, String cache) {
    GitSource s = GitSource.builder().url(url).ref(ref).cacheDir(tmp.resolve(cache)).build();
    sources.add(s);
    return s;
  }

  private static State read(GitSource s) {
    return read(s, "");
  }

  private static State read(GitSource s, String previousRevision) {
    return s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation())
        .withPreviousRevision(previousRevision));
  }

  private static String value(State st) {
    return st.get(ResourceKey.of("m", "t", "", "a")).orElseThrow().document().get("x").asText();
  }

  private String commit(String value) throws Exception {
    return repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: \"" + value + "\"}\n").commit(value);
  }

  private static SourceException fails(GitSource s, String previousRevision) {
    SourceException e = catchThrowableOfType(SourceException.class, () -> read(s, previousRevision));
    assertThat(e).as("the read fails").isNotNull();
    assertThat(e.getMessage()).doesNotContain("\n");
    return e;
  }

  @ParameterizedTest
  @ValueSource(strings = {"daemon", "local"})
  void aNameThatIsBothATagAndABranchIsRefusedNamingEachWithItsCommitAndHowToNameTheOneMeant(String transport)
      throws Exception {
    String old = commit("one");
    repo.git("tag", "release");  // a lightweight tag at the first commit
    repo.git("branch", "release");
    repo.git("checkout", "-q", "release");
    String head = commit("two");

    SourceException e = fails(source(url(transport), "release"), "");

    assertThat(e.getMessage()).startsWith("ref 'release' is ambiguous at ")
        .contains("the tag refs/tags/release (at " + old + ")").contains("the branch refs/heads/release (at " + head + ")")
        .contains("nothing is read").contains("heads/release (or refs/heads/release) for the branch")
        .contains("tags/release (or refs/tags/release) for the tag");
    // each spelling the refusal offers reads the one it names, with no warning
    try (LogCapture logs = LogCapture.of(GitSource.class, "WARN")) {
      assertThat(value(read(source(url(transport), "heads/release", "cache2")))).isEqualTo("two");
      assertThat(value(read(source(url(transport), "refs/heads/release", "cache3")))).isEqualTo("two");
      assertThat(value(read(source(url(transport), "tags/release", "cache4")))).isEqualTo("one");
      assertThat(logs.lines()).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"daemon", "local"})
  void aRefOutsideHeadsAndTagsOrARemoteTrackingBranchOfTheNameIsAmbiguousToo(String transport) throws Exception {
    String good = commit("good");
    repo.git("checkout", "-q", "-b", "tmp");
    String evil = commit("evil");
    repo.git("update-ref", "refs/main", evil);
    repo.git("checkout", "-q", "main");

    SourceException e = fails(source(url(transport), "main"), "");

    assertThat(e.getMessage()).contains("'main' is ambiguous").contains("refs/main (at " + evil + ")")
        .contains("the branch refs/heads/main (at " + good + ")").contains("refs/main for refs/main")
        .contains("heads/main (or refs/heads/main) for the branch");
    assertThat(value(read(source(url(transport), "heads/main", "cache2")))).isEqualTo("good");
    assertThat(value(read(source(url(transport), "refs/main", "cache3")))).as("a full name is never ambiguous")
        .isEqualTo("evil");

    repo.git("update-ref", "-d", "refs/main");
    repo.git("update-ref", "refs/remotes/main/HEAD", evil);
    assertThat(fails(source(url(transport), "main", "cache4"), "").getMessage())
        .contains("the remote-tracking branch refs/remotes/main/HEAD (at " + evil + ")");
  }

  @ParameterizedTest
  @ValueSource(strings = {"daemon", "local"})
  void aTagPushedWithTheNameOfTheBranchReadStopsTheReadsInTheSameAndInANewProcess(String transport)
      throws Exception {
    String old = commit("one");
    repo.git("branch", "release");
    repo.git("checkout", "-q", "release");
    commit("two");
    String head = commit("three");
    GitSource s = source(url(transport), "release");
    State first = read(s);
    assertThat(first.revision()).isEqualTo("release@sha1:" + head);
    GitSource later = source(url(transport), "release");  // the next process: same cache, the store's revision

    repo.git("tag", "-a", "-m", "an old release", "release", old);

    assertThat(fails(later, first.revision()).getMessage()).contains("'release' is ambiguous")
        .contains("the branch refs/heads/release (at " + head + ")");
    assertThat(fails(s, "").getMessage()).contains("'release' is ambiguous");

    // the branch deleted, the name reads the tag alone: a move back, flagged, naming what it read before
    repo.git("checkout", "-q", "main");
    repo.git("branch", "-D", "release");
    try (LogCapture logs = LogCapture.of(GitSource.class, "WARN")) {
      State st = read(s);
      assertThat(value(st)).isEqualTo("one");
      assertThat(st.historyRewritten()).as("flagged in the same process").isTrue();
      assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains("release@sha1:" + old)
          .contains("release@sha1:" + head).contains("rollback").contains("the tag refs/tags/release")
          .contains("the name read the branch refs/heads/release before"));
    }
  }

  @Test
  void aBranchMovedBackToAnOlderCommitIsCalledARollbackWhenTheCacheHoldsItsHistory() throws Exception {
    commit("one");
    String older = commit("two");
    GitSource s = source(daemon.url("repo"), "main");
    read(s);
    String head = commit("three");
    read(s);  // fetched on top of "two": the cache holds three's history back to it
    repo.git("reset", "-q", "--hard", older);
    try (LogCapture logs = LogCapture.of(GitSource.class, "WARN")) {
      State st = read(s);
      assertThat(st.historyRewritten()).isTrue();
      assertThat(value(st)).isEqualTo("two");
      assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains("main@sha1:" + older + " is an older commit than main@sha1:"
          + head).contains("moved back (a rollback"));
    }
    commit("four");
    assertThat(read(s).historyRewritten()).as("a commit on top of the rollback is not flagged").isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"daemon", "local"})
  void aVersionRangeWhoseBestTagWasDeletedFallsToALowerVersionFlaggedNotTakenAsAnUpgrade(String transport)
      throws Exception {
    commit("1.0.0");
    repo.tag("v1.0.0");
    commit("1.1.0");
    repo.tag("v1.1.0");
    String high = commit("1.2.0");
    repo.tag("v1.2.0");
    GitSource s = source(url(transport), "^1.0");
    State first = read(s);
    assertThat(first.revision()).isEqualTo("v1.2.0@sha1:" + high);
    GitSource later = source(url(transport), "^1.0");

    repo.git("tag", "-d", "v1.2.0");
    try (LogCapture logs = LogCapture.of(GitSource.class, "WARN")) {
      State st = read(s);
      assertThat(st.revision()).startsWith("v1.1.0@sha1:");
      assertThat(value(st)).isEqualTo("1.1.0");
      assertThat(st.historyRewritten()).as("a lower version is flagged").isTrue();
      assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains("'^1.0'").contains("v1.1.0@sha1:")
          .contains("lower version than v1.2.0@sha1:" + high).contains("rollback"));
    }
    State next = read(later, first.revision());
    assertThat(next.revision()).startsWith("v1.1.0@sha1:");
    assertThat(next.historyRewritten()).as("flagged in a new process too").isTrue();

    // an upgrade from there is not flagged, even on a commit that does not descend from the last
    repo.git("checkout", "-q", "--orphan", "other");
    commit("1.3.0");
    repo.tag("v1.3.0");
    State up = read(s);
    assertThat(up.revision()).startsWith("v1.3.0@sha1:");
    assertThat(up.historyRewritten()).isFalse();
  }

  @Test
  void aVersionRangeMatchingNoTagAnyMoreNamesWhatItReadBefore() throws Exception {
    String sha = commit("1.0.0");
    repo.tag("v1.0.0");
    GitSource s = source(daemon.url("repo"), "~1.0");
    read(s);
    repo.git("tag", "-d", "v1.0.0");
    assertThat(fails(s, "").getMessage()).contains("no tag of " + daemon.url("repo"))
        .contains("'~1.0'").contains("v1.0.0@sha1:" + sha).contains("deleted upstream");
  }

  @ParameterizedTest
  @ValueSource(strings = {"daemon", "local"})
  void anAbbreviatedCommitIdAsksForTheFullIdAndNamesTheRefAtIt(String transport) throws Exception {
    String sha = commit("one");
    for (String shortId : List.of(sha.substring(0, 7), sha.substring(0, 12).toUpperCase())) {
      // an id of digits alone (about one commit in 27 for 7 of them) is also a version range: read as one,
      // it matches no tag, and the message says both
      String head = shortId.chars().allMatch(Character::isDigit)
          ? "no tag of " + url(transport) + " matches the version range '" + shortId + "'"
          : "ref '" + shortId + "' not found at " + url(transport);
      assertThat(fails(source(url(transport), shortId), "").getMessage()).as(shortId)
          .contains(head)
          .contains("abbreviated commit id").contains("full 40-hex commit id")
          .contains("main is at " + sha);
    }
    // one no ref points at still asks for the full id
    String first = sha;
    commit("two");
    assertThat(fails(source(url(transport), first.substring(0, 8)), "").getMessage())
        .contains("abbreviated commit id").contains("git rev-parse " + first.substring(0, 8));
  }

  @ParameterizedTest
  @ValueSource(strings = {"daemon", "local"})
  void aBranchDeletedUpstreamNamesTheCommitReadLastInTheSameAndInANewProcess(String transport) throws Exception {
    commit("one");
    repo.git("checkout", "-q", "-b", "feature");
    String sha = commit("two");
    repo.git("checkout", "-q", "main");
    GitSource s = source(url(transport), "feature");
    State first = read(s);
    repo.git("branch", "-D", "feature");
    for (SourceException e : List.of(fails(s, ""), fails(source(url(transport), "feature", "cache2"), first.revision()),
        fails(source(url(transport), "refs/heads/feature", "cache3"), first.revision()))) {
      assertThat(e.getMessage()).contains("not found at " + url(transport))
          .contains("read at feature@sha1:" + sha).contains("deleted").contains("set the ref to the commit " + sha);
    }
  }

  @Test
  void aTypoListsTheNearestRefsEvenAmongMany() throws Exception {
    commit("one");
    for (int i = 0; i < 15; i++) {
      repo.git("branch", String.format("b%02d", i));
      repo.git("tag", String.format("t%02d", i));
    }
    repo.git("branch", "release-candidate");
    repo.git("tag", "v2.0.0");
    for (String typo : List.of("relase-candidate", "Release-Candidate", "heads/release-candidat", "origin/release-candidate")) {
      assertThat(fails(source(daemon.url("repo"), typo), "").getMessage()).as(typo)
          .contains("ref '" + typo + "' not found at " + daemon.url("repo"))
          .contains("nearest: release-candidate (branch)");
    }
    assertThat(fails(source(daemon.url("repo"), "v2.0.O"), "").getMessage()).contains("nearest: v2.0.0 (tag)");
    assertThat(fails(source(daemon.url("repo"), "main~1"), "").getMessage()).contains("not a revision expression")
        .contains("nearest: main (branch)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"daemon", "local"})
  void headsAndTagsPrefixesReadAsGitReadsThemAndCommitIdsAreLabelledInLowerCase(String transport) throws Exception {
    String one = commit("one");
    repo.tag("v1");
    String two = commit("two");
    assertThat(read(source(url(transport), "heads/main", "c1")).revision()).isEqualTo("main@sha1:" + two);
    assertThat(read(source(url(transport), "refs/heads/main", "c2")).revision()).isEqualTo("main@sha1:" + two);
    assertThat(read(source(url(transport), "tags/v1", "c3")).revision()).isEqualTo("v1@sha1:" + one);
    State upper = read(source(url(transport), one.toUpperCase(), "c4"));
    assertThat(upper.revision()).isEqualTo(one + "@sha1:" + one);
    assertThat(value(upper)).isEqualTo("one");
  }

  @ParameterizedTest
  @ValueSource(strings = {"daemon", "local"})
  void anAnnotatedTagMovedToAnotherCommitIsReadThereAndFlagged(String transport) throws Exception {
    commit("one");
    String tagged = commit("two");
    repo.tag("v1");
    GitSource s = source(url(transport), "v1");
    assertThat(read(s).revision()).isEqualTo("v1@sha1:" + tagged);
    repo.git("checkout", "-q", "--orphan", "rewritten");
    String moved = commit("three");
    repo.git("tag", "-f", "-a", "-m", "moved", "v1", moved);
    State st = read(s);
    assertThat(st.revision()).isEqualTo("v1@sha1:" + moved);
    assertThat(value(st)).isEqualTo("three");
    assertThat(st.historyRewritten()).isTrue();
  }
}
