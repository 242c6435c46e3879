package dev.gitops.api;

/** A store file cannot be read: the sync fails and every store write is forbidden until repaired. */
public class StoreCorruptException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** An error naming the file and what is wrong with it. */
  public StoreCorruptException(String message, Throwable cause) {
    super(message, cause);
  }
}
