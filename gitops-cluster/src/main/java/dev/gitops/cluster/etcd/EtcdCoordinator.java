package dev.gitops.cluster.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.cluster.Coordinator;
import dev.gitops.cluster.LeaseKeeper;
import dev.gitops.cluster.MonotonicClock;
import dev.gitops.cluster.Ownership;
import dev.gitops.core.internal.Durations;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd backend of {@link Coordinator} (jetcd). Membership is an etcd lease, renewed every
 * third of its TTL, under which the member writes {@code <prefix>members/<id>}. Ownership of a
 * target is the key {@code <prefix>owners/<target>}, created on the member's lease by a
 * create-if-absent transaction; its create revision is the fencing token (it grows with every
 * new owner, and a key re-created after a release or an expiry has a new one). A member whose
 * lease expires loses every ownership key with it, which is how a dead member's targets free up;
 * {@link #close()} revokes the lease, which frees them at once.
 *
 * <p>{@link #members()} and {@link #owners()}, which a {@link dev.gitops.cluster.ClusterMember}
 * asks at every round, are served from views that a watch on {@code <prefix>members/} and {@code
 * <prefix>owners/} keeps current: one range read each, then only the changes. A view whose watch
 * fails (etcd unreachable, or compacted past the watch's revision) is read as a range again at the
 * next call, which fails while etcd does; a view may lag another member's change by the watch's
 * delivery time, never this member's own writes.
 *
 * <pre>{@code
 * try (EtcdCoordinator c = EtcdCoordinator.connect("http://127.0.0.1:2379", "m1")) {
 *   c.join();
 *   c.tryAcquire("payments").ifPresent(o -> log.info("reconciling payments as {}", o.token()));
 * }
 * }</pre>
 */
public final class EtcdCoordinator implements Coordinator {

  private static final Logger LOG = LoggerFactory.getLogger(EtcdCoordinator.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The clock of times shown to people (an ownership's {@code since}); leases are timed by {@link Builder#clock}. */
  private static final Clock WALL = Clock.systemUTC();
  /** How long a call to etcd is waited for unless the builder says otherwise ({@link Builder#callTimeout}). */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
  /** {@code etcd at URL, ...} (or {@code etcd}), as messages name it. */
  String etcd() {
    return etcd;
  }

  /** How many keys one range read asks for at most unless the builder says otherwise ({@link Builder#rangePageSize}). */
  static final int RANGE_PAGE_SIZE = 1000;
  /**
   * The largest answer a client of its own accepts (jetcd's default is 4 MiB): a page of {@link
   * #RANGE_PAGE_SIZE} keys stays under it unless its values average 32 KiB, and a page that does not
   * is read again in smaller pages.
   */
  static final int MAX_INBOUND_BYTES = 32 * 1024 * 1024;

  private final Client client;
  private final boolean ownsClient;
  /** {@code etcd at http://HOST:PORT, ...} when the endpoints are known (without credentials), else {@code etcd}. */
  private final String etcd;
  /** The endpoints of a client of its own (to say why a call timed out), else empty. */
  private final List<java.net.URI> endpointUris;
  private final String member;
  private final String prefix;
  private final Duration ttl;
  private final Duration callTimeout;
  private final int pageSize;
  private final Clock clock;
  private final LeaseKeeper keeper;
  private final WatchedPrefix membersView;
  private final WatchedPrefix ownersView;
  private final Object monitor = new Object();
  private long leaseId;
  /** The keys whose value (or name) was unreadable, and at which revision that was said. */
  private final Map<String, Long> unreadable = new java.util.concurrent.ConcurrentHashMap<>();

  private EtcdCoordinator(Builder b) {
    this.ownsClient = b.ownsClient;
    this.client = b.ownsClient ? b.endpointsClient.waitForReady(b.waitForConnection).build() : b.client;
    this.etcd = b.endpoints == null ? "etcd" : "etcd at " + b.endpoints;
    this.endpointUris = b.endpointUris;
    this.member = b.member;
    this.prefix = b.prefix;
    this.ttl = b.ttl;
    this.callTimeout = b.callTimeout;
    this.pageSize = b.pageSize;
    this.clock = b.clock;
    this.keeper = new LeaseKeeper(member, ttl, clock, this::renew);
    this.membersView = new WatchedPrefix(client, prefix + "members/", etcd, callTimeout, pageSize);
    this.ownersView = new WatchedPrefix(client, prefix + "owners/", etcd, callTimeout, pageSize);
  }

  /** A builder for member {@code memberId} on {@code client} (which the caller keeps and closes). */
  public static Builder builder(Client client, String memberId) {
    return new Builder(client, memberId, false);
  }

  /** A coordinator on a client of its own for {@code endpoints} (comma-separated URLs), closed with it. */
  public static EtcdCoordinator connect(String endpoints, String memberId) {
    return connectBuilder(endpoints, memberId).build();
  }

  /** A builder on a client of its own for {@code endpoints} (comma-separated URLs), closed with it. */
  public static Builder connectBuilder(String endpoints, String memberId) {
    if (endpoints == null || endpoints.isBlank()) {
      throw new IllegalArgumentException("etcd endpoints must not be empty");
    }
    Builder b = new Builder(null, memberId, true);
    b.endpointsClient = Client.builder().endpoints(endpoints.split(",")).maxInboundMessageSize(MAX_INBOUND_BYTES);
    // named in the messages of a failed join; a password in a URL (http://user:pw@host) is not
    b.endpointUris = Arrays.stream(endpoints.split(",")).map(e -> java.net.URI.create(e.trim()))
        .filter(u -> u.getHost() != null && u.getPort() > 0).toList();
    b.endpoints = String.join(", ", Arrays.stream(endpoints.split(","))
        .map(e -> e.trim().replaceFirst("//[^/]*@", "//")).toList());
    return b;
  }

  @Override
  public String memberId() {
    return member;
  }

  /** The jetcd client (the state store writes through it). */
  Client client() {
    return client;
  }

  /** The clock that times the lease (for tests). */
  Clock clock() {
    return clock;
  }

  /** The lease TTL. */
  public Duration ttl() {
    return ttl;
  }

  /** How long each call to etcd is waited for before it fails. */
  Duration callTimeout() {
    return callTimeout;
  }

  /** How many keys one range read asks for at most (larger prefixes are read in pages at one revision). */
  int rangePageSize() {
    return pageSize;
  }

  /** The key prefix every key of this cluster lives under. */
  public String prefix() {
    return prefix;
  }

  /**
   * {@inheritDoc}
   *
   * <p>A lease past its TTL by this member's clock counts as lost ({@link LeaseKeeper#checkLive()}):
   * a new one is granted at once rather than after the old one's keep-alive hears "not found". If
   * the old lease still holds this member's key in etcd (etcd was down, and kept it), it is revoked
   * first, which frees the ownerships held under it: the member has stopped those targets.
   */
  @Override
  public void join() {
    synchronized (monitor) {
      if (keeper.isClosed()) {
        throw new IllegalStateException("member " + member + " has left the cluster");
      }
      if (keeper.checkLive()) {
        registerAgain();
        return;
      }
      long stale = leaseId;  // the lease this member held before, lost or past its TTL (0: none)
      // taken before the request: etcd starts the TTL later, so the local view of the lease ends first
      Instant granted = keeper.now();
      long lease = await(client.getLeaseClient().grant(Math.max(1, ttl.toSeconds())), "grant a lease").getID();
      ByteSequence key = bytes(prefix + "members/" + encode(member));
      TxnResponse r;
      try {
        r = register(key, lease);
        if (!r.isSucceeded() && stale != 0 && heldBy(r, stale)) {
          LOG.info("member {}: its previous lease {} still holds {} in etcd; revoking it", member,
              Long.toHexString(stale), key);
          revokeQuietly(stale);
          r = register(key, lease);
        }
      } catch (RuntimeException e) {
        revokeQuietly(lease);  // granted for nothing: a join retried every round would leave one lease per round
        throw e;
      }
      if (!r.isSucceeded()) {
        revokeQuietly(lease);
        throw new IllegalStateException("member id " + member + " is already used by a live member of " + prefix
            + " (its key " + key.toString(StandardCharsets.UTF_8) + " is held by " + holderOf(r) + "; this is "
            + LeaseKeeper.process() + "); pick another --member, or wait up to " + Durations.human(ttl)
            + " for a previous run's lease to expire");
      }
      leaseId = lease;
      membersView.wrote(r.getHeader().getRevision());
      if (stale != 0) {
        // a member that lost its lease may have lost its connection too: its views start again from a range
        membersView.invalidate();
        ownersView.invalidate();
      }
      keeper.joined(granted);
      LOG.info("member {} joined {} with lease {} (ttl {})", member, prefix, Long.toHexString(lease), Durations.human(ttl));
    }
  }

  /**
   * A live member's key, made again if it is gone (deleted behind its back: the other members no
   * longer count it, and would take its targets); if another lease holds it now, another process
   * uses this member's id, and this member gives its lease up as lost rather than run beside it.
   */
  private void registerAgain() {
    ByteSequence key = bytes(prefix + "members/" + encode(member));
    TxnResponse r = register(key, leaseId);
    if (r.isSucceeded()) {
      membersView.wrote(r.getHeader().getRevision());
      LOG.warn("member {}: its key {} was gone from {} while its lease {} is live (deleted by hand?); it registered"
          + " again", member, key.toString(StandardCharsets.UTF_8), etcd, Long.toHexString(leaseId));
    } else if (!heldBy(r, leaseId)) {
      long lease = leaseId;
      String holder = holderOf(r);
      keeper.lost("its key " + key.toString(StandardCharsets.UTF_8) + " is held by " + holder + ": another process"
          + " uses member id " + member + " (this is " + LeaseKeeper.process() + ")");
      revokeQuietly(lease);  // its ownerships go with it: this member stops its targets at its next round
      throw new IllegalStateException("member id " + member + " is already used by another live member of " + prefix
          + " (its key " + key.toString(StandardCharsets.UTF_8) + " is held by " + holder + "; this is "
          + LeaseKeeper.process() + "); pick another --member");
    }
  }

  /** Creates this member's key on {@code lease} unless a key is there; the transaction's answer. */
  private TxnResponse register(ByteSequence key, long lease) {
    return await(client.getKVClient().txn()
        .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
        .Then(Op.put(key, memberValue(member, WALL.instant()), PutOption.builder().withLeaseId(lease).build()))
        .Else(Op.get(key, GetOption.DEFAULT))
        .commit(), "register member " + member);
  }

  private static boolean heldBy(TxnResponse r, long lease) {
    return r.getGetResponses().stream().flatMap(g -> g.getKvs().stream()).anyMatch(kv -> kv.getLease() == lease);
  }

  private void renew() {
    long lease;
    synchronized (monitor) {
      lease = leaseId;
      if (!keeper.isHeld()) {
        return;
      }
    }
    Instant sent = keeper.now();
    try {
      // waited for only while the lease lasts: a keep-alive hung on a connection etcd dropped must not hold the
      // renewer, which the next lease needs
      Duration timeout = keeper.renewalTimeout();
      LeaseKeepAliveResponse r = call(client.getLeaseClient().keepAliveOnce(lease), "renew lease",
          timeout.compareTo(callTimeout) < 0 ? timeout : callTimeout, etcd);
      synchronized (monitor) {
        if (lease != leaseId) {
          return;
        }
        if (r.getTTL() <= 0) {
          keeper.lost("etcd says lease " + Long.toHexString(lease) + " has expired");
        } else {
          keeper.renewed(sent);
        }
      }
    } catch (RuntimeException e) {
      synchronized (monitor) {
        if (lease != leaseId) {
          return;
        }
        if (String.valueOf(e.getMessage()).contains("not found")) {
          keeper.lost("etcd no longer knows lease " + Long.toHexString(lease));
        } else {
          // transient: keep trying; the lease is lost by the local clock once its TTL has passed
          LOG.warn("member {}: renewing lease {} failed: {}", member, Long.toHexString(lease), e.toString());
        }
      }
    }
  }

  @Override
  public boolean isMember() {
    return keeper.isLive();
  }

  private long lease() {
    synchronized (monitor) {
      if (!isMember()) {
        throw new IllegalStateException("member " + member + " holds no live lease");
      }
      return leaseId;
    }
  }

  @Override
  public SortedSet<String> members() {
    SortedSet<String> out = new TreeSet<>();
    String p = prefix + "members/";
    List<KeyValue> read;
    try {
      read = membersView.read();
    } catch (RuntimeException e) {
      throw explained(e);
    }
    for (KeyValue kv : read) {
      String id = segment(kv, p, "member");
      if (id != null && kv.getLease() == 0) {
        // every member writes its key on its lease, which ends with it: a key on none (etcdctl put by hand) would
        // count as a member for ever, and the targets assigned to it would run nowhere
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        Long before = unreadable.put(key, kv.getModRevision());
        if (before == null || before != kv.getModRevision()) {
          LOG.warn("member key {} is on no lease, so no member wrote it (by hand?); it is no member: delete it", key);
        }
      } else if (id != null) {
        out.add(id);
      }
    }
    return out;
  }

  @Override
  public Optional<Ownership> tryAcquire(String target) {
    long lease = lease();
    ByteSequence key = ownerKey(target);
    // the wall clock: shown (gitops status), and read back exactly as written (Ownership#sameGrant compares it as it
    // is), never compared as a time
    Instant now = WALL.instant();
    TxnResponse r = await(client.getKVClient().txn()
        .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
        .Then(Op.put(key, value(member, now), PutOption.builder().withLeaseId(lease).build()))
        .Else(Op.get(key, GetOption.DEFAULT))
        .commit(), "acquire target " + target);
    if (r.isSucceeded()) {
      ownersView.wrote(r.getHeader().getRevision());
      // the key was created by this transaction: its create revision is the transaction's revision
      return Optional.of(new Ownership(target, member, r.getHeader().getRevision(), now));
    }
    return r.getGetResponses().stream().flatMap(g -> g.getKvs().stream())
        .filter(kv -> kv.getLease() == lease)
        .map(kv -> ownership(target, kv))
        .findFirst();
  }

  @Override
  public void release(Ownership o) {
    ByteSequence key = ownerKey(o.target());
    TxnResponse r = await(client.getKVClient().txn()
        .If(fence(o))
        .Then(Op.delete(key, DeleteOption.DEFAULT))
        .commit(), "release target " + o.target());
    if (r.isSucceeded()) {
      ownersView.wrote(r.getHeader().getRevision());
    }
    LOG.info("member {} {} {}", member, r.isSucceeded() ? "released" : "had already lost", o);
  }

  @Override
  public boolean holds(Ownership o) {
    if (o.member().equals(member) && !isMember()) {
      return false;
    }
    return await(client.getKVClient().get(ownerKey(o.target())), "read the owner of " + o.target()).getKvs().stream()
        .anyMatch(kv -> kv.getCreateRevision() == o.token());
  }

  /**
   * {@inheritDoc}
   *
   * <p>From the watched view of {@code <prefix>owners/}: a range read only the first time and
   * after the watch failed (see the class comment).
   */
  @Override
  public Map<String, Ownership> owners() {
    Map<String, Ownership> out = new TreeMap<>();
    String p = prefix + "owners/";
    List<KeyValue> read;
    try {
      read = ownersView.read();
    } catch (RuntimeException e) {
      throw explained(e);
    }
    for (KeyValue kv : read) {
      String target = segment(kv, p, "ownership");
      if (target != null) {
        out.put(target, ownership(target, kv));
      }
    }
    return out;
  }

  /** The comparison that holds only while {@code o} is the target's current ownership: the fence of every write. */
  Cmp fence(Ownership o) {
    return new Cmp(ownerKey(o.target()), Cmp.Op.EQUAL, CmpTarget.createRevision(o.token()));
  }

  ByteSequence ownerKey(String target) {
    return bytes(prefix + "owners/" + encode(target));
  }

  /**
   * The member id or target name a key under {@code p} names, or null for a key no member wrote (a
   * '%' that starts no escape, written by hand or by another tool): it names no member or target
   * there is, and is warned of once per value, naming the key, rather than failing every round.
   */
  private String segment(KeyValue kv, String p, String kind) {
    String key = kv.getKey().toString(StandardCharsets.UTF_8);
    try {
      return decode(key.substring(p.length()));
    } catch (IllegalArgumentException e) {
      Long before = unreadable.put(key, kv.getModRevision());
      if (before == null || before != kv.getModRevision()) {
        LOG.warn("{} key {} names no {} a member writes ({}); it is left out", kind, key,
            kind.equals("member") ? "member id" : "target", e.getMessage());
      }
      return null;
    }
  }

  private Ownership ownership(String target, KeyValue kv) {
    String owner = "?";
    Instant since = Instant.EPOCH;
    try {
      JsonNode n = JSON.readTree(kv.getValue().getBytes());
      owner = n.path("member").asText("?");
      since = Instant.parse(n.path("since").asText());
    } catch (IOException | RuntimeException e) {
      // a value another tool wrote: the key still says the target is taken, by someone unknown; said once per value,
      // not at every round (owners() is asked twice a second)
      Long before = unreadable.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getModRevision());
      if (before == null || before != kv.getModRevision()) {
        LOG.warn("ownership key {} holds an unreadable value: {}", kv.getKey(), e.toString());
      } else {
        LOG.debug("ownership key {} still holds an unreadable value", kv.getKey());
      }
    }
    return new Ownership(target, owner, kv.getCreateRevision(), since);
  }

  /** How many range reads of {@code <prefix>owners/} this member made (for tests: one, and one per failed watch). */
  long ownersRangeReads() {
    return ownersView.rangeReads();
  }

  /** How many range reads of {@code <prefix>members/} this member made. */
  long membersRangeReads() {
    return membersView.rangeReads();
  }

  /** The watched view of {@code <prefix>owners/} (for tests). */
  WatchedPrefix ownersView() {
    return ownersView;
  }

  @Override
  public void close() {
    membersView.close();
    ownersView.close();
    if (keeper.isClosed()) {
      return;
    }
    long lease;
    synchronized (monitor) {
      lease = leaseId;
    }
    if (keeper.stop()) {  // a lost lease is gone already: nothing to revoke
      if (revokeQuietly(lease)) {
        LOG.info("member {} left {} (lease {} revoked)", member, prefix, Long.toHexString(lease));
      } else {
        LOG.info("member {} left {} (lease {} not revoked: it expires within {})", member, prefix,
            Long.toHexString(lease), Durations.human(ttl));
      }
    }
    if (ownsClient) {
      client.close();
    }
  }

  /** Revokes {@code lease}; whether etcd did (a failure is logged: the lease expires by itself within its TTL). */
  private boolean revokeQuietly(long lease) {
    try {
      await(client.getLeaseClient().revoke(lease), "revoke lease");
      return true;
    } catch (RuntimeException e) {
      // the lease expires by itself within its TTL; revoking only makes the handover faster
      LOG.warn("member {}: revoking lease {} failed ({}); it expires within {}", member, Long.toHexString(lease),
          e.getMessage(), Durations.human(ttl));
      return false;
    }
  }

  static ByteSequence value(String member, Instant since) {
    ObjectNode n = JSON.createObjectNode();
    n.put("member", member);
    n.put("since", since.toString());
    return ByteSequence.from(n.toString(), StandardCharsets.UTF_8);
  }

  /** A member key's value: {@link #value} and the process that holds the id ({@link LeaseKeeper#process()}). */
  static ByteSequence memberValue(String member, Instant since) {
    ObjectNode n = JSON.createObjectNode();
    n.put("member", member);
    n.put("since", since.toString());
    n.put("process", LeaseKeeper.process());
    return ByteSequence.from(n.toString(), StandardCharsets.UTF_8);
  }

  /**
   * Who holds a member key another lease holds, from a registration's answer: its lease, and the
   * process and time its value records (a value written by a build before the process was recorded,
   * or by hand, names the lease alone).
   */
  private static String holderOf(TxnResponse r) {
    return r.getGetResponses().stream().flatMap(g -> g.getKvs().stream()).findFirst().map(kv -> {
      String process = null;
      String since = null;
      try {
        JsonNode n = JSON.readTree(kv.getValue().getBytes());
        process = n.path("process").textValue();
        since = n.path("since").textValue();
      } catch (IOException | RuntimeException e) {
        LOG.debug("member key {} holds an unreadable value: {}", kv.getKey(), e.toString());  // the lease still names it
      }
      return "lease " + Long.toHexString(kv.getLease()) + (process == null ? "" : ", " + process)
          + (since == null ? "" : ", since " + since);
    }).orElse("another lease");
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  /** A name as one key segment: no '/' inside, so that one target's prefix never covers another's. */
  static String encode(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8);
  }

  static String decode(String segment) {
    return URLDecoder.decode(segment, StandardCharsets.UTF_8);
  }

  /**
   * Waits for an etcd call of this member (or of a state store on its client) for at most its call
   * timeout; failures name etcd by its endpoints.
   */
  <T> T await(CompletableFuture<T> f, String what) {
    try {
      return call(f, what, callTimeout, etcd);
    } catch (RuntimeException e) {
      throw explained(e);
    }
  }

  /**
   * Waits for an etcd call for at most {@code timeout}; failures are unchecked, name {@code etcd}
   * ({@code etcd at URL}) and say what was being done.
   */
  static <T> T call(CompletableFuture<T> f, String what, Duration timeout, String etcd) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.cancel(true);
      throw new IllegalStateException("interrupted while waiting for " + etcd + " to " + what, e);
    } catch (ExecutionException e) {
      String said = String.valueOf(e.getCause().getMessage());
      throw new IllegalStateException(etcd + " failed to " + what + ": " + said + (asksForAuth(said)
          ? " (this etcd has authentication enabled, which the agent does not support: --cluster etcd:// connects"
          + " without a user; an embedder can pass its own jetcd Client to EtcdCoordinator.builder)" : ""), e.getCause());
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new IllegalStateException(etcd + " did not answer within " + Durations.human(timeout) + " to " + what, e);
    }
  }

  /** Whether etcd's answer says that it wants a user (authentication is enabled on it). */
  static boolean asksForAuth(String message) {
    return message.contains("user name is empty") || message.contains("invalid auth token")
        || message.contains("UNAUTHENTICATED") || message.contains("PERMISSION_DENIED")
        || message.contains("authentication is not enabled") || message.contains("invalid username or password");
  }

  /**
   * What a timed-out call's failure leaves out, for a coordinator that knows its endpoints: a call
   * that waits for a connection (as a member's do) only ever times out, whatever stands in the
   * way. Each endpoint is resolved and connected to (at most a second each): an unknown host, a
   * refused connection, or a port that takes connections but did not answer as etcd.
   */
  private String diagnosis() {
    if (endpointUris.isEmpty()) {
      return "";
    }
    List<String> found = new java.util.ArrayList<>();
    for (java.net.URI u : endpointUris) {
      String hostPort = u.getHost() + ":" + u.getPort();
      try (java.net.Socket s = new java.net.Socket()) {
        s.connect(new java.net.InetSocketAddress(java.net.InetAddress.getByName(u.getHost()), u.getPort()), 1000);
        found.add(hostPort + " takes connections but did not answer as etcd (is it etcd's client port?)");
      } catch (java.net.UnknownHostException e) {
        found.add("host " + u.getHost() + " cannot be resolved");
      } catch (java.net.ConnectException e) {
        found.add(hostPort + " refuses connections (" + e.getMessage() + ")");
      } catch (IOException e) {
        found.add(hostPort + ": " + e);
      }
    }
    return " (" + String.join("; ", found) + ")";
  }

  /** {@code e} with {@link #diagnosis()} added to its message when it is a timed-out call. */
  private RuntimeException explained(RuntimeException e) {
    if (e instanceof IllegalStateException && e.getCause() instanceof TimeoutException) {
      return new IllegalStateException(e.getMessage() + diagnosis(), e.getCause());
    }
    return e;
  }

  /** Builds an {@link EtcdCoordinator}. */
  public static final class Builder {
    private final Client client;
    private final boolean ownsClient;
    private final String member;
    /** The client's builder when the coordinator owns its client: built by {@link #build}. */
    private ClientBuilder endpointsClient;
    private boolean waitForConnection = true;
    private String endpoints;
    private List<java.net.URI> endpointUris = List.of();
    private String prefix = "/gitops/default/";
    private Duration ttl = Duration.ofSeconds(10);
    private Duration callTimeout = CALL_TIMEOUT;
    private int pageSize = RANGE_PAGE_SIZE;
    private Clock clock = MonotonicClock.system();

    private Builder(Client client, String member, boolean ownsClient) {
      this.client = ownsClient ? client : Objects.requireNonNull(client, "client");
      this.member = LeaseKeeper.checkMember(member);
      this.ownsClient = ownsClient;
    }

    /** The key prefix of the cluster (default {@code /gitops/default/}); it ends with '/'. */
    public Builder prefix(String p) {
      if (p == null || !p.startsWith("/") || !p.endsWith("/")) {
        throw new IllegalArgumentException("etcd key prefix must start and end with '/', got " + p);
      }
      this.prefix = p;
      return this;
    }

    /** The membership lease's TTL, whole seconds, at least 2 s (default 10 s). */
    public Builder ttl(Duration d) {
      this.ttl = LeaseKeeper.checkTtl(d);
      return this;
    }

    /**
     * How long each call to etcd is waited for before it fails naming etcd and the call (default
     * 10 s, at least 100 ms, at most 1 h): how soon a member whose etcd stopped answering says it is not ready,
     * and how long leaving waits to revoke its lease. A renewal waits no longer than the lease lasts.
     */
    public Builder callTimeout(Duration d) {
      // at most an hour: no call waits longer, and Duration.toMillis of an absurd one would overflow at each call
      if (d == null || d.compareTo(Duration.ofMillis(100)) < 0 || d.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("etcd call timeout must be at least 100 ms and at most 1 h, got " + d);
      }
      this.callTimeout = d;
      return this;
    }

    /**
     * How many keys one range read asks for at most (default 1000): the member and owner views and
     * a state store's load read their prefix in pages of this many keys, all at the first page's
     * revision, so that no answer exceeds the client's inbound message limit however many targets,
     * members or store entries there are.
     */
    public Builder rangePageSize(int keys) {
      if (keys < 1) {
        throw new IllegalArgumentException("etcd range page size must be at least 1 key, got " + keys);
      }
      this.pageSize = keys;
      return this;
    }

    /**
     * Whether a call waits, up to its {@linkplain #callTimeout timeout}, for a connection to etcd
     * (default true: a member rides out etcd's restart or a moment without a network). False makes
     * a call fail as soon as no endpoint takes a connection (refused, or no route), as a one-off
     * reader such as {@code gitops status --cluster etcd://...} wants: it answers at once instead of
     * after the timeout. Only for a coordinator that connects itself ({@link #connectBuilder}).
     *
     * <pre>{@code
     * try (EtcdCoordinator reader = EtcdCoordinator.connectBuilder("http://127.0.0.1:2379", "reader")
     *     .waitForConnection(false).build()) {
     *   reader.owners().forEach((target, o) -> log.info("{} is reconciled by {}", target, o.member()));
     * }
     * }</pre>
     *
     * @throws IllegalStateException on a builder over a caller's client, whose connection is the caller's
     */
    public Builder waitForConnection(boolean wait) {
      if (!ownsClient) {
        throw new IllegalStateException("waitForConnection is set on the client given to builder(client, member), "
            + "not here: the coordinator connects only from connectBuilder(endpoints, member)");
      }
      this.waitForConnection = wait;
      return this;
    }

    /**
     * The clock that times the lease: renewals, and its TTL by this member's own clock (default: a
     * {@link MonotonicClock}, which a step of the wall clock does not move).
     */
    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    /** The coordinator (not joined). */
    public EtcdCoordinator build() {
      return new EtcdCoordinator(this);
    }
  }
}
