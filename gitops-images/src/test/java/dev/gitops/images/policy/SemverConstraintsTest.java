package dev.gitops.images.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Semver ranges read as Flux reads them: Masterminds semver v3's constraints and its pre-release rule. */
class SemverConstraintsTest {

  private static final List<String> TAGS = List.of("v1.10.0", "v1.2.0-rc.2", "v2.0.0-beta.1");

  @Test
  void aComparatorWithoutAPreReleaseRejectsEveryPreRelease() {
    assertThat(SemverConstraints.parse(">=1.2.0-0 <2.0.0").highest(TAGS)).contains("v1.10.0");
    assertThat(SemverConstraints.parse(">=1.2.0-0 <2.0.0").includes("v2.0.0-beta.1")).isFalse();
    assertThat(SemverConstraints.parse(">=1.2.0-0 <2.0.0").includes("v1.2.0-rc.2")).isFalse();
    // only when each comparator of the AND-set names a pre-release do pre-releases take part
    assertThat(SemverConstraints.parse(">=1.2.0-0 <2.0.0-0").highest(List.of("v1.2.0-rc.2", "v1.1.0"))).contains("v1.2.0-rc.2");
    assertThat(SemverConstraints.parse(">=1.2.0-0 <2.0.0-0").includes("v2.0.0-beta.1")).isFalse();
    assertThat(SemverConstraints.parse(">=1.2.0-0 <2.0.0").highest(List.of("v1.2.0-rc.2"))).isEmpty();
    assertThat(SemverConstraints.parse(">=1.2.0-0 <2.0.0 || >=2.0.0-0 <3.0.0-0").highest(TAGS)).contains("v2.0.0-beta.1");
  }

  @Test
  void aNumericPreReleaseIdentifierWithALeadingZeroIsNotAVersion() {
    SemverConstraints any = SemverConstraints.parse(">=1.0.0-0 <2.0.0-0");
    for (String bad : List.of("1.2.3-01", "v1.2.3-01", "1.2.3-rc.01", "1.2.3-00", "1.2.3-rc.1.007+build")) {
      assertThat(any.includes(bad)).as(bad).isFalse();
    }
    for (String good : List.of("1.2.3-0", "1.2.3-rc.0", "1.2.3-rc.10", "1.2.3-01a", "1.2.3-0-1", "1.2.3-rc.1+001")) {
      assertThat(any.includes(good)).as(good).isTrue();
    }
    assertThat(any.highest(List.of("1.2.3-01", "1.2.2"))).contains("1.2.2");
    ImagePolicy policy = ImagePolicy.builder("p", "registry.example.com/web").order(TagOrder.semver(">=1.0.0-0 <2.0.0-0"))
        .build();
    ImagePolicy.Selection s = policy.select(List.of("1.2.3-01", "1.2.2"));
    assertThat(s.tag()).contains("1.2.2");
    assertThat(s.skipped()).as("skipped as a non-version, as Flux's strict parse does").isEqualTo(1);
  }

