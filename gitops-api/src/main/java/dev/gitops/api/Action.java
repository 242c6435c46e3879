package dev.gitops.api;

/** What a plan does with one key. */
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
