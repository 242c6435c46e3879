package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HistoryAndRollbackTest {

  private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

  private static HistoryEntry entry(String id, SyncResult.Status status) {
    return new HistoryEntry(id, Instant.parse("2026-01-02T03:04:05.678Z"), "main@sha1:" + SHA, "planid0123456789", status,
        Map.of("CREATED", 2, "UNCHANGED", 1), "2 to create");
  }

  @Test
  void historyTableListsIdTimeRevisionPlanAndOutcome() {
    String table = HistoryCommand.table(List.of(entry("1700000000000-abcdef12", SyncResult.Status.SUCCEEDED)));
    List<String> lines = table.lines().toList();
    assertThat(lines.get(0)).startsWith("ID").contains("TIME").contains("REVISION").contains("PLAN").contains("OUTCOME");
    assertThat(lines.get(1)).contains("1700000000000-abcdef12").contains("2026-01-02 03:04:05Z")
        .contains("main@sha1:0123456789ab").contains("planid012345").contains("SUCCEEDED created=2 unchanged=1");
  }

  @Test
  void anEntrysOwnTextIsEscapedNeverSentToTheTerminal() {
    HistoryEntry forged = new HistoryEntry("1700-\u001b[31mRED\u202e", Instant.parse("2026-01-02T03:04:05Z"),
        "main@sha1:" + SHA, "plan\u001b]0;x\u0007", SyncResult.Status.SUCCEEDED, Map.of("CREATED\u001b[2J", 1), "");
    String table = HistoryCommand.table(List.of(forged));
    assertThat(table).doesNotContain("\u001b").doesNotContain("\u202e").doesNotContain("\u0007")
        .contains("1700-\\u001b[31mRED\\u202e").contains("created\\u001b[2j=1");
  }

  @Test
  void emptyHistorySaysSo() {
    assertThat(HistoryCommand.table(List.of())).isEqualTo("No syncs recorded yet.\n");
  }

  @Test
  void rollbackFindsAnEntryByIdOrUniquePrefix() {
    List<HistoryEntry> h = List.of(entry("1700-aa", SyncResult.Status.SUCCEEDED), entry("1800-bb", SyncResult.Status.SUCCEEDED));
    assertThat(RollbackCommand.find(h, "1800-bb").id()).isEqualTo("1800-bb");
    assertThat(RollbackCommand.find(h, "17").id()).isEqualTo("1700-aa");
    assertThatThrownBy(() -> RollbackCommand.find(h, "1")).hasMessageContaining("ambiguous");
    assertThatThrownBy(() -> RollbackCommand.find(h, "9")).hasMessage("no history entry '9' (see 'gitops history')");
  }

  private static HistoryEntry entry(String id, String revision, HistoryEntry.Operation operation) {
    return new HistoryEntry(id, Instant.parse("2026-01-02T03:04:05.678Z"), revision, "planid0123456789",
        SyncResult.Status.SUCCEEDED, Map.of("UNCHANGED", 1), "0 to create", "me", operation);
  }

  @Test
  void historyTableShowsEachEntrysOperationBeforeTheOutcome() {
    String table = HistoryCommand.table(List.of(entry("4-dd", "destroy", HistoryEntry.Operation.DESTROY),
        entry("3-cc", "destroy", HistoryEntry.Operation.DESTROY_ORPHAN),
        entry("2-bb", "main@sha1:" + SHA, HistoryEntry.Operation.FORGET),
        entry("1-aa", "main@sha1:" + SHA, HistoryEntry.Operation.SYNC)));
    List<String> lines = table.lines().toList();
    assertThat(lines.get(0)).matches("ID +TIME +REVISION +PLAN +OPERATION +OUTCOME");
    assertThat(lines.subList(1, 5)).satisfiesExactly(
        l -> assertThat(l).startsWith("4-dd").contains(" destroy         SUCCEEDED unchanged=1"),
        l -> assertThat(l).startsWith("3-cc").contains(" destroy_orphan  SUCCEEDED unchanged=1"),
        l -> assertThat(l).startsWith("2-bb").contains(" forget          SUCCEEDED unchanged=1"),
        l -> assertThat(l).startsWith("1-aa").contains(" sync            SUCCEEDED unchanged=1"));
  }

  /** A forget applied no revision, a destroy's is "destroy": neither is what syncing its revision returns to. */
  @Test
  void rollbackRefusesAForgetOrADestroyEntryNamingItsOperationAndASyncToGiveInstead() {
    List<HistoryEntry> h = List.of(entry("5-ee", "destroy", HistoryEntry.Operation.DESTROY),
        entry("4-dd", "destroy", HistoryEntry.Operation.DESTROY_ORPHAN),
        entry("3-cc", "main@sha1:" + SHA, HistoryEntry.Operation.FORGET),
        entry("2-bb", "main@sha1:" + "f".repeat(40), HistoryEntry.Operation.SYNC),
        entry("1-aa", "main@sha1:" + SHA, HistoryEntry.Operation.FORGET));
    assertThatThrownBy(() -> RollbackCommand.find(h, "3-cc")).hasMessage("history entry 3-cc is a forget ('gitops"
        + " forget': it stopped owning keys and applied no revision), not a sync: there is no revision it applied to"
        + " roll back to; give the id of a successful sync, such as 2-bb (main@sha1:ffffffffffff), the newest before"
        + " it ('gitops history' shows each entry's OPERATION)");
    assertThatThrownBy(() -> RollbackCommand.find(h, "5")).hasMessageStartingWith("history entry 5-ee is a destroy"
        + " (Reconciler.destroy(DELETE): it deleted every owned object), not a sync").hasMessageContaining("such as 2-bb");
    assertThatThrownBy(() -> RollbackCommand.find(h, "4-dd")).hasMessageStartingWith("history entry 4-dd is a"
        + " destroy_orphan (Reconciler.destroy(ORPHAN): it forgot every owned object), not a sync");
    assertThatThrownBy(() -> RollbackCommand.find(h, "1-aa")).hasMessageEndingWith("give the id of a successful sync"
        + " ('gitops history' shows each entry's OPERATION; none before it is recorded)");
    assertThat(RollbackCommand.find(h, "2").id()).isEqualTo("2-bb");
  }

  @Test
  void rollbackRefusesAFailedEntry() {
    List<HistoryEntry> h = List.of(entry("1700-aa", SyncResult.Status.FAILED));
    assertThatThrownBy(() -> RollbackCommand.find(h, "1700-aa")).hasMessageContaining("did not succeed (FAILED)");
  }
}
