package dev.gitops.api;

import java.util.Objects;

/**
 * A safety guard refused to run a plan; nothing was applied. It says which guard refused, for
 * which provider, and — for the mass-deletion guard — which limit was crossed with what numbers,
 * so a caller (the CLI, say) can word the refusal in its own terms, flags included.
 *
 * <pre>{@code
 * try {
 *   reconciler.sync();
 * } catch (PlanRefusedException e) {
 *   if (e.limit() == PlanRefusedException.Limit.MAX_COUNT) {
 *     log.warn("{} would delete {} of {}, over the budget of {}", e.provider(), e.deletions(), e.owned(), e.budget());
 *   }
 * }
 * }</pre>
 */
public class PlanRefusedException extends GitOpsException {
  private static final long serialVersionUID = 1L;

  /** Which limit of the mass-deletion guard the plan crossed. */
  public enum Limit {
    /** The plan deletes or replaces everything the provider owns, and that was not allowed. */
    EVERYTHING,
    /** The plan deletes or replaces more resources than the count budget. */
    MAX_COUNT,
    /** The plan deletes or replaces more than the percentage budget of what the provider owns. */
    MAX_PERCENT
  }

  private final String guard;
  private final String provider;
  private final Limit limit;
  private final int deletions;
  private final int owned;
  private final int budget;

  /** {@code guard} refused for {@code provider} (null when not about one provider). */
  public PlanRefusedException(String guard, String provider, String message) {
    super(prefix(guard, provider) + message);
    this.guard = guard;
    this.provider = provider;
    this.limit = null;
    this.deletions = -1;
    this.owned = -1;
    this.budget = -1;
  }

  /**
   * The mass-deletion guard {@code guard} refused for {@code provider}: the plan deletes or
   * replaces {@code deletions} of the {@code owned} resources, crossing {@code limit} (whose
   * {@code budget} is a count or a percentage; -1 for {@link Limit#EVERYTHING}).
   */
  public PlanRefusedException(String guard, String provider, Limit limit, int deletions, int owned, int budget) {
    super(prefix(guard, provider) + describe(Objects.requireNonNull(limit, "limit"), deletions, owned, budget));
    this.guard = guard;
    this.provider = provider;
    this.limit = limit;
    this.deletions = deletions;
    this.owned = owned;
    this.budget = budget;
  }

  private static String prefix(String guard, String provider) {
    return "refused by " + guard + (provider == null ? "" : " for provider '" + provider + "'") + ": ";
  }

  private static String describe(Limit limit, int deletions, int owned, int budget) {
    return switch (limit) {
      case EVERYTHING -> "the plan deletes or replaces all " + owned + " resources it owns (is the source's path or ref"
          + " right?); allow deleting everything explicitly if that is intended";
      case MAX_COUNT -> "the plan deletes or replaces " + deletions + " of " + owned + " owned resources, over the budget"
          + " of " + budget;
      case MAX_PERCENT -> "the plan deletes or replaces " + deletions + " of " + owned + " owned resources, over the"
          + " budget of " + budget + "%";
    };
  }

  /** The guard that refused, for example {@code mass-deletion guard}. */
  public String guard() {
    return guard;
  }

  /** The provider it refused for, or null. */
  public String provider() {
    return provider;
  }

  /** The limit of the mass-deletion guard that was crossed, or null for another guard. */
  public Limit limit() {
    return limit;
  }

  /** How many resources the plan deletes or replaces for the provider, or -1 when not counted. */
  public int deletions() {
    return deletions;
  }

  /** How many resources the provider owns, or -1 when not counted. */
  public int owned() {
    return owned;
  }

  /** The budget crossed: a count for {@link Limit#MAX_COUNT}, a percentage for {@link Limit#MAX_PERCENT}, else -1. */
  public int budget() {
    return budget;
  }
}
