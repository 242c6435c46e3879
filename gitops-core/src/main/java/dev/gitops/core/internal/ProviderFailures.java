package dev.gitops.core.internal;

import dev.gitops.api.Cancellation;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.ProviderException;
import dev.gitops.api.ResourceKey;
import java.util.function.Supplier;

/**
 * How a failure thrown by a provider call is told and wrapped: the one wording for plans,
 * outcomes and health, and the one place that turns what a provider's hook throws into a {@link
 * ProviderException} naming the provider, the method and the key.
 */
public final class ProviderFailures {

  private ProviderFailures() {}

  /**
   * What {@code t}, thrown by a call of provider {@code providerId}, says: its message when it is
   * one of the engine's own exceptions (a timeout, a {@code ProviderException}, which name the
   * provider and key already), else the provider and the throwable itself, so that a bare {@code
   * NullPointerException} or {@code StackOverflowError} of a custom provider still says whose it is.
   *
   * <pre>{@code
   * String why = ProviderFailures.describe("m", new IllegalStateException("boom"));
   * // "provider 'm' threw java.lang.IllegalStateException: boom"
   * }</pre>
   */
  public static String describe(String providerId, Throwable t) {
    if (t instanceof GitOpsException && t.getMessage() != null) {
      return t.getMessage();
    }
    return "provider '" + providerId + "' threw " + t;
  }

  /**
   * Runs {@code call}, provider {@code providerId}'s {@code method} for {@code key} (null: a call
   * not about one key), and returns what it returns; an unchecked exception or a non-fatal error it
   * throws comes out as a {@link ProviderException} naming the provider, the method and the key,
   * with the throwable as its cause. A cancellation, and an error the JVM cannot go on after (out
   * of memory), pass as they are.
   *
   * <pre>{@code
   * boolean replace = ProviderFailures.call("m", "requiresReplace", key,
   *     () -> provider.requiresReplace(key, FieldPath.of("spec")));
   * // a provider that throws IllegalStateException("boom"):
   * // ProviderException "m:thing::a: provider 'm' failed in requiresReplace: java.lang.IllegalStateException: boom"
   * }</pre>
   */
  public static <T> T call(String providerId, String method, ResourceKey key, Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException | LinkageError | AssertionError e) {
      throw wrapped(providerId, method, key, e);
    }
  }

  /**
   * What to throw for {@code t}, thrown by provider {@code providerId}'s {@code method} for {@code
   * key} (null: a call not about one key): a cancellation as it is, anything else as a {@link
   * ProviderException} naming the provider, the method and the key, with {@code t} as its cause.
   * For the hot calls that answer a primitive (no boxing, no lambda per call):
   *
   * <pre>{@code
   * int order;
   * try {
   *   order = provider.typeOrder(key);
   * } catch (RuntimeException | LinkageError | AssertionError e) {
   *   throw ProviderFailures.wrapped("m", "typeOrder", key, e);
   * }
   * }</pre>
   */
  public static RuntimeException wrapped(String providerId, String method, ResourceKey key, Throwable t) {
    if (t instanceof Cancellation.CancelledException c) {
      return c;
    }
    return new ProviderException(key, "provider '" + providerId + "' failed in " + method + ": " + t, false, t);
  }
}
