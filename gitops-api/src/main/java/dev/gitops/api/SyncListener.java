package dev.gitops.api;

/**
 * Receives the events of every sync, in order, on the thread that produced them. Listeners must
 * be quick and must not throw; an exception is logged and otherwise ignored.
 *
 * <pre>{@code
 * SyncListener progress = e -> {
 *   if (e instanceof SyncEvent.ChangeFinished f) {
 *     log.info("{} {}", f.change().key(), f.outcome().kind());
 *   }
 * };
 * Reconciler.Builder builder = Reconciler.builder().listener(progress);
 * }</pre>
 */
@FunctionalInterface
public interface SyncListener {
  /** Called for each event. */
  void onEvent(SyncEvent event);
}
