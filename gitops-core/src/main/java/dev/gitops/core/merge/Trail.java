package dev.gitops.core.merge;

import dev.gitops.api.FieldPath;

/** A key-addressed path under construction: a cheap parent link, turned into a FieldPath on demand. */
record Trail(Trail parent, FieldPath.Segment segment) {

  static final Trail ROOT = new Trail(null, null);

  Trail then(FieldPath.Segment s) {
    return new Trail(this, s);
  }

  FieldPath toPath() {
    int depth = 0;
    for (Trail t = this; t.segment != null; t = t.parent) {
      depth++;
    }
    FieldPath.Segment[] segs = new FieldPath.Segment[depth];
    int i = depth;
    for (Trail t = this; t.segment != null; t = t.parent) {
      segs[--i] = t.segment;
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
