package dev.gitops.core.merge;

import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules.ListRule;
import java.util.List;

/**
 * A key-addressed path under construction: a cheap parent link, turned into a FieldPath on demand.
 * A keyed-list step keeps the rule and key and builds its segment only when the path is needed
 * (error messages and reports), so the merge of a large list allocates no segments.
 */
final class Trail {

  static final Trail ROOT = new Trail(null, null, null, null);

  private final Trail parent;
  private FieldPath.Segment segment;
  private final ListRule rule;
  private final List<com.fasterxml.jackson.databind.JsonNode> key;

  private Trail(Trail parent, FieldPath.Segment segment, ListRule rule, List<com.fasterxml.jackson.databind.JsonNode> key) {
    this.parent = parent;
    this.segment = segment;
    this.rule = rule;
    this.key = key;
  }

  Trail then(FieldPath.Segment s) {
    return new Trail(this, s, null, null);
  }

  /** The step into the keyed-list element with {@code key}; its segment is built lazily. */
  Trail thenKey(ListRule r, List<com.fasterxml.jackson.databind.JsonNode> k) {
    return new Trail(this, null, r, k);
  }

  Trail parent() {
    return parent;
  }

  FieldPath.Segment segment() {
    if (segment == null && key != null) {
      segment = Nodes.keySegment(rule, key);
    }
    return segment;
  }

  private boolean isRoot() {
    return parent == null;
  }

  FieldPath toPath() {
    int depth = 0;
    for (Trail t = this; !t.isRoot(); t = t.parent) {
      depth++;
    }
    FieldPath.Segment[] segs = new FieldPath.Segment[depth];
    int i = depth;
    for (Trail t = this; !t.isRoot(); t = t.parent) {
      segs[--i] = t.segment();
    }
    FieldPath p = FieldPath.root();
    for (FieldPath.Segment s : segs) {
      p = p.append(s);
    }
    return p;
  }

  @Override
  public String toString() {
    return toPath().toString();
  }
}
