package dev.gitops.k8s.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.ResourceKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ReadYourWritesTest {

  private static final ResourceKey KEY = ResourceKey.of("k8s", "batch/Job", "default", "migrate");
  private final AtomicLong now = new AtomicLong();
  private final ReadYourWrites reads = new ReadYourWrites(Duration.ofSeconds(30), now::get);
  private final AtomicInteger serverReads = new AtomicInteger();

  private static GenericKubernetesResource at(String uid, String resourceVersion) {
    GenericKubernetesResource r = new GenericKubernetesResource();
    r.setMetadata(new ObjectMetaBuilder().withName("migrate").withUid(uid).withResourceVersion(resourceVersion).build());
    return r;
  }

  private Supplier<GenericKubernetesResource> server(GenericKubernetesResource answer) {
    return () -> {
      serverReads.incrementAndGet();
      return answer;
    };
  }

  private static String version(GenericKubernetesResource r) {
    return r == null ? null : r.getMetadata().getResourceVersion();
  }

  @Test
  void withNothingWrittenTheInformersCopyIsRead() {
    assertThat(reads.current(KEY, at("u", "5"), server(at("u", "9")))).extracting(ReadYourWritesTest::version)
        .isEqualTo("5");
    assertThat(serverReads).hasValue(0);
    assertThat(reads.isAwaited(KEY)).isFalse();
  }

  @Test
  void aWriteIsReadFromTheServerUntilTheInformerShowsIt() {
    reads.wrote(KEY, at("u", "1"));
    assertThat(version(reads.current(KEY, null, server(at("u", "1"))))).isEqualTo("1");
    assertThat(serverReads).hasValue(1);
    assertThat(version(reads.current(KEY, at("u", "1"), server(at("u", "1"))))).isEqualTo("1");
    assertThat(serverReads).as("the informer shows the write: read there from now on").hasValue(1);
    assertThat(reads.isAwaited(KEY)).isFalse();
  }

  @Test
  void aReadNeverGoesBackToOurOlderWriteOnceTheServerAnsweredANewerVersion() {
    // we create (version 1), a controller writes the status (version 2) before the informer saw either
    reads.wrote(KEY, at("u", "1"));
    assertThat(version(reads.current(KEY, null, server(at("u", "2"))))).isEqualTo("2");
    // the informer now delivers our create: its copy is older than what was already read
    assertThat(version(reads.current(KEY, at("u", "1"), server(at("u", "2"))))).isEqualTo("2");
    assertThat(reads.isAwaited(KEY)).isTrue();
    // once it shows the status write, the informer is read again
    int before = serverReads.get();
    assertThat(version(reads.current(KEY, at("u", "2"), server(at("u", "3"))))).isEqualTo("2");
    assertThat(serverReads).hasValue(before);
    assertThat(reads.isAwaited(KEY)).isFalse();
  }

  @Test
  void aDeleteIsReadFromTheServerUntilTheInformerDropsThatObject() {
    reads.deleted(KEY, "u");
    assertThat(reads.current(KEY, at("u", "4"), server(null))).isNull();
    assertThat(reads.current(KEY, null, server(at("u", "4")))).as("gone from the informer").isNull();
    assertThat(reads.isAwaited(KEY)).isFalse();
  }

  @Test
  void anObjectCreatedAgainAfterOurDeleteIsAwaitedAtItsNewVersion() {
    reads.deleted(KEY, "u");
    assertThat(version(reads.current(KEY, at("u", "4"), server(at("v", "7"))))).isEqualTo("7");
    // the informer drops the old object before it shows the new one: still the server's answer
    assertThat(version(reads.current(KEY, null, server(at("v", "7"))))).isEqualTo("7");
    assertThat(version(reads.current(KEY, at("v", "7"), server(null)))).isEqualTo("7");
    assertThat(reads.isAwaited(KEY)).isFalse();
  }

  @Test
  void anObjectDeletedByOthersAfterOurUpdateStaysAbsentUntilTheInformerDropsIt() {
    reads.wrote(KEY, at("u", "1"));
    // the informer still shows the object before our update; the server says someone deleted it since
    assertThat(reads.current(KEY, at("u", "0"), server(null))).isNull();
    // the informer then shows our update: older than the server's answer, so not read
    assertThat(reads.current(KEY, at("u", "1"), server(null))).as("not back to our write").isNull();
    assertThat(reads.isAwaited(KEY)).isTrue();
    assertThat(reads.current(KEY, null, server(at("w", "9")))).as("the informer dropped it").isNull();
    assertThat(reads.isAwaited(KEY)).isFalse();
  }

  @Test
  void anInformerThatNeverCatchesUpIsTrustedAgainAfterTheWindow() {
    reads.wrote(KEY, at("u", "1"));
    assertThat(version(reads.current(KEY, null, server(at("u", "1"))))).isEqualTo("1");
    now.addAndGet(Duration.ofSeconds(31).toNanos());
    assertThat(version(reads.current(KEY, null, server(at("u", "1"))))).as("one last read from the server")
        .isEqualTo("1");
    int before = serverReads.get();
    assertThat(reads.current(KEY, null, server(at("u", "1")))).isNull();
    assertThat(serverReads).hasValue(before);
  }

  @Test
  void keysNeverReadAgainAfterTheirWindowDoNotPileUp() {
    for (int i = 0; i < 10_000; i++) {
      if (i % 1_000 == 0) {
        now.addAndGet(Duration.ofSeconds(31).toNanos());
      }
      reads.deleted(ResourceKey.of("k8s", "/ConfigMap", "default", "cm-" + i), "u" + i);
    }
    assertThat(reads.awaitedCount()).as("only the last window's records, and at most a sweep's worth more")
        .isLessThanOrEqualTo(1_000 + 256);
  }
}
