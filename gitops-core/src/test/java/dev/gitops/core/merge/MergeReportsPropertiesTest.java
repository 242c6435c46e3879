package dev.gitops.core.merge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.ListKind;
import dev.gitops.core.merge.MergeCases.Case;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The merge's reports against DESIGN.md's definitions, written out here from its text on random
 * documents and rule sets ({@link MergeCases}): owned paths are the leaves of L outside ignored
 * paths; drift is an owned path where V differs from L and from D; a conflict an owned path where
 * D differs from L, V from L and D from V; a takeover a path new in D (not owned) where V already
 * has another value. And a sync converges: once V is the target and L is D, the same D merges to
 * no patch, no field change, no drift, conflict or takeover.
 */
class MergeReportsPropertiesTest {

  @Provide
  Arbitrary<Case> cases() {
    return Arbitraries.longs().map(MergeCases::generate);
  }

  private static MergeRules rules(Case c) {
    return ThreeWayMergeReferenceTest.withoutSensitive(c.rules());
  }

  private static MergeResult merge(MergeRules rules, JsonNode l, JsonNode d, JsonNode v) {
    return new ThreeWayMerge(rules).merge(MergeCases.KEY, l, d, v);
  }

  @Property
  void ownedPathsAreTheLeavesOfLastAppliedOutsideIgnoredPaths(@ForAll("cases") Case c) {
    MergeRules rules = rules(c);
    MergeResult r = merge(rules, c.l(), c.d(), c.v());
    assertThat(r.owned()).as("%s", c).isEqualTo(Patches.leaves(c.l(), rules, MergeCases.KEY));
  }

  @Property
  void driftConflictsAndTakeoversAreWhatDesignDefines(@ForAll("cases") Case c) {
    if (c.v() == null) {
      return;  // nothing live: nothing drifted, conflicts or is taken over
    }
    MergeRules rules = rules(c);
    MergeResult r = merge(rules, c.l(), c.d(), c.v());
    Model m = new Model(c, rules);
    Set<FieldPath> drift = new LinkedHashSet<>();
    Set<FieldPath> conflicts = new LinkedHashSet<>();
    Set<FieldPath> undecided = new LinkedHashSet<>();
    for (FieldPath p : Patches.leaves(c.l(), rules, MergeCases.KEY)) {
      JsonNode lp = m.at(c.l(), p);
      JsonNode dp = m.at(c.d(), p);
      JsonNode vp = m.at(c.v(), p);
      Boolean vl = m.same(p, vp, lp);
      Boolean vd = m.same(p, vp, dp);
      Boolean dl = m.same(p, dp, lp);
      if (vl == null || vd == null || dl == null) {
        undecided.add(p);
        continue;
      }
      if (!vl && !vd) {
        drift.add(p);
        if (!dl) {
          conflicts.add(p);
        }
      }
    }
    Set<FieldPath> takeovers = new LinkedHashSet<>();
    Set<FieldPath> owned = Patches.leaves(c.l(), rules, MergeCases.KEY);
    for (FieldPath p : Patches.leaves(c.d(), rules, MergeCases.KEY)) {
      if (owned.contains(p)) {
        continue;
      }
      JsonNode vp = m.at(c.v(), p);
      Boolean vd = m.same(p, vp, m.at(c.d(), p));
      if (vd == null) {
        undecided.add(p);
      } else if (vp != null && !vd) {
        takeovers.add(p);
      }
    }
    assertThat(without(r.drift(), undecided)).as("drift of %s", c).isEqualTo(List.copyOf(drift));
    assertThat(without(r.conflicts(), undecided)).as("conflicts of %s", c).isEqualTo(List.copyOf(conflicts));
    assertThat(without(r.takeovers(), undecided)).as("takeovers of %s", c).isEqualTo(List.copyOf(takeovers));
  }

  /**
   * After the sync (live is the target, last-applied is D), the same D changes nothing and
   * reports nothing: no perpetual update, drift, conflict or takeover.
   */
  @Property
  void aSyncedResourceMergesToNothingAndReportsNothing(@ForAll("cases") Case c) {
    MergeRules rules = rules(c);
    MergeResult first = merge(rules, c.l(), c.d(), c.v());
    MergeResult again = merge(rules, c.d(), c.d(), first.target());
    assertThat(again.patch()).as("patch after syncing %s", c).isEmpty();
    assertThat(again.fields()).as("fields after syncing %s", c).isEmpty();
    assertThat(again.drift()).as("drift after syncing %s", c).isEmpty();
    assertThat(again.conflicts()).as("conflicts after syncing %s", c).isEmpty();
    assertThat(again.takeovers()).as("takeovers after syncing %s", c).isEmpty();
    assertThat(again.target()).isSameAs(first.target());
  }

  private static List<FieldPath> without(List<FieldPath> paths, Set<FieldPath> skip) {
    List<FieldPath> out = new ArrayList<>(paths);
    out.removeAll(skip);
    return out;
  }

  /** Leaf values and leaf equality as DESIGN.md states them. */
  private static final class Model {
    private final MergeRules rules;
    private final boolean absentNulls;

    Model(Case c, MergeRules rules) {
      this.rules = rules;
      this.absentNulls = rules.nullMode() == MergeRules.NullMode.ABSENT;
    }

    /** The value at {@code p}, null when absent; a null field in ABSENT mode is absent ("ensure absent"). */
    JsonNode at(JsonNode doc, FieldPath p) {
      JsonNode x = Patches.get(doc, p, rules, MergeCases.KEY);
      return x != null && absentNulls && x.isNull() && p.last() instanceof FieldPath.Field ? null : x;
    }

    /**
     * Whether leaves {@code a} and {@code b} at {@code p} are the same value: equal, or an empty
     * object or mergeable list on one side (a leaf that owns no member), or equal once ABSENT-mode
     * nulls are dropped. Null (undecided) for two atomic lists of one length that differ: whether
     * live "holds" the other (server-filled fields inside elements) is the merge's own rule.
     */
    Boolean same(FieldPath p, JsonNode a, JsonNode b) {
      if (a == null || b == null) {
        return a == b;
      }
      if (a.equals(b)) {
        return true;
      }
      if (a.isObject() && b.isObject() && !rules.isAtomicMap(p) && (a.size() == 0 || b.size() == 0)) {
        return true;
      }
      boolean atomic = rules.listRule(p).kind() == ListKind.ATOMIC;
      if (a.isArray() && b.isArray() && !atomic && (a.size() == 0 || b.size() == 0)) {
        return true;
      }
      if (absentNulls && Nodes.clean(a).equals(Nodes.clean(b))) {
        return true;
      }
      if (a.isArray() && b.isArray() && atomic && a.size() == b.size()) {
        return null;
      }
      return false;
    }
  }
}
