package dev.gitops.images.regex;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.regex.Matcher;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RE2 (Go) syntax read as Go reads it. The expectations were checked against Go's {@code regexp}
 * ({@code FindStringSubmatchIndex}) over the same patterns and strings.
 */
class GoRegexTest {

  private static boolean finds(String re2, String text) {
    return GoRegex.compile(re2).matcher(text).find();
  }

  private static String found(String re2, String text) {
    Matcher m = GoRegex.compile(re2).matcher(text);
    return m.find() ? m.group() : null;
  }

  @Test
  void dollarIsTheEndOfTheTextNotBeforeAFinalLineBreak() {
    assertThat(finds("^v1$", "v1")).isTrue();
    assertThat(finds("^v1$", "v1\n")).isFalse();   // Java's $ would match here
    assertThat(finds("^v1\\z", "v1\n")).isFalse();
    assertThat(finds("(?m)^b$", "a\nb\nc")).isTrue();
    assertThat(finds("(?m)a$", "a\r\n")).isFalse();  // only \n ends a line in RE2
    assertThat(found("(?m)^", "a\n") ).isEmpty();
  }

  @Test
  void dotAndPerlClassesAreRe2s() {
    assertThat(finds("^.$", "\r")).isTrue();        // Java's . excludes \r, RE2's only \n
    assertThat(finds("^.$", "\u2028")).isTrue();
    assertThat(finds("^.$", "\n")).isFalse();
    assertThat(finds("(?s)^.$", "\n")).isTrue();
    assertThat(finds("^\\s$", "\u000b")).isFalse();  // RE2's \s has no vertical tab; Java's has
    assertThat(finds("^\\v$", "\u000b")).isTrue();   // \v is the vertical tab, not Java's class
    assertThat(finds("^\\w+$", "é")).isFalse();
    assertThat(finds("^\\d$", "٣")).isFalse();
    assertThat(finds("\\bb", "ab b")).isTrue();
    assertThat(finds("a\\b", "aé")).isTrue();   // é is no word character to RE2 (it is to Java's \\b)
  }

  @Test
  void posixAndUnicodeClasses() {
    assertThat(found("[[:alpha:]]+", "12ab3")).isEqualTo("ab");
    assertThat(found("[[:^digit:]]+", "12ab3")).isEqualTo("ab");
    assertThat(found("^[[:xdigit:][:punct:]]+$", "3f-a.")).isEqualTo("3f-a.");
    assertThat(found("[:alpha:]+", "ahp:")).isEqualTo("ahp:");  // outside brackets: a plain class of : a l p h
    assertThat(found("\\pL+", "v1é日")).isEqualTo("v");
    assertThat(found("\\p{Greek}+", "abαβ")).isEqualTo("αβ");
    assertThat(found("\\PN+", "12ab")).isEqualTo("ab");
    assertThat(found("\\p{^Greek}+", "αβab")).isEqualTo("ab");
    assertThat(found("[\\p{Lu}\\d]+", "abC1d")).isEqualTo("C1");
    assertThat(finds("\\p{Any}", "x")).isTrue();
    assertThat(finds("^[^\\x00-\\x{10FFFF}]*$", "")).isTrue();
    assertThat(finds("[^\\x00-\\x{10FFFF}]", "x")).isFalse();
  }

  @Test
  void classesAreNeverJavaClassSyntax() {
    assertThat(found("[a&&b]+", "&ab")).isEqualTo("&ab");      // no intersection in RE2
    assertThat(found("[a[b]+", "[ab")).isEqualTo("[ab");       // no nested class
    assertThat(found("[]a]+", "a]")).isEqualTo("a]");
    assertThat(found("[^]a]", "]ab")).isEqualTo("b");
    assertThat(found("[a-c-e]+", "x-eb")).isEqualTo("-eb");
  }

