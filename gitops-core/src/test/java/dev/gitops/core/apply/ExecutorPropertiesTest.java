package dev.gitops.core.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Cancellation;
import dev.gitops.api.Health;
import dev.gitops.api.Outcome;
import dev.gitops.api.Outcome.Kind;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class ExecutorPropertiesTest {

  private enum Behaviour { OK, PERMANENT, FLAKY, ALWAYS_TRANSIENT, DEGRADED }

  @Property(tries = 60)
  void randomGraphsRespectOrderBlockingAndRecordEachExecutedChangeOnce(
      @ForAll @IntRange(min = 1, max = 12) int size, @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 4) int parallelism, @ForAll boolean batches) {
    Random random = new Random(seed);
    FakeProvider provider = new FakeProvider("p", batches);
    Plans plans = Plans.of("p");
    Map<ResourceKey, Set<ResourceKey>> deps = new HashMap<>();
    Map<ResourceKey, Behaviour> behaviour = new HashMap<>();
    List<ResourceKey> keys = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      ResourceKey key = plans.key("n" + i);
      List<String> on = new ArrayList<>();
      for (int j = 0; j < i; j++) {
        if (random.nextInt(4) == 0) {
          on.add("n" + j);
        }
      }
      plans.create("n" + i, on.toArray(String[]::new));
      deps.put(key, new LinkedHashSet<>(on.stream().map(plans::key).toList()));
      Behaviour b = Behaviour.values()[random.nextInt(10) < 6 ? 0 : 1 + random.nextInt(4)];
      behaviour.put(key, b);
      switch (b) {
        case PERMANENT -> provider.script(key, (c, ctx) -> Outcome.permanentFailure("nope", null));
        case FLAKY -> provider.script(key, (c, ctx) -> Outcome.transientFailure("flaky", null));
        case ALWAYS_TRANSIENT -> provider.script(key, (c, ctx) -> Outcome.transientFailure("down", null),
            (c, ctx) -> Outcome.transientFailure("down", null));
        case DEGRADED -> provider.health(key, Health.progressing("starting"), Health.degraded("broken"));
        case OK -> { }
      }
      keys.add(key);
    }
    Plan plan = plans.build();
    RecordingHooks hooks = new RecordingHooks();
    ExecutionOptions options = ExecutionOptions.defaults().withParallelism(parallelism)
        .withRetry(new RetryPolicy(2, Duration.ofMillis(1), Duration.ofMillis(2), 0.2))
        .withHealthPollInterval(Duration.ofMillis(1));

    Map<ResourceKey, Outcome> out =
        new Executor(options).execute(plan, Map.of("p", provider), hooks, new Cancellation(), "owner");

    assertThat(out.keySet()).containsExactlyElementsOf(keys);
    assertThat(provider.maxRunning.get()).isLessThanOrEqualTo(parallelism);
    for (ResourceKey key : keys) {
      Outcome o = out.get(key);
      boolean depFailed = deps.get(key).stream().anyMatch(d -> !out.get(d).isOk());
      boolean sent = provider.attemptsOf(key) > 0;
      assertThat(sent).as("%s sent iff no dependency failed", key).isEqualTo(!depFailed);
      assertThat(hooks.afterCount(key)).as("afterOutcome calls of %s", key).isEqualTo(sent ? 1 : 0);
      assertThat(hooks.before.stream().filter(key::equals).count()).isEqualTo(sent ? 1 : 0);
      if (!sent) {
        assertThat(o.message()).startsWith("blocked by ");
        continue;
      }
      boolean shouldSucceed = behaviour.get(key) == Behaviour.OK || behaviour.get(key) == Behaviour.FLAKY;
      assertThat(o.kind()).as("%s (%s)", key, behaviour.get(key)).isEqualTo(shouldSucceed ? Kind.CREATED
          : behaviour.get(key) == Behaviour.ALWAYS_TRANSIENT ? Kind.TRANSIENT : Kind.PERMANENT);
      for (ResourceKey d : deps.get(key)) {
        assertThat(provider.indexOf("health:" + d.name() + ":HEALTHY"))
            .as("%s healthy before %s starts", d, key)
            .isGreaterThanOrEqualTo(0)
            .isLessThan(provider.indexOf("start:" + key.name()));
      }
    }
  }
}
