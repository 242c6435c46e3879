package dev.gitops.core.render;

import java.util.ArrayList;
import java.util.List;

/**
 * A small line diff (longest common subsequence) for showing multi-line text values; {@link
 * PlanRenderer} uses it for text fields such as a file's content. Above four million cells (lines
 * before times lines after) the lines both sides begin and end with are set aside and the rest is
 * aligned there, by the longest common subsequence when it is small enough, else by Myers' diff
 * for up to {@value #MAX_EDITS} line edits: a one-line change in a file of thousands of lines shows
 * as that line, never as the whole file removed and added (which a review, cut at its first
 * lines, would not show). Past that the rest is every line removed, then every line added, so a
 * huge value cannot exhaust memory.
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

  /** The most line edits Myers' diff looks for in a large value (its trace takes edits² ints). */
  static final int MAX_EDITS = 2_000;

  /** The diff from {@code before} to {@code after}, line by line. */
  public static List<Line> diff(List<String> before, List<String> after) {
    int n = before.size();
    int m = after.size();
    if ((long) n * m > MAX_CELLS) {
      return large(before, after);
    }
    return lcs(before, after);
  }

  /** A large value's diff: common first and last lines kept, the rest aligned as it can be. */
  private static List<Line> large(List<String> before, List<String> after) {
    int n = before.size();
    int m = after.size();
    int head = 0;
    while (head < n && head < m && before.get(head).equals(after.get(head))) {
      head++;
    }
    int tail = 0;
    while (tail < n - head && tail < m - head && before.get(n - 1 - tail).equals(after.get(m - 1 - tail))) {
      tail++;
    }
    List<String> b = before.subList(head, n - tail);
    List<String> a = after.subList(head, m - tail);
    List<Line> out = new ArrayList<>(n + m);
    before.subList(0, head).forEach(l -> out.add(new Line(' ', l)));
    List<Line> middle = (long) b.size() * a.size() <= MAX_CELLS ? lcs(b, a) : myers(b, a);
    if (middle == null) {
      b.forEach(l -> out.add(new Line('-', l)));
      a.forEach(l -> out.add(new Line('+', l)));
    } else {
      out.addAll(middle);
    }
    before.subList(n - tail, n).forEach(l -> out.add(new Line(' ', l)));
    return out;
  }

  /**
   * Myers' O((N+M)D) diff of {@code a} to {@code b} (E. Myers, "An O(ND) Difference Algorithm and
   * Its Variations", 1986), deletions before insertions; null when it takes more than {@link
   * #MAX_EDITS} edits.
   */
  private static List<Line> myers(List<String> a, List<String> b) {
    int n = a.size();
    int m = b.size();
    int max = Math.min(n + m, MAX_EDITS);
    int offset = max + 1;
    int[] v = new int[2 * max + 3];
    List<int[]> trace = new ArrayList<>();
    for (int d = 0; d <= max; d++) {
      // the furthest x of each diagonal k in [-d, d] before this step: what the way back reads
      trace.add(java.util.Arrays.copyOfRange(v, offset - d, offset + d + 1));
      for (int k = -d; k <= d; k += 2) {
        int x = k == -d || k != d && v[offset + k - 1] < v[offset + k + 1] ? v[offset + k + 1] : v[offset + k - 1] + 1;
        int y = x - k;
        while (x < n && y < m && a.get(x).equals(b.get(y))) {
          x++;
          y++;
        }
        v[offset + k] = x;
        if (x >= n && y >= m) {
          return back(a, b, trace, n, m);
        }
      }
    }
    return null;
  }

  /** The edit script from Myers' trace, walked back from the end. */
  private static List<Line> back(List<String> a, List<String> b, List<int[]> trace, int n, int m) {
    List<Line> out = new ArrayList<>();
    int x = n;
    int y = m;
    for (int d = trace.size() - 1; d >= 0; d--) {
      int[] v = trace.get(d);  // v[i] is diagonal i - d
      int k = x - y;
      int prevK = k == -d || k != d && at(v, d, k - 1) < at(v, d, k + 1) ? k + 1 : k - 1;
      int prevX = d == 0 ? 0 : at(v, d, prevK);
      int prevY = prevX - prevK;
      while (x > prevX && y > prevY) {
        out.add(new Line(' ', a.get(--x)));
        y--;
      }
      if (d > 0) {
        if (x == prevX) {
          out.add(new Line('+', b.get(--y)));
        } else {
          out.add(new Line('-', a.get(--x)));
        }
      }
    }
    java.util.Collections.reverse(out);
    return out;
  }

  /** Diagonal {@code k}'s furthest x in the trace of step {@code d} (0 outside it). */
  private static int at(int[] v, int d, int k) {
    int i = k + d;
    return i < 0 || i >= v.length ? 0 : v[i];
  }

  /** The longest common subsequence's diff of two values whose table fits {@link #MAX_CELLS}. */
  private static List<Line> lcs(List<String> before, List<String> after) {
    int n = before.size();
    int m = after.size();
    List<Line> out = new ArrayList<>();
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
