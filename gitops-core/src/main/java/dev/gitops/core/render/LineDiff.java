package dev.gitops.core.render;

import java.util.ArrayList;
import java.util.List;

/**
 * A small line diff (longest common subsequence) for showing multi-line text values; {@link
 * PlanRenderer} uses it for text fields such as a file's content. Above four million cells (lines
 * before times lines after) it gives up on alignment and shows every line removed, then every line
 * added, so a huge value cannot exhaust memory.
 *
 * <pre>{@code
 * List<LineDiff.Line> diff = LineDiff.diff(LineDiff.lines("a\nb\nc\n"), LineDiff.lines("a\nx\nc\n"));
 * // [' ' a, '-' b, '+' x, ' ' c]
 * StringBuilder shown = new StringBuilder();
 * diff.forEach(l -> shown.append(l.op()).append(' ').append(l.text()).append('\n'));
 * }</pre>
 */
public final class LineDiff {

  /**
   * One line of a diff.
   *
   * @param op {@code ' '} kept, {@code '-'} removed, {@code '+'} added
   * @param text the line, without its line break
   */
  public record Line(char op, String text) {}

  /** Above this many cells the LCS table is skipped and the diff is "all removed, all added". */
  private static final long MAX_CELLS = 4_000_000L;

  private LineDiff() {}

  /** The lines of {@code text}; a final newline does not make an empty last line. */
  public static List<String> lines(String text) {
    List<String> out = new ArrayList<>(List.of(text.split("\n", -1)));
    if (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) {
      out.remove(out.size() - 1);
    }
    return out;
  }

  /** The diff from {@code before} to {@code after}, line by line. */
  public static List<Line> diff(List<String> before, List<String> after) {
    int n = before.size();
    int m = after.size();
    List<Line> out = new ArrayList<>();
    if ((long) n * m > MAX_CELLS) {
      before.forEach(l -> out.add(new Line('-', l)));
      after.forEach(l -> out.add(new Line('+', l)));
      return out;
    }
    int[][] lcs = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        lcs[i][j] = before.get(i).equals(after.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    int i = 0;
    int j = 0;
    while (i < n && j < m) {
      if (before.get(i).equals(after.get(j))) {
        out.add(new Line(' ', before.get(i)));
        i++;
        j++;
      } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
        out.add(new Line('-', before.get(i++)));
      } else {
        out.add(new Line('+', after.get(j++)));
      }
    }
    while (i < n) {
      out.add(new Line('-', before.get(i++)));
    }
    while (j < m) {
      out.add(new Line('+', after.get(j++)));
    }
    return out;
  }
}
