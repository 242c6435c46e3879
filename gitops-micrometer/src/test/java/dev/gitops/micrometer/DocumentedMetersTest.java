package dev.gitops.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.core.Reconciler;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.testkit.InMemoryProvider;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's table of meters is what SyncMetrics registers: every name, its type and its tags,
 * once every meter was made (those made on the way too: a change applied, a guard's refusal).
 */
class DocumentedMetersTest {

  static final Pattern ROW = Pattern.compile("^\\| `(gitops\\.[a-z.]+)` \\| ([a-z ]+) \\|([^|]*)\\|", Pattern.MULTILINE);

  @Test
  void theReadmesTableListsExactlyTheMetersRegisteredWithTheirTypesAndTags() throws Exception {
    Map<String, String> documented = new TreeMap<>();
    Matcher m = ROW.matcher(Files.readString(Path.of("README.md")));
    while (m.find()) {
      Set<String> tags = new TreeSet<>(List.of("target", "provider"));
      Matcher t = Pattern.compile("`([a-z_]+)`").matcher(m.group(3));
      while (t.find()) {
        tags.add(t.group(1));
      }
      documented.put(m.group(1), m.group(2).trim() + " " + tags);
    }

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    SyncMetrics metrics = SyncMetrics.builder(registry).target("web").provider("memory").build();
    ObjectMapper json = new ObjectMapper();
    AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of(
        Resource.of(ResourceKey.of("memory", "thing", "", "a"), json.createObjectNode().put("n", 1)),
        Resource.of(ResourceKey.of("memory", "thing", "", "b"), json.createObjectNode().put("n", 1)))));
    try (Reconciler r = Reconciler.builder().source(metrics.timed(request -> desired.get()))
        .provider(InMemoryProvider.builder().id("memory").build()).store(new InMemoryStateStore()).listener(metrics)
        .build()) {
      r.sync();
      desired.set(State.of("r2", List.of()));
      assertThat(catchThrowable(r::sync)).isInstanceOf(PlanRefusedException.class);
    }

    Map<String, String> registered = new TreeMap<>();
    for (Meter meter : registry.getMeters()) {
      Set<String> tags = new TreeSet<>();
      meter.getId().getTags().stream().map(Tag::getKey).forEach(tags::add);
      String type = switch (meter.getId().getType()) {
        case TIMER -> "timer";
        case COUNTER -> "counter";
        case GAUGE -> meter instanceof io.micrometer.core.instrument.TimeGauge ? "time gauge" : "gauge";
        default -> meter.getId().getType().name().toLowerCase(Locale.ROOT);
      };
      String before = registered.put(meter.getId().getName(), type + " " + tags);
      assertThat(before == null || before.equals(type + " " + tags))
          .as("every meter named %s has the same type and tag keys (Prometheus requires it)", meter.getId().getName())
          .isTrue();
    }
    assertThat(registered).as("the README's table of meters").isEqualTo(documented);
  }
}
