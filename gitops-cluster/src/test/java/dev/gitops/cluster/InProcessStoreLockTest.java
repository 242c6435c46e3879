package dev.gitops.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.spi.StoreLock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The in-process lock of the shared stores. */
class InProcessStoreLockTest {

  @Test
  void aCheckThatFailsOnAcquiringLeavesTheLockFreeWhateverItThrows() {
    InProcessStoreLock lock = new InProcessStoreLock("etcd store /gitops/default/store/payments/");
    assertThatThrownBy(() -> lock.acquire(Duration.ZERO, () -> {
      throw new FencedException("fenced: member m1 no longer owns target payments");
    })).isInstanceOf(FencedException.class);
    assertThatThrownBy(() -> lock.acquire(Duration.ZERO, () -> {
      throw new NoClassDefFoundError("io/etcd/jetcd/kv/GetResponse");  // a jar missing a class, say
    })).isInstanceOf(NoClassDefFoundError.class);
    assertThat(lock.isHeld()).isFalse();
    try (StoreLock held = lock.acquire(Duration.ZERO, () -> { })) {
      assertThat(lock.isHeld()).isTrue();
    }
    assertThat(lock.isHeld()).isFalse();
  }
}
