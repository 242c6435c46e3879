package dev.gitops.core.store;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Run in a child JVM by {@link FileStateStoreTest}: takes the lock of the store in {@code args[0]}
 * (a reader's, through a read-only store, when {@code args[1]} is {@code read}), says so on
 * standard output, and waits to be killed (at most a minute).
 */
public final class LockHolderMain {
  private LockHolderMain() {}

  /** Locks {@code args[0]} and sleeps. */
  public static void main(String[] args) throws InterruptedException {
    boolean reader = args.length > 1 && args[1].equals("read");
    Path dir = Path.of(args[0]);
    FileStateStore store = reader ? FileStateStore.openReadOnly(dir) : FileStateStore.open(dir);
    store.lock(Duration.ofSeconds(30));
    System.out.println("LOCKED " + ProcessHandle.current().pid());
    System.out.flush();
    Thread.sleep(60_000);
  }
}
