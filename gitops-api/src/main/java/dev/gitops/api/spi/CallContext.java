package dev.gitops.api.spi;

import dev.gitops.api.Cancellation;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What the engine hands a provider with every call: who is asking (the owner id to write into
 * marks), the revision, a deadline and a cancellation token. Providers should stop work when the
 * deadline passes or the token is cancelled and report {@code Outcome.unknown(...)} if they were
 * cut off mid-change.
 *
 * <pre>{@code
 * // a test calls a provider as the engine does: owner, revision, a deadline and a fresh token
 * Outcome outcome = provider.apply(change, CallContext.of("gitops", "v1", Duration.ofMinutes(2)));
 * // in a provider, between two steps of one change: the sync is over, so stop and say so
 * if (ctx.isDone()) {
 *   outcome = Outcome.unknown(change.key() + ": cut off mid-change");
 * }
 * }</pre>
 *
 * @param owner the owner id of the reconciler instance
 * @param revision the revision being applied
 * @param deadline when the call must be finished
 * @param cancellation cancelled when the sync is; the engine gives each call of a sync a context of
 *     its own (its own deadline), all with the sync's token and no other sync's, so a provider that
 *     keeps something for the rest of one sync knows that sync by this token, not by the context
 */
public record CallContext(String owner, String revision, Instant deadline, Cancellation cancellation) {

  /** Validates. */
  public CallContext {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(deadline, "deadline");
    Objects.requireNonNull(cancellation, "cancellation");
  }

  /** A context for tests and simple callers: a fresh token and a deadline {@code timeout} from now. */
  public static CallContext of(String owner, String revision, Duration timeout) {
    return new CallContext(owner, revision, Instant.now().plus(Objects.requireNonNull(timeout, "timeout")),
        new Cancellation());
  }

  /** Time left before the deadline (zero when past). */
  public Duration remaining() {
    Duration d = Duration.between(Instant.now(), deadline);
    return d.isNegative() ? Duration.ZERO : d;
  }

  /** Whether the deadline passed or the token was cancelled. */
  public boolean isDone() {
    return cancellation.isCancelled() || !Instant.now().isBefore(deadline);
  }

  /** This context with another deadline. */
  public CallContext withDeadline(Instant newDeadline) {
    return new CallContext(owner, revision, newDeadline, cancellation);
  }
}
