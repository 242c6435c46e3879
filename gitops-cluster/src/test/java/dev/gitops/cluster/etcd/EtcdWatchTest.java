package dev.gitops.cluster.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.cluster.Await;
import dev.gitops.cluster.ClusterMember;
import dev.gitops.cluster.CountingCoordinator;
import dev.gitops.cluster.Ownership;
import dev.gitops.cluster.RunningMembers;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The rounds' reads of members and owners come from watched views: no range read of {@code
 * owners/} in steady rounds, changes seen through the watch, a compaction past the watch recovered
 * by a range read, and an unreachable etcd still failing the rounds.
 */
class EtcdWatchTest extends EtcdTestBase {

  static final Set<String> TARGETS = RunningMembers.TARGETS;

  final RunningMembers members = new RunningMembers();
  /** Who runs which target, as the member's callbacks say, and every stop. */
  final Map<String, String> running = members.running;
  final List<String> stops = members.stops;

  @AfterEach
  void stopMembers() {
    members.close();
  }

  ClusterMember start(CountingCoordinator c) {
    return members.start(c);
  }

  static void rounds(CountingCoordinator c, int rounds) throws InterruptedException {
    RunningMembers.awaitRounds(c, rounds);
  }

  @Test
  void roundsWithoutOwnershipChangesMakeNoRangeReadAfterTheFirst() throws Exception {
    EtcdCoordinator etcd = member("m1");
    CountingCoordinator c = new CountingCoordinator(etcd);
    start(c);
    Await.until("m1 running its targets", () -> running.keySet().equals(TARGETS), Duration.ofSeconds(20));
    rounds(c, 2);
    long owners = etcd.ownersRangeReads();
    long members = etcd.membersRangeReads();
    rounds(c, 50);
    assertThat(etcd.ownersRangeReads()).as("range reads of owners/ in 50 steady rounds").isEqualTo(owners)
        .isEqualTo(1);
    assertThat(etcd.membersRangeReads()).as("range reads of members/").isEqualTo(members).isEqualTo(1);
    assertThat(running.keySet()).isEqualTo(TARGETS);
    assertThat(stops).isEmpty();
  }

  @Test
  void anOwnershipTakenOverBehindTheMembersBackIsSeenThroughTheWatchAndStopped() throws Exception {
    EtcdCoordinator etcd = member("m1");
    CountingCoordinator c = new CountingCoordinator(etcd);
    ClusterMember m1 = start(c);
    Await.until("m1 running its targets", () -> running.keySet().equals(TARGETS), Duration.ofSeconds(20));
    Ownership held = m1.ownership("t1").orElseThrow();

    // another writer takes the key over: delete and create, as a member on another lease would. m1's
    // rounds go on meanwhile: one between the two writes takes the free key again, and the create
    // (only where no key is) is then tried again
    long other = call(admin.getLeaseClient().grant(30), "grant").getID();
    ByteSequence key = etcd.ownerKey("t1");
    long created = 0;
    for (int tries = 0; created == 0 && tries < 20; tries++) {
      call(admin.getKVClient().delete(key), "delete");
      TxnResponse r = call(admin.getKVClient().txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
          .Then(Op.put(key, EtcdCoordinator.value("intruder", Instant.now()),
              PutOption.builder().withLeaseId(other).build())).commit(), "create");
      created = r.isSucceeded() ? r.getHeader().getRevision() : 0;
    }
    assertThat(created).as("the intruder's key created").isPositive();
    try {
      Await.until("m1 stopping t1", () -> !running.containsKey("t1"), Duration.ofSeconds(10));
      assertThat(stops).isNotEmpty().allSatisfy(stop -> assertThat(stop).startsWith("t1: member m1 no longer holds it"));
      assertThat(stops.get(0)).startsWith("t1: member m1 no longer holds it (token " + held.token() + ")");
      assertThat(m1.ownership("t1")).isEmpty();
      // m1 stops t1 at the delete; the intruder's create is a later event of the same watch, which a
      // loaded machine may deliver a moment after the stop
      Await.until("the watch showing the intruder's key", () -> etcd.owners().get("t1") != null,
          Duration.ofSeconds(10));
      assertThat(etcd.owners().get("t1")).extracting(Ownership::member, Ownership::token)
          .containsExactly("intruder", created);
      rounds(c, 5);
      assertThat(running).as("the others still run; t1 is held by the intruder's key").containsOnlyKeys("t2", "t3");
      assertThat(etcd.ownersRangeReads()).as("the change came through the watch").isEqualTo(1);
    } finally {
      call(admin.getLeaseClient().revoke(other), "revoke");
    }
    Await.until("m1 taking t1 again once it is free", () -> running.containsKey("t1"), Duration.ofSeconds(10));
    assertThat(m1.ownership("t1").orElseThrow().token()).isGreaterThan(created);
  }

