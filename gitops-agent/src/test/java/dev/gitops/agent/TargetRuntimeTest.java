package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.TargetConfig;
import dev.gitops.agent.spi.Placement;
import dev.gitops.api.spi.StateStore;
import dev.gitops.core.store.InMemoryStateStore;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One target's start and stop, below the agent. */
class TargetRuntimeTest {

  @TempDir
  Path dir;

  final MemoryProviderFactory memory = new MemoryProviderFactory();

  TargetConfig target(String name) {
    String yaml = """
        agent: {stateDir: state}
        targets:
          - name: %s
            source: {url: "https://git.example.com/ops.git"}
            provider: {type: memory}
            interval: 1h
        """.formatted(name);
    return AgentConfig.parse(dir.resolve("agent.yaml"), yaml.getBytes(StandardCharsets.UTF_8),
        Map.of("memory", memory), Map.of(), true).targets().get(0);
  }

  /** A store that counts its closes, each of which fails. */
  static StateStore failingToClose(AtomicInteger closes) {
    StateStore delegate = new InMemoryStateStore();
    return (StateStore) Proxy.newProxyInstance(StateStore.class.getClassLoader(), new Class<?>[] {StateStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("close")) {
            closes.incrementAndGet();
            throw new IllegalStateException("injected: the store cannot close");
          }
          try {
            return method.invoke(delegate, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  @Test
  void aTargetThatFailsToStartPartWayClosesEverythingItCreatedEvenWhenOneCloseFails() {
    AtomicInteger storeCloses = new AtomicInteger();
    Placement placement = new Placement() {
      @Override
      public void start(Control control) {}

      @Override
      public void configured(Set<String> targets) {}

      @Override
      public Optional<StateStore> openStore(TargetConfig target) {
        return Optional.of(failingToClose(storeCloses));
      }

      @Override
      public void close() {}
    };
    // the target's meters cannot be registered: the start fails after its provider, source and store exist
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        throw new IllegalStateException("injected: no meter may be registered");
      }
    });
    TargetRuntime.Shared shared = new TargetRuntime.Shared(new SyncSlots(1), new Notifications(null), registry,
        dir.resolve("state"), Clock.systemUTC(), System::nanoTime, Duration.ofMinutes(15), Map.of(), placement);

    IllegalStateException e = catchThrowableOfType(() -> TargetRuntime.start(target("web"), shared),
        IllegalStateException.class);

    assertThat(e).as("the failure that stopped the start, not the one closing after it")
        .hasMessageContaining("no meter may be registered");
    assertThat(storeCloses).as("its store was closed").hasValue(1);
    assertThat(memory.closes("web")).as("its provider was closed although closing the store failed").isEqualTo(1);
    assertThat(e.getSuppressed()).as("the failed close is kept with the failure")
        .anySatisfy(s -> assertThat(s).hasMessageContaining("closing its state store")
            .hasMessageContaining("the store cannot close"));
  }
}
