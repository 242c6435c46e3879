package dev.gitops.core;

import dev.gitops.api.MergeRules;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.internal.Durations;
import dev.gitops.core.plan.DeletionBudget;
import dev.gitops.core.internal.plan.PlanOptions;
import java.time.Duration;
import java.util.Collections;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Immutable options of a {@link Reconciler}, made with a {@link #builder()} (or changed from an
 * instance with {@link #toBuilder()}); every part has a default, so a builder only names what
 * differs from {@link #defaults()}.
 *
 * <pre>{@code
 * SyncOptions opts = SyncOptions.builder()
 *     .prune(false)
 *     .budget(DeletionBudget.defaults().withMaxCount(20))
 *     .execution(ExecutionOptions.defaults().withParallelism(8))
 *     .build();
 * SyncOptions preview = opts.toBuilder().dryRun(true).build();
 * }</pre>
 */
public final class SyncOptions {

  private final boolean prune;
  private final boolean dryRun;
  private final boolean detectOnly;
  private final boolean adopt;
  private final boolean deleteOrphans;
  private final boolean rebuildStore;
  private final DeletionBudget budget;
  private final ExecutionOptions execution;
  private final Duration lockTimeout;
  private final MergeRules rules;
  private final boolean adoptFromOtherOwners;
  private final SortedMap<String, String> setting;

  private SyncOptions(Builder b) {
    this.prune = b.prune;
    this.dryRun = b.dryRun;
    this.detectOnly = b.detectOnly;
    this.adopt = b.adopt;
    this.deleteOrphans = b.deleteOrphans;
    this.rebuildStore = b.rebuildStore;
    this.budget = b.budget;
    this.execution = b.execution;
    this.lockTimeout = b.lockTimeout;
    this.rules = b.rules;
    this.adoptFromOtherOwners = b.adoptFromOtherOwners;
    this.setting = Collections.unmodifiableSortedMap(new TreeMap<>(b.setting));
  }

  /** Prune on, everything else off, default budget and execution options, 30 s lock timeout. */
  public static SyncOptions defaults() {
    return builder().build();
  }

  /** A builder holding the {@linkplain #defaults() defaults}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.prune = prune;
    b.dryRun = dryRun;
    b.detectOnly = detectOnly;
    b.adopt = adopt;
    b.deleteOrphans = deleteOrphans;
    b.rebuildStore = rebuildStore;
    b.budget = budget;
    b.execution = execution;
    b.lockTimeout = lockTimeout;
    b.rules = rules;
    b.adoptFromOtherOwners = adoptFromOtherOwners;
    b.setting.putAll(setting);
    return b;
  }

  /** Whether what was removed from Git is deleted (resources whose policy allows it). */
  public boolean prune() {
    return prune;
  }

  /** Whether the sync plans and reports, applying and writing nothing. */
  public boolean dryRun() {
    return dryRun;
  }

  /** Whether drift is reported without being corrected (like dry run, but meant for monitoring). */
  public boolean detectOnly() {
    return detectOnly;
  }

  /** Whether live objects that exist without our mark are taken over. */
  public boolean adopt() {
    return adopt;
  }

  /** Whether live objects that carry our mark but are not in the inventory are deleted. */
  public boolean deleteOrphans() {
    return deleteOrphans;
  }

  /** Whether a sync proceeds when the store is missing but live objects carry our mark. */
  public boolean rebuildStore() {
    return rebuildStore;
  }

  /** The mass-deletion guard's budget. */
  public DeletionBudget budget() {
    return budget;
  }

  /** Parallelism, retries, timeouts, health gates. */
  public ExecutionOptions execution() {
    return execution;
  }

  /** How long to wait for the store lock. */
  public Duration lockTimeout() {
    return lockTimeout;
  }

  /** Merge rules added to every provider's (ignore rules, mostly). */
  public MergeRules rules() {
    return rules;
  }

  /**
   * Whether live objects carrying another owner's mark are taken over (flagged ADOPT, the previous
   * owner named); never implied by {@link #adopt()}, which covers unmarked objects only.
   */
  public boolean adoptFromOtherOwners() {
    return adoptFromOtherOwners;
  }

  /**
   * What plans are made for beyond their revision and owner, by name (for example the CLI's
   * {@code target}): part of each plan's options and id, so a reviewed plan runs only under the
   * same setting. Empty by default.
   */
  public SortedMap<String, String> setting() {
    return setting;
  }

  /** The options that shape the plan, with the budget it is guarded with and the setting it is made for. */
  public PlanOptions planOptions() {
    return new PlanOptions(prune, adopt, deleteOrphans, adoptFromOtherOwners, budget, setting);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SyncOptions s && prune == s.prune && dryRun == s.dryRun && detectOnly == s.detectOnly
        && adopt == s.adopt && deleteOrphans == s.deleteOrphans && rebuildStore == s.rebuildStore
        && budget.equals(s.budget) && execution.equals(s.execution) && lockTimeout.equals(s.lockTimeout)
        && rules.equals(s.rules) && adoptFromOtherOwners == s.adoptFromOtherOwners && setting.equals(s.setting);
  }

  @Override
  public int hashCode() {
    return Objects.hash(prune, dryRun, detectOnly, adopt, deleteOrphans, rebuildStore, budget, execution, lockTimeout,
        rules, adoptFromOtherOwners, setting);
  }

  @Override
  public String toString() {
    return "SyncOptions[prune=" + prune + ", dryRun=" + dryRun + ", detectOnly=" + detectOnly + ", adopt=" + adopt
        + ", deleteOrphans=" + deleteOrphans + ", rebuildStore=" + rebuildStore + ", budget=" + budget
        + ", execution=" + execution + ", lockTimeout=" + lockTimeout + ", rules=" + rules
        + ", adoptFromOtherOwners=" + adoptFromOtherOwners + ", setting=" + setting + "]";
  }

  /** Builds {@link SyncOptions}; starts from the {@linkplain #defaults() defaults}. */
  public static final class Builder {
    private boolean prune = true;
    private boolean dryRun;
    private boolean detectOnly;
    private boolean adopt;
    private boolean deleteOrphans;
    private boolean rebuildStore;
    private DeletionBudget budget = DeletionBudget.defaults();
    private ExecutionOptions execution = ExecutionOptions.defaults();
    private Duration lockTimeout = Duration.ofSeconds(30);
    private MergeRules rules = MergeRules.defaults();
    private boolean adoptFromOtherOwners;
    private final TreeMap<String, String> setting = new TreeMap<>();

    private Builder() {}

    /** Delete what was removed from Git (default on). */
    public Builder prune(boolean v) {
      this.prune = v;
      return this;
    }

    /** Plan and report, apply nothing, write nothing (default off). */
    public Builder dryRun(boolean v) {
      this.dryRun = v;
      return this;
    }

    /** Report drift without correcting it (default off). */
    public Builder detectOnly(boolean v) {
      this.detectOnly = v;
      return this;
    }

    /** Take over live objects that exist without our mark (default off). */
    public Builder adopt(boolean v) {
      this.adopt = v;
      return this;
    }

    /** Delete live objects that carry our mark but are not in the inventory (default off). */
    public Builder deleteOrphans(boolean v) {
      this.deleteOrphans = v;
      return this;
    }

    /** Proceed when the store is missing but live objects carry our mark (default off). */
    public Builder rebuildStore(boolean v) {
      this.rebuildStore = v;
      return this;
    }

    /** The mass-deletion guard's budget (default {@link DeletionBudget#defaults()}). */
    public Builder budget(DeletionBudget v) {
      this.budget = Objects.requireNonNull(v, "budget");
      return this;
    }

    /** Parallelism, retries, timeouts, health gates (default {@link ExecutionOptions#defaults()}). */
    public Builder execution(ExecutionOptions v) {
      this.execution = Objects.requireNonNull(v, "execution");
      return this;
    }

    /** How long to wait for the store lock (default 30 s). */
    public Builder lockTimeout(Duration v) {
      this.lockTimeout = Durations.notNegative(v, "lockTimeout");
      return this;
    }

    /** Merge rules added to every provider's (default none). */
    public Builder rules(MergeRules v) {
      this.rules = Objects.requireNonNull(v, "rules");
      return this;
    }

    /**
     * Take over live objects carrying another owner's mark (default off): such an object is taken
     * over (flagged ADOPT, the previous owner named) only when this is on.
     */
    public Builder adoptFromOtherOwners(boolean v) {
      this.adoptFromOtherOwners = v;
      return this;
    }

    /**
     * Records that plans are made for {@code value} as {@code name} (default: nothing recorded):
     * the plan's options hold it as {@code setting.<name>}, so its id covers it and {@code
     * Reconciler.apply} refuses a reviewed plan made for another value, naming the option.
     *
     * <pre>{@code
     * SyncOptions.builder().setting("target", "/srv/config").build();
     * }</pre>
     */
    public Builder setting(String name, String value) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
      if (name.isBlank()) {
        throw new IllegalArgumentException("setting name must not be blank");
      }
      setting.put(name, value);
      return this;
    }

    /** The options. */
    public SyncOptions build() {
      return new SyncOptions(this);
    }
  }
}
