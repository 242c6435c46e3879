package dev.gitops.api;

/** A safety guard refused to run a plan. The CLI exits with 3. */
public class PlanRefusedException extends GitOpsException {
  private static final long serialVersionUID = 1L;
  private final String guard;
  private final String provider;

  /** {@code guard} refused for {@code provider} (null when not about one provider). */
  public PlanRefusedException(String guard, String provider, String message) {
    super("refused by " + guard + (provider == null ? "" : " for provider '" + provider + "'") + ": " + message);
    this.guard = guard;
    this.provider = provider;
  }

  /** The guard that refused, for example {@code deletion-budget}. */
  public String guard() {
    return guard;
  }

  /** The provider it refused for, or null. */
  public String provider() {
    return provider;
  }
}
