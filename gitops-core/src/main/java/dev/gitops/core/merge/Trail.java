package dev.gitops.core.merge;

import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules.ListRule;

/**
 * A key-addressed path under construction: a cheap parent link, turned into a FieldPath only
 * when needed (an error or a report). A keyed element's segment is built only then too.
 */
final class Trail {

  static final Trail ROOT = new Trail(null, null, null, null);

  private final Trail parent;
  private FieldPath.Segment segment;
  private final ListRule rule;
  /** A keyed element's key, or an object field's name (then {@code rule} is null). */
  private final Object key;

  private Trail(Trail parent, FieldPath.Segment segment, ListRule rule, Object key) {
    this.parent = parent;
    this.segment = segment;
    this.rule = rule;
    this.key = key;
  }

  Trail then(FieldPath.Segment s) {
    return new Trail(this, s, null, null);
  }

  /** The trail one object field further. */
  Trail field(String name) {
    return new Trail(this, null, null, name);
  }

  /** The trail one keyed element further; {@code key} as {@link Nodes#key} or {@link Nodes#keyOf} gives it. */
  Trail thenKey(ListRule rule, Object key) {
    return new Trail(this, null, rule, key);
  }

  FieldPath.Segment segment() {
    if (segment == null) {
      segment = rule != null ? Nodes.keySegment(rule, Nodes.keyList(key)) : new FieldPath.Field((String) key);
    }
    return segment;
  }

  FieldPath toPath() {
    int depth = 0;
    for (Trail t = this; t != ROOT && t.parent != null; t = t.parent) {
      depth++;
    }
    FieldPath.Segment[] segs = new FieldPath.Segment[depth];
    int i = depth;
    for (Trail t = this; t != ROOT && t.parent != null; t = t.parent) {
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
