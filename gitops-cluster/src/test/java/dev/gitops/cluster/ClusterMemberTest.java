package dev.gitops.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The assignment rounds, driven by hand over an in-memory engine and a clock the test moves. */
class ClusterMemberTest {

  static final Duration SETTLE = Duration.ofSeconds(5);
  static final Set<String> TARGETS = IntStream.range(0, 60).mapToObj(i -> "t" + i).collect(Collectors.toSet());

  final FakeCoordinator.Engine engine = new FakeCoordinator.Engine();
  Instant now = Instant.parse("2026-01-01T00:00:00Z");
  /** Who runs which target, as the members' callbacks say; a second runner of one target fails the test. */
  final Map<String, String> running = java.util.Collections.synchronizedMap(new HashMap<>());
  final List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** Targets whose start fails (as when the agent cannot create a target's directory). */
  final Set<String> cannotStart = new java.util.HashSet<>();
  /** Targets whose next stop fails, leaving them running (as when a resource of the target would not close). */
  final Set<String> stopFailsOnce = java.util.concurrent.ConcurrentHashMap.newKeySet();

  final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  };

  ClusterMember member(String id) {
    FakeCoordinator c = new FakeCoordinator(engine, id);
    c.join();
    ClusterMember m = ClusterMember.builder(c, new ClusterMember.Targets() {
      @Override
      public boolean start(Ownership o) {
        assertThat(o.member()).isEqualTo(id);
        if (cannotStart.contains(o.target())) {
          events.add("fail " + o.target() + " " + id);
          return false;
        }
        String other = running.putIfAbsent(o.target(), id);
        assertThat(other).as("%s started by %s while %s runs it", o.target(), id, other).isNull();
        events.add("start " + o.target() + " " + id);
        return true;
      }

      @Override
      public void stop(String target, String reason) {
        if (stopFailsOnce.remove(target)) {
          events.add("stop failed " + target + " " + id);
          throw new IllegalStateException("injected: " + target + "'s store would not close");
        }
        assertThat(running.remove(target)).isEqualTo(id);
        events.add("stop " + target + " " + id);
      }
    }).settleDelay(SETTLE).clock(clock).build();
    m.targets(TARGETS);
    return m;
  }

  Map<String, String> expected(Set<String> members) {
    return Rendezvous.assign(TARGETS, members);
  }

