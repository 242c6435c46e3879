package dev.gitops.cli;

import dev.gitops.core.SyncOptions;
import dev.gitops.core.plan.DeletionBudget;
import picocli.CommandLine.Option;

/**
 * Prune, adoption and mass-deletion guard flags (shared by plan, sync, diff, status and rollback).
 *
 * <pre class="language-shell">{@code
 * gitops sync --repo ./config --target /srv/config --max-deletions 25%
 * gitops plan --repo ./config --target /srv/config --no-prune --out plan.json
 * gitops sync --repo ./config --target /srv/config --no-prune --plan plan.json   # the plan's flags again
 * }</pre>
 */
public final class SafetyOptions {

  /** Whether to prune. */
  @Option(names = "--prune", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Delete what was removed from Git (default: on; --no-prune leaves it in place). "
          + "Use the same value for 'plan --out' and 'sync --plan'.")
  boolean prune = true;

  /** Whether deleting everything is allowed. */
  @Option(names = "--allow-empty",
      description = "Allow a sync that deletes every resource gitops owns (refused by default, exit 3: "
          + "a wrong --path or --ref looks just like that).")
  boolean allowEmpty;

  /** Whether to take over unmarked live objects. */
  @Option(names = "--adopt",
      description = "Take over live objects that Git declares but gitops did not create (they carry no gitops mark;"
          + " skipped by default, so a sync never overwrites what it did not make), and with --provider terraform a"
          + " working directory whose state gitops did not make. Objects marked by another owner are never taken."
          + " Use the same value for 'plan --out' and 'sync --plan'.")
  boolean adopt;

  /** The deletion budget: a count or a percentage. */
  @Option(names = "--rebuild-store",
      description = "Sync although the state store is missing or empty while live objects carry this owner's"
          + " mark (the store was lost): what Git declares is taken back into a new store; marked objects Git"
          + " does not declare are kept and listed as orphans, never deleted. Refused without it (exit 1).")
  boolean rebuildStore;

  @Option(names = DeletionLimit.FLAG, paramLabel = "N|P%", converter = DeletionLimit.Converter.class,
      description = "Refuse (exit 3) a sync that deletes or replaces more than N resources of a provider, or more "
          + "than P percent of what gitops owns for it (for example 10 or 25%%; default: no limit).")
  DeletionLimit maxDeletions;

  /** {@code base} with these flags applied. */
  SyncOptions applyTo(SyncOptions base) {
    DeletionBudget budget = base.budget().withAllowEmpty(allowEmpty);
    if (maxDeletions != null) {
      budget = maxDeletions.applyTo(budget);
    }
    return base.toBuilder().prune(prune).adopt(adopt).rebuildStore(rebuildStore).budget(budget).build();
  }
}