  @Test
  void versionNumbersAreUnsigned64BitAsMastermindsReadsThem() {
    // Masterminds semver v3 reads each number with strconv.ParseUint(s, 10, 64): up to 2^64-1, compared unsigned
    String max = "18446744073709551615.0.0";
    String above63 = "9223372036854775808.0.0";
    String tooLarge = "18446744073709551616.0.0";  // ParseUint's range error: no version, skipped
    SemverConstraints any = SemverConstraints.parse(">=1.0.0");
    assertThat(any.highest(List.of("2.0.0", above63, max, tooLarge, "v1.0.0"))).contains(max);
    assertThat(any.includes(above63)).isTrue();
    assertThat(any.includes("v1." + "18446744073709551615" + ".0")).isTrue();
    assertThat(any.includes(tooLarge)).isFalse();
    assertThat(any.includes("1.0.18446744073709551616")).isFalse();
    // compared as unsigned: 2^63 is above 2^63-1, never below 0
    assertThat(SemverConstraints.parse("<9223372036854775808.0.0").includes("9223372036854775807.0.0")).isTrue();
    assertThat(SemverConstraints.parse("<9223372036854775808.0.0").includes(max)).isFalse();
    assertThat(SemverConstraints.parse("<=9223372036854775808").includes("9223372036854775808.5.0")).isTrue();
    assertThat(SemverConstraints.parse(">9223372036854775807").includes(above63)).isTrue();
    assertThat(SemverConstraints.parse("^9223372036854775808.1").includes("9223372036854775808.2.0")).isTrue();
    assertThat(SemverConstraints.parse("^0.9223372036854775808").includes("0.9223372036854775808.3")).isTrue();
    assertThat(SemverConstraints.parse("^0.9223372036854775808").includes("0.9223372036854775809.0")).isFalse();
    assertThat(SemverConstraints.parse("~18446744073709551615.1").includes("18446744073709551615.1.9")).isTrue();
    assertThat(TagOrder.semver(">=1.0.0").ranksAbove(max, "v2.0.0")).isTrue();
    assertThat(TagOrder.semver(">=1.0.0").ranksAbove(tooLarge, "v2.0.0")).isFalse();
    assertThatThrownBy(() -> SemverConstraints.parse(">=18446744073709551616")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'18446744073709551616' is not a constraint");
  }

  @Test
  void hyphenRangesCommasAndSpacesAfterOperatorsAreRanges() {
    assertThat(SemverConstraints.parse("1.0.0 - 2.0.0").highest(List.of("1.0.0", "2.0.0", "2.0.1"))).contains("2.0.0");
    assertThat(SemverConstraints.parse(">= 1.0, < 2.0").highest(List.of("0.9.0", "1.9.9", "2.0.0"))).contains("1.9.9");
    assertThat(SemverConstraints.parse(">=1.0,<2.0").includes("1.5.0")).isTrue();
    assertThat(SemverConstraints.parse("> 1.1 < 2").includes("1.2.1")).isTrue();
    assertThat(SemverConstraints.parse("2 - 3, 4.0.0 - 5.1").includes("3.0.0")).isFalse();
    assertThat(SemverConstraints.parse("2 - 3 || 4.0.0 - 5.1").includes("5.1.7")).isTrue();
    assertThat(TagOrder.semver(">= 1.0, < 2.0").accepts("v1.4.0")).isTrue();
  }

  @Test
  void whatIsNotARangeIsNamed() {
    for (String bad : List.of("", "latest", ">= bar", "BAR >= 1.2.3", "12.3.4.1234", "12.3.34~ 1.2.3", ">=1.0<2.0",
        ">=1.0,", "1.0 ||", "> =1.0", "1x")) {
      assertThatThrownBy(() -> SemverConstraints.parse(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + bad + "' is not a semver range");
    }
    for (String good : List.of(">= 1.1", ">40.50.60, < 50.70", "2.0", "v2.3.5-20161202202307-sha.e8fc5e5",
        ">= 1.2.3 < 2.0 || => 3.0 < 4", "3 - 4 || => 3.0, < 4", "12.3.34 ~1.2.3", "*", "x", "~> 1.2", "=< 1.2")) {
      assertThat(SemverConstraints.parse(good)).as(good).hasToString(good);
    }
  }

  /** Masterminds' own constraint tables (constraints_test.go), with its short versions written out in full. */
  @Test
  void agreesWithMastermindsTables() {
    String[][] cases = {
        {"=2.0.0", "1.2.3", "false"}, {"=2.0.0", "2.0.0", "true"}, {"=2.0", "1.2.3", "false"}, {"=2.0", "2.0.0", "true"},
        {"=2.0", "2.0.1", "true"}, {"4.1", "4.1.0", "true"}, {"!=4.1.0", "4.1.0", "false"}, {"!=4.1.0", "4.1.1", "true"},
        {"!=4.1", "4.1.0", "false"}, {"!=4.1", "4.1.1", "false"}, {"!=4.1", "5.1.0-alpha.1", "false"},
        {"!=4.1-alpha", "4.1.0", "true"}, {"!=4.1", "5.1.0", "true"}, {"<11", "0.1.0", "true"}, {"<11", "11.1.0", "false"},
        {"<1.1", "0.1.0", "true"}, {"<1.1", "1.1.0", "false"}, {"<1.1", "1.1.1", "false"}, {"<=11", "1.2.3", "true"},
        {"<=11", "12.2.3", "false"}, {"<=11", "11.2.3", "true"}, {"<=1.1", "1.2.3", "false"}, {"<=1.1", "0.1.0", "true"},
        {"<=1.1", "1.1.0", "true"}, {"<=1.1", "1.1.1", "true"}, {">1.1", "4.1.0", "true"}, {">1.1", "1.1.0", "false"},
        {">0", "0.0.0", "false"}, {">0", "1.0.0", "true"}, {">0", "0.0.1-alpha", "false"}, {">0.0", "0.0.1-alpha", "false"},
        {">0-0", "0.0.1-alpha", "false"}, {">0.0-0", "0.0.1-alpha", "false"}, {">0", "0.0.0-alpha", "false"},
        {">0-0", "0.0.0-alpha", "false"}, {">0.0.0-0", "0.0.0-alpha", "true"}, {">1.2.3-alpha.1", "1.2.3-alpha.2", "true"},
        {">1.2.3-alpha.1", "1.3.3-alpha.2", "true"}, {">11", "11.1.0", "false"}, {">11.1", "11.1.0", "false"},
        {">11.1", "11.1.1", "false"}, {">11.1", "11.2.1", "true"}, {">=11", "11.1.2", "true"}, {">=11.1", "11.1.2", "true"},
        {">=11.1", "11.0.2", "false"}, {">=1.1", "4.1.0", "true"}, {">=1.1", "1.1.0", "true"}, {">=1.1", "0.0.9", "false"},
        {">=0", "0.0.1-alpha", "false"}, {">=0.0", "0.0.1-alpha", "false"}, {">=0-0", "0.0.1-alpha", "true"},
        {">=0.0-0", "0.0.1-alpha", "true"}, {">=0", "0.0.0-alpha", "false"}, {">=0-0", "0.0.0-alpha", "true"},
        {">=0.0.0-0", "0.0.0-alpha", "true"}, {">=0.0.0-0", "1.2.3", "true"}, {">=0.0.0-0", "3.4.5-beta.1", "true"},
        {"<0", "0.0.0-alpha", "false"}, {"<0-z", "0.0.0-alpha", "true"}, {">=0", "0.0.0", "true"}, {"=0", "1.0.0", "false"},
        {"*", "1.0.0", "true"}, {"*", "4.5.6", "true"}, {"*", "1.2.3-alpha.1", "false"}, {"*-0", "1.2.3-alpha.1", "true"},
        {"2.*", "1.0.0", "false"}, {"2.*", "3.4.5", "false"}, {"2.*", "2.1.1", "true"}, {"2.1.*", "2.1.1", "true"},
        {"2.1.*", "2.2.1", "false"}, {"2", "1.0.0", "false"}, {"2", "3.4.5", "false"}, {"2", "2.1.1", "true"},
        {"2.1", "2.1.1", "true"}, {"2.1", "2.2.1", "false"}, {"~1.2.3", "1.2.4", "true"}, {"~1.2.3", "1.3.4", "false"},
        {"~1.2", "1.2.4", "true"}, {"~1.2", "1.3.4", "false"}, {"~1", "1.2.4", "true"}, {"~1", "2.3.4", "false"},
        {"~0.2.3", "0.2.5", "true"}, {"~0.2.3", "0.3.5", "false"}, {"~1.2.3-beta.2", "1.2.3-beta.4", "true"},
        {"~1.2.3-beta.2", "1.2.4-beta.2", "true"}, {"~1.2.3-beta.2", "1.3.4-beta.2", "false"}, {"^1.2.3", "1.8.9", "true"},
        {"^1.2.3", "2.8.9", "false"}, {"^1.2.3", "1.2.1", "false"}, {"^1.1.0", "2.1.0", "false"}, {"^1.2.0", "2.2.1", "false"},
        {"^1.2.0", "1.2.1-alpha.1", "false"}, {"^1.2.0-alpha.0", "1.2.1-alpha.1", "true"},
        {"^1.2.0-alpha.0", "1.2.1-alpha.0", "true"}, {"^1.2.0-alpha.2", "1.2.0-alpha.1", "false"}, {"^1.2", "1.8.9", "true"},
        {"^1.2", "2.8.9", "false"}, {"^1", "1.8.9", "true"}, {"^1", "2.8.9", "false"}, {"^0.2.3", "0.2.5", "true"},
        {"^0.2.3", "0.5.6", "false"}, {"^0.2", "0.2.5", "true"}, {"^0.2", "0.5.6", "false"}, {"^0.0.3", "0.0.3", "true"},
        {"^0.0.3", "0.0.4", "false"}, {"^0.0", "0.0.3", "true"}, {"^0.0", "0.1.4", "false"}, {"^0.0", "1.0.4", "false"},
        {"^0", "0.2.3", "true"}, {"^0", "1.1.4", "false"}, {"^0.2.3-beta.2", "0.2.3-beta.4", "true"},
        {"^0.2.3-beta.2", "0.2.4-beta.2", "true"}, {"^0.2.3-beta.2", "0.3.4-beta.2", "false"},
        {"^0.2.3-beta.2", "0.2.3-beta.2", "true"},
        // TestConstraintsCheck
        {"~0.0.0", "1.2.3", "true"}, {"0.x.x", "1.2.3", "false"}, {"0.0.x", "1.2.3", "false"}, {"0.0.0", "1.2.3", "false"},
        {"^0.0.0", "1.2.3", "false"}, {"= 2.0", "1.2.3", "false"}, {"= 2.0", "2.0.0", "true"}, {"4.1.x", "4.1.3", "true"},
        {"1.x", "1.4.0", "true"}, {"!=4.1-alpha", "4.1.0-alpha", "false"}, {"!=4.1-alpha", "4.1.1-alpha", "false"},
        {"!=4.x", "5.1.0", "true"}, {"!=4.x", "4.1.0", "false"}, {"!=4.1.x", "4.2.0", "true"}, {"!=4.2.x", "4.2.3", "false"},
        {"<1.x", "1.1.1", "false"}, {"<1.x", "0.1.1", "true"}, {"<1.x", "2.0.0", "false"}, {"<1.1.x", "1.2.1", "false"},
        {"<1.1.x", "1.1.500", "false"}, {"<1.1.x", "1.0.500", "true"}, {"<1.2.x", "1.1.1", "true"},
        {">=1.1", "4.1.0-beta", "false"}, {"<=1.1", "0.1.0-alpha", "false"}, {"<=1.1-a", "0.1.0-alpha", "true"},
        {"<=1.x", "1.1.0", "true"}, {"<=2.x", "3.0.0", "false"}, {"<=1.1.x", "1.2.500", "false"}, {"<=4.5", "3.4.0", "true"},
        {"<=4.5", "3.7.0", "true"}, {"<=4.5", "4.6.3", "false"}, {">1.1, <2", "1.1.1", "false"}, {">1.1, <2", "1.2.1", "true"},
        {">1.1, <3", "4.3.2", "false"}, {">=1.1, <2, !=1.2.3", "1.2.3", "false"}, {">1.1 <2", "1.1.1", "false"},
        {">1.1    <3", "4.3.2", "false"}, {">=1.1    <2    !=1.2.3", "1.2.3", "false"},
        {">=1.1, <2, !=1.2.3 || > 3", "4.1.2", "true"}, {">=1.1, <2, !=1.2.3 || > 3", "3.1.2", "false"},
        {">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", "true"}, {">=1.1, <2, !=1.2.3 || > 3", "3.0.0", "false"},
        {">=1.1, <2, !=1.2.3 || > 3", "1.2.3", "false"}, {"> 1.1, <     2", "1.1.1", "false"},
        {">   1.1, <2", "1.2.1", "true"}, {">= 1.1, <     2, !=1.2.3", "1.2.3", "false"}, {"> 1.1 < 2", "1.1.1", "false"},
        {">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", "true"}, {"1.1 - 2", "1.1.1", "true"}, {"1.5.0 - 4.5", "3.7.0", "true"},
        {"1.1-3", "4.3.2", "false"}, {"^1.1", "1.1.1", "true"}, {"^1.1", "4.3.2", "false"}, {"^1.x", "1.1.1", "true"},
        {"^2.x", "1.1.1", "false"}, {"^1.x", "2.1.1", "false"}, {"^1.x", "1.1.1-beta1", "false"},
        {"^1.1.2-alpha", "1.2.1-beta1", "true"}, {"^1.2.x-alpha", "1.1.1-beta1", "false"}, {"^0.0.1", "0.0.1", "true"},
        {"^0.0.1", "0.3.1", "false"}, {"~*", "2.1.1", "true"}, {"~1", "2.1.1", "false"}, {"~1", "1.3.5", "true"},
        {"~1", "1.4.0", "true"}, {"~1.x", "2.1.1", "false"}, {"~1.x", "1.3.5", "true"}, {"~1.1", "1.1.1", "true"},
        {"~1.1", "1.1.1-alpha", "false"}, {"~1.1-alpha", "1.1.1-beta", "true"}, {"~1.1.1-beta", "1.1.1-alpha", "false"},
        {"~1.1.1-beta", "1.1.1", "true"}, {"~1.2.3", "1.2.5", "true"}, {"~1.2.3", "1.2.2", "false"},
        {"~1.2.3", "1.3.2", "false"}, {"~1.1", "1.2.3", "false"}, {"~1.3", "2.4.5", "false"},
        {"~1", "1.3.5-beta", "false"}, {"~1.3.6-alpha", "1.3.5-beta", "false"}, {"~1.3.5-alpha", "1.3.5-beta", "true"},
        {"~1.3.5-beta", "1.3.5-alpha", "false"},
    };
    List<String> wrong = new ArrayList<>();
    for (String[] c : cases) {
      if (SemverConstraints.parse(c[0]).includes(c[1]) != Boolean.parseBoolean(c[2])) {
        wrong.add(c[0] + " on " + c[1] + " should be " + c[2]);
      }
    }
    assertThat(wrong).isEmpty();
  }
}
