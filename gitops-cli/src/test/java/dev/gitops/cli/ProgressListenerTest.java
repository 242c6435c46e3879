package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ProgressListenerTest {

  static final ResourceKey A = ResourceKey.of("files", "file", "", "a");
  static final ResourceKey B = ResourceKey.of("files", "file", "", "b");
  static final ResourceKey C = ResourceKey.of("files", "file", "", "c");

  static Change create(ResourceKey k) {
    return Change.create(Resource.of(k, JsonNodeFactory.instance.objectNode()), "not present");
  }

  static Plan plan() {
    TreeMap<ResourceKey, java.util.SortedSet<ResourceKey>> deps = new TreeMap<>();
    deps.put(C, new TreeSet<>(List.of(A, B)));
    return new Plan("id", "main@sha1:" + "0".repeat(40), List.of(create(A), create(B), create(C)), deps,
        new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeSet<>());
  }

  static String run(boolean live, Outcome lastOutcome) {
    StringWriter sw = new StringWriter();
    ProgressListener l = new ProgressListener(new PrintWriter(sw), live);
    Plan p = plan();
    l.onEvent(new SyncEvent.Planned(p.revision(), p));
    l.onEvent(new SyncEvent.ChangeFinished(p.revision(), p.changes().get(0), Outcome.created(), 1));
    l.onEvent(new SyncEvent.ChangeFinished(p.revision(), p.changes().get(1), Outcome.created(), 1));
    l.onEvent(new SyncEvent.ChangeFinished(p.revision(), p.changes().get(2), lastOutcome, 1));
    l.awaitOutput();
    return sw.toString();
  }

  @Test
  void plainOutputHasOneLinePerChange() {
    String out = run(false, Outcome.created());
    assertThat(out).contains("[1/3] created files:file::a", "[3/3] created files:file::c").doesNotContain("\r");
  }

  @Test
  void terminalOutputRewritesOneLineWithCountsPerLayer() {
    String out = run(true, Outcome.created());
    assertThat(out).contains("\r\033[2Klayer 1: 1/2 | layer 2: 0/1")
        .contains("layer 1: 2/2 done | layer 2: 0/1")
        .endsWith("layer 1: 2/2 done | layer 2: 1/1 done\n")
        .doesNotContain("[1/3]");
  }

  @Test
  void terminalOutputStillPrintsFailuresOnTheirOwnLine() {
    String out = run(true, Outcome.permanentFailure("disk full", null));
    assertThat(out).contains("layer 1: 2/2 done | layer 2: 0/1\n").contains("[3/3] FAILED files:file::c: disk full");
  }

  @Test
  void keysAndMessagesFromTheRepositoryArePrintedEscapedOnOneLine() {
    // a file name and a provider's message may hold a line break, a terminal escape or a bidi override
    ResourceKey hostile = ResourceKey.of("files", "file", "", "a/new\nline\u001b[2J\u202etxt.conf");
    Change c = create(hostile);
    Plan p = new Plan("id", "main@sha1:" + "0".repeat(40), List.of(c), new TreeMap<>(), new TreeMap<>(),
        new TreeMap<>(), new TreeMap<>(), new TreeSet<>());
    StringWriter sw = new StringWriter();
    ProgressListener l = new ProgressListener(new PrintWriter(sw), false);
    l.onEvent(new SyncEvent.Planned(p.revision(), p));
    l.onEvent(new SyncEvent.Retrying(p.revision(), c, Outcome.transientFailure("busy:\n\u001b]0;owned\u0007", null), 1,
        java.time.Duration.ofMillis(10)));
    l.onEvent(new SyncEvent.ChangeFinished(p.revision(), c, Outcome.permanentFailure("no\nspace \u001b[31mleft", null), 2));
    l.awaitOutput();

    String out = sw.toString();
    assertThat(out).doesNotContain("\u001b", "\u202e", "\u0007")
        .contains("  retrying files:file::a/new\\nline\\u001b[2J\\u202etxt.conf in 10 ms (attempt 1 failed: busy:"
            + " \\u001b]0;owned\\u0007)\n")
        .contains("[1/1] FAILED files:file::a/new\\nline\\u001b[2J\\u202etxt.conf: no space \\u001b[31mleft"
            + " (after 2 attempts)\n");
    assertThat(out.lines()).noneMatch(line -> line.equals("line\u001b[2J\u202etxt.conf") || line.startsWith("line"));
  }

  @Test
  void aReplaceDoneSaysReplacedAndAForgetIsCountedAndSaysForgotten() {
    // a planning provider (Terraform) forgets an object: its state changes, the object stays
    Change replace = create(A).withAction(dev.gitops.api.Action.REPLACE, "an attribute cannot be updated in place");
    Change forget = create(B).withAction(dev.gitops.api.Action.FORGET, "removed from the configuration");
    Plan p = new Plan("id", "main@sha1:" + "0".repeat(40), List.of(replace, forget), new TreeMap<>(), new TreeMap<>(),
        new TreeMap<>(), new TreeMap<>(), new TreeSet<>());
    StringWriter sw = new StringWriter();
    ProgressListener l = new ProgressListener(new PrintWriter(sw), false);
    l.onEvent(new SyncEvent.Planned(p.revision(), p));
    l.onEvent(new SyncEvent.ChangeFinished(p.revision(), forget,
        new Outcome(Outcome.Kind.UNCHANGED, "forgotten: removed from the state, not destroyed", null, java.util.Map.of()),
        1));
    l.onEvent(new SyncEvent.ChangeFinished(p.revision(), replace, Outcome.configured(), 1));
    l.awaitOutput();
    assertThat(sw.toString()).contains("  [1/2] forgotten files:file::b: removed from the state, not destroyed\n")
        .contains("  [2/2] replaced files:file::a\n");
    assertThat(ProgressListener.verb(dev.gitops.api.Action.REPLACE, Outcome.permanentFailure("x", null)))
        .isEqualTo("FAILED");
  }

  @Test
  void theSummaryLineCountsEachOutcomeAsItsProgressLineCalledIt() {
    ResourceKey c = ResourceKey.of("files", "file", "", "c");
    ResourceKey d = ResourceKey.of("files", "file", "", "d");
    Change replaceDoneAsCreate = create(A).withAction(dev.gitops.api.Action.REPLACE, "type changed");
    Change replaceDoneAsUpdate = create(B).withAction(dev.gitops.api.Action.REPLACE, "type changed");
    Change forget = create(c).withAction(dev.gitops.api.Action.FORGET, "removed from the configuration");
    Change update = create(d).withAction(dev.gitops.api.Action.UPDATE, "changed in Git");
    Plan p = new Plan("id", "main@sha1:" + "0".repeat(40), List.of(replaceDoneAsCreate, replaceDoneAsUpdate, forget,
        update), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeSet<>());
    TreeMap<ResourceKey, Outcome> outcomes = new TreeMap<>();
    outcomes.put(A, Outcome.created());
    outcomes.put(B, Outcome.configured());
    outcomes.put(c, new Outcome(Outcome.Kind.UNCHANGED, "forgotten", null, java.util.Map.of()));
    outcomes.put(d, Outcome.configured());
    dev.gitops.api.SyncResult r = new dev.gitops.api.SyncResult(p.revision(), p,
        dev.gitops.api.SyncResult.Status.SUCCEEDED, outcomes, java.time.Duration.ZERO, "h1");
    assertThat(SyncCommand.counts(r)).isEqualTo("0 created, 1 updated, 2 replaced, 0 deleted, 1 forgotten, 0 unchanged,"
        + " 0 skipped");

    outcomes.clear();
    outcomes.put(d, Outcome.configured());
    r = new dev.gitops.api.SyncResult(p.revision(), p, dev.gitops.api.SyncResult.Status.SUCCEEDED, outcomes,
        java.time.Duration.ZERO, "h2");
    assertThat(SyncCommand.counts(r)).as("no replace or forget done: the usual five counts")
        .isEqualTo("0 created, 1 updated, 0 deleted, 0 unchanged, 0 skipped");
  }

  @Test
  void waitingForHealthShowsTheStatusAndWhy() {
    StringWriter sw = new StringWriter();
    ProgressListener l = new ProgressListener(new PrintWriter(sw), false);
    l.onEvent(new SyncEvent.WaitingForHealth("main@sha1:" + "0".repeat(40), A,
        dev.gitops.api.Health.progressing("2 of 3 replicas ready")));
    l.awaitOutput();
    assertThat(sw.toString())
        .isEqualTo("  waiting for files:file::a to become healthy: PROGRESSING (2 of 3 replicas ready)\n");
  }

  @Test
  void aMessageThatStartsWithItsKeyShowsTheKeyOnce() {
    // providers write "<key>: why" so that a message stands alone in a log; the line names the key already
    String out = run(false, Outcome.permanentFailure("files:file::c: cannot write: disk full", null));
    assertThat(out).contains("[3/3] FAILED files:file::c: cannot write: disk full\n");
    assertThat(ProgressListener.message(C, "files:file::c failed at task 'x'")).isEqualTo("failed at task 'x'");
    assertThat(ProgressListener.message(C, "files:file::cc: another key")).isEqualTo("files:file::cc: another key");
    assertThat(ProgressListener.message(C, "files:file::c")).isEqualTo("files:file::c");
  }

  @Test
  void thePlanTextPrintedOnItsOwnThreadComesWholeBeforeTheNextLineAndAwaitOutputWaitsForIt() {
    StringWriter sw = new StringWriter();
    ProgressListener l = new ProgressListener(new PrintWriter(sw), false);
    Plan p = plan();
    l.onEvent(new SyncEvent.Planned(p.revision(), p));
    l.awaitOutput();
    String planText = sw.toString();
    assertThat(planText).contains("files:file::a", "files:file::c").endsWith("Plan: " + p.summary() + "\n");

    l.onEvent(new SyncEvent.ChangeFinished(p.revision(), p.changes().get(0), Outcome.created(), 1));
    l.awaitOutput();
    assertThat(sw.toString()).startsWith(planText).endsWith("[1/3] created files:file::a\n");
  }

  @Test
  void eventsDoNotWaitForASlowOutputAndAreStillPrintedInTheirOrder() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    StringWriter sw = new StringWriter();
    // a terminal that takes every write only once released
    PrintWriter slow = writingThrough(text -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      sw.write(text);
    });
    ProgressListener l = new ProgressListener(slow, false);
    Plan p = plan();
    java.util.concurrent.CompletableFuture<Void> events = java.util.concurrent.CompletableFuture.runAsync(() -> {
      l.onEvent(new SyncEvent.Planned(p.revision(), p));
      for (Change c : p.changes()) {
        l.onEvent(new SyncEvent.ChangeFinished(p.revision(), c, Outcome.created(), 1));
      }
    });

    events.get(10, java.util.concurrent.TimeUnit.SECONDS);  // returned while nothing could be written
    assertThat(sw.toString()).isEmpty();
    release.countDown();
    l.awaitOutput();

    String out = sw.toString();
    assertThat(out.indexOf("Plan: " + p.summary())).isNotNegative().isLessThan(out.indexOf("[1/3] created"));
    assertThat(out.indexOf("[1/3] created")).isLessThan(out.indexOf("[2/3] created"));
    assertThat(out).endsWith("[3/3] created files:file::c\n");
  }

  @Test
  void aFailureToPrintIsThrownByALaterEventAndTheLinesAfterItStillPrint() throws Exception {
    StringWriter sw = new StringWriter();
    java.util.concurrent.CountDownLatch printedAfterIt = new java.util.concurrent.CountDownLatch(1);
    boolean[] broken = {true};
    PrintWriter flaky = writingThrough(text -> {
      if (broken[0]) {
        broken[0] = false;
        throw new StackOverflowError("terminal gone");  // an error too: the output thread goes on
      }
      sw.write(text);
      printedAfterIt.countDown();
    });
    ProgressListener l = new ProgressListener(flaky, false);
    Plan p = plan();
    // the output thread may fail on the first line before this call looks for a failure (which it
    // then throws), or before or after the next call hands it the second line
    Throwable first = org.assertj.core.api.Assertions.catchThrowable(
        () -> l.onEvent(new SyncEvent.SourceRead("main@sha1:" + "1".repeat(40), false, false, 1)));
    Throwable second = org.assertj.core.api.Assertions.catchThrowable(
        () -> l.onEvent(new SyncEvent.ChangeFinished(p.revision(), p.changes().get(0), Outcome.created(), 1)));
    // printed in order: once the second line is out, the failure on the first is recorded
    assertThat(printedAfterIt.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    Throwable third = org.assertj.core.api.Assertions.catchThrowable(
        () -> l.onEvent(new SyncEvent.ChangeFinished(p.revision(), p.changes().get(1), Outcome.created(), 1)));

    // thrown once, by the first event that looks after it failed (the reconciler logs a listener's
    // failure and goes on)
    List<Throwable> thrownBy = java.util.stream.Stream.of(first, second, third).filter(t -> t != null).toList();
    assertThat(thrownBy).as("thrown by exactly one event").hasSize(1);
    Throwable thrown = thrownBy.get(0);
    assertThat(thrown).isInstanceOf(IllegalStateException.class).hasMessageContaining("terminal gone")
        .hasCauseInstanceOf(StackOverflowError.class);
    l.awaitOutput();
    assertThat(sw.toString()).isEqualTo("  [1/0] created files:file::a\n  [2/0] created files:file::b\n");
  }

  /** A writer that hands each write to {@code write}; flushing and closing do nothing. */
  private static PrintWriter writingThrough(java.util.function.Consumer<String> write) {
    return new PrintWriter(new java.io.Writer() {
      @Override
      public void write(char[] chars, int off, int len) {
        write.accept(new String(chars, off, len));
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    });
  }

  @Test
  void aRewrittenHistorySaysWhatHappenedInTheSourcesWordsAndOnlyForItsRevision() {
    String older = "main@sha1:" + "1".repeat(40);
    String newer = "main@sha1:" + "2".repeat(40);
    String why = older + " is an older commit than " + newer + ", the revision last applied: the branch refs/heads/main"
        + " moved back (a rollback; flagged as history rewritten)";
    StringWriter sw = new StringWriter();
    ProgressListener l = new ProgressListener(new PrintWriter(sw), false);
    l.explainRewrites(() -> java.util.Optional.of(why));
    l.onEvent(new SyncEvent.SourceRead(older, false, true, 1));
    l.awaitOutput();
    assertThat(sw.toString()).contains("warning: " + why + "\n").doesNotContain("does not descend");

    // a reason about another revision (or none, from a source that gives none) is not shown: the flag is said plainly
    sw = new StringWriter();
    l = new ProgressListener(new PrintWriter(sw), false);
    l.explainRewrites(() -> java.util.Optional.of(why));
    l.onEvent(new SyncEvent.SourceRead("main@sha1:" + "3".repeat(40), false, true, 1));
    l.awaitOutput();
    assertThat(sw.toString()).contains("warning: history was rewritten: main@sha1:333333333333 does not descend from the last"
        + " revision read").doesNotContain("rollback");

    // a reason from the repository (a tag name) is printed on one line, escaped
    sw = new StringWriter();
    l = new ProgressListener(new PrintWriter(sw), false);
    l.explainRewrites(() -> java.util.Optional.of("the version range '^1' now resolves to " + older + "\n\u001b[2J"));
    l.onEvent(new SyncEvent.SourceRead(older, false, true, 1));
    l.awaitOutput();
    assertThat(sw.toString()).doesNotContain("\u001b").startsWith("Read ").endsWith("\n")
        .satisfies(o -> assertThat(o.lines()).hasSize(2));

    // not flagged: no warning at all
    sw = new StringWriter();
    l = new ProgressListener(new PrintWriter(sw), false);
    l.explainRewrites(() -> java.util.Optional.of(why));
    l.onEvent(new SyncEvent.SourceRead(older, false, false, 1));
    l.awaitOutput();
    assertThat(sw.toString()).doesNotContain("warning");
  }
}