  @Test
  void caseFoldingIsUnicodeSimpleFolding() {
    assertThat(finds("(?i)^k$", "\u212a")).isTrue();   // KELVIN SIGN
    assertThat(finds("(?i)^s$", "\u017f")).isTrue();   // LONG S
    assertThat(finds("(?i)^i$", "\u0131")).isFalse();  // Turkic dotless i folds only under Turkic rules
    assertThat(finds("(?i)[^k]", "K")).isFalse();
    assertThat(finds("(?i)\\p{Lu}", "a")).isTrue();
    assertThat(finds("a(?i)b|c", "C")).isTrue();       // the flag holds to the end of the group, past |
    assertThat(finds("(?i:a)b", "AB")).isFalse();
    assertThat(finds("(?i)a(?-i)b", "Ab")).isTrue();
  }

  @Test
  void ungreedyFlagSwapsGreediness() {
    assertThat(found("(?U)a+", "aaa")).isEqualTo("a");
    assertThat(found("(?U)a+?", "aaa")).isEqualTo("aaa");
    assertThat(found("a{1,3}?", "aaa")).isEqualTo("a");
  }

  @Test
  void escapesAndLiterals() {
    assertThat(finds("^\\x41\\x{42}\\103$", "ABC")).isTrue();   // hex, braced hex, octal
    assertThat(finds("^\\12$", "\n")).isTrue();                  // octal, not a backreference
    assertThat(finds("^\\0$", "\0")).isTrue();
    assertThat(found("\\Qa.b*\\E+", "a.b**")).isEqualTo("a.b**");
    assertThat(found("a{", "xa{")).isEqualTo("a{");              // a '{' opening no count is itself
    assertThat(found("a{,2}", "a{,2}")).isEqualTo("a{,2}");
    assertThat(found("a{01}", "a{01}")).isEqualTo("a{01}");
    assertThat(finds("^\\_\\ \\-$", "_ -")).isTrue();
  }

