package dev.gitops.core.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Outcome.Kind;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.Provider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The executor hands the store a round's pending writes together and flushes outcomes before it sends more. */
@Timeout(10)
class GroupCommitHooksTest {

  /** Logs pending rounds, outcomes taken and flushes, in order; the flush may fail. */
  static final class BatchingHooks implements ExecutionHooks {
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final List<List<String>> rounds = new ArrayList<>();
    RuntimeException flushFailure;

    @Override
    public Map<ResourceKey, RuntimeException> beforeApplyAll(List<Change> changes) {
      List<String> names = changes.stream().map(c -> c.key().name()).toList();
      rounds.add(names);
      log.add("pending:" + names);
      return Map.of();
    }

    @Override
    public void afterOutcome(Change change, Outcome outcome) {
      log.add("outcome:" + change.key().name());
    }

    @Override
    public void flushOutcomes() {
      log.add("flush");
      if (flushFailure != null) {
        throw flushFailure;
      }
    }
  }

  final BatchingHooks hooks = new BatchingHooks();

  Map<ResourceKey, Outcome> run(Plan plan, Provider provider) {
    return new Executor(ExecutorTest.FAST).execute(plan, Map.of(provider.id(), provider), hooks, new Cancellation(),
        "owner-1");
  }

  @Test
  void aRoundsPendingWritesAreOneCallAndOutcomesAreFlushedBeforeTheNextRound() {
    FakeProvider provider = new FakeProvider("p", true);
    Plan plan = Plans.of("p").create("a").create("b").create("c").create("d").create("e").create("f", "a").build();

    Map<ResourceKey, Outcome> out = run(plan, provider);

    assertThat(out.values()).extracting(Outcome::kind).containsOnly(Kind.CREATED);
    assertThat(hooks.rounds).containsExactly(List.of("a", "b", "c", "d", "e"), List.of("f"));
    List<String> log = hooks.log;
    int secondRound = log.indexOf("pending:[f]");
    assertThat(log.subList(0, secondRound)).as("a's outcome is flushed before f is sent")
        .containsSubsequence("outcome:a", "flush");
    assertThat(log.get(log.size() - 1)).as("the last outcomes are flushed before execute returns").isEqualTo("flush");
    assertThat(log.lastIndexOf("outcome:f")).isLessThan(log.size() - 1);
  }

  @Test
  void aFailedFlushFailsTheChangesItHeldAndSendsNothingMore() {
    FakeProvider provider = new FakeProvider("p", false);
    hooks.flushFailure = new IllegalStateException("disk full");
    Plan plan = Plans.of("p").create("a").create("b", "a").build();

    Map<ResourceKey, Outcome> out = run(plan, provider);

    Outcome a = out.get(Plans.key("p", "a"));
    assertThat(a.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(a.message()).contains("created but recording the outcome failed: disk full");
    assertThat(out.get(Plans.key("p", "b")).isOk()).isFalse();
    assertThat(provider.log).noneMatch(s -> s.equals("start:b"));
  }
}
