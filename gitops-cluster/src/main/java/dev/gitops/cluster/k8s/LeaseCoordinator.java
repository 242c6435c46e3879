package dev.gitops.cluster.k8s;

import dev.gitops.cluster.Coordinator;
import dev.gitops.cluster.LeaseKeeper;
import dev.gitops.cluster.MonotonicClock;
import dev.gitops.cluster.Ownership;
import dev.gitops.core.internal.Durations;
import dev.gitops.api.internal.Sha256;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes backend of {@link Coordinator}: coordination.k8s.io/v1 Leases in one namespace
 * (fabric8). Each member holds one Lease ({@code gitops-m-<hash>}) whose {@code renewTime} it
 * renews every third of the TTL, with its incarnation ({@code <member>#<random>}, new at every
 * join) as holder; a member whose Lease was not renewed within its {@code leaseDurationSeconds} is
 * dead. Each target
 * has one Lease ({@code gitops-t-<hash>}, the target's name in an annotation) whose holder is the
 * owning incarnation; it is taken by a create, or by an update under the Lease's resourceVersion
 * when it is free (no holder, or a dead one), and every take increases {@code leaseTransitions}:
 * that count is the fencing token. Releasing clears the holder and keeps the Lease, so the count
 * only grows; a take, and a Lease made anew, counts on above the token the target's store Secret
 * carries and the highest count this member saw, so a count lost or lowered by hand never hands
 * out a token again. An ownership is held while its Lease records its holder, its count and its
 * {@code acquireTime}: the count alone does not tell two grants apart. Only member Leases are
 * renewed: a target's Lease lives as long as its holder does.
 *
 * <p>A Lease edited by hand into a shape no member writes (no spec; a member Lease without a
 * holder, a renewTime or a positive duration; a target Lease without a count from 0 up) is read
 * as what it safely is: no live member, or a target held by nobody. Each is logged at WARN
 * naming it and the problem, once per problem, and never fails a call.
 *
 * <p>{@link #members()} and {@link #owners()}, which a {@link dev.gitops.cluster.ClusterMember}
 * asks at every round, are served from an informer's cache of the cluster's Leases (one list, then
 * a watch) while it watches; while it does not (the API server is unreachable, or its watch is
 * being re-established) they list the Leases as before, which fails as before. The cache may lag
 * another member's change by the watch's delivery time, never this member's own writes.
 *
 * <pre>{@code
 * try (LeaseCoordinator c = LeaseCoordinator.builder(client, "gitops", "m1").build()) {
 *   c.join();
 *   c.tryAcquire("payments").ifPresent(o -> log.info("reconciling payments as {}", o.token()));
 * }
 * }</pre>
 */
public final class LeaseCoordinator implements Coordinator {

  private static final Logger LOG = LoggerFactory.getLogger(LeaseCoordinator.class);
  static final String CLUSTER_LABEL = "gitops.dev/cluster";
  static final String ROLE_LABEL = "gitops.dev/role";
  static final String MEMBER_ANNOTATION = "gitops.dev/member";
  static final String TARGET_ANNOTATION = "gitops.dev/target";
  /** On a member Lease: the process that holds it ({@link LeaseKeeper#process()}), named when another is refused its id. */
  static final String PROCESS_ANNOTATION = "gitops.dev/process";
  /** A namespace's name: a DNS-1123 label. */
  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern LABEL_VALUE = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");

  private final KubernetesClient client;
  private final String namespace;
  private final String member;
  private final String cluster;
  private final Duration ttl;
  private final Clock clock;
  /** This process's current incarnation: a new one at every join, so that a rejoined member's old target Leases are free. */
  private volatile String incarnation;
  private final LeaseKeeper keeper;
  private final Object monitor = new Object();
  /** The renewTime this member last saw acknowledged on its Lease: an earlier one there means someone else wrote it. */
  private Instant lastRenewal;
  /** How long a read waits for the cache to show this member's own write before it lists the Leases. */
  static final Duration OWN_WRITE_WAIT = Duration.ofSeconds(2);
  /** The informer of the cluster's Leases (null until the first read, and after it failed to start); guarded by cacheLock. */
  private SharedIndexInformer<Lease> informer;
  private final Object cacheLock = new Object();
  /** Notified at every change the informer hears of (apart from cacheLock, which a starting informer holds). */
  private final Object cacheChanged = new Object();
  /** This member's writes the cache must show before it is read: Lease name to the resourceVersion written. */
  private final Map<String, String> ownWrites = new ConcurrentHashMap<>();
  /** Lists of the Leases made for members() and owners(), the informer's first one included (for tests). */
  private final AtomicLong leaseLists = new AtomicLong();
  private volatile boolean closing;
  /** After an informer failed to start, reads list until this (nanoTime; guarded by cacheLock), and whether that was said. */
  private long nextStart;
  private boolean startFailed;
  /** How long reads list after an informer failed to start, before it is tried again. */
  static final Duration RESTART_AFTER = Duration.ofSeconds(30);

  private LeaseCoordinator(Builder b) {
    this.client = b.client;
    this.namespace = b.namespace;
    this.member = b.member;
    this.cluster = b.cluster;
    this.ttl = b.ttl;
    this.clock = b.clock;
    this.incarnation = newIncarnation(member);
    // the Lease's renewTime is a wall-clock time other machines compare; the member's own view of its lease is timed
    // by a clock that a step of the wall clock does not move (unless a test gives its own)
    this.keeper = new LeaseKeeper(member, ttl, b.keeperClock == null ? MonotonicClock.system() : b.keeperClock,
        this::renew);
  }

  private static String newIncarnation(String member) {
    byte[] random = new byte[6];
    new SecureRandom().nextBytes(random);
    return member + "#" + HexFormat.of().formatHex(random);
  }

  /**
   * A builder for member {@code memberId} keeping its Leases in {@code namespace}.
   *
   * @throws IllegalArgumentException when {@code namespace} is not a namespace's name (a DNS-1123 label)
   */
  public static Builder builder(KubernetesClient client, String namespace, String memberId) {
    return new Builder(client, namespace, memberId);
  }

  /** The client the Leases are written with (the Secret store writes with it too). */
  KubernetesClient client() {
    return client;
  }

  /** The namespace of the Leases (and of the Secret store's Secrets). */
  String namespace() {
    return namespace;
  }

  /** The cluster's name, the value of the {@code gitops.dev/cluster} label. */
  String cluster() {
    return cluster;
  }

  @Override
  public String memberId() {
    return member;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Every join is a new incarnation (the Lease's holder): the target Leases the previous one
   * held stay with a dead holder, so they are free and a new take raises their token. A Lease past
   * its duration by this member's clock counts as lost ({@link LeaseKeeper#checkLive()}): it is
   * never renewed back to life, and the member takes its own Lease again under a new incarnation.
   * A live member whose Lease is no longer its own (deleted, or its spec or holder removed by hand,
   * so that the others do not count it) gives it up as lost and takes it again likewise.
   */
  @Override
  public void join() {
    answered(() -> {
      joinOnce();
      return null;
    });
  }

  private void joinOnce() {
    synchronized (monitor) {
      if (keeper.isClosed()) {
        throw new IllegalStateException("member " + member + " has left the cluster");
      }
      if (keeper.checkLive()) {
        String name = leaseName("m", member);
        String why = notOwn(leases().withName(name).get(), incarnation, lastRenewal);
        if (why == null) {
          return;
        }
        keeper.lost("its Lease " + namespace + "/" + name + " was " + why);
      }
      String previous = incarnation;
      String next = newIncarnation(member);
      Instant stamp = keeper.now();  // the lease's own time, which a step of the wall clock does not move
      Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
      String name = leaseName("m", member);
      Lease current = leases().withName(name).get();
      try {
        if (current == null) {
          wrote(leases().resource(new LeaseBuilder().withNewMetadata().withName(name).withNamespace(namespace)
              .addToLabels(CLUSTER_LABEL, cluster).addToLabels(ROLE_LABEL, "member")
              .addToAnnotations(MEMBER_ANNOTATION, member).addToAnnotations(PROCESS_ANNOTATION, LeaseKeeper.process())
              .endMetadata()
              .withNewSpec().withHolderIdentity(next).withLeaseDurationSeconds((int) ttl.toSeconds())
              .withAcquireTime(time(now)).withRenewTime(time(now)).withLeaseTransitions(1).endSpec().build()).create());
        } else {
          if (alive(current, now) && !previous.equals(current.getSpec().getHolderIdentity())) {
            throw inUse(current);
          }
          // editOrNewSpec: a Lease whose spec was removed by hand is no live member's, and is taken whole again
          wrote(leases().resource(new LeaseBuilder(current)
              .editMetadata().addToAnnotations(PROCESS_ANNOTATION, LeaseKeeper.process()).endMetadata()
              .editOrNewSpec().withHolderIdentity(next)
              .withLeaseDurationSeconds((int) ttl.toSeconds()).withAcquireTime(time(now)).withRenewTime(time(now))
              .withLeaseTransitions(transitions(current) + 1).endSpec().build()).update());
        }
      } catch (KubernetesClientException e) {
        if (e.getCode() == 409) {
          throw new IllegalStateException("member id " + member + " was taken by another process while joining; pick"
              + " another --member, or wait up to " + Durations.human(ttl) + " for a previous run's Lease to expire", e);
        }
        throw e;
      }
      if (lastRenewal != null) {
        // a member that lost its Lease may have lost its connection too: its cache starts again from a list
        stopInformer();
      }
      incarnation = next;
      lastRenewal = now;
      keeper.joined(stamp);
      LOG.info("member {} joined cluster {} in namespace {} as {} (ttl {})", member, cluster, namespace, next,
          Durations.human(ttl));
    }
  }

  /** ", pid N on HOST" of the process a member Lease names, or nothing for one a build before it (or a hand) wrote. */
  private static String processOf(Lease l) {
    Map<String, String> a = l.getMetadata().getAnnotations();
    String p = a == null ? null : a.get(PROCESS_ANNOTATION);
    return p == null || p.isBlank() ? "" : ", " + p;
  }

  private IllegalStateException inUse(Lease current) {
    return new IllegalStateException("member id " + member + " is already used by a live member of cluster " + cluster
        + " (Lease " + namespace + "/" + current.getMetadata().getName() + " held by "
        + current.getSpec().getHolderIdentity() + processOf(current) + ", renewed at " + current.getSpec().getRenewTime()
        + "; this is " + LeaseKeeper.process() + "); pick another --member, or wait up to " + Durations.human(ttl)
        + " for a previous run's Lease to expire");
  }

  /**
   * What {@code call} returns; a request the API server never answered is said again naming the
   * server, why and the kubeconfig and context ({@link ApiServerUnreachableException}), not as
   * fabric8's bare "Operation: [get] ... failed.".
   */
  private <T> T answered(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (KubernetesClientException e) {
      throw unanswered(e);
    }
  }

  /** {@code e} naming the API server and why when it never answered ({@link ApiServerUnreachableException#of}). */
  KubernetesClientException unanswered(KubernetesClientException e) {
    return ApiServerUnreachableException.of(client, e);
  }

  /**
   * One renewal, its requests made outside the monitor: one that hangs on an API server that went
   * away must not hold up the next join. Its result counts only for the incarnation it renewed.
   */
  private void renew() {
    String mine;
    Instant seen;
    synchronized (monitor) {
      if (!keeper.isHeld()) {
        return;
      }
      mine = incarnation;
      seen = lastRenewal;
    }
    Instant stamp = keeper.now();
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    try {
      String name = leaseName("m", member);
      Lease current = leases().withName(name).get();
      // the holder and the renewTime, not the resourceVersion: what matters is that nobody else wrote it.
      // A renewTime later than the last one we saw acknowledged, under our own incarnation (random per
      // join), is our own renewal whose response was lost (a timeout under load): still ours. One
      // earlier than that was written by someone else (or our Lease was made to look expired). A spec
      // removed by hand, or one without a holder or a renewTime, proves nothing: lost, and the next join
      // takes the Lease whole again.
      String why = notOwn(current, mine, seen);
      if (why != null) {
        synchronized (monitor) {
          if (mine.equals(incarnation)) {
            keeper.lost("its Lease " + namespace + "/" + name + " was " + why);
          }
        }
        return;
      }
      // the duration too: the others time this member by it, and one edited by hand (an hour, a second, none, a
      // negative one) would make them wait that long for a dead member, or take a live one's targets between its
      // renewals, or count it as no member at all
      wrote(leases().resource(new LeaseBuilder(current).editSpec().withRenewTime(time(now))
          .withLeaseDurationSeconds((int) ttl.toSeconds()).endSpec().build()).update());
      synchronized (monitor) {
        if (mine.equals(incarnation)) {
          lastRenewal = now;
          keeper.renewed(stamp);
        }
      }
    } catch (KubernetesClientException e) {
      synchronized (monitor) {
        if (!mine.equals(incarnation)) {
          return;  // a join replaced the incarnation meanwhile: this answer is about the old one
        }
        if (e.getCode() == 409 || e.getCode() == 404) {
          keeper.lost("its Lease was changed or deleted by someone else (" + e.getCode() + ")");
        } else {
          // transient: keep trying; the lease is lost by the local clock once its TTL has passed
          LOG.warn("member {}: renewing its Lease failed: {}", member, unanswered(e).getMessage());
        }
      }
    }
  }

  /**
   * Why this member's Lease {@code current} is not its own any more, or null when it is: held by
   * incarnation {@code mine} with a renewTime not before {@code seen}, the last one acknowledged.
   */
  private static String notOwn(Lease current, String mine, Instant seen) {
    LeaseSpec spec = current == null ? null : current.getSpec();
    String holder = spec == null ? null : spec.getHolderIdentity();
    return current == null ? "deleted"
        : spec == null ? "edited by hand: it has no spec"
        : holder == null || holder.isEmpty() ? "edited by hand: its spec has no holderIdentity"
        : !mine.equals(holder) ? "changed by " + holder + processOf(current)
        : spec.getRenewTime() == null ? "edited by hand: its spec has no renewTime"
        : seen != null && instant(spec.getRenewTime()).isBefore(seen) ? "changed by someone else (its renewTime "
            + spec.getRenewTime() + " is before this member's last renewal, " + seen + ")"
        : null;
  }

  @Override
  public boolean isMember() {
    return keeper.isLive();
  }

  @Override
  public SortedSet<String> members() {
    return answered(this::liveMembers);
  }

  private SortedSet<String> liveMembers() {
    Instant now = clock.instant();
    return read("member").stream().filter(l -> alive(l, now))  // alive: a whole spec
        .map(l -> memberOf(l.getSpec().getHolderIdentity()))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** The incarnations of the live members. */
  private Set<String> liveHolders() {
    Instant now = clock.instant();
    return list("member").stream().filter(l -> alive(l, now)).map(l -> l.getSpec().getHolderIdentity())
        .collect(Collectors.toSet());
  }

  @Override
  public Optional<Ownership> tryAcquire(String target) {
    return answered(() -> take(target));
  }

  private Optional<Ownership> take(String target) {
    if (!isMember()) {
      throw new IllegalStateException("member " + member + " holds no live Lease");
    }
    String name = leaseName("t", target);
    Instant now = clock.instant();
    Lease current = leases().withName(name).get();
    try {
      if (current == null) {
        // a Lease made anew (the first, or one deleted by hand) counts on from its store's token: a count that
        // started again at 1 would be refused by the store as older than the one it was last claimed with; and
        // from the highest count this member saw it at, which the store may not have seen
        int first = Math.max(storeToken(target), highestCount.getOrDefault(name, 0)) + 1;
        Lease created = leases().resource(new LeaseBuilder().withNewMetadata().withName(name).withNamespace(namespace)
            .addToLabels(CLUSTER_LABEL, cluster).addToLabels(ROLE_LABEL, "target")
            .addToAnnotations(TARGET_ANNOTATION, target).endMetadata()
            .withNewSpec().withHolderIdentity(incarnation).withLeaseDurationSeconds((int) ttl.toSeconds())
            .withAcquireTime(time(now)).withRenewTime(time(now)).withLeaseTransitions(first).endSpec().build())
            .create();
        wrote(created);
        highestCount.merge(name, first, Math::max);
        return Optional.of(ownership(target, created));
      }
      String holder = holderOf(current);  // null when released, and when its spec is not whole (warned of)
      if (holder != null && incarnation.equals(holder)) {
        return Optional.of(ownership(target, current));
      }
      if (holder != null && liveHolders().contains(holder)) {
        return Optional.empty();
      }
      // free (released, its holder dead, or its spec broken by hand): take it under its resourceVersion, one
      // transition above its count, its store's token and the highest count this member saw it at, so that a
      // count lost or lowered by hand (a spec removed, a leaseTransitions of 0) never hands out a token again
      int count = transitions(current);
      int floor = Math.max(storeToken(target), highestCount.getOrDefault(name, 0));
      if (floor > count && targetProblem(current) == null) {
        malformed(current, "has spec.leaseTransitions " + count + ", below the token " + floor + " it or its store"
            + " Secret " + leaseName("s", target) + " had (edited by hand?); it is taken with " + (floor + 1),
            "target", TARGET_ANNOTATION, "");
      }
      Lease taken = leases().resource(new LeaseBuilder(current).editOrNewSpec().withHolderIdentity(incarnation)
          .withLeaseDurationSeconds((int) ttl.toSeconds()).withAcquireTime(time(now)).withRenewTime(time(now))
          .withLeaseTransitions(Math.max(count, floor) + 1).endSpec().build()).update();
      wrote(taken);
      highestCount.merge(name, transitions(taken), Math::max);
      return Optional.of(ownership(target, taken));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return Optional.empty();  // another member got there first
      }
      throw e;
    }
  }

  /**
   * The token {@code target}'s Secret store ({@link SecretStateStore}) was last claimed with, 0 when
   * there is no store or it carries none: a target Lease made anew starts above it, so that the
   * tokens of a target only grow even when its Lease was deleted.
   */
  private int storeToken(String target) {
    String secret = leaseName("s", target);
    io.fabric8.kubernetes.api.model.Secret s;
    try {
      s = client.secrets().inNamespace(namespace).withName(secret).get();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 403) {
        // a coordinator whose members may not read Secrets keeps no Secret store: there is no token to count on from
        LOG.debug("member {}: may not read Secret {}/{} ({}); target {}'s Lease starts at 1", member, namespace, secret,
            e.getMessage(), target);
        return 0;
      }
      throw e;
    }
    Map<String, String> a = s == null ? null : s.getMetadata().getAnnotations();
    String token = a == null ? null : a.get(SecretStateStore.TOKEN_ANNOTATION);
    if (token == null) {
      return 0;
    }
    try {
      long t = Long.parseLong(token);
      if (t < 0 || t >= Integer.MAX_VALUE) {
        throw new NumberFormatException("out of range");
      }
      return (int) t;
    } catch (NumberFormatException e) {
      throw new IllegalStateException("Secret " + namespace + "/" + secret + " (the store of target " + target
          + ") has annotation " + SecretStateStore.TOKEN_ANNOTATION + " '" + token + "', not a token from 0 to "
          + (Integer.MAX_VALUE - 1) + "; fix or remove the annotation", e);
    }
  }

  @Override
  public void release(Ownership o) {
    answered(() -> {
      free(o);
      return null;
    });
  }

  private void free(Ownership o) {
    Lease current = leases().withName(leaseName("t", o.target())).get();
    String holder = current == null ? null : holderOf(current);
    if (holder == null || !incarnation.equals(holder) || !records(current, o)) {
      LOG.info("member {} had already lost {}", member, o);
      return;
    }
    try {
      wrote(leases().resource(new LeaseBuilder(current).editSpec().withHolderIdentity(null).endSpec().build()).update());
      LOG.info("member {} released {}", member, o);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      LOG.info("member {} had already lost {} (changed while releasing)", member, o);
    }
  }

  @Override
  public boolean holds(Ownership o) {
    return answered(() -> held(o));
  }

  private boolean held(Ownership o) {
    if (o.member().equals(member) && !isMember()) {
      return false;
    }
    Lease current = leases().withName(leaseName("t", o.target())).get();
    String holder = current == null ? null : holderOf(current);
    if (holder == null || !records(current, o)) {
      return false;
    }
    return o.member().equals(member) ? incarnation.equals(holder) : liveHolders().contains(holder);
  }

  @Override
  public Map<String, Ownership> owners() {
    return answered(this::currentOwners);
  }

  private Map<String, Ownership> currentOwners() {
    List<Lease> all = read(null);
    Instant now = clock.instant();
    Set<String> live = all.stream().filter(l -> role(l, "member") && alive(l, now))  // alive: a whole spec
        .map(l -> l.getSpec().getHolderIdentity()).collect(Collectors.toSet());
    Map<String, Ownership> out = new TreeMap<>();
    for (Lease l : all.stream().filter(l -> role(l, "target")).toList()) {
      String holder = holderOf(l);
      String target = l.getMetadata().getAnnotations() == null ? null
          : l.getMetadata().getAnnotations().get(TARGET_ANNOTATION);
      if (holder != null && live.contains(holder) && target != null) {
        out.put(target, ownership(target, l));
      }
    }
    return out;
  }

  @Override
  public void close() {
    closing = true;
    stopInformer();
    if (!keeper.stop()) {
      return;  // never joined, lost already, or closed before
    }
    try {
      // what revoking an etcd lease does: free every target at once, then leave
      for (Lease l : list("target")) {
        if (incarnation.equals(holderOf(l))) {
          leases().resource(new LeaseBuilder(l).editSpec().withHolderIdentity(null).endSpec().build()).update();
        }
      }
      leases().withName(leaseName("m", member)).delete();
      LOG.info("member {} left cluster {}", member, cluster);
    } catch (KubernetesClientException e) {
      // its Lease expires by itself within the TTL; leaving explicitly only makes the handover faster
      LOG.warn("member {}: leaving cleanly failed ({}); its Lease expires within {}", member, unanswered(e).getMessage(),
          Durations.human(ttl));
    }
  }

  /** The ownership target Lease {@code l} grants; {@code l}'s spec is whole ({@link #holderOf} is not null). */
  private Ownership ownership(String target, Lease l) {
    return new Ownership(target, memberOf(l.getSpec().getHolderIdentity()), transitions(l), acquired(l));
  }

  /** When target Lease {@code l} was last taken (the epoch when it does not say). */
  private static Instant acquired(Lease l) {
    ZonedDateTime t = l.getSpec() == null ? null : l.getSpec().getAcquireTime();
    return t == null ? Instant.EPOCH : t.toInstant();
  }

  /**
   * Whether target Lease {@code l} (whole) records the grant {@code o}: its count, its holder's
   * member and its acquireTime. The count alone does not tell grants apart: a Lease made anew (deleted
   * by hand before its store saw its count) or taken back from a broken spec may count to the same
   * number again, also for the same member under a later incarnation; every take sets acquireTime.
   */
  private static boolean records(Lease l, Ownership o) {
    return transitions(l) == o.token() && memberOf(l.getSpec().getHolderIdentity()).equals(o.member())
        && acquired(l).equals(o.since());
  }

  private List<Lease> list(String role) {
    return leases().withLabel(CLUSTER_LABEL, cluster).withLabel(ROLE_LABEL, role).list().getItems();
  }

  /**
   * The cluster's Leases of {@code role} (all of them when null), from the informer's cache while
   * it watches and shows this member's own writes, else listed (and the informer started, if it
   * is not running).
   */
  private List<Lease> read(String role) {
    SharedIndexInformer<Lease> i = informer();
    if (i != null && i.isWatching() && caughtUp(i)) {
      return i.getStore().list().stream().filter(l -> role == null || role(l, role)).toList();
    }
    leaseLists.incrementAndGet();
    return role == null ? leases().withLabel(CLUSTER_LABEL, cluster).list().getItems() : list(role);
  }

  /** The running informer, started (its first list waited for) if there is none; null when it cannot start now. */
  private SharedIndexInformer<Lease> informer() {
    synchronized (cacheLock) {
      if (informer != null && informer.isRunning()) {
        return informer;
      }
      stopInformer();
      if (closing || (startFailed && System.nanoTime() - nextStart < 0)) {
        return null;
      }
      SharedIndexInformer<Lease> i = leases().withLabel(CLUSTER_LABEL, cluster).runnableInformer(0);
      i.addEventHandler(new ResourceEventHandler<Lease>() {
        @Override
        public void onAdd(Lease l) {
          changed();
        }

        @Override
        public void onUpdate(Lease old, Lease l) {
          changed();
        }

        @Override
        public void onDelete(Lease l, boolean unknownFinalState) {
          changed();
        }
      });
      leaseLists.incrementAndGet();
      try {
        i.start().toCompletableFuture().get(OWN_WRITE_WAIT.multipliedBy(5).toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        i.stop();
        return null;
      } catch (ExecutionException | TimeoutException e) {
        // the API server does not answer, or refuses the watch (RBAC without the verb watch): reads list, as
        // they did before there was a cache, and the informer is tried again later
        if (!startFailed) {
          LOG.warn("member {}: cannot watch the Leases of cluster {} in namespace {} ({}); listing them at every"
              + " round instead, and trying again every {} (the member needs get, list and watch on leases)", member,
              cluster, namespace, e.getCause() instanceof KubernetesClientException k ? unanswered(k).getMessage()
              : e.getCause() == null ? e.toString() : e.getCause().toString(),
              RESTART_AFTER.toSeconds() + " s");
        } else {
          LOG.debug("member {}: still cannot watch the Leases: {}", member, e.toString());
        }
        startFailed = true;
        nextStart = System.nanoTime() + RESTART_AFTER.toNanos();
        i.stop();
        return null;
      }
      if (startFailed) {
        LOG.info("member {}: watching the Leases of cluster {} again", member, cluster);
        startFailed = false;
      }
      informer = i;
      return i;
    }
  }

  private void changed() {
    synchronized (cacheChanged) {
      cacheChanged.notifyAll();
    }
  }

  /** Whether the cache shows this member's own writes, waiting up to {@link #OWN_WRITE_WAIT} for them. */
  private boolean caughtUp(SharedIndexInformer<Lease> i) {
    long deadline = System.nanoTime() + OWN_WRITE_WAIT.toNanos();
    synchronized (cacheChanged) {
      while (true) {
        ownWrites.entrySet().removeIf(w -> shows(i.getStore().getByKey(namespace + "/" + w.getKey()), w.getValue()));
        if (ownWrites.isEmpty()) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || !i.isWatching()) {
          LOG.info("member {}: the Lease cache does not show its own writes {} within {}; listing the Leases", member,
              ownWrites.keySet(), OWN_WRITE_WAIT);
          ownWrites.clear();  // a list shows them
          return false;
        }
        try {
          // the handlers notify; a bounded wait also covers a change they are not told of
          TimeUnit.NANOSECONDS.timedWait(cacheChanged, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the Lease cache of member " + member, e);
        }
      }
    }
  }

  /** Whether {@code cached} is {@code written} or a later version of it (resourceVersions compared as numbers when they are). */
  private static boolean shows(Lease cached, String written) {
    if (cached == null) {
      return false;
    }
    String rv = cached.getMetadata().getResourceVersion();
    if (Objects.equals(rv, written)) {
      return true;
    }
    try {
      return Long.parseLong(rv) >= Long.parseLong(written);
    } catch (NumberFormatException | NullPointerException e) {
      return false;  // opaque versions: only the same one counts
    }
  }

  /** Notes a Lease this member wrote: reads wait for the cache to show it. */
  private Lease wrote(Lease l) {
    if (l != null && l.getMetadata().getResourceVersion() != null) {
      ownWrites.put(l.getMetadata().getName(), l.getMetadata().getResourceVersion());
    }
    return l;
  }

  private void stopInformer() {
    synchronized (cacheLock) {
      if (informer != null) {
        informer.stop();
        informer = null;
      }
    }
  }

  private static boolean role(Lease l, String role) {
    return l.getMetadata().getLabels() != null && role.equals(l.getMetadata().getLabels().get(ROLE_LABEL));
  }

  /** How many times the Leases were listed for members() and owners(), the informer's first list included (for tests). */
  long leaseLists() {
    return leaseLists.get();
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<Lease, io.fabric8.kubernetes.api.model.coordination.v1.LeaseList,
      io.fabric8.kubernetes.client.dsl.Resource<Lease>> leases() {
    return client.leases().inNamespace(namespace);
  }

  /**
   * A member Lease's holder, renewTime and duration, when (by {@link #keeper}'s clock) it was first
   * seen so, and whether that change was a renewal seen happen: the same holder's renewTime moved
   * forward since this member last looked.
   */
  private record Seen(String holder, Instant renewed, Integer seconds, Instant at, boolean renewal) {}

  /** The holders whose renewTime was found more than a duration off this member's clock, warned of once each. */
  private final Set<String> skewed = ConcurrentHashMap.newKeySet();

  /** What each member Lease looked like when last seen changed, by Lease name. */
  private final Map<String, Seen> seen = new ConcurrentHashMap<>();

  /**
   * Whether a member Lease is live: renewed within its duration by its renewTime ({@link #live}),
   * and changed within its duration by this member's own clock. A renewTime in the future (the
   * holder's clock runs ahead, or someone edited it) says nothing about when it was renewed: a
   * Lease that nobody renews ends a duration after it was last seen to change, as client-go's
   * leader election times it, not an hour later. A renewTime in the past by more than the duration
   * (the holder's clock runs behind this member's) is dead at first sight, when nothing else tells,
   * but not once this member has seen its holder renew it: a live member on a node whose clock is
   * behind would otherwise count as dead to every other member for as long as it runs, its targets
   * taken from it at every round it took them back. The skew is warned of once per holder, naming
   * both members.
   */
  private boolean alive(Lease l, Instant now) {
    LeaseSpec spec = memberSpec(l);
    if (spec == null) {
      return false;
    }
    String holder = spec.getHolderIdentity();
    Instant renewed = spec.getRenewTime().toInstant();
    Integer seconds = spec.getLeaseDurationSeconds();
    Instant local = keeper.now();
    Seen s = seen.compute(l.getMetadata().getName(), (name, old) -> old != null && old.holder().equals(holder)
        && old.renewed().equals(renewed) && old.seconds().equals(seconds)
        ? old : new Seen(holder, renewed, seconds, local,
            old != null && old.holder().equals(holder) && renewed.isAfter(old.renewed())));
    boolean changedLately = local.isBefore(s.at().plusSeconds(seconds));
    if (!changedLately && renewed.isAfter(now)) {
      LOG.debug("member Lease {} of {} has not changed for {} s although its renewTime {} is in the future: dead",
          l.getMetadata().getName(), holder, seconds, renewed);
    }
    boolean byRenewTime = live(spec, now);
    if (changedLately && s.renewal() && Duration.between(renewed, now).abs().toSeconds() > seconds
        && skewed.add(holder)) {
      LOG.warn("member Lease {}/{} of {} is being renewed, but its renewTime {} is {} {} member {}'s clock, more"
          + " than its duration of {} s: the clocks of {} and {} differ (is NTP running on both?); it counts as live"
          + " while it is seen renewed, and as dead a duration after it was last seen to change", namespace,
          l.getMetadata().getName(), memberOf(holder), renewed,
          Durations.human(Duration.between(renewed, now).abs()), renewed.isBefore(now) ? "behind" : "ahead of", member,
          seconds, memberOf(holder), member);
    }
    return changedLately && (byRenewTime || s.renewal());
  }

  /** Whether a whole member Lease spec ({@link #memberSpec}) was renewed within its duration by its renewTime. */
  private static boolean live(LeaseSpec spec, Instant now) {
    return now.isBefore(spec.getRenewTime().toInstant().plusSeconds(spec.getLeaseDurationSeconds()));
  }

  /**
   * The spec of member Lease {@code l} when it holds what membership is read from (a holder, a
   * renewTime, a positive leaseDurationSeconds), else null: a Lease edited by hand into another shape
   * ({@code kubectl edit} removing the spec or a field of it, a negative duration) is no live member,
   * and is warned of once per problem.
   */
  private LeaseSpec memberSpec(Lease l) {
    LeaseSpec s = l.getSpec();
    String problem = s == null ? "has no spec"
        : s.getHolderIdentity() == null || s.getHolderIdentity().isEmpty() ? "has a spec without holderIdentity"
        : s.getRenewTime() == null ? "has a spec without renewTime"
        : s.getLeaseDurationSeconds() == null ? "has a spec without leaseDurationSeconds"
        : s.getLeaseDurationSeconds() < 1 ? "has spec.leaseDurationSeconds " + s.getLeaseDurationSeconds()
            + ", not a positive number of seconds"
        : null;
    return malformed(l, problem, "member", MEMBER_ANNOTATION, "; it counts as no live member until its member"
        + " renews it whole or joins again") ? null : s;
  }

  /**
   * What makes target Lease {@code l} no fence (no spec, or a leaseTransitions that is no count from
   * 0 up), or null when it is whole. A holder is not needed: a released Lease has none.
   */
  private static String targetProblem(Lease l) {
    LeaseSpec s = l.getSpec();
    return s == null ? "has no spec"
        : s.getLeaseTransitions() == null ? "has a spec without leaseTransitions"
        : s.getLeaseTransitions() < 0 ? "has spec.leaseTransitions " + s.getLeaseTransitions()
            + ", not a count from 0 up"
        // a take counts one above it: 2147483647 + 1 wrapped to a negative count, and a token of 0
        : s.getLeaseTransitions() == Integer.MAX_VALUE ? "has spec.leaseTransitions " + Integer.MAX_VALUE
            + ", the largest count there is, which no take can count above"
        : null;
  }

  /**
   * The holder of target Lease {@code l}, null when it has none (released) and when its spec is not
   * whole ({@link #targetProblem}, warned of once per problem): such a Lease is held by nobody, and
   * its next take counts on from its store's token ({@link #tryAcquire}).
   */
  private String holderOf(Lease l) {
    if (malformed(l, targetProblem(l), "target", TARGET_ANNOTATION, "; it counts as held by nobody, and its next"
        + " owner takes it with a token above its store's")) {
      return null;
    }
    highestCount.merge(l.getMetadata().getName(), transitions(l), Math::max);
    String h = l.getSpec().getHolderIdentity();
    return h == null || h.isEmpty() ? null : h;
  }

  /** The highest count this member saw each target Lease at, by name: a take, or a Lease made anew, counts above it. */
  private final Map<String, Integer> highestCount = new ConcurrentHashMap<>();

  /**
   * A Lease's count, 0 when its spec has none that counts from 0 up or one no take can count above
   * ({@link #targetProblem}; its take then counts on from its store's).
   */
  private static int transitions(Lease l) {
    Integer t = l.getSpec() == null ? null : l.getSpec().getLeaseTransitions();
    return t == null || t < 0 || t == Integer.MAX_VALUE ? 0 : t;
  }

  /** The problem last warned of per Lease name: a Lease edited by hand is said once per problem, not every round. */
  private final Map<String, String> malformed = new ConcurrentHashMap<>();

  /**
   * Whether {@code problem} is not null, after a WARN naming the {@code role} Lease {@code l} (and the
   * member or target its {@code annotation} names) and the problem, once per distinct problem of that
   * Lease; a Lease seen whole again is warned of again at its next problem.
   */
  private boolean malformed(Lease l, String problem, String role, String annotation, String meaning) {
    String name = l.getMetadata().getName();
    if (problem == null) {
      malformed.remove(name);
      return false;
    }
    if (!problem.equals(malformed.put(name, problem))) {
      Map<String, String> a = l.getMetadata().getAnnotations();
      String of = a == null ? null : a.get(annotation);
      LOG.warn("member {}: {} Lease {}/{}{} {}{}", member, role, namespace, name,
          of == null ? "" : " (" + role + " " + of + ")", problem, meaning);
    }
    return true;
  }

  private static String memberOf(String holder) {
    if (holder == null) {
      return "";
    }
    int hash = holder.lastIndexOf('#');
    return hash < 0 ? holder : holder.substring(0, hash);
  }

  /** A Lease time: MicroTime on the wire, so kept to whole milliseconds here to compare what comes back. */
  private static ZonedDateTime time(Instant i) {
    return i.truncatedTo(ChronoUnit.MILLIS).atZone(ZoneOffset.UTC);
  }

  private static Instant instant(ZonedDateTime t) {
    return t.toInstant().truncatedTo(ChronoUnit.MILLIS);
  }

  /** A valid object name for any member id or target name: a digest, the name itself in an annotation. */
  String leaseName(String kind, String name) {
    return "gitops-" + kind + "-" + Sha256.hex(cluster + "\n" + name).substring(0, 32);
  }

  /** Builds a {@link LeaseCoordinator}. */
  public static final class Builder {
    private final KubernetesClient client;
    private final String namespace;
    private final String member;
    private String cluster = "default";
    private Duration ttl = Duration.ofSeconds(10);
    private Clock clock = Clock.systemUTC();
    /** The clock of the member's own view of its lease: {@link #clock} when set, else a monotonic one. */
    private Clock keeperClock;

    private Builder(KubernetesClient client, String namespace, String member) {
      this.client = Objects.requireNonNull(client, "client");
      if (namespace == null || namespace.isBlank()) {
        throw new IllegalArgumentException("namespace must not be empty");
      }
      if (!NAMESPACE.matcher(namespace).matches()) {
        // it is a segment of every request's path: 'a/b' or 'Ops' would fail each call with the API server's 404
        throw new IllegalArgumentException("namespace '" + namespace + "' is not a Kubernetes namespace name (lower-case"
            + " letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)");
      }
      this.namespace = namespace;
      this.member = LeaseKeeper.checkMember(member);
    }

    /** The cluster's name, a label value (default {@code default}): members of one cluster share targets. */
    public Builder cluster(String name) {
      if (name == null || !LABEL_VALUE.matcher(name).matches()) {
        throw new IllegalArgumentException("cluster name must be a Kubernetes label value (letters, digits, '-', '_',"
            + " '.', at most 63), got " + name);
      }
      this.cluster = name;
      return this;
    }

    /** The member Lease's duration, whole seconds, at least 2 s (default 10 s). */
    public Builder ttl(Duration d) {
      this.ttl = LeaseKeeper.checkTtl(d);
      return this;
    }

    /**
     * The clock of renewals and expiry (default: the UTC system clock for the Leases' times, which
     * other members compare, and a {@link MonotonicClock} for this member's own view of its lease).
     */
    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      this.keeperClock = c;
      return this;
    }

    /** The coordinator (not joined). */
    public LeaseCoordinator build() {
      return new LeaseCoordinator(this);
    }
  }
}
