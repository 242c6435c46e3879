package dev.gitops.images.registry.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bearer tokens per registry and scope, each kept until its {@code expires_in} has passed (less a
 * small margin, so a token is not sent in its last second).
 */
public final class TokenCache {

  /** What a token endpoint gave: the token and when it stops being valid. */
  private record Entry(String token, Instant expires) {}

  private final ConcurrentHashMap<String, Entry> tokens = new ConcurrentHashMap<>();
  private final Clock clock;

  /** A cache reading time from {@code clock}. */
  public TokenCache(Clock clock) {
    this.clock = clock;
  }

  /** A valid token for {@code registry} and {@code scope}, if one is cached. */
  public Optional<String> get(String registry, String scope) {
    Entry e = tokens.get(registry + " " + scope);
    if (e == null) {
      return Optional.empty();
    }
    if (!clock.instant().isBefore(e.expires())) {
      tokens.remove(registry + " " + scope, e);
      return Optional.empty();
    }
    return Optional.of(e.token());
  }

  /** Keeps {@code token} for {@code registry} and {@code scope} for {@code lifetime}. */
  public void put(String registry, String scope, String token, Duration lifetime) {
    // A margin of a tenth of the lifetime, at most 10 s: the token must still be valid on arrival.
    long margin = Math.min(10_000, lifetime.toMillis() / 10);
    tokens.put(registry + " " + scope, new Entry(token, clock.instant().plusMillis(lifetime.toMillis() - margin)));
  }

  /** Forgets the token for {@code registry} and {@code scope} (the registry refused it). */
  public void invalidate(String registry, String scope) {
    tokens.remove(registry + " " + scope);
  }
}
