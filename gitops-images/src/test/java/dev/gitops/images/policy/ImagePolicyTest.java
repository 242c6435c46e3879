package dev.gitops.images.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ImagePolicyTest {

  private static final List<String> TAGS = List.of("latest", "v1.2.3", "v1.2.4", "1.3.0", "v1.10.0", "v2.0.0",
      "v1.11.0-rc.1", "1.2", "v1.2.4+build.7", "main-3f2a9c1-1718000000", "main-0c1d2e3-1719000000", "main-zzz-99");

  private static ImagePolicy.Builder policy() {
    return ImagePolicy.builder("apps:web", "127.0.0.1:5000/team/web");
  }

  @Test
  void aListingTimeoutIsOptionalPositiveAndKeepsWhereItWasSet() {
    ImagePolicy plain = policy().order(TagOrder.semver("*")).build();
    assertThat(plain.listTimeout()).isEmpty();
    assertThat(plain.listTimeoutSource()).isEmpty();
    ImagePolicy bounded = policy().order(TagOrder.semver("*"))
        .listTimeout(java.time.Duration.ofSeconds(90), "spec.timeout of ImageRepository apps:web (line 7)").build();
    assertThat(bounded.listTimeout()).contains(java.time.Duration.ofSeconds(90));
    assertThat(bounded.listTimeoutSource()).isEqualTo("spec.timeout of ImageRepository apps:web (line 7)");
    assertThat(bounded).hasToString("ImagePolicy[apps:web: 127.0.0.1:5000/team/web, semver *, listing within 1 min 30 s]");
    for (java.time.Duration d : List.of(java.time.Duration.ZERO, java.time.Duration.ofSeconds(-5))) {
      assertThatThrownBy(() -> policy().listTimeout(d)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("policy apps:web: listTimeout must be positive");
    }
  }

  @Test
  void semverTakesTheHighestReleaseInTheRangeAndCountsTheRest() {
    ImagePolicy.Selection s = policy().order(TagOrder.semver(">=1.0.0 <2.0.0")).build().select(TAGS);
    assertThat(s.tag()).contains("v1.10.0");
    // v1.2.3, v1.2.4, 1.3.0, v1.10.0, v1.2.4+build.7; pre-release, 2.0.0, "1.2", latest and main-* are skipped
    assertThat(s.candidates()).isEqualTo(5);
    assertThat(s.skipped()).isEqualTo(TAGS.size() - 5);
  }

  @Test
  void preReleasesOnlyWhenTheRangeAsks() {
    assertThat(policy().order(TagOrder.semver(">=1.11.0-0 <2.0.0-0")).build().select(TAGS).tag()).contains("v1.11.0-rc.1");
    // as Flux (Masterminds): "<2" names no pre-release, so it rejects every pre-release version
    assertThat(policy().order(TagOrder.semver(">=1.11.0-0 <2")).build().select(TAGS).tag()).isEmpty();
    assertThat(policy().order(TagOrder.semver("~1.11")).build().select(TAGS).tag()).isEmpty();
  }

  @Test
  void numericalOverAnExtractedTimestamp() {
    ImagePolicy p = policy().filter(TagFilter.of("^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "$ts"))
        .order(TagOrder.numerical(TagOrder.Direction.ASC)).build();
    ImagePolicy.Selection s = p.select(TAGS);
    assertThat(s.tag()).contains("main-0c1d2e3-1719000000");
    assertThat(s.candidates()).isEqualTo(2);
    assertThat(s.skipped()).isEqualTo(TAGS.size() - 2);

    ImagePolicy oldest = policy().filter(TagFilter.of("^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "${ts}"))
        .order(TagOrder.numerical(TagOrder.Direction.DESC)).build();
    assertThat(oldest.select(TAGS).tag()).contains("main-3f2a9c1-1718000000");
  }

  @Test
  void alphabeticalBothWays() {
    ImagePolicy asc = policy().filter(TagFilter.of("^RELEASE\\.", "")).order(TagOrder.alphabetical(TagOrder.Direction.ASC)).build();
    List<String> tags = List.of("RELEASE.2024-06-01T00-00-00Z", "RELEASE.2025-01-09T10-00-00Z", "RELEASE.2023-12-31T00-00-00Z", "edge");
    assertThat(asc.select(tags).tag()).contains("RELEASE.2025-01-09T10-00-00Z");
    assertThat(asc.select(tags).skipped()).isEqualTo(1);
    ImagePolicy desc = policy().filter(TagFilter.of("^RELEASE\\.", "")).order(TagOrder.alphabetical(TagOrder.Direction.DESC)).build();
    assertThat(desc.select(tags).tag()).contains("RELEASE.2023-12-31T00-00-00Z");
  }

  @Test
  void aBacktrackingFilterIsAPolicyErrorNamingThePatternNotAHang() {
    ImagePolicy p = policy().filter(TagFilter.of("(.*a){12}$", "")).order(TagOrder.alphabetical(TagOrder.Direction.ASC)).build();
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () ->
        assertThatThrownBy(() -> p.select(List.of("v1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-")))
            .isInstanceOf(PatternTooSlowException.class)
            .hasMessageStartingWith("policy apps:web: tag filter pattern '(.*a){12}$' takes too long on tag "
                + "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-'"));
    // the same pattern on tags it settles quickly is fine
    assertThat(p.select(List.of("aaaaaaaaaaaa")).tag()).contains("aaaaaaaaaaaa");
  }

  @Test
  void nothingToChooseIsEmptyNotAnError() {
    ImagePolicy.Selection s = policy().order(TagOrder.semver("^9")).build().select(TAGS);
    assertThat(s.tag()).isEmpty();
    assertThat(s.skipped()).isEqualTo(TAGS.size());
  }

  @Test
  void badConfigurationIsNamed() {
    assertThatThrownBy(() -> TagOrder.semver("latest")).hasMessageContaining("'latest' is not a semver range");
    assertThatThrownBy(() -> TagFilter.of("main-(", "")).hasMessageContaining("'main-('");
    assertThatThrownBy(() -> ImagePolicy.builder("apps:web", "team/web:v1").order(TagOrder.semver("*")).build())
        .hasMessageContaining("policy apps:web").hasMessageContaining("without tag or digest");
    assertThatThrownBy(() -> ImagePolicy.builder("apps:web", "team/web").build())
        .hasMessageContaining("policy apps:web: an order");
    assertThatThrownBy(() -> ImagePolicy.builder("apps:web:tag", "team/web"))
        .hasMessageContaining("marker suffix");
  }

  @Test
  void extractTemplatesFollowGoExpand() {
    TagFilter f = TagFilter.of("^(?P<branch>[a-z]+)-(?P<sha>[a-f0-9]+)-(?P<ts>\\d+)$", "$ts.$1-${sha}x$$ $0");
    assertThat(f.extract("main-abc-42")).contains("42.main-abcx$ main-abc-42");
    assertThat(f.extract("MAIN-abc-42")).isEmpty();
    assertThat(TagFilter.of("v(\\d+)", "").extract("xv12")).contains("xv12");
    // a group that takes no part in the match expands to nothing, as in Go
    assertThat(TagFilter.of("^v(\\d+)(-(?P<rc>rc\\d+))?$", "$1.${rc}").extract("v7")).contains("7.");
  }

  @Test
  void anExtractTemplateNamingAGroupThePatternDoesNotHaveIsRefusedNotEveryTagRankedTheSame() {
    // Go expands it to nothing for every tag: alphabetical order then took whichever tag sorted last (main-9 over
    // main-100), numerical order skipped them all, without a word on why
    for (String template : List.of("$timestamp", "${timestamp}", "$2", "$1x", "v$ts-$tss")) {
      assertThatThrownBy(() -> TagFilter.of("^main-(?P<ts>\\d+)$", template))
          .as(template)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("extract template '" + template + "' names group '")
          .hasMessageContaining("which pattern '^main-(?P<ts>\\d+)$' does not have (its groups: $1, $ts)");
    }
    assertThatThrownBy(() -> TagFilter.of("^main-\\d+$", "$1"))
        .hasMessageContaining("names group '1', which pattern '^main-\\d+$' does not have (it has no groups)");
    // malformed references and $$ stay text, as in Go: nothing to refuse
    assertThat(TagFilter.of("^main-(?P<ts>\\d+)$", "${a-b}|$-|$$x|$").extract("main-1")).contains("${a-b}|$-|$x|$");
  }

  @Test
  void tagsThatAreNotStringsAreSkippedAndCountedNeverACrash() {
    // a list read from YAML: [v1.2.4, 1.10, true, ~, 7] holds a float, a boolean, a null and an int
    java.util.List<Object> fromYaml = new java.util.ArrayList<>(java.util.Arrays.asList("v1.2.4", 1.10, true, null, 7,
        java.util.Map.of("a", 1), "v1.2.3"));
    ImagePolicy.Selection s = policy().order(TagOrder.semver("^1")).build().select(fromYaml);
    assertThat(s.tag()).contains("v1.2.4");
    assertThat(s.candidates()).isEqualTo(2);
    assertThat(s.skipped()).isEqualTo(5);
    ImagePolicy.Selection numbers = policy().order(TagOrder.numerical(TagOrder.Direction.ASC)).build()
        .select(java.util.Arrays.asList(7, "3", null, false));
    assertThat(numbers.tag()).contains("3");   // 7 is no tag name, never the text "7"
    assertThat(numbers.skipped()).isEqualTo(3);
  }

  @Test
  void filtersAreRe2AsFluxReadsThem() {
    // $ is the end of the tag, \d is ASCII, POSIX classes work
    TagFilter f = TagFilter.of("^v[[:digit:]]+\\.\\d+$", "");
    assertThat(f.extract("v1.2")).contains("v1.2");
    assertThat(f.extract("v1.2\n")).isEmpty();
    assertThat(f.extract("v1.\u0663")).isEmpty();   // ARABIC-INDIC DIGIT THREE is no \d to RE2
    assertThatThrownBy(() -> TagFilter.of("^v(?=1)", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("tag filter pattern '^v(?=1)' is not a valid RE2 regular expression")
        .hasMessageContaining("lookahead");
    assertThatThrownBy(() -> TagFilter.of("^(a{100}){11}$", ""))
        .hasMessageContaining("invalid repeat count");
    assertThatThrownBy(() -> policy().exclusions(List.of("^.*\\.sig$", "(a)\\1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("policy apps:web: exclusion pattern '(a)\\1' is not a valid RE2 regular expression")
        .hasMessageContaining("backreference");
  }

  @Test
  void extractTemplatesReadNamesAsGoDoes() {
    TagFilter f = TagFilter.of("^(?P<b_1>[a-z]+)-(\\d+)(?P<01>x)?$", "${b_1}|${1}x|${a-b}|$01|$-|$");
    // ${1}x is group 1 then x, ${a-b} and $- are malformed (kept), $01 is a name (not group 1)
    assertThat(f.extract("main-42")).contains("main|mainx|${a-b}||$-|$");
    assertThat(f.extract("main-42x")).contains("main|mainx|${a-b}|x|$-|$");
    // $1x is ${1x}, a name the pattern does not have
    assertThatThrownBy(() -> TagFilter.of("^(?P<b_1>[a-z]+)-(\\d+)$", "$1x")).hasMessageContaining("names group '1x'");
  }

  @Test
  void ranksAboveFollowsThePolicysOwnOrder() {
    ImagePolicy semver = policy().order(TagOrder.semver("^1.2")).build();
    assertThat(semver.ranksAbove("v2.0.0", "v1.2.4")).isTrue();       // outside the range, still higher
    assertThat(semver.ranksAbove("v1.3.0-rc.1", "v1.2.4")).isTrue();  // a pre-release the range leaves out
    assertThat(semver.ranksAbove("v1.2.3", "v1.2.4")).isFalse();
    assertThat(semver.ranksAbove("1.2.4+b", "v1.2.4")).isFalse();     // the same version
    assertThat(semver.ranksAbove("latest", "v1.2.4")).isFalse();      // no version: cannot rank
    ImagePolicy nightly = policy().filter(TagFilter.of("^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "$ts"))
        .order(TagOrder.numerical(TagOrder.Direction.ASC)).build();
    assertThat(nightly.ranksAbove("main-abc-1719000000", "main-def-1718000000")).isTrue();
    assertThat(nightly.ranksAbove("hotfix-1", "main-def-1718000000")).isFalse();  // the filter does not match it
    ImagePolicy oldest = policy().order(TagOrder.numerical(TagOrder.Direction.DESC)).build();
    assertThat(oldest.ranksAbove("3", "10")).isTrue();
    ImagePolicy alpha = policy().order(TagOrder.alphabetical(TagOrder.Direction.ASC)).build();
    assertThat(alpha.ranksAbove("b", "a")).isTrue();
  }

  @Test
  void alphabeticalOrderIsByCodePointAsGoSortsUtf8() {
    // U+FF21 (a BMP letter above the surrogates) sorts below U+1F600 in UTF-8, above it in UTF-16 units
    TagOrder asc = TagOrder.alphabetical(TagOrder.Direction.ASC);
    List<TagOrder.Candidate> c = List.of(new TagOrder.Candidate("a", "\uff21"), new TagOrder.Candidate("b", "\ud83d\ude00"));
    assertThat(asc.choose(c)).map(TagOrder.Candidate::tag).contains("b");
  }

  @Test
  void oddNumbersAreSkippedNotErrors() {
    ImagePolicy p = policy().order(TagOrder.numerical(TagOrder.Direction.ASC)).build();
    ImagePolicy.Selection s = p.select(List.of("NaN", "Infinity", "1e2147483648", "0x10", "1_000", "12", "-3", "1e3"));
    assertThat(s.tag()).contains("1e3");
    assertThat(s.candidates()).isEqualTo(3);
  }

  @Test
  void aNumberPastTheLargestFloat64IsSkippedAsFluxsParseFloatRefusesIt() {
    // Flux reads a numerical value with strconv.ParseFloat(v, 64): 1e400 is ErrRange there, so never chosen
    List<String> tags = List.of("1e400", "-1e400", "1.8e308", "1.7976931348623157e308", "-1e308", "12", "1e-400");
    ImagePolicy.Selection newest = policy().order(TagOrder.numerical(TagOrder.Direction.ASC)).build().select(tags);
    assertThat(newest.tag()).contains("1.7976931348623157e308");  // the largest float64 is still a number
    assertThat(newest.candidates()).isEqualTo(4);                   // 1e-400 is 0 to ParseFloat, no error
    assertThat(newest.skipped()).isEqualTo(3);
    ImagePolicy.Selection oldest = policy().order(TagOrder.numerical(TagOrder.Direction.DESC)).build().select(tags);
    assertThat(oldest.tag()).contains("-1e308");
    ImagePolicy p = policy().order(TagOrder.numerical(TagOrder.Direction.ASC)).build();
    assertThat(p.ranksAbove("1e400", "12")).isFalse();  // cannot be ranked: a marked 1e400 is no newer tag to keep
  }

  @Test
  void tiesGoToTheTagListedLastAsFluxsListingAndFilterMapLeaveThemInBothDirections() {
    // Flux compares float64s and lets an equal value replace the one before it (a listing sorted as registries and
    // this client sort it: the greatest tag); its filter keeps the last tag per extracted value. DESC took the least
    for (TagOrder.Direction d : TagOrder.Direction.values()) {
      ImagePolicy numbers = policy().order(TagOrder.numerical(d)).build();
      assertThat(numbers.select(List.of("1", "1.0", "01")).tag()).as("numerical %s", d).contains("1.0");
      // 2^53 and 2^53+1 are one float64, as ParseFloat reads them
      assertThat(numbers.select(List.of("9007199254740993", "9007199254740992")).tag()).as("float64 %s", d)
          .contains("9007199254740993");
      assertThat(numbers.select(List.of("0", "-0")).tag()).as("-0 %s", d).contains("0");
      assertThat(numbers.ranksAbove("9007199254740993", "9007199254740992")).as("float64 rank %s", d).isFalse();
      ImagePolicy extracted = policy().filter(TagFilter.of("^(?P<n>[0-9]+)-[a-z]+$", "$n")).order(TagOrder.numerical(d))
          .build();
      assertThat(extracted.select(List.of("7-a", "7-c", "7-b")).tag()).as("extracted numerical %s", d).contains("7-c");
      ImagePolicy words = policy().filter(TagFilter.of("^(?P<w>[a-z]+)-[0-9]+$", "$w")).order(TagOrder.alphabetical(d))
          .build();
      assertThat(words.select(List.of("main-1", "main-3", "main-2")).tag()).as("alphabetical %s", d).contains("main-3");
    }
    ImagePolicy versions = policy().filter(TagFilter.of("^(?P<v>[0-9.]+)-[a-z]+$", "$v")).order(TagOrder.semver("^1"))
        .build();
    assertThat(versions.select(List.of("1.2.3-a", "1.2.3-c", "1.2.3-b")).tag()).contains("1.2.3-c");
    // equal versions written apart: the first listed, as Flux's semver policy keeps the first (GreaterThan is strict)
    assertThat(policy().order(TagOrder.semver("^1")).build().select(List.of("1.2.3", "v1.2.3")).tag()).contains("1.2.3");
  }

  @Test
  void aNumberAsLongAsATagMayBeIsStillANumber() {
    // 128 characters, the longest tag: ParseFloat reads it (1.1e127), so Flux ranks it; it was skipped past 100
    String longest = "11" + "0".repeat(126);
    ImagePolicy p = policy().order(TagOrder.numerical(TagOrder.Direction.ASC)).build();
    assertThat(p.select(List.of("12", longest)).tag()).contains(longest);
    assertThat(p.ranksAbove(longest, "12")).isTrue();
  }

  /** Numerical order takes the greatest number, whatever order the registry listed the tags in. */
  @Property
  void numericalTakesTheGreatestInAnyListingOrder(@ForAll @Size(min = 1, max = 30) List<@IntRange(min = 0, max = 1_000_000) Integer> builds,
      @ForAll long seed) {
    List<String> tags = new ArrayList<>();
    builds.forEach(b -> tags.add("build-" + b));
    tags.add("build-x");
    Collections.shuffle(tags, new java.util.Random(seed));
    ImagePolicy p = policy().filter(TagFilter.of("^build-(\\d+)$", "$1")).order(TagOrder.numerical(TagOrder.Direction.ASC)).build();
    ImagePolicy.Selection s = p.select(tags);
    int max = builds.stream().mapToInt(Integer::intValue).max().orElseThrow();
    assertThat(s.tag()).contains("build-" + max);
    assertThat(s.candidates() + s.skipped()).isEqualTo(tags.size());
    assertThat(s.skipped()).isEqualTo(1);
  }

  /** Semver takes a version no candidate exceeds, and only from the range. */
  @Property
  void semverNeverTakesALowerVersionThanACandidate(@ForAll @Size(min = 1, max = 20) List<@IntRange(min = 0, max = 30) Integer> minors) {
    List<String> tags = minors.stream().map(m -> "v1." + m + ".0").toList();
    ImagePolicy.Selection s = policy().order(TagOrder.semver("<1.20.0")).build().select(tags);
    int best = minors.stream().filter(m -> m < 20).mapToInt(Integer::intValue).max().orElse(-1);
    if (best < 0) {
      assertThat(s.tag()).isEmpty();
    } else {
      assertThat(s.tag()).contains("v1." + best + ".0");
    }
    assertThat(BigInteger.valueOf(s.candidates() + s.skipped())).isEqualTo(BigInteger.valueOf(tags.size()));
  }
}
