package dev.gitops.agent;

import dev.gitops.api.StoreOwnerException;

/**
 * A target's sync refused on a state store another owner wrote, said in the agent's terms: the
 * target's {@code owner:} and {@code store:} keys in the agent's configuration, not the API's
 * "run as owner ...". The agent's status, readiness and log lines show this message.
 */
final class TargetStoreOwnerException extends StoreOwnerException {
  private static final long serialVersionUID = 1L;

  private final String target;

  TargetStoreOwnerException(String target, StoreOwnerException e) {
    super(e.store(), e.recordedOwner(), e.requestedOwner());
    this.target = target;
    initCause(e);
  }

  /** {@code e} in the agent's terms when it is a refusal of another owner's store; else {@code e} itself. */
  static Throwable of(String target, Throwable e) {
    return e instanceof StoreOwnerException o && !(e instanceof TargetStoreOwnerException)
        ? new TargetStoreOwnerException(target, o) : e;
  }

  @Override
  public String getMessage() {
    return "target " + target + ": the state store " + store() + " belongs to owner '" + recordedOwner()
        + "', not to the target's owner '" + requestedOwner() + "' (its 'owner:' key, default its name): each would"
        + " take the other's records as its own and drop what it does not declare; nothing was applied or recorded."
        + " Set 'owner: " + recordedOwner() + "' on target " + target + " in the agent's configuration, or give it a"
        + " store of its own with its 'store:' key (default: <stateDir>/targets/" + target + ")";
  }
}
