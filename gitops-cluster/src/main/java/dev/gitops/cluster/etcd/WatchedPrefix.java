package dev.gitops.cluster.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys under one prefix, kept by a watch instead of read at every round: one range read gives
 * the keys and the revision, a watch from the next revision applies every change after it. The
 * view is never served silently stale: after an error, a cancel (a compaction past the watch's
 * revision) or a watch that stays silent through a progress request, the next {@link #read} is a
 * range read again, which fails as before while etcd cannot be reached, and starts a new watch.
 * A view may lag the other members' writes by the watch's delivery time (their changes only ever
 * delay a member: every write is fenced by its ownership's token), never this member's own: a
 * {@link #read} waits for the revisions of this member's writes ({@link #wrote}).
 */
final class WatchedPrefix implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WatchedPrefix.class);
  /** How long a read waits for the watch to deliver this member's own write before reading the range. */
  static final Duration OWN_WRITE_WAIT = Duration.ofSeconds(2);
  /** A watch silent this long is asked for its progress; silent as long again after that, it counts as down. */
  static final Duration QUIET = Duration.ofSeconds(5);

  private final Client client;
  private final String keyPrefix;
  private final String etcd;
  private final Object lock = new Object();
  private final Duration quiet;
  private final Duration callTimeout;
  private final int pageSize;
  private final AtomicLong rangeReads = new AtomicLong();
  private final AtomicLong progressRequests = new AtomicLong();
  /** The view by key; guarded by {@link #lock}, as are the fields below. */
  private final Map<String, KeyValue> keys = new TreeMap<>();
  /** The view has every change up to this revision. */
  private long revision;
  /** The highest revision of this member's own writes under the prefix. */
  private long ownWrite;
  /** The current watch's listener, or null when the next read must read the range; and its jetcd handle. */
  private Watcher current;
  private Watch.Watcher handle;
  /** When the current watch last said anything (nanoTime), and when it was asked for progress (0: not asked). */
  private long heard;
  private long askedProgress;
  private boolean closed;
  /** For tests: runs between the range read and the start of the watch. */
  private volatile Runnable beforeWatch = () -> { };

  /** A view whose range reads wait {@code callTimeout} for etcd, each page of at most {@code pageSize} keys. */
  WatchedPrefix(Client client, String keyPrefix, String etcd, Duration callTimeout, int pageSize) {
    this(client, keyPrefix, etcd, callTimeout, pageSize, QUIET);
  }

  /** A view whose watch is asked for its progress once it said nothing for {@code quiet}. */
  WatchedPrefix(Client client, String keyPrefix, String etcd, Duration callTimeout, int pageSize, Duration quiet) {
    this.client = client;
    this.keyPrefix = keyPrefix;
    this.etcd = etcd;
    this.callTimeout = callTimeout;
    this.pageSize = pageSize;
    this.quiet = quiet;
  }

  /**
   * The keys under the prefix: the watched view while its watch runs (after waiting for this
   * member's own writes), else a range read that starts a new watch.
   *
   * @throws IllegalStateException naming etcd when the range read fails
   */
  List<KeyValue> read() {
    Watch.Watcher silent;
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the watch of " + keyPrefix + " on " + etcd + " is closed");
      }
      if (current != null && caughtUp() && answering()) {
        return List.copyOf(keys.values());
      }
      silent = detach();
    }
    close(silent);
    return resync();
  }

  /** Whether the view has this member's own writes, waiting for the watch up to {@link #OWN_WRITE_WAIT}. */
  private boolean caughtUp() {
    long deadline = System.nanoTime() + OWN_WRITE_WAIT.toNanos();
    while (current != null && revision < ownWrite) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        LOG.info("the watch of {} on {} has not delivered revision {} within {} (it is at {}); reading the range",
            keyPrefix, etcd, ownWrite, OWN_WRITE_WAIT, revision);
        return false;
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the watch of " + keyPrefix + " on " + etcd, e);
      }
    }
    return current != null;
  }

  /**
   * Whether the watch still answers: one silent for {@link #QUIET} is asked for its progress (etcd
   * answers on the same stream), and one that stays silent as long again counts as down.
   */
  private boolean answering() {
    long now = System.nanoTime();
    if (now - heard < quiet.toNanos()) {
      return true;
    }
    if (askedProgress == 0 || askedProgress < heard) {
      askedProgress = now;
      progressRequests.incrementAndGet();
      if (handle != null) {
        handle.requestProgress();  // a write on the watch's stream: takes no lock of jetcd's
      }
      return true;
    }
    if (now - askedProgress < quiet.toNanos()) {
      return true;
    }
    LOG.warn("the watch of {} on {} said nothing for {} after a progress request; reading the range", keyPrefix, etcd,
        quiet);
    return false;
  }

  /** Reads the range (in pages, at one revision), makes it the view and watches from the revision after it. */
  private List<KeyValue> resync() {
    rangeReads.incrementAndGet();
    PagedRange.Snapshot r = PagedRange.read(client.getKVClient(), keyPrefix, pageSize, callTimeout, etcd,
        "read " + keyPrefix);
    long at = r.revision();
    beforeWatch.run();
    Watcher w = new Watcher();
    Watch.Watcher old;
    synchronized (lock) {
      if (closed) {
        return r.kvs();
      }
      old = detach();
      keys.clear();
      for (KeyValue kv : r.kvs()) {
        keys.put(key(kv), kv);
      }
      revision = at;
      heard = System.nanoTime();
      askedProgress = 0;
      current = w;
    }
    close(old);
    // jetcd calls listeners under a lock of its own: its watch() and close() are never called under this view's
    Watch.Watcher started;
    try {
      started = client.getWatchClient().watch(bytes(keyPrefix),
          WatchOption.builder().isPrefix(true).withRevision(at + 1).build(), w);
    } catch (RuntimeException e) {
      synchronized (lock) {
        if (current == w) {
          current = null;  // no watch keeps this view: the next read reads the range again
        }
      }
      throw new IllegalStateException("cannot watch " + keyPrefix + " on " + etcd + ": " + e.getMessage(), e);
    }
    synchronized (lock) {
      if (current == w) {
        handle = started;
        started = null;
      }
    }
    close(started);  // it failed or was replaced already
    LOG.debug("watching {} on {} from revision {} ({} keys)", keyPrefix, etcd, at + 1, r.kvs().size());
    return r.kvs();
  }

  /** Notes a write of this member under the prefix, at {@code rev}: reads wait for the watch to deliver it. */
  void wrote(long rev) {
    synchronized (lock) {
      ownWrite = Math.max(ownWrite, rev);
    }
  }

  /** Makes the next read a range read (and a new watch). */
  void invalidate() {
    Watch.Watcher old;
    synchronized (lock) {
      old = detach();
    }
    close(old);
  }

  /** How many times this view asked its watch for its progress. */
  long progressRequests() {
    return progressRequests.get();
  }

  /** How many range reads of the prefix this view made. */
  long rangeReads() {
    return rangeReads.get();
  }

  /** For tests: what to run between the next range reads and their watches. */
  void beforeWatch(Runnable r) {
    beforeWatch = r;
  }

  @Override
  public void close() {
    Watch.Watcher old;
    synchronized (lock) {
      closed = true;
      old = detach();
    }
    close(old);
  }

  /** Ends the current watch's say over the view (under the lock); the handle to close after leaving it. */
  private Watch.Watcher detach() {
    Watch.Watcher h = handle;
    current = null;
    handle = null;
    lock.notifyAll();
    return h;
  }

  private static void close(Watch.Watcher w) {
    if (w != null) {
      w.close();
    }
  }

  private static String key(KeyValue kv) {
    return kv.getKey().toString(StandardCharsets.UTF_8);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  /** One watch's listener: what it hears counts only while it is the view's current watch. */
  private final class Watcher implements Watch.Listener {

    @Override
    public void onNext(WatchResponse response) {
      synchronized (lock) {
        if (this != current) {
          return;
        }
        heard = System.nanoTime();
        for (WatchEvent e : response.getEvents()) {
          KeyValue kv = e.getKeyValue();
          if (e.getEventType() == WatchEvent.EventType.PUT) {
            keys.put(key(kv), kv);
          } else if (e.getEventType() == WatchEvent.EventType.DELETE) {
            keys.remove(key(kv));
          }
          revision = Math.max(revision, kv.getModRevision());
        }
        lock.notifyAll();
      }
    }

    @Override
    public void onError(Throwable t) {
      // a compaction past the watch's revision, a cancel, a lost connection: the view may miss
      // changes from here, so the next read reads the range (jetcd's own resume is not relied on)
      synchronized (lock) {
        if (this == current) {
          LOG.warn("the watch of {} on {} failed ({}); the next read reads the range", keyPrefix, etcd, t.toString());
          current = null;  // its handle is closed by the next read's resync
          lock.notifyAll();
        }
      }
    }

    @Override
    public void onCompleted() {
      synchronized (lock) {
        if (this == current) {
          LOG.info("the watch of {} on {} ended; the next read reads the range", keyPrefix, etcd);
          current = null;  // its handle is closed by the next read's resync
          lock.notifyAll();
        }
      }
    }
  }

  @Override
  public String toString() {
    synchronized (lock) {
      return keyPrefix + " at revision " + revision + (current == null ? " (not watched)" : " (watched)");
    }
  }
}