  @Test
  void aCompactionPastTheWatchsRevisionIsRecoveredByReadingTheRangeAgain() throws Exception {
    EtcdCoordinator m1 = joined("m1");
    Ownership mine = m1.tryAcquire("t1").orElseThrow();
    AtomicBoolean once = new AtomicBoolean();
    long[] taken = new long[1];
    // between the view's range read and its watch: the key changes hands and etcd compacts past the range's revision,
    // so that the watch from the revision after the range cannot start
    m1.ownersView().beforeWatch(() -> {
      if (once.compareAndSet(false, true)) {
        call(admin.getKVClient().delete(m1.ownerKey("t1")), "delete");
        taken[0] = call(admin.getKVClient().put(m1.ownerKey("t1"),
            EtcdCoordinator.value("m2", Instant.now())), "put").getHeader().getRevision();
        call(admin.getKVClient().compact(taken[0]), "compact");
      }
    });
    assertThat(m1.owners().get("t1").token()).as("the range, read before the change").isEqualTo(mine.token());
    Await.until("the view recovering", () -> m1.owners().get("t1").member().equals("m2"), Duration.ofSeconds(10));
    assertThat(m1.owners().get("t1").token()).isEqualTo(taken[0]);
    assertThat(m1.ownersRangeReads()).as("the first range, and one after the compacted watch").isEqualTo(2);

    // and the new watch keeps the view current
    call(admin.getKVClient().delete(m1.ownerKey("t1")), "delete");
    Await.until("the delete seen", () -> !m1.owners().containsKey("t1"), Duration.ofSeconds(10));
    Ownership again = m1.tryAcquire("t1").orElseThrow();
    assertThat(m1.owners().get("t1")).as("this member's own write, seen at once").isEqualTo(again);
    assertThat(m1.ownersRangeReads()).isEqualTo(2);
  }

  @Test
  void aSilentWatchAnswersItsProgressRequestsAndTheRangeIsNotReadAgain() throws Exception {
    try (WatchedPrefix view = new WatchedPrefix(admin, prefix + "owners/", "etcd", EtcdCoordinator.CALL_TIMEOUT,
        EtcdCoordinator.RANGE_PAGE_SIZE,
        Duration.ofMillis(200))) {
      view.read();
      // reads of a view whose watch hears nothing: each quiet spell costs a progress request, which etcd answers
      Await.until("three progress requests", () -> {
        view.read();
        return view.progressRequests() >= 3;
      }, Duration.ofSeconds(10));
      assertThat(view.rangeReads()).as("range reads while the watch answers its progress requests").isEqualTo(1);
    }
  }

  @Test
  void withEtcdStoppedTheRoundsFailAndTheTargetsStopWhenTheLeaseEndsAsBefore() throws Exception {
    EtcdServer own = EtcdServer.startPrivate();
    Client client = Client.builder().endpoints(own.endpoint()).build();
    try {
      // each call to the stopped etcd fails after 2 s, not the default 10: how soon the member says it is not
      // ready, and how long leaving waits to revoke its lease
      EtcdCoordinator etcd = EtcdCoordinator.builder(client, "m1").prefix(prefix).ttl(Duration.ofSeconds(2))
          .callTimeout(Duration.ofSeconds(2)).build();
      CountingCoordinator c = new CountingCoordinator(etcd);
      ClusterMember m1 = start(c);
      Await.until("m1 running its targets", () -> running.keySet().equals(TARGETS), Duration.ofSeconds(20));
      rounds(c, 3);
      assertThat(m1.notReady()).isEmpty();
      int before = c.ownersCalls.get();

      own.stop();
      // first for a lease past its TTL by its own clock (readiness says so between rounds), then for failed rounds
      Await.until("m1 not ready", () -> m1.notReady().isPresent(), Duration.ofSeconds(30));
      Await.until("m1 saying its rounds fail", () -> m1.notReady().orElse("")
          .contains("member m1 cannot coordinate with the cluster since"), Duration.ofSeconds(30));
      // the lease runs out by the member's clock: every target stops, as with any unreachable coordinator
      Await.until("m1 stopping its targets", running::isEmpty, Duration.ofSeconds(30));
      assertThat(stops).hasSize(TARGETS.size()).allSatisfy(s -> assertThat(s).contains("lost its lease"));
      assertThat(m1.owned()).isEmpty();
      assertThat(m1.notReady()).isPresent();
      assertThat(c.ownersCalls.get() - before).as("rounds served from the view after etcd went away").isLessThan(5);
    } finally {
      members.close();
      client.close();
      own.stop();
    }
  }
}