  /** The builder's durations are checked as given: a null names its setting, as a bad value does. */
  @Test
  void theBuildersDurationsNameTheSettingAtFault() {
    ClusterMember.Builder b = ClusterMember.builder(new FakeCoordinator(engine, "m1"), new ClusterMember.Targets() {
      @Override
      public boolean start(Ownership o) {
        return true;
      }

      @Override
      public void stop(String target, String reason) {
      }
    });
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.settleDelay(null))
        .isInstanceOf(NullPointerException.class).hasMessage("settleDelay");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.pollInterval(null))
        .isInstanceOf(NullPointerException.class).hasMessage("pollInterval");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.settleDelay(java.time.Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("settle delay must not be negative");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.pollInterval(java.time.Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("poll interval must be positive");
  }

  @Test
  void nothingStartsBeforeTheMembershipHasSettled() {
    ClusterMember m1 = member("m1");
    m1.round();
    assertThat(running).isEmpty();
    now = now.plus(SETTLE);
    m1.round();
    assertThat(running.keySet()).isEqualTo(TARGETS);
    assertThat(m1.owned().keySet()).isEqualTo(TARGETS);
  }

  @Test
  void aJoinMovesOnlyTheNewMembersTargetsAfterTheSettleDelayAndNeverRunsOneTwice() {
    ClusterMember m1 = member("m1");
    m1.round();
    now = now.plus(SETTLE);
    m1.round();
    ClusterMember m2 = member("m2");
    m1.round();
    m2.round();
    assertThat(m2.owned()).isEmpty();
    assertThat(m1.owned().keySet()).isEqualTo(TARGETS);
    now = now.plus(SETTLE);
    m2.round();  // m1 has not released yet: m2 takes nothing
    assertThat(m2.owned()).isEmpty();
    m1.round();  // m1 stops and releases what moves
    m2.round();  // m2 takes it
    Map<String, String> want = expected(Set.of("m1", "m2"));
    assertThat(running).isEqualTo(want);
    long moved = want.values().stream().filter("m2"::equals).count();
    assertThat(events.stream().filter(e -> e.startsWith("stop")).count()).isEqualTo(moved);
    assertThat(m1.owned().keySet()).allMatch(t -> want.get(t).equals("m1"));
  }

  @Test
  void aMemberWhoseRegistrationWasDeletedRegistersAgainWithAWarningAndKeepsItsTargets() {
    ClusterMember m1 = member("m1");
    ClusterMember m2 = member("m2");
    m1.round();
    m2.round();
    now = now.plus(SETTLE);
    m1.round();
    m2.round();
    Map<String, String> want = expected(Set.of("m1", "m2"));
    assertThat(running).isEqualTo(want);
    try (LogLines log = LogLines.of(ClusterMember.class)) {
      ((FakeCoordinator) m1.coordinator()).dropRegistration();  // etcdctl del .../members/m1: its lease lives on
      m1.round();
      assertThat(engine.members).containsExactly("m1", "m2");
      assertThat(log.lines()).anyMatch(l -> l.startsWith("WARN member m1 is not among the cluster's members [m2]"));
    }
    m2.round();
    now = now.plus(SETTLE);
    m1.round();
    m2.round();
    assertThat(running).isEqualTo(want);
    assertThat(events.stream().filter(e -> e.startsWith("stop"))).as("nothing handed away").isEmpty();
    assertThat(m1.notReady()).isEmpty();
  }

  @Test
  void aMemberWithoutALiveLeaseIsNotReadyBeforeAnyRoundSaysSo() {
    FakeCoordinator c = new FakeCoordinator(engine, "m1");
    ClusterMember never = ClusterMember.builder(c, new ClusterMember.Targets() {
      @Override
      public boolean start(Ownership o) {
        return true;
      }

      @Override
      public void stop(String target, String reason) {
      }
    }).settleDelay(SETTLE).clock(clock).build();
    // never joined, and no round ran yet to fail
    assertThat(never.notReady()).get().asString().contains("member m1 holds no live lease");
    c.join();
    assertThat(never.notReady()).isEmpty();
    c.expire();  // its lease ended (by its own clock, etcd frozen): the next round has not run yet
    assertThat(never.notReady()).get().asString().contains("member m1 holds no live lease");
  }

  @Test
  void aMemberThatLostItsLeaseStopsItsTargetsSideBySideNotOneGracePeriodAfterAnother() {
    FakeCoordinator c = new FakeCoordinator(engine, "m1");
    c.join();
    Set<String> stopped = java.util.concurrent.ConcurrentHashMap.newKeySet();
    ClusterMember m = ClusterMember.builder(c, new ClusterMember.Targets() {
      @Override
      public boolean start(Ownership o) {
        return true;
      }

      @Override
      public void stop(String target, String reason) {
        try {
          Thread.sleep(600);  // a fenced sync reaching its safe point, up to the grace period
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        stopped.add(target);
      }
    }).settleDelay(Duration.ZERO).clock(clock).build();
    Set<String> four = Set.of("a", "b", "c", "d");
    m.targets(four);
    m.round();
    assertThat(m.owned().keySet()).isEqualTo(four);
    c.expire();
    long start = System.nanoTime();
    m.round();
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(stopped).isEqualTo(four);
    assertThat(took).as("four stops of 0.6 s").isLessThan(Duration.ofMillis(1800));
  }

  @Test
  void aMemberThatLostItsLeaseStopsEverythingAndTheOthersTakeOver() {
    ClusterMember m1 = member("m1");
    ClusterMember m2 = member("m2");
    m1.round();
    m2.round();
    now = now.plus(SETTLE);
    m1.round();
    m2.round();
    assertThat(running).isEqualTo(expected(Set.of("m1", "m2")));
    ((FakeCoordinator) m1.coordinator()).expire();
    m1.round();  // it learns of the loss: stops all and joins again with a new lease
    assertThat(running).doesNotContainValue("m1");
    assertThat(m1.owned()).isEmpty();
    m1.round();  // a rejoined member settles before it takes anything
    m2.round();
    assertThat(running).doesNotContainValue("m1");
    now = now.plus(SETTLE);
    m1.round();
    assertThat(running).isEqualTo(expected(Set.of("m1", "m2")));
  }

  @Test
  void aMemberThatCannotReachTheCoordinatorIsNotReadyUntilItCanAgain() {
    ClusterMember m1 = member("m1");
    m1.safeRound();
    assertThat(m1.notReady()).isEmpty();
    FakeCoordinator c = (FakeCoordinator) m1.coordinator();
    c.unreachable = true;
    Instant down = now;
    m1.safeRound();
    now = now.plusSeconds(5);
    m1.safeRound();
    assertThat(m1.notReady()).hasValueSatisfying(why -> assertThat(why)
        .contains("member m1 cannot coordinate with the cluster since " + down).contains("connection refused"));
    c.unreachable = false;
    m1.safeRound();
    assertThat(m1.notReady()).isEmpty();
  }

  @Test
  void aMemberThatJoinsAndLeavesAgainAndAgainDelaysTheAssignmentByAtMostFiveSettleDelays() {
    ClusterMember m1 = member("m1");
    FakeCoordinator flapper = new FakeCoordinator(engine, "m3");  // crash-looping: a join every half settle delay
    try (LogLines log = LogLines.of(ClusterMember.class)) {
      m1.round();
      Instant start = now;
      while (now.plus(SETTLE.dividedBy(2)).plusMillis(100).isBefore(start.plus(SETTLE.multipliedBy(5)))) {
        flap(flapper, m1);
        assertThat(running).isEmpty();  // still settling: nothing moves within five settle delays
      }
      // the members never stayed the same for a settle delay: it used to wait for them for ever, running nothing
      for (int i = 0; i < 4; i++) {
        flap(flapper, m1);
        assertThat(running).isEqualTo(expected(Set.of("m1")));
      }
      assertThat(log.lines()).filteredOn(l -> l.startsWith("WARN") && l.contains("kept changing")).hasSize(1);
      // once they stay the same for a settle delay, the next change of members settles again
      now = now.plus(SETTLE);
      m1.round();
      ClusterMember m2 = member("m2");
      m1.round();
      m2.round();
      now = now.plus(SETTLE.dividedBy(2));
      m1.round();
      assertThat(running).isEqualTo(expected(Set.of("m1")));
    }
  }


  /** Half a settle delay on, {@code flapper} joins, then 100 ms on it expires; {@code m} runs a round after each. */
  private void flap(FakeCoordinator flapper, ClusterMember m) {
    now = now.plus(SETTLE.dividedBy(2));
    flapper.join();
    m.round();
    now = now.plusMillis(100);
    flapper.expire();
    m.round();
  }
  @Test
  void aLeaveMovesTheLeaversTargetsAtOnceWithoutSettling() {
    ClusterMember m1 = member("m1");
    ClusterMember m2 = member("m2");
    m1.round();
    m2.round();
    now = now.plus(SETTLE);
    m1.round();
    m2.round();
    m2.close();  // graceful: stops its targets, releases them, leaves
    m1.round();  // the same instant: no settle delay for a leave
    assertThat(running).isEqualTo(expected(Set.of("m1")));
    assertThat(m1.owned().keySet()).isEqualTo(TARGETS);
  }

  @Test
  void aTargetTakenOverBehindTheMembersBackIsStopped() {
    ClusterMember m1 = member("m1");
    m1.round();
    now = now.plus(SETTLE);
    m1.round();
    Ownership o = m1.owned().get("t1");
    // another holder (a lease expiry and re-creation the member did not see) replaces the record
    engine.owners.put("t1", new Ownership("t1", "intruder", o.token() + 100, now));
    m1.round();
    assertThat(m1.owned()).doesNotContainKey("t1");
    assertThat(running).doesNotContainKey("t1");
    assertThat(engine.owners.get("t1").member()).isEqualTo("intruder");
  }

  /** The target's record made again for the same member at the same token (a target Lease made anew or restored). */
  Ownership regrant(Ownership o) {
    Ownership again = new Ownership(o.target(), o.member(), o.token(), o.since().plusSeconds(1));
    engine.owners.put(o.target(), again);
    return again;
  }

  @Test
  void anotherGrantOfARunningTargetAtTheSameTokenStopsItAndStartsItAgainUnderTheNewGrant() {
    ClusterMember m1 = member("m1");
    m1.round();
    now = now.plus(SETTLE);
    m1.round();
    Ownership old = m1.owned().get("t1");
    // the same member and token, another grant time: what the target writes under the old grant is refused as stale
    Ownership again = regrant(old);
    events.clear();
    m1.round();
    assertThat(events).containsExactly("stop t1 m1", "start t1 m1");
    assertThat(m1.ownership("t1")).contains(again);
    assertThat(m1.coordinator().holds(m1.ownership("t1").orElseThrow())).isTrue();
    m1.round();
    assertThat(events).as("started once, not at every round").hasSize(2);
  }

  @Test
  void anotherGrantOfARunningTargetWhoseStopFailsKeepsTheNewGrantAndStartsOnlyOnceTheStopSucceeds() {
    ClusterMember m1 = member("m1");
    ClusterMember m2 = member("m2");
    m1.round();
    m2.round();
    now = now.plus(SETTLE);
    m1.round();
    m2.round();
    String t = m1.owned().keySet().iterator().next();
    Ownership again = regrant(m1.owned().get(t));
    stopFailsOnce.add(t);
    events.clear();
    m1.round();
    m2.round();
    assertThat(events).containsExactly("stop failed " + t + " m1");
    assertThat(m1.ownership(t)).isEmpty();
    assertThat(engine.owners.get(t)).as("kept, so that no other member starts it beside the run that did not stop")
        .isEqualTo(again);
    now = now.plus(ClusterMember.FIRST_RETRY);
    m1.round();
    assertThat(events).containsExactly("stop failed " + t + " m1", "stop " + t + " m1", "start " + t + " m1");
    assertThat(m1.ownership(t)).contains(again);
  }

  @Test
  void aReleaseLeftToTheNextRoundGivesUpItsOwnGrantOnlyNotAnotherOfTheSameMemberAndToken() {
    ClusterMember m1 = member("m1");
    m1.safeRound();
    now = now.plus(SETTLE);
    m1.safeRound();
    ClusterMember m2 = member("m2");
    m1.safeRound();
    m2.safeRound();
    now = now.plus(SETTLE);
    FakeCoordinator c1 = (FakeCoordinator) m1.coordinator();
    c1.releaseFails = true;  // the engine goes away as m1 hands its first target over: the release is left over
    m1.safeRound();
    c1.releaseFails = false;
    Ownership left = c1.releases.get(0);
    Ownership again = regrant(left);  // meanwhile its record is made again for m1 at the same token
    c1.releases.clear();
    m1.safeRound();
    assertThat(c1.releases).as("the left-over release is not another grant's").doesNotContain(left);
    for (int i = 0; i < 3; i++) {
      m1.safeRound();
      m2.safeRound();
    }
    assertThat(c1.releases).as("the new grant, which m1 does not run, released for its assignee").contains(again);
    assertThat(running).isEqualTo(expected(Set.of("m1", "m2")));
  }

  @Test
  void aTargetRemovedFromTheConfigurationIsStoppedAndReleased() {
    ClusterMember m1 = member("m1");
    m1.round();
    now = now.plus(SETTLE);
    m1.round();
    m1.targets(Set.of("t1"));
    m1.round();
    assertThat(running).containsOnlyKeys("t1");
    assertThat(engine.owners).containsOnlyKeys("t1");
  }

  @Test
  void theAssignmentIsComputedOncePerChangeOfMembersOrTargetsNotOncePerRound() {
    ClusterMember m1 = member("m1");
    m1.round();
    now = now.plus(SETTLE);
    for (int i = 0; i < 5; i++) {
      m1.round();
    }
    assertThat(m1.assignmentsComputed()).as("one member set, one configuration").isEqualTo(1);
    assertThat(running).hasSize(TARGETS.size());

    ClusterMember m2 = member("m2");
    m1.round();  // m2 joined: the members changed; both settle
    m2.round();
    now = now.plus(SETTLE);
    m1.round();
    m2.round();
    m1.round();
    m2.round();
    assertThat(m1.assignmentsComputed()).isEqualTo(2);
    assertThat(running).isEqualTo(expected(Set.of("m1", "m2")));

    m1.targets(Set.of("t1", "t2"));  // a reload: the configuration changed
    m1.round();
    m1.round();
    assertThat(m1.assignmentsComputed()).isEqualTo(3);
    assertThat(m1.owned().keySet()).containsExactlyInAnyOrderElementsOf(
        Rendezvous.assign(Set.of("t1", "t2"), Set.of("m1", "m2")).entrySet().stream()
            .filter(e -> e.getValue().equals("m1")).map(Map.Entry::getKey).toList());
  }

  long attempts(String target) {
    return events.stream().filter(e -> e.startsWith("fail " + target + " ")).count();
  }

  @Test
  void aTargetThatCannotStartIsReleasedNamedByReadinessAndRetriedLaterAndAtAReload() {
    cannotStart.add("t1");
    ClusterMember m1 = member("m1");
    m1.safeRound();
    now = now.plus(SETTLE);
    m1.safeRound();
    assertThat(attempts("t1")).isEqualTo(1);
    assertThat(running).doesNotContainKey("t1").hasSize(TARGETS.size() - 1);
    assertThat(m1.owned()).doesNotContainKey("t1");
    assertThat(engine.owners).as("an ownership nobody runs is not kept").doesNotContainKey("t1");
    assertThat(m1.notReady()).hasValueSatisfying(why -> assertThat(why).contains("target t1 cannot start on member m1"));

    m1.safeRound();  // not due yet: no attempt at every round
    assertThat(attempts("t1")).isEqualTo(1);
    now = now.plus(ClusterMember.FIRST_RETRY);
    m1.safeRound();
    assertThat(attempts("t1")).isEqualTo(2);
    now = now.plus(ClusterMember.FIRST_RETRY);
    m1.safeRound();  // the pace doubles: the next is due 4 s after the second
    assertThat(attempts("t1")).isEqualTo(2);

    m1.targets(TARGETS);  // a reload tries again at once
    m1.safeRound();
    assertThat(attempts("t1")).isEqualTo(3);

    cannotStart.clear();  // fixed (the directory made writable), then reloaded
    m1.targets(TARGETS);
    m1.safeRound();
    assertThat(running).containsEntry("t1", "m1");
    assertThat(engine.owners.get("t1").member()).isEqualTo("m1");
    assertThat(m1.notReady()).isEmpty();
  }

  @Test
  void aTargetThatCannotStartIsNoLongerNamedOnceItIsAssignedElsewhere() {
    cannotStart.add("t1");
    ClusterMember m1 = member("m1");
    m1.safeRound();
    now = now.plus(SETTLE);
    m1.safeRound();
    assertThat(m1.notReady()).isPresent();
    m1.targets(TARGETS.stream().filter(t -> !t.equals("t1")).collect(Collectors.toSet()));
    m1.safeRound();
    assertThat(m1.notReady()).isEmpty();
  }

  @Test
  void aRoundThatEndsWithoutALiveLeaseIsNotASuccess() {
    ClusterMember m1 = member("m1");
    m1.safeRound();
    assertThat(m1.notReady()).isEmpty();
    FakeCoordinator c = (FakeCoordinator) m1.coordinator();
    c.joinKeepsStaleLease = true;  // the engine is down: the lease ran out and joining again gets nothing
    c.expire();
    m1.safeRound();
    m1.safeRound();
    assertThat(m1.notReady()).hasValueSatisfying(why -> assertThat(why).contains("holds no live lease"));
    c.joinKeepsStaleLease = false;
    m1.safeRound();
    assertThat(m1.notReady()).isEmpty();
  }

  @Test
  void aMemberWhoseIdIsTakenSaysSoOnceNotAtEveryRound() {
    ClusterMember m1 = member("m1");
    m1.safeRound();
    now = now.plus(SETTLE);
    m1.safeRound();
    FakeCoordinator c = (FakeCoordinator) m1.coordinator();
    c.refuseJoin = "member id m1 is already used by a live member";  // a duplicate took over while it was paused
    c.expire();
    try (LogLines logs = LogLines.of(ClusterMember.class)) {
      for (int i = 0; i < 20; i++) {
        m1.safeRound();
      }
      assertThat(logs.lines().stream().filter(l -> l.startsWith("WARN"))).hasSize(2)
          .anyMatch(l -> l.contains("lost its lease")).anyMatch(l -> l.contains("already used"));
    }
    assertThat(running).isEmpty();
    assertThat(m1.notReady()).hasValueSatisfying(why -> assertThat(why).contains("already used"));
  }

  @Test
  void aTargetOnlySomeMembersConfigureAndAssignedToAnotherIsSaidToRunNowhere() {
    String extra = IntStream.range(0, 1000).mapToObj(i -> "extra" + i)
        .filter(t -> Rendezvous.owner(t, Set.of("m1", "m2")).orElseThrow().equals("m2")).findFirst().orElseThrow();
    Set<String> more = new java.util.HashSet<>(TARGETS);
    more.add(extra);
    ClusterMember m1 = member("m1");
    ClusterMember m2 = member("m2");
    m1.targets(more);  // only m1's configuration has it; rendezvous gives it to m2
    m1.safeRound();
    m2.safeRound();
    now = now.plus(SETTLE);
    try (LogLines logs = LogLines.of(ClusterMember.class)) {
      m1.safeRound();
      m2.safeRound();
      assertThat(m1.notReady()).isEmpty();  // it may just be on its way
      now = now.plus(m1.unownedGrace());
      for (int i = 0; i < 5; i++) {
        m1.safeRound();
        m2.safeRound();
      }
      assertThat(running).doesNotContainKey(extra);
      assertThat(m1.notReady()).hasValueSatisfying(why -> assertThat(why)
          .contains("target " + extra + " runs nowhere").contains("member m2"));
      assertThat(logs.lines().stream().filter(l -> l.startsWith("WARN") && l.contains(extra))).hasSize(1);
    }
    m2.targets(more);  // the rolling edit reaches m2
    m2.safeRound();
    m1.safeRound();
    assertThat(running).containsEntry(extra, "m2");
    assertThat(m1.notReady()).isEmpty();
  }

  @Test
  void aReleaseThatFailsIsRetriedSoTheTargetStillMovesToItsNewAssignee() {
    ClusterMember m1 = member("m1");
    m1.safeRound();
    now = now.plus(SETTLE);
    m1.safeRound();
    ClusterMember m2 = member("m2");
    m1.safeRound();
    m2.safeRound();
    now = now.plus(SETTLE);
    FakeCoordinator c1 = (FakeCoordinator) m1.coordinator();
    c1.releaseFails = true;  // the engine goes away as m1 hands its first target over
    m1.safeRound();
    c1.releaseFails = false;  // and comes back
    for (int i = 0; i < 3; i++) {
      m1.safeRound();
      m2.safeRound();
    }
    assertThat(running).isEqualTo(expected(Set.of("m1", "m2")));
    assertThat(engine.owners.values()).allMatch(o -> o.member().equals(expected(Set.of("m1", "m2")).get(o.target())));
  }

  @Test
  void aTargetRemovedFromTheConfigurationWhileTheEngineIsAwayIsReleasedOnceItAnswers() {
    ClusterMember m1 = member("m1");
    m1.safeRound();
    now = now.plus(SETTLE);
    m1.safeRound();
    FakeCoordinator c1 = (FakeCoordinator) m1.coordinator();
    m1.targets(Set.of("t1"));
    c1.releaseFails = true;
    m1.safeRound();
    c1.releaseFails = false;
    m1.safeRound();
    m1.safeRound();
    assertThat(running).containsOnlyKeys("t1");
    assertThat(engine.owners).as("no ownership left behind on the member's lease").containsOnlyKeys("t1");
  }

  @Test
  void aStopThatFailsAtAHandOverKeepsTheOwnershipSaysSoAndIsRetriedUntilTheTargetStops() {
    ClusterMember m1 = member("m1");
    m1.safeRound();
    now = now.plus(SETTLE);
    m1.safeRound();
    ClusterMember m2 = member("m2");
    m1.safeRound();
    m2.safeRound();
    now = now.plus(SETTLE);
    Map<String, String> want = expected(Set.of("m1", "m2"));
    String moving = want.entrySet().stream().filter(e -> e.getValue().equals("m2")).map(Map.Entry::getKey).sorted()
        .findFirst().orElseThrow();
    stopFailsOnce.add(moving);

    m1.safeRound();  // hands over: the stop of one target fails, the others move
    for (int i = 0; i < 3; i++) {
      m2.safeRound();
      m1.safeRound();
    }
    assertThat(events).contains("stop failed " + moving + " m1");
    assertThat(running).as("still running on m1: nobody else started it").containsEntry(moving, "m1");
    assertThat(engine.owners.get(moving).member()).as("m1 keeps the key").isEqualTo("m1");
    assertThat(m1.owned()).as("no longer one m1 runs on purpose").doesNotContainKey(moving);
    assertThat(m1.notReady()).hasValueSatisfying(r -> assertThat(r).contains("target " + moving
        + " could not be stopped on member m1 (it moves to member m2").contains("injected")
        .contains("it keeps the target's ownership"));
    assertThat(m1.failedStops()).containsExactly(moving);
    assertThat(running.entrySet()).as("every other target moved").allMatch(e -> e.getKey().equals(moving)
        || e.getValue().equals(want.get(e.getKey())));

    now = now.plus(ClusterMember.FIRST_RETRY);
    m1.safeRound();  // the stop is tried again, succeeds, and the key is released
    m2.safeRound();
    assertThat(running).isEqualTo(want);
    assertThat(m1.notReady()).isEmpty();
    assertThat(m1.failedStops()).isEmpty();
    assertThat(events.stream().filter(e -> e.endsWith(" " + moving + " m1") || e.endsWith(" " + moving + " m2")))
        .containsSubsequence("stop failed " + moving + " m1", "stop " + moving + " m1", "start " + moving + " m2");
  }

  @Test
  void anOwnershipTakenWhoseAnswerWasLostIsReleasedOnceTheTargetIsAssignedElsewhere() {
    ClusterMember m1 = member("m1");
    ClusterMember m2 = member("m2");
    m1.safeRound();
    m2.safeRound();
    now = now.plus(SETTLE);
    m1.safeRound();
    m2.safeRound();
    Map<String, String> want = expected(Set.of("m1", "m2"));
    assertThat(running).isEqualTo(want);

    FakeCoordinator c1 = (FakeCoordinator) m1.coordinator();
    ((FakeCoordinator) m2.coordinator()).expire();  // etcd flaps: m2's lease ends, its targets are free
    c1.acquireAnswerLost = true;  // m1 takes the first of them, but the answer does not reach it
    m1.safeRound();
    c1.acquireAnswerLost = false;
    assertThat(m1.notReady()).isPresent();
    m2.safeRound();  // m2 stops what it ran and joins again
    for (int i = 0; i < 4; i++) {
      m1.safeRound();
      m2.safeRound();
      now = now.plus(SETTLE);
    }
    assertThat(running).as("every target runs on its assignee").isEqualTo(want);
    assertThat(engine.owners.values()).as("no ownership left on m1 that it does not run")
        .allMatch(o -> o.member().equals(want.get(o.target())));
    assertThat(m1.notReady()).isEmpty();
    assertThat(m2.notReady()).isEmpty();
  }

  @Test
  void anErrorStartingOrStoppingATargetFailsThatStartOrStopOnlyAndTheRoundsGoOn() throws Exception {
    FakeCoordinator c = new FakeCoordinator(engine, "m1");
    Set<String> started = java.util.concurrent.ConcurrentHashMap.newKeySet();
    java.util.concurrent.atomic.AtomicInteger starts = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger stops = new java.util.concurrent.atomic.AtomicInteger();
    ClusterMember m = ClusterMember.builder(c, new ClusterMember.Targets() {
      @Override
      public boolean start(Ownership o) {
        if (starts.incrementAndGet() == 1) {
          throw new NoClassDefFoundError("com/example/ProviderPlugin");  // a provider's jar missing a class
        }
        started.add(o.target());
        return true;
      }

      @Override
      public void stop(String target, String reason) {
        if (stops.incrementAndGet() == 1) {
          throw new NoClassDefFoundError("com/example/ProviderPlugin$Close");
        }
        started.remove(target);
      }
    }).settleDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20)).build();
    m.targets(Set.of("t1", "t2"));
    try (LogLines log = LogLines.of(ClusterMember.class)) {
      m.start();
      Await.until("a start failed", () -> m.notReady().map(r -> r.contains("cannot start on member m1")).orElse(false),
          Duration.ofSeconds(4));
      m.targets(Set.of("t2", "t1"));  // a reload: the start that failed is tried again at once
      Await.until("both targets started", () -> started.size() == 2, Duration.ofSeconds(4));
      assertThat(m.owned()).containsOnlyKeys("t1", "t2");
      assertThat(log.lines()).anyMatch(l -> l.startsWith("WARN") && l.contains("cannot start target")
          && l.contains("com/example/ProviderPlugin"));
      m.targets(Set.of("t1"));
      Await.until("t2's stop failed", () -> m.failedStops().contains("t2"), Duration.ofSeconds(4));
      assertThat(log.lines()).anyMatch(l -> l.startsWith("ERROR") && l.contains("could not stop target t2")
          && l.contains("ProviderPlugin$Close"));
      c.ownersThrowsOnce = new StackOverflowError("injected into a round");
      Await.until("the round's Error taken", () -> c.ownersThrowsOnce == null, Duration.ofSeconds(4));
      m.targets(Set.of("t1", "t3"));
      Await.until("the rounds go on: t3 started", () -> started.contains("t3"), Duration.ofSeconds(4));
      assertThat(engine.owners).as("t2's ownership kept while it may still run").containsKey("t2");
      assertThat(m.notReady()).hasValueSatisfying(r -> assertThat(r).contains("target t2 could not be stopped"));
      assertThat(log.lines()).anyMatch(l -> l.startsWith("ERROR member m1: a coordination round failed with"
          + " java.lang.StackOverflowError: injected into a round"));
    } finally {
      m.close();
    }
  }

  @Test
  void aTargetHeldByNoLiveMemberIsSaidToRunNowhereOnItsAssignee() {
    ClusterMember m1 = member("m1");
    m1.round();
    now = now.plus(SETTLE);
    // an ownership that no live member holds and that never expires (etcdctl put of an owners/ key, on no lease)
    synchronized (engine) {
      engine.owners.put("t7", new Ownership("t7", "m9", 999, Instant.EPOCH));
    }
    try (LogLines log = LogLines.of(ClusterMember.class)) {
      m1.round();
      assertThat(m1.notReady()).isEmpty();  // within the grace: a leaver's keys may show a moment after it left
      now = now.plus(m1.unownedGrace());
      m1.round();
      m1.round();
      assertThat(m1.notReady()).hasValueSatisfying(r -> assertThat(r).contains("target t7 runs nowhere")
          .contains("held by m9").contains("not a live member"));
      assertThat(log.lines().stream().filter(l -> l.startsWith("WARN") && l.contains("target t7 runs nowhere")))
          .hasSize(1);
    }
    assertThat(running).doesNotContainKey("t7");
    synchronized (engine) {
      engine.owners.remove("t7");  // deleted by hand
    }
    m1.round();
    assertThat(running).containsEntry("t7", "m1");
    assertThat(m1.notReady()).isEmpty();
  }
}
