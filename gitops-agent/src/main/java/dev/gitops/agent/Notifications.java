package dev.gitops.agent;

import dev.gitops.agent.config.NotifierConfig;
import dev.gitops.notify.Notification;
import dev.gitops.notify.Notifier;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's current notifiers, which every target's notifications go to. A reload swaps them
 * whole ({@link #replace}, at once) and retires the old ones ({@link #retire}), which deliver what
 * they hold for a moment and close on threads of their own, all at once: a stalled endpoint holds
 * up neither the reload nor the targets it restarts.
 *
 * <p>Each notifier's drops are counted under its name ({@code gitops.notifications.dropped}) from
 * the first notifier of that name to the agent's stop: a replaced notifier's count, drops while it
 * closes included, carries on in its successor's.
 */
final class Notifications {

  private static final Logger LOG = LoggerFactory.getLogger(Notifications.class);
  /**
   * How long a stop waits for every notifier to close, in parallel: an HTTP notifier delivers for
   * up to 5 s, then gives up on what it holds within a second.
   */
  static final Duration CLOSE_BOUND = Duration.ofSeconds(8);

  private final MeterRegistry registry;
  private volatile List<Notifier> current = List.of();
  /** The drops counted per notifier name (guarded by this). */
  private final Map<String, Drops> drops = new LinkedHashMap<>();
  private final List<Meter> meters = new ArrayList<>();
  /** Notifiers replaced and still closing (guarded by this). */
  private final Set<Notifier> closing = java.util.Collections.newSetFromMap(new IdentityHashMap<>());

  Notifications(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Hands {@code n} to every current notifier (none of them blocks). */
  void send(Notification n) {
    for (Notifier notifier : current) {
      notifier.send(n);
    }
  }

  /**
   * Replaces the notifiers with ones made from {@code configs}, at once, and returns the old ones,
   * still open: {@link #retire} closes them, once the caller has done what must not wait for them.
   *
   * @throws RuntimeException when a notifier cannot be made (a secret unset since the file loaded);
   *     nothing changed then
   */
  synchronized List<Notifier> replace(List<NotifierConfig> configs, Map<String, String> environment) {
    List<Notifier> fresh = new ArrayList<>();
    List<String> names = NotifierConfig.names(configs);  // one name in log lines and in the dropped counter's tag
    try {
      for (int i = 0; i < configs.size(); i++) {
        fresh.add(configs.get(i).create(environment, names.get(i)));
      }
    } catch (RuntimeException e) {
      for (Notifier n : fresh) {
        n.close();  // made, never sent to: nothing queued, it closes at once
      }
      throw e;
    }
    List<Notifier> old = current;
    current = List.copyOf(fresh);
    for (int i = 0; i < fresh.size(); i++) {
      drops(names.get(i)).add(fresh.get(i));
    }
    return old;
  }

  /** The count of drops of the notifiers called {@code name}, registered with the first of them. */
  private Drops drops(String name) {
    return drops.computeIfAbsent(name, n -> {
      Drops d = new Drops();
      if (registry != null) {
        meters.add(FunctionCounter.builder("gitops.notifications.dropped", d, Drops::count)
            .description("Notifications dropped: queue full, refused, every attempt failed, or cut off by a close")
            .tag("notifier", n).register(registry));
      }
      return d;
    });
  }

  /**
   * Closes {@code old} (what {@link #replace} returned) on threads of their own, all at once, and
   * returns at once; their drops, those while closing included, stay counted.
   */
  void retire(List<Notifier> old) {
    synchronized (this) {
      closing.addAll(old);
    }
    startClosing(old);
  }

  private void startClosing(List<Notifier> notifiers) {
    for (Notifier n : notifiers) {
      Thread t = new Thread(() -> closeOne(n), "gitops-notify-close " + n.name());
      t.setDaemon(true);
      t.start();
    }
  }

  /**
   * Closes every notifier, current and still closing, in parallel, waiting {@link #CLOSE_BOUND}
   * at most for all of them together, then removes the counters.
   */
  void close() {
    List<Notifier> mine = new ArrayList<>();
    synchronized (this) {
      for (Notifier n : current) {
        if (closing.add(n)) {  // one retired already is waited for below, not closed twice
          mine.add(n);
        }
      }
      current = List.of();
    }
    long end = System.nanoTime() + CLOSE_BOUND.toNanos();
    startClosing(mine);
    synchronized (this) {
      try {
        while (!closing.isEmpty() && System.nanoTime() < end) {
          wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!closing.isEmpty()) {
        LOG.warn("{} notifier(s) did not close within {} s and are left behind: {}", closing.size(),
            CLOSE_BOUND.toSeconds(), closing.stream().map(Notifier::name).sorted().toList());
      }
      // Meters are registered only with a registry: without one the list is empty.
      for (Meter m : meters) {
        registry.remove(m);
      }
      meters.clear();
      drops.clear();
    }
  }

  private void closeOne(Notifier n) {
    try {
      n.close();
    } catch (RuntimeException e) {
      // One notifier failing to close must not keep the others open; its class, not its message,
      // which could repeat a header or URL with a token in it.
      LOG.warn("notifier {} failed to close: {}", n.name(), e.getClass().getName());
    } finally {
      synchronized (this) {
        for (Drops d : drops.values()) {
          d.closed(n);
        }
        closing.remove(n);
        notifyAll();
      }
    }
  }

  /**
   * The drops of one notifier name: those of the notifiers that closed, and those of the ones still
   * open (replaced ones included, until they closed), so that the count never goes back.
   */
  private static final class Drops {
    private final Set<Notifier> open = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    private long closed;

    synchronized void add(Notifier n) {
      open.add(n);
    }

    synchronized void closed(Notifier n) {
      if (open.remove(n)) {
        closed += n.dropped();
      }
    }

    synchronized double count() {
      long sum = closed;
      for (Notifier n : open) {
        sum += n.dropped();
      }
      return sum;
    }
  }
}
