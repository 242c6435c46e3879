package dev.gitops.agent;

import dev.gitops.api.StoreException;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;

/**
 * A target's sync refused because its state store is missing or empty while live objects carry
 * its mark, said with advice that works in the agent: the engine's message ends with the library's
 * and the CLI's way to rebuild a store, which the agent has not; this one says to put the store
 * back where the target's {@code store:} key points (after {@code agent.stateDir} moved, say). The
 * agent's status, readiness, notifications and log lines show this message.
 */
final class TargetStoreMissingException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** How the engine's message of a missing store starts its advice (what is replaced). */
  static final String ENGINE_ADVICE = "Restore the store, or rebuild it explicitly";

  TargetStoreMissingException(String target, String store, StoreException e) {
    super(e.getMessage().substring(0, e.getMessage().indexOf(ENGINE_ADVICE)) + advice(target, store), e);
  }

  private static String advice(String target, String store) {
    return "Put the target's store back: if agent.stateDir (or its 'store:' key) changed, move its store from where"
        + " it was (targets/" + target + " under the earlier stateDir) to " + store + ", or set 'store:' on target "
        + target + " to where it is. The agent cannot rebuild a store itself (no configuration key does).";
  }

  /** {@code e} with the agent's advice when it is the engine's refusal of a missing store; else {@code e} itself. */
  static Throwable of(String target, String store, Throwable e) {
    return e instanceof StoreException s && !(e instanceof TargetStoreMissingException) && e.getMessage() != null
        && e.getMessage().contains(ENGINE_ADVICE) ? new TargetStoreMissingException(target, store, s) : e;
  }

  /** {@code listener}, hearing a sync aborted on a missing store with the agent's advice; every other event as it is. */
  static SyncListener inAgentTerms(String target, String store, SyncListener listener) {
    return event -> {
      if (event instanceof SyncEvent.Aborted a && of(target, store, a.error()) instanceof TargetStoreMissingException t
          && t != a.error()) {
        listener.onEvent(new SyncEvent.Aborted(a.revision(), t));
      } else {
        listener.onEvent(event);
      }
    };
  }
}
