package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules.ListKind;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.api.PatchOp;
import java.util.ArrayList;
import java.util.List;

/**
 * A structural RFC 6902 diff. Objects diff field by field; arrays are aligned first (elements of
 * keyed lists by key, others by value) with a longest-common-subsequence over the part between
 * the common prefix and suffix, so one inserted element is one {@code add} however long the tail.
 * Unaligned elements of non-keyed lists are paired up position by position and diffed inside.
 *
 * <p>The walk keeps its own stack of what is left to do rather than recursing, so no depth of
 * nesting overflows the thread's stack (an array level took three or four frames: a list nested
 * some 1,500 deep did); the operations come in the order a depth-first walk gives them.
 */
final class Differ {

  /** Above this many cells the LCS table is skipped and the middle of the array is paired by position. */
  private static final long MAX_LCS_CELLS = 1L << 22;

  private final List<PatchOp> ops = new ArrayList<>();
  /** What is left to do, the next on top: a {@link PatchOp} to emit or a {@link Pair} to diff. */
  private final java.util.ArrayDeque<Object> todo = new java.util.ArrayDeque<>();

  /** Two values to diff at {@code at}, under {@code cur}. */
  private record Pair(JsonNode v, JsonNode t, RuleCursor cur, Ptr at) {}

  static List<PatchOp> diff(JsonNode from, JsonNode to, RuleCursor cur) {
    Differ d = new Differ();
    if (from == null) {
      d.ops.add(PatchOp.add("", to));
    } else {
      d.todo.push(new Pair(from, to, cur, Ptr.ROOT));
      d.run();
    }
    return d.ops;
  }

  private void run() {
    while (!todo.isEmpty()) {
      Object next = todo.pop();
      if (next instanceof PatchOp op) {
        ops.add(op);
      } else {
        Pair p = (Pair) next;
        node(p.v(), p.t(), p.cur(), p.at());
      }
    }
  }

  /** Puts {@code steps} on the stack so that the first is done next. */
  private void later(List<Object> steps) {
    for (int i = steps.size() - 1; i >= 0; i--) {
      todo.push(steps.get(i));
    }
  }

  /** An RFC 6901 pointer under construction. */
  private record Ptr(Ptr parent, String token) {
    static final Ptr ROOT = new Ptr(null, null);

    String text() {
      if (token == null) {
        return "";
      }
      List<String> tokens = new ArrayList<>();
      for (Ptr p = this; p.token != null; p = p.parent) {
        tokens.add(p.token);
      }
      StringBuilder sb = new StringBuilder();
      for (int i = tokens.size() - 1; i >= 0; i--) {
        sb.append('/').append(tokens.get(i));
      }
      return sb.toString();
    }

    Ptr field(String name) {
      return new Ptr(this, Nodes.escapePointer(name));
    }

    Ptr index(int i) {
      return new Ptr(this, Integer.toString(i));
    }
  }

  private void node(JsonNode v, JsonNode t, RuleCursor cur, Ptr at) {
    if (v == t || v.equals(t)) {
      return;
    }
    if (v instanceof ObjectNode && t instanceof ObjectNode) {
      // T mostly lists V's fields in V's order (the merge rebuilds objects in V's order), so V's
      // fields are looked up from just after the last hit. Removals come first in the patch (they
      // are emitted now, the rest is done next in T's order); they are looked for only when some
      // field of V was not met.
      List<Object> steps = new ArrayList<>();
      int vNext = 0;
      int met = 0;
      int vn = v.size();
      for (int j = 0, tn = t.size(); j < tn; j++) {
        String k = Documents.fieldName(t, j);
        JsonNode tk = Documents.fieldValue(t, j);
        int vi = vn == 0 ? -1 : Nodes.indexOfField(v, k, vNext);
        if (vi < 0) {
          steps.add(PatchOp.add(at.field(k).text(), tk));
        } else {
          vNext = vi + 1;
          met++;
          JsonNode vk = Documents.fieldValue(v, vi);
          if (vk != tk) {
            steps.add(new Pair(vk, tk, cur.field(k), at.field(k)));
          }
        }
      }
      if (met < vn) {
        for (int i = 0; i < vn; i++) {
          String k = Documents.fieldName(v, i);
          if (!t.has(k)) {
            ops.add(PatchOp.remove(at.field(k).text()));
          }
        }
      }
      later(steps);
      return;
    }
    if (v instanceof ArrayNode && t instanceof ArrayNode) {
      array(v, t, cur, at);
      return;
    }
    ops.add(PatchOp.replace(at.text(), t));
  }

