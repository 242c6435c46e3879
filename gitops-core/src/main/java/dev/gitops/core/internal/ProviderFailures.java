package dev.gitops.core.internal;

import dev.gitops.api.GitOpsException;

/** How a failure thrown by a provider call is told: the one wording for plans, outcomes and health. */
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
}
