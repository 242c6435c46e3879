package dev.gitops.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.cluster.Rendezvous;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * C1: the cluster past one machine, by simulation. For 100,000 targets and M members (default 10,
 * 30, 100, 300, 1,000) it computes the assignment every member computes ({@link Rendezvous}, the
 * code {@code ClusterMember} runs) and reports: the load balance (max/mean and p99/mean targets per
 * member), the targets moved when one member joins (several joiner names) and when one leaves (the
 * most loaded and a median member), each against the ideal 1/M, the wall and CPU time of one full
 * assignment on one thread (what a member computes when the members or the targets change), and what the protocol asks of etcd at the
 * defaults, derived from the code: lease keep-alives, the rounds' reads (served by watches: no range read in a
 * steady round, a progress request on each silent watch), the writes of a join or a leave and the watch events they
 * cause, and the state store's writes as a function of the sync rate. etcd's documented
 * guidance is cited beside them.
 *
 * <p>Join moves are computed as {@code Rendezvous.owner(t, {current owner, joiner})} per target,
 * which is the new assignment exactly (the highest score over M+1 members is the higher of the
 * highest over M and the joiner's, ties broken by one total order); a leave moves the leaver's
 * targets. Both shortcuts are checked against a full recomputation of the assignment for every M up
 * to {@code --verify-up-to} (the bench fails if they disagree).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.AssignmentBench [--targets 100000]
 *     [--members 10,30,100,300,1000] [--joiners 5] [--verify-up-to 300] [--out assignment.json]
 * </pre>
 */
public final class AssignmentBench {

  /** The membership lease's TTL: the default of {@code EtcdCoordinator} and {@code LeaseCoordinator}. */
  static final Duration LEASE_TTL = Duration.ofSeconds(10);
  /** {@code LeaseKeeper} renews every third of the TTL. */
  static final Duration KEEP_ALIVE_EVERY = LEASE_TTL.dividedBy(3);
  /** {@code ClusterMember}'s default round, which the agent's {@code ClusterPlacement} uses. */
  static final Duration ROUND = Duration.ofMillis(500);
  /**
   * {@code EtcdCoordinator} serves the rounds' {@code members()} and {@code owners()} from two watched views
   * ({@code WatchedPrefix}); a view whose watch said nothing for this long asks it for its progress.
   */
  static final Duration WATCH_QUIET = Duration.ofSeconds(5);
  static final int WATCHED_PREFIXES = 2;
  /** The agent's default sync interval of a target ({@code AgentConfig}). */
  static final Duration SYNC_INTERVAL = Duration.ofMinutes(3);
  /** etcd's hardware guide: requests per second a small / medium / large cluster serves "fewer than". */
  static final int SMALL_RPS = 200;
  static final int MEDIUM_RPS = 1_000;
  static final int LARGE_RPS = 10_000;
  static final String HARDWARE_URL = "https://etcd.io/docs/v3.4/op-guide/hardware/";
  static final String PERFORMANCE_URL = "https://etcd.io/docs/v3.4/op-guide/performance/";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private AssignmentBench() {}

  /** Entry point. */
  public static void main(String[] args) throws IOException {
    int targetCount = 100_000;
    int[] memberCounts = {10, 30, 100, 300, 1_000};
    int joiners = 5;
    int verifyUpTo = 300;
    Path out = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      String value = args[++i];
      switch (flag) {
        case "--targets" -> targetCount = positive(flag, value);
        case "--members" -> memberCounts = Arrays.stream(value.split(",")).mapToInt(v -> positive(flag, v.trim())).toArray();
        case "--joiners" -> joiners = positive(flag, value);
        case "--verify-up-to" -> verifyUpTo = Integer.parseInt(value);
        case "--out" -> out = Path.of(value);
        default -> throw new IllegalArgumentException("unknown argument " + flag
            + " (want --targets N, --members M,M,..., --joiners J, --verify-up-to M, --out FILE)");
      }
    }
    long start = System.nanoTime();
    List<String> targets = names("target-", targetCount);
    // warm the JIT on the scoring path before anything is timed
    Rendezvous.assign(targets.subList(0, Math.min(targetCount, 20_000)), names("member-", 50));
    ObjectNode result = JSON.createObjectNode();
    result.put("targets", targetCount);
    result.put("leaseTtlMs", LEASE_TTL.toMillis());
    result.put("keepAliveEveryMs", KEEP_ALIVE_EVERY.toMillis());
    result.put("roundMs", ROUND.toMillis());
    result.put("syncIntervalMs", SYNC_INTERVAL.toMillis());
    ObjectNode guidance = result.putObject("etcdGuidance");
    guidance.put("smallClusterRequestsPerSecondBelow", SMALL_RPS);
    guidance.put("mediumClusterRequestsPerSecondBelow", MEDIUM_RPS);
    guidance.put("largeClusterRequestsPerSecondBelow", LARGE_RPS);
    guidance.put("hardware", HARDWARE_URL);
    guidance.put("performance", PERFORMANCE_URL);
    ArrayNode rows = result.putArray("rows");
    for (int m : memberCounts) {
      ObjectNode row = row(targets, m, joiners, m <= verifyUpTo);
      rows.add(row);
      System.out.printf(Locale.ROOT, "C1 M=%d: max/mean %.2f, p99/mean %.2f; join moves %.0f (%.2f of ideal), leave of the"
              + " most loaded moves %d (%.2f of ideal); full assignment %.0f ms (CPU %.0f ms); keep-alives %.0f/s, round reads %.0f/s (%,.0f keys/s),"
              + " watch progress requests %.0f/s, store writes %.0f/s%s%n", m, row.get("maxOverMean").asDouble(), row.get("p99OverMean").asDouble(),
          row.get("joinMovedMean").asDouble(), row.get("joinMovedOverIdeal").asDouble(), row.get("leaveMostLoadedMoved").asInt(),
          row.get("leaveMostLoadedOverIdeal").asDouble(), row.get("assignMs").asDouble(), row.get("assignCpuMs").asDouble(), row.get("keepAlivesPerSecond").asDouble(),
          row.get("roundRangeRequestsPerSecond").asDouble(), row.get("roundKeysReadPerSecond").asDouble(),
          row.get("watchProgressRequestsPerSecond").asDouble(),
          row.get("storeWritesPerSecondNoChange").asDouble(), row.get("verified").asBoolean() ? " (verified)" : "");
    }
    result.put("totalMs", (System.nanoTime() - start) / 1_000_000);
    result.put("command", "java -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.AssignmentBench --targets "
        + targetCount + " --members " + String.join(",", Arrays.stream(memberCounts).mapToObj(String::valueOf).toList()));
    if (out != null) {
      Files.writeString(out, JSON.writeValueAsString(result));
    }
  }

  /**
   * One row: M members over {@code targets}. With {@code verify}, the join and leave shortcuts are
   * checked against full recomputations (an {@link IllegalStateException} if they disagree).
   */
  static ObjectNode row(List<String> targets, int m, int joiners, boolean verify) {
    if (targets.isEmpty() || m < 2 || joiners < 1) {
      throw new IllegalArgumentException("want targets, at least 2 members and 1 joiner; got " + targets.size()
          + " targets, " + m + " members, " + joiners + " joiners");
    }
    int t = targets.size();
    List<String> members = names("member-", m);
    ObjectNode row = JSON.createObjectNode();
    row.put("members", m);

    // one full assignment, as every member computes it (best of 3 when it is cheap)
    // (wall time, and this thread's CPU time, which other load on the machine inflates much less)
    int reps = (long) t * m <= 10_000_000L ? 3 : 1;
    long best = Long.MAX_VALUE;
    long bestCpu = Long.MAX_VALUE;
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    Map<String, String> assignment = null;
    for (int r = 0; r < reps; r++) {
      long c0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      assignment = Rendezvous.assign(targets, members);
      best = Math.min(best, System.nanoTime() - t0);
      bestCpu = Math.min(bestCpu, threads.getCurrentThreadCpuTime() - c0);
    }
    row.put("assignMs", round(best / 1e6));
    row.put("assignCpuMs", round(bestCpu / 1e6));
    row.put("cpuNsPerScore", round((double) bestCpu / ((long) t * m)));
    // ClusterMember computes one full assignment when the members or the configured targets change and
    // keeps it for the rounds after: what one change costs a member, in rounds of CPU
    row.put("roundCpuShare", round(bestCpu / 1e6 / ROUND.toMillis()));

    // load balance
    Map<String, Integer> load = new HashMap<>();
    members.forEach(x -> load.put(x, 0));
    assignment.values().forEach(o -> load.merge(o, 1, Integer::sum));
    int[] counts = load.values().stream().mapToInt(Integer::intValue).sorted().toArray();
    double mean = (double) t / m;
    row.put("meanPerMember", round(mean));
    row.put("minPerMember", counts[0]);
    row.put("maxPerMember", counts[m - 1]);
    row.put("p99PerMember", counts[(int) Math.ceil(0.99 * m) - 1]);
    row.put("maxOverMean", round(counts[m - 1] / mean));
    row.put("p99OverMean", round(counts[(int) Math.ceil(0.99 * m) - 1] / mean));
    row.put("minOverMean", round(counts[0] / mean));

    // a member joins: it takes the targets it now wins, nothing else moves
    double joinIdeal = (double) t / (m + 1);
    long joinSum = 0;
    int joinMax = 0;
    for (int j = 0; j < joiners; j++) {
      String joiner = "joiner-" + j;
      int moved = 0;
      for (String target : targets) {
        if (Rendezvous.owner(target, List.of(assignment.get(target), joiner)).orElseThrow().equals(joiner)) {
          moved++;
        }
      }
      if (verify && j == 0) {
        List<String> after = new ArrayList<>(members);
        after.add(joiner);
        checkOnlyMoves(targets, assignment, Rendezvous.assign(targets, after), null, joiner, moved, "join of " + joiner);
      }
      joinSum += moved;
      joinMax = Math.max(joinMax, moved);
    }
    double joinMean = (double) joinSum / joiners;
    row.put("joinIdeal", round(joinIdeal));
    row.put("joinMovedMean", round(joinMean));
    row.put("joinMovedMax", joinMax);
    row.put("joinMovedOverIdeal", round(joinMean / joinIdeal));
    row.put("joinMovedMaxOverIdeal", round(joinMax / joinIdeal));

    // a member leaves: its targets, and only they, spread over the others
    String mostLoaded = members.stream().max((a, b) -> Integer.compare(load.get(a), load.get(b))).orElseThrow();
    String median = members.stream().filter(x -> load.get(x) == counts[m / 2]).findFirst().orElseThrow();
    for (String leaver : List.of(mostLoaded, median)) {
      List<String> rest = new ArrayList<>(members);
      rest.remove(leaver);
      Map<String, Integer> gained = new HashMap<>();
      for (String target : targets) {
        if (assignment.get(target).equals(leaver)) {
          gained.merge(Rendezvous.owner(target, rest).orElseThrow(), 1, Integer::sum);
        }
      }
      int moved = load.get(leaver);
      if (verify && leaver.equals(mostLoaded)) {
        checkOnlyMoves(targets, assignment, Rendezvous.assign(targets, rest), leaver, null, moved, "leave of " + leaver);
      }
      String key = leaver.equals(mostLoaded) ? "leaveMostLoaded" : "leaveMedian";
      row.put(key + "Moved", moved);
      row.put(key + "OverIdeal", round(moved / mean));
      row.put(key + "MaxToOneMember", gained.values().stream().mapToInt(Integer::intValue).max().orElse(0));
    }
    row.put("leaveIdeal", round(mean));
    row.put("verified", verify);

    // what the protocol asks of etcd at the defaults (EtcdCoordinator, ClusterMember, EtcdStateStore)
    double keepAlives = m * 1000.0 / KEEP_ALIVE_EVERY.toMillis();
    // members() and owners() come from watched views: a range read each when a member starts (and after a failed
    // watch), none in a steady round; a silent watch is asked for its progress every WATCH_QUIET (no MVCC read)
    double roundRequests = 0;
    double roundKeys = 0;
    double progressRequests = WATCHED_PREFIXES * m * 1000.0 / WATCH_QUIET.toMillis();
    double joinEvents = (1 + 2 * joinMean) * (m + 1);                 // the member key and each moved key twice, to every member
    double storeWrites = t * 1000.0 / SYNC_INTERVAL.toMillis();       // one txn (recordRevisions) per no-change sync
    int leaveMoved = counts[m / 2];
    row.put("keepAlivesPerSecond", round(keepAlives));
    row.put("roundRangeRequestsPerSecond", round(roundRequests));
    row.put("roundKeysReadPerSecond", round(roundKeys));
    row.put("watchProgressRequestsPerSecond", round(progressRequests));
    row.put("watchEventsPerJoin", round(joinEvents));
    row.put("startRangeKeys", (long) m * (t + m));             // every member's first range of owners/ and members/
    row.put("storeWritesPerSecondNoChange", round(storeWrites));
    row.put("joinWrites", round(2 + 2 * joinMean));            // lease grant + member key; release + acquire per moved target
    row.put("gracefulLeaveWrites", 1 + leaveMoved);           // lease revoke (drops its keys) + an acquire per moved target
    row.put("crashLeaveWrites", 1 + leaveMoved);              // the leader's revoke at expiry + an acquire per moved target
    row.put("coldStartWrites", 2L * m + t);                   // every member joins, every target acquired once
    row.put("rollingRestartWrites", round(m * (3 + 2 * joinMean + leaveMoved)));
    double steady = keepAlives + roundRequests + progressRequests + storeWrites;
    row.put("steadyRequestsPerSecond", round(steady));
    row.put("steadyEtcdClass", steady < SMALL_RPS ? "small" : steady < MEDIUM_RPS ? "medium" : steady < LARGE_RPS ? "large"
        : "xLarge");
    return row;
  }

  /**
   * Checks that between {@code before} and {@code after} only the targets of {@code leaver} moved
   * (a leave) or only targets moving to {@code joiner} did (a join), {@code moved} of them.
   */
  private static void checkOnlyMoves(List<String> targets, Map<String, String> before, Map<String, String> after,
      String leaver, String joiner, int moved, String what) {
    int changed = 0;
    for (String target : targets) {
      String was = before.get(target);
      String now = after.get(target);
      if (!was.equals(now)) {
        changed++;
        if ((joiner != null && !now.equals(joiner)) || (leaver != null && !was.equals(leaver))) {
          throw new IllegalStateException(what + ": target " + target + " moved from " + was + " to " + now);
        }
      } else if (leaver != null && was.equals(leaver)) {
        throw new IllegalStateException(what + ": target " + target + " stayed on the member that left");
      }
    }
    if (changed != moved) {
      throw new IllegalStateException(what + ": a full recomputation moves " + changed + " targets, the shortcut " + moved);
    }
  }

  static List<String> names(String prefix, int n) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(prefix + i);
    }
    return out;
  }

  private static int positive(String flag, String value) {
    int v;
    try {
      v = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " wants a positive integer, got '" + value + "'", e);
    }
    if (v <= 0) {
      throw new IllegalArgumentException(flag + " wants a positive integer, got " + v);
    }
    return v;
  }

  private static double round(double d) {
    return Math.round(d * 100) / 100.0;
  }
}
