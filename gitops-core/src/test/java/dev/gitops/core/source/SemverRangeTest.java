package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SemverRangeTest {

  private static final List<String> TAGS = List.of("v0.1.0", "v0.1.5", "v0.2.0", "v1.0.0", "v1.2.0", "v1.2.9",
      "v1.3.1", "v2.0.0-rc.1", "v2.0.0", "release-3", "1.5.0");

  private static String highest(String range) {
    return SemverRange.parse(range).orElseThrow().highest(TAGS).orElse(null);
  }

  @Test
  void caretTildeComparatorsAndWildcards() {
    assertThat(highest("^1.2")).isEqualTo("1.5.0");
    assertThat(highest("^0.1.0")).isEqualTo("v0.1.5");
    assertThat(highest("~1.2")).isEqualTo("v1.2.9");
    assertThat(highest(">=1.0 <1.3")).isEqualTo("v1.2.9");
    assertThat(highest(">= 1.0 < 1.3")).isEqualTo("v1.2.9");
    assertThat(highest("1.x")).isEqualTo("1.5.0");
    assertThat(highest("1.2.*")).isEqualTo("v1.2.9");
    assertThat(highest("*")).isEqualTo("v2.0.0");
    assertThat(highest("=1.2.0")).isEqualTo("v1.2.0");
    assertThat(highest("<1.0.0 || ^2")).isEqualTo("v2.0.0");
    assertThat(highest("^3")).isNull();
  }

  @Test
  void preReleasesMatchOnlyWhenTheRangeNamesOne() {
    assertThat(SemverRange.parse("^2.0.0-0").orElseThrow().highest(List.of("v2.0.0-rc.1"))).contains("v2.0.0-rc.1");
    assertThat(SemverRange.parse("^2").orElseThrow().highest(List.of("v2.0.0-rc.1"))).isEmpty();
  }

  @Test
  void includesTellsOneTag() {
    SemverRange range = SemverRange.parse(">=1.2.0 <2").orElseThrow();
    assertThat(range.includes("v1.2.4")).isTrue();
    assertThat(range.includes("1.9.0")).isTrue();
    assertThat(range.includes("v2.0.0")).isFalse();
    assertThat(range.includes("v1.3.0-rc.1")).isFalse();   // no pre-release unless the range names one
    assertThat(range.includes("1.3")).isFalse();           // strict X.Y.Z
    assertThat(range.includes("latest")).isFalse();
    assertThat(SemverRange.parse(">=1.3.0-0").orElseThrow().includes("v1.3.0-rc.1")).isTrue();
  }

  @Test
  void namesAreNotRanges() {
    assertThat(SemverRange.parse("main")).isEmpty();
    assertThat(SemverRange.parse("x")).isEmpty();
    assertThat(SemverRange.parse("feature/1.2")).isEmpty();
  }

  @Test
  void tagsOfOneVersionGiveTheSameHighestWhateverTheirOrder() {
    SemverRange range = SemverRange.parse("^1").orElseThrow();
    for (List<String> tags : List.of(List.of("v1.2.0", "1.2.0", "v1.1.0"), List.of("1.2.0", "v1.1.0", "v1.2.0"))) {
      assertThat(range.highest(tags)).as("%s", tags).contains("v1.2.0");
    }
    assertThat(range.highest(List.of("1.2.0+b", "1.2.0+a"))).contains("1.2.0+b");
    assertThat(range.highest(List.of("1.2.0+a", "1.2.0+b"))).contains("1.2.0+b");
  }

  @Property(tries = 200)
  void theHighestDoesNotDependOnTheOrderOfTheTags(@ForAll("versionTags") List<String> tags, @ForAll long seed) {
    SemverRange range = SemverRange.parse("*").orElseThrow();
    List<String> shuffled = new java.util.ArrayList<>(tags);
    java.util.Collections.shuffle(shuffled, new java.util.Random(seed));
    assertThat(range.highest(shuffled)).isEqualTo(range.highest(tags));
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<List<String>> versionTags() {
    return net.jqwik.api.Arbitraries.of("v1.2.0", "1.2.0", "1.2.0+a", "1.2.0+b", "v1.2.0+b", "v1.1.0", "1.1.0",
        "v1.2.0-rc.1", "latest").list().ofMaxSize(8);
  }

  @Property
  void caretRangeKeepsTheMajorVersion(@ForAll @IntRange(min = 1, max = 50) int major,
      @ForAll @IntRange(max = 50) int minor, @ForAll @IntRange(max = 50) int patch) {
    SemverRange r = SemverRange.parse("^" + major + "." + minor).orElseThrow();
    Optional<SemverRange.Version> v = SemverRange.Version.parseTag(major + "." + minor + "." + patch);
    assertThat(r.matches(v.orElseThrow())).isTrue();
    assertThat(r.matches(SemverRange.Version.parseTag((major + 1) + ".0.0").orElseThrow())).isFalse();
    assertThat(r.matches(SemverRange.Version.parseTag((major - 1) + "." + minor + "." + patch).orElseThrow())).isFalse();
  }
}
