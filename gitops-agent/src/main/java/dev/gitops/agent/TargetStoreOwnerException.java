package dev.gitops.agent;

import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;

/**
 * A target's sync refused on a state store another owner wrote, said in the agent's terms: the
 * target's {@code owner:} and {@code store:} keys in the agent's configuration, not the API's
 * "run as owner ...". The agent's status, readiness, notifications and log lines show this message,
 * and only this one.
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

  /**
   * {@code listener}, hearing a sync aborted on another owner's store in the agent's terms: its
   * {@link SyncEvent.Aborted} carries this exception instead of the API's. Every other event
   * passes as it is.
   */
  static SyncListener inAgentTerms(String target, SyncListener listener) {
    return event -> {
      if (event instanceof SyncEvent.Aborted a && of(target, a.error()) instanceof TargetStoreOwnerException t
          && t != a.error()) {
        listener.onEvent(new SyncEvent.Aborted(a.revision(), t));
      } else {
        listener.onEvent(event);
      }
    };
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
