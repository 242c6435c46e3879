package dev.gitops.cluster.etcd;

import io.etcd.jetcd.Client;
import java.time.Clock;

/** For tests outside the package: the clock an {@link EtcdCoordinator} times its lease by when none is given. */
public final class EtcdCoordinatorClock {

  private EtcdCoordinatorClock() {}

  /** The default clock of a coordinator built over a client that is never connected. */
  public static Clock defaultClock() {
    try (Client unused = Client.builder().endpoints("http://127.0.0.1:1").build();
        EtcdCoordinator c = EtcdCoordinator.builder(unused, "m1").build()) {
      return c.clock();
    }
  }
}
