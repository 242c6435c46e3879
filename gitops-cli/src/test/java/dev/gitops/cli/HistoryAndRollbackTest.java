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

  @Test
  void rollbackRefusesAFailedEntry() {
    List<HistoryEntry> h = List.of(entry("1700-aa", SyncResult.Status.FAILED));
    assertThatThrownBy(() -> RollbackCommand.find(h, "1700-aa")).hasMessageContaining("did not succeed (FAILED)");
  }
}
