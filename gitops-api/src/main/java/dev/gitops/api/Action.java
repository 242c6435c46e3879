package dev.gitops.api;

/**
 * What a plan does with one key.
 *
 * <pre>{@code
 * plan.changes(Action.DELETE).forEach(c -> log.info("will delete {}", c.key()));
 * long writes = plan.changes().stream().filter(c -> c.action().mutates()).count();
 * long removals = plan.changes().stream().filter(c -> c.action().destroys()).count();   // DELETE and REPLACE
 * }</pre>
 */
public enum Action {
  /** Create the object. */
  CREATE,
  /** Patch the live object to the merged target. */
  UPDATE,
  /** Delete the object. */
  DELETE,
  /** Delete and create again, because a changed field cannot be updated in place. */
  REPLACE,
  /** Nothing to do. */
  NOOP,
  /** Not touched, with a reason (a conflict, a policy, an unknown observation). */
  SKIP,
  /** A planning provider reads a data source. */
  READ,
  /** A planning provider drops an object from its state without deleting it. */
  FORGET;

  /** Whether this action changes the live system. */
  public boolean mutates() {
    return this == CREATE || this == UPDATE || this == DELETE || this == REPLACE;
  }

  /** Whether this action removes a live object (for the deletion guard). */
  public boolean destroys() {
    return this == DELETE || this == REPLACE;
  }
}
