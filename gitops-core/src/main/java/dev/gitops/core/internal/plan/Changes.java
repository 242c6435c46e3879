package dev.gitops.core.internal.plan;

import dev.gitops.api.Change;
import dev.gitops.api.Resource;
import java.util.Objects;

/**
 * Equality of resources and changes up to the revision in their origin: a source read at a new
 * commit gives every resource the new revision, and nothing the planner decides depends on it.
 */
final class Changes {

  private Changes() {}

  /** Whether {@code a} and {@code b} are equal in everything but the revision of their origins. */
  static boolean sameButOriginRevision(Resource a, Resource b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null) {
      return false;
    }
    return a.key().equals(b.key()) && Objects.equals(a.document(), b.document())
        && a.origin().path().equals(b.origin().path()) && a.origin().line() == b.origin().line()
        && a.dependsOn().equals(b.dependsOn()) && a.wave() == b.wave() && a.policy().equals(b.policy())
        && a.sensitive().equals(b.sensitive());
  }

  /** Whether {@code a} and {@code b} are equal in everything but the revision of their resources' origins. */
  static boolean sameButOriginRevision(Change a, Change b) {
    if (a == b) {
      return true;
    }
    if (a.resource() == b.resource()) {
      return a.equals(b);
    }
    // every component but the resource, as Change#equals compares them (identity first: a change
    // re-dated by withResource shares all of them), without building a re-dated copy to compare
    return sameButOriginRevision(a.resource(), b.resource()) && a.key().equals(b.key())
        && Objects.equals(a.previousKey(), b.previousKey()) && a.action() == b.action()
        && Objects.equals(a.live(), b.live()) && Objects.equals(a.desired(), b.desired())
        && Objects.equals(a.target(), b.target()) && a.patch().equals(b.patch()) && a.fields().equals(b.fields())
        && a.flags().equals(b.flags()) && a.reason().equals(b.reason()) && a.sensitive().equals(b.sensitive())
        && a.unknown().equals(b.unknown());
  }

  /**
   * {@code c}, a remembered change of a key Git has, holding {@code now} as its resource: the
   * change as the planner would decide it from {@code now}, given that {@code now} equals the
   * resource {@code c} was decided from but for its origin. {@code c} itself when its resource has
   * {@code now}'s origin already (it is then equal in value), or when it holds no resource of Git's.
   */
  static Change withResource(Change c, Resource now) {
    Resource r = c.resource();
    if (now == null || r == null || c.desired() == null || r == now || r.origin().equals(now.origin())) {
      return c;
    }
    // keyed by the resource's own key instance (an equal one): the passes after the plan walk the
    // desired map along the plan's keys, and the very instance there needs no comparison
    return new Change(now.key(), c.previousKey(), c.action(), now, c.live(), now.document(), c.target(), c.patch(),
        c.fields(), c.flags(), c.reason(), c.sensitive(), c.unknown());
  }
}
