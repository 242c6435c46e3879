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
}
