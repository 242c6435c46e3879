package dev.gitops.api;

/**
 * A store file cannot be read: the sync fails and every store write is forbidden until repaired.
 *
 * <pre>{@code
 * try (FileStateStore files = FileStateStore.open(dir)) {
 *   StoredState s = files.load();
 * } catch (StoreCorruptException e) {
 *   log.error("{}: repair the store before the next sync", e.getMessage());   // names the file
 * }
 * }</pre>
 */
public class StoreCorruptException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** An error naming the file and what is wrong with it. */
  public StoreCorruptException(String message, Throwable cause) {
    super(message, cause);
  }
}