  @Test
  void namedGroupsInGoSpellingsWithAnyWordName() {
    GoRegex re = GoRegex.compile("^(?P<branch_1>[a-z]+)-(?<9ts>\\d+)$");
    Matcher m = re.matcher("main-42");
    assertThat(m.find()).isTrue();
    assertThat(re.group(m, "branch_1")).contains("main");
    assertThat(re.group(m, "9ts")).contains("42");
    assertThat(re.groupCount()).isEqualTo(2);
    // a name used twice (RE2 allows it): the first group that took part
    GoRegex twice = GoRegex.compile("(?P<x>a)|(?P<x>b)");
    Matcher b = twice.matcher("b");
    assertThat(b.find()).isTrue();
    assertThat(twice.group(b, "x")).contains("b");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "^v(?=1)|lookahead `(?=`",
      "v(?!1)|lookahead `(?!`",
      "(?<=v)1|lookbehind `(?<=`",
      "(?<!v)1|lookbehind `(?<!`",
      "(a)\\1|backreference `\\1`",
      "(?P<a>x)(?P=a)|named backreference or recursion `(?P=`",
      "(?<a>x)\\k<a>|invalid escape sequence `\\k`",
      "a*+|invalid nested repetition operator `*+`",
      "a++|invalid nested repetition operator `++`",
      "a?+|invalid nested repetition operator `?+`",
      "a{2}+|invalid nested repetition operator `{2}+`",
      "a**|invalid nested repetition operator `**`",
      "(?>a)|atomic group",
      "v1\\Z|invalid escape sequence `\\Z`",
      "\\G|invalid escape sequence `\\G`",
      "\\R|invalid escape sequence `\\R`",
      "\\e|invalid escape sequence `\\e`",
      "(?x)a b|invalid or unsupported Perl syntax `(?x`",
      "(?d)a|invalid or unsupported Perl syntax `(?d`",
      "(?i-)a|invalid or unsupported Perl syntax `(?i-)`",
      "a{1001}|invalid repeat count `{1001}`",
      "a{2,1}|invalid repeat count `{2,1}`",
      "a{99999999999}|invalid repeat count",
      "(a{100}){11}|invalid repeat count `{11}`",
      "((a{10}){10}){11}|invalid repeat count `{11}`",
      "*a|missing argument to repetition operator `*`",
      "x(*)|missing argument to repetition operator `*`",
      "(?i)+|missing argument to repetition operator `+`",
      "[z-a]|invalid character class range `z-a`",
      "[[:word]:]]|invalid character class range `[:word]:]`",
      "\\p{Alpha}|RE2 knows no Unicode class 'Alpha'",
      "\\p{greek}|RE2 knows no Unicode class 'greek'",
      "(?P<a-b>x)|invalid named capture",
      "(?P<>x)|invalid named capture",
      "(a|missing closing )",
      "a)|unexpected )",
      "[a|missing closing ]",
      "[\\b]|invalid escape sequence `\\b`",
      "\\x{110000}|invalid escape sequence",
      "\\xg1|invalid escape sequence `\\xg1`",
      "\\8|invalid escape sequence `\\8`",
      "a\\|trailing backslash",
  })
  void whatRe2RefusesIsRefusedNamingTheConstruct(String pattern, String problem) {
    assertThatThrownBy(() -> GoRegex.compile(pattern))
        .isInstanceOf(GoRegexException.class)
        .hasMessageContaining("'" + pattern + "' is not a valid RE2 regular expression")
        .hasMessageContaining(problem);
  }

  @Test
  void repeatCountsUpToRe2sLimitAreFine() {
    assertThat(finds("^a{1000}$", "a".repeat(1000))).isTrue();
    assertThat(finds("^(a{10}){100}$", "a".repeat(1000))).isTrue();
    assertThat(GoRegex.compile("(a{1000}){0,1}").pattern()).isNotNull();   // as RE2: ? over a count is fine
    assertThat(GoRegex.compile("((a{1000}){0}){2}").pattern()).isNotNull(); // nothing under {0} counts
    assertThat(GoRegex.compile("a{1000,}").pattern()).isNotNull();
  }

  @Test
  void nestingDeeperThanRe2AllowsIsRefused() {
    String ok = "(".repeat(100) + "a" + ")".repeat(100);
    assertThat(finds(ok, "a")).isTrue();
    String deep = "(".repeat(GoRegex.MAX_NESTING + 1) + "a" + ")".repeat(GoRegex.MAX_NESTING + 1);
    assertThatThrownBy(() -> GoRegex.compile(deep)).isInstanceOf(GoRegexException.class)
        .hasMessageContaining("nests too deeply");
  }

  @Test
  void anUnpairedSurrogateIsRefused() {
    assertThatThrownBy(() -> GoRegex.compile("a\ud800")).isInstanceOf(GoRegexException.class)
        .hasMessageContaining("invalid UTF-8");
  }

  /** A literal text, quoted with \Q…\E, matches exactly itself, whatever its characters. */
  @Property
  void quotedTextMatchesItself(@ForAll @StringLength(max = 20) String text) {
    if (text.contains("\\E") || text.chars().anyMatch(c -> Character.isSurrogate((char) c))) {
      return;
    }
    GoRegex re = GoRegex.compile("^\\Q" + text + "\\E$");
    assertThat(re.matcher(text).find()).isTrue();
    assertThat(re.matcher(text + "x").find()).isFalse();
  }

  /** Any text either translates to a Java pattern or is refused with a GoRegexException: never another error. */
  @Property
  void everyTextCompilesOrIsRefusedCleanly(@ForAll @StringLength(max = 16) String text) {
    try {
      GoRegex.compile(text).matcher("v1.2.3-main_x").find();
    } catch (GoRegexException refused) {
      assertThat(refused.getMessage()).contains("is not a valid RE2 regular expression");
    }
  }
}
