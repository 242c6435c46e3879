package dev.gitops.notify;

/**
 * Delivers notifications somewhere. {@link #send} never blocks and never throws: a notifier that
 * cannot keep up drops notifications and counts them ({@link #dropped()}), so a sync is never held
 * up or failed by a slow or broken endpoint.
 *
 * <pre>{@code
 * try (Notifier hook = WebhookNotifier.builder(URI.create("https://hooks.example.com/gitops")).build()) {
 *   hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", revision, "1 of 4 changes failed"));
 * }
 * }</pre>
 */
public interface Notifier extends AutoCloseable {

  /** A short name for logs and metrics, for example {@code webhook https://hooks.example.com/gitops}. */
  String name();

  /** Queues {@code notification} when the notifier's filter accepts it; returns at once. */
  void send(Notification notification);

  /**
   * Notifications dropped so far: the queue was full, every attempt to deliver failed, or it was
   * sent once {@link #close()} had begun.
   */
  long dropped();

  /** Stops: delivers what is queued for a short while, then drops the rest. */
  @Override
  void close();
}