  private void array(JsonNode v, JsonNode t, RuleCursor cur, Ptr at) {
    ListRule rule = cur.listRule();
    boolean keyed = rule.kind() == ListKind.KEYED;
    int n = v.size();
    int m = t.size();
    // The common prefix and suffix first: identical nodes (the merge reuses V's) match without
    // computing their identity.
    Object[] vi = new Object[n];
    Object[] ti = new Object[m];
    int pre = 0;
    while (pre < n && pre < m && same(rule, keyed, v, vi, pre, t, ti, pre)) {
      pre++;
    }
    int suf = 0;
    while (suf < n - pre && suf < m - pre && same(rule, keyed, v, vi, n - 1 - suf, t, ti, m - 1 - suf)) {
      suf++;
    }
    List<Object> steps = new ArrayList<>();
    if (pre + suf == n && n == m) {
      for (int i = 0; i < n; i++) {
        element(steps, v.get(i), t.get(i), cur, rule, keyed, at, i);
      }
      later(steps);
      return;
    }
    for (int i = pre; i < n - suf; i++) {
      vi[i] = identity(rule, keyed, v.get(i));
    }
    for (int j = pre; j < m - suf; j++) {
      ti[j] = identity(rule, keyed, t.get(j));
    }
    // Aligned pairs, in order: V's element pv[q] with T's element pt[q]; at most min(n, m) of them.
    int[] pv = new int[Math.min(n, m)];
    int[] pt = new int[pv.length];
    int np = 0;
    for (; np < pre; np++) {
      pv[np] = np;
      pt[np] = np;
    }
    np = lcs(vi, ti, pre, n - suf, pre, m - suf, pv, pt, np);
    for (int s = suf; s > 0; s--, np++) {
      pv[np] = n - s;
      pt[np] = m - s;
    }
    int i = 0;
    int j = 0;
    for (int q = 0; q < np; q++) {
      gap(steps, v, t, cur, at, rule, keyed, i, pv[q], j, pt[q]);
      element(steps, v.get(pv[q]), t.get(pt[q]), cur, rule, keyed, at, pt[q]);
      i = pv[q] + 1;
      j = pt[q] + 1;
    }
    gap(steps, v, t, cur, at, rule, keyed, i, n, j, m);
    later(steps);
  }

  /** Whether element {@code i} of V and {@code j} of T align; identities are computed into the arrays on demand. */
  private static boolean same(ListRule rule, boolean keyed, JsonNode v, Object[] vi, int i, JsonNode t, Object[] ti, int j) {
    JsonNode a = v.get(i);
    JsonNode b = t.get(j);
    if (a == b) {
      return true;
    }
    if (vi[i] == null) {
      vi[i] = identity(rule, keyed, a);
    }
    if (ti[j] == null) {
      ti[j] = identity(rule, keyed, b);
    }
    return vi[i].equals(ti[j]);
  }

  private static void gap(List<Object> steps, JsonNode v, JsonNode t, RuleCursor cur, Ptr at, ListRule rule,
      boolean keyed, int vFrom, int vTo, int tFrom, int tTo) {
    int paired = keyed ? 0 : Math.min(vTo - vFrom, tTo - tFrom);
    for (int x = 0; x < paired; x++) {
      element(steps, v.get(vFrom + x), t.get(tFrom + x), cur, rule, keyed, at, tFrom + x);
    }
    int pos = tFrom + paired;
    for (int x = vFrom + paired; x < vTo; x++) {
      steps.add(PatchOp.remove(at.index(pos).text()));
    }
    for (int y = tFrom + paired; y < tTo; y++) {
      steps.add(PatchOp.add(at.index(y).text(), t.get(y)));
    }
  }

  private static void element(List<Object> steps, JsonNode ve, JsonNode te, RuleCursor cur, ListRule rule,
      boolean keyed, Ptr at, int index) {
    if (ve == te || ve.equals(te)) {
      return;
    }
    RuleCursor cc;
    if (cur.isEmpty()) {
      cc = cur;
    } else if (keyed) {
      cc = cur.element(() -> {
        List<JsonNode> k = Nodes.keyOf(rule, te);
        return k == null ? new FieldPath.Index(index) : Nodes.keySegment(rule, k);
      });
    } else {
      cc = cur.element(() -> new FieldPath.Index(index));
    }
    steps.add(new Pair(ve, te, cc, at.index(index)));
  }

  private static Object identity(ListRule rule, boolean keyed, JsonNode e) {
    if (keyed) {
      Object k = Nodes.key(rule, e);
      // A keyless element must not align with a keyed one whose key value equals it.
      return k != null ? k : new Keyless(e);
    }
    return e;
  }

  /** The identity of an element of a keyed list that has no key: its value. */
  private record Keyless(JsonNode value) {}

  /**
   * Puts the pairs of a longest common subsequence of a[aFrom,aTo) and b[bFrom,bTo) into {@code
   * outA}/{@code outB} from position {@code np} on; returns the position after the last.
   */
  private static int lcs(Object[] a, Object[] b, int aFrom, int aTo, int bFrom, int bTo, int[] outA, int[] outB, int np) {
    int n = aTo - aFrom;
    int m = bTo - bFrom;
    if (n == 0 || m == 0 || (long) n * m > MAX_LCS_CELLS) {
      return np;
    }
    int[][] len = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        len[i][j] = a[aFrom + i].equals(b[bFrom + j]) ? len[i + 1][j + 1] + 1 : Math.max(len[i + 1][j], len[i][j + 1]);
      }
    }
    int i = 0;
    int j = 0;
    while (i < n && j < m) {
      if (a[aFrom + i].equals(b[bFrom + j])) {
        outA[np] = aFrom + i;
        outB[np++] = bFrom + j;
        i++;
        j++;
      } else if (len[i + 1][j] >= len[i][j + 1]) {
        i++;
      } else {
        j++;
      }
    }
    return np;
  }
}
