package dev.gitops.agent;

import dev.gitops.agent.config.NotifierConfig;
import dev.gitops.notify.Notification;
import dev.gitops.notify.Notifier;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's current notifiers, which every target's notifications go to. A reload swaps them
 * whole; the old ones deliver what they hold for a moment and close.
 */
final class Notifications {

  private static final Logger LOG = LoggerFactory.getLogger(Notifications.class);

  private final MeterRegistry registry;
  private volatile List<Notifier> current = List.of();
  private List<Meter> meters = List.of();

  Notifications(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Hands {@code n} to every current notifier (none of them blocks). */
  void send(Notification n) {
    for (Notifier notifier : current) {
      notifier.send(n);
    }
  }

  /** Replaces the notifiers with ones made from {@code configs}; closes the old ones. */
  synchronized void replace(List<NotifierConfig> configs, Map<String, String> environment) {
    List<Notifier> fresh = new ArrayList<>();
    for (NotifierConfig c : configs) {
      fresh.add(c.create(environment));
    }
    List<Notifier> old = current;
    current = List.copyOf(fresh);
    // The old meters go first: a new notifier of the same name would otherwise get the old meter
    // back from the registry (same id), and removing the old one after would lose its counter.
    unregister(meters);
    meters = register(configs, fresh);
    close(old);
  }

  private List<Meter> register(List<NotifierConfig> configs, List<Notifier> notifiers) {
    if (registry == null) {
      return List.of();
    }
    List<Meter> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < notifiers.size(); i++) {
      String name = configs.get(i).describe();
      for (int n = 2; !names.add(name); n++) {
        name = configs.get(i).describe() + " #" + n;
      }
      out.add(FunctionCounter.builder("gitops.notifications.dropped", notifiers.get(i), Notifier::dropped)
          .description("Notifications dropped: queue full, refused, or every attempt failed")
          .tag("notifier", name).register(registry));
    }
    return out;
  }

  /** Closes every notifier. */
  synchronized void close() {
    List<Notifier> old = current;
    current = List.of();
    unregister(meters);
    meters = List.of();
    close(old);
  }

  private void unregister(List<Meter> old) {
    // Meters are registered only with a registry: without one the list is empty.
    for (Meter m : old) {
      registry.remove(m);
    }
  }

  private static void close(List<Notifier> notifiers) {
    for (Notifier n : notifiers) {
      try {
        n.close();
      } catch (RuntimeException e) {
        // One notifier failing to close must not keep the others open.
        LOG.warn("notifier {} failed to close: {}", n.name(), e.toString());
      }
    }
  }
}
