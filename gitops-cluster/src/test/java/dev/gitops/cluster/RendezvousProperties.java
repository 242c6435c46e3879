package dev.gitops.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import net.jqwik.api.constraints.UniqueElements;

class RendezvousProperties {

  static final int TARGETS = 600;

  static List<String> targets(String seed) {
    return IntStream.range(0, TARGETS).mapToObj(i -> seed + "/target-" + i).toList();
  }

  /**
   * Within seven standard deviations of a count of {@link #TARGETS} draws that each land with
   * probability {@code p}. Every run checks about 14,000 counts (1,000 tries of three properties,
   * up to twelve members each), so the bound must hold for the largest of them, not for a typical
   * one: five deviations of the mean's square root failed once in about forty CI runs (a member of
   * eight holding 120 of 600 targets, 5.6 deviations of the binomial); past seven a fair hash fails
   * about once in 10^11 checks, while a member that gets twice its share (or none of it) is still
   * far outside.
   */
  static void aboutExpected(long count, double p) {
    double expected = TARGETS * p;
    double slack = 7 * Math.sqrt(TARGETS * p * (1 - p)) + 1;
    assertThat((double) count).isBetween(expected - slack, expected + slack);
  }

  @Property
  void theOwnerIsAMemberWhateverTheOrderOfMembers(@ForAll @StringLength(max = 20) String target,
      @ForAll @Size(min = 1, max = 30) @UniqueElements List<@StringLength(max = 12) String> members) {
    String owner = Rendezvous.owner(target, members).orElseThrow();
    assertThat(members).contains(owner);
    List<String> shuffled = new ArrayList<>(members);
    Collections.reverse(shuffled);
    assertThat(Rendezvous.owner(target, shuffled)).contains(owner);
  }

  @Property
  void aJoinMovesAboutOneInMPlusOneTargetsAllToTheNewMember(@ForAll @AlphaChars @StringLength(max = 8) String seed,
      @ForAll @IntRange(min = 1, max = 12) int m) {
    List<String> members = IntStream.range(0, m).mapToObj(i -> seed + "-m" + i).toList();
    List<String> joined = new ArrayList<>(members);
    joined.add(seed + "-new");
    Map<String, String> before = Rendezvous.assign(targets(seed), members);
    Map<String, String> after = Rendezvous.assign(targets(seed), joined);
    long moved = before.keySet().stream().filter(t -> !before.get(t).equals(after.get(t))).count();
    before.keySet().stream().filter(t -> !before.get(t).equals(after.get(t)))
        .forEach(t -> assertThat(after.get(t)).isEqualTo(seed + "-new"));
    aboutExpected(moved, 1 / (m + 1.0));
  }

  @Property
  void aLeaveMovesOnlyTheLeaversTargets(@ForAll @AlphaChars @StringLength(max = 8) String seed,
      @ForAll @IntRange(min = 2, max = 12) int m, @ForAll @IntRange(min = 0, max = 11) int leaver) {
    List<String> members = IntStream.range(0, m).mapToObj(i -> seed + "-m" + i).toList();
    String gone = members.get(leaver % m);
    List<String> left = members.stream().filter(x -> !x.equals(gone)).toList();
    Map<String, String> before = Rendezvous.assign(targets(seed), members);
    Map<String, String> after = Rendezvous.assign(targets(seed), left);
    long moved = 0;
    for (String t : before.keySet()) {
      if (before.get(t).equals(gone)) {
        moved++;
        assertThat(left).contains(after.get(t));
      } else {
        assertThat(after.get(t)).isEqualTo(before.get(t));
      }
    }
    aboutExpected(moved, 1 / (double) m);
  }

  @Property
  void everyMemberGetsAboutItsShare(@ForAll @AlphaChars @StringLength(max = 8) String seed,
      @ForAll @IntRange(min = 1, max = 12) int m) {
    List<String> members = IntStream.range(0, m).mapToObj(i -> seed + "-m" + i).toList();
    Map<String, String> assigned = Rendezvous.assign(targets(seed), members);
    assertThat(assigned).hasSize(TARGETS);
    for (String member : members) {
      aboutExpected(assigned.values().stream().filter(member::equals).count(), 1 / (double) m);
    }
    assertThat(Set.copyOf(assigned.values())).isSubsetOf(members);
  }

  @Property(tries = 10)
  void noMembersOwnNothing(@ForAll String target) {
    assertThat(Rendezvous.owner(target, List.of())).isEmpty();
    assertThat(Rendezvous.assign(List.of(target), List.of())).isEmpty();
  }
}
