package dev.gitops.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Plan;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.TempGitRepo;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database provider driven by the whole engine: a Git repository ({@link TempGitRepo}) read by
 * {@link GitSource}, reconciled into a real embedded H2 database, with the state in a {@link
 * FileStateStore}: first sync, a change and a deletion in Git, drift corrected, rows Git never
 * declared left alone.
 */
class SettingsTableEndToEndTest {

  @TempDir Path tmp;
  private final String url = "jdbc:h2:mem:e2e-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";

  /** A row, as the database holds it. */
  record Row(String value, String description, long version) {}

  @AfterEach
  void dropDatabase() throws Exception {
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("SHUTDOWN");
    }
  }

  private Map<String, Row> rows() throws Exception {
    Map<String, Row> out = new TreeMap<>();
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT name, setting_value, description, row_version FROM settings")) {
      while (rs.next()) {
        out.put(rs.getString(1), new Row(rs.getString(2), rs.getString(3), rs.getLong(4)));
      }
    }
    return out;
  }

  private void sql(String statement, String... args) throws Exception {
    try (Connection c = DriverManager.getConnection(url); PreparedStatement ps = c.prepareStatement(statement)) {
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 1, args[i]);
      }
      ps.executeUpdate();
    }
  }

  @Test
  void rowsFollowGitThroughSyncChangeDeleteAndDrift() throws Exception {
    try (TempGitRepo repo = TempGitRepo.create()) {
      repo.write("settings/shop.yaml", """
          kind: Setting
          name: checkout.timeout
          value: 30s
          description: how long a checkout may take
          ---
          kind: Setting
          name: checkout.retries
          value: {count: 3, backoff: [1, 2]}
          """);
      repo.write("README.md", "settings of the shop");
      repo.commit("settings");
      SettingsTableProvider db = new SettingsTableProvider(url);
      try (GitSource source = GitSource.builder().url(repo.uri()).ref("main").build()) {
        Reconciler reconciler = Reconciler.builder().source(source).provider(db)
            .store(FileStateStore.open(tmp.resolve("state"))).build();

        SyncResult first = reconciler.sync();
        assertThat(first.isSuccessful()).as(first.toString()).isTrue();
        assertThat(rows()).containsOnlyKeys("checkout.retries", "checkout.timeout");
        assertThat(rows().get("checkout.timeout")).isEqualTo(new Row("\"30s\"", "how long a checkout may take", 1));
        assertThat(rows().get("checkout.retries").value()).isEqualTo("{\"backoff\":[1,2],\"count\":3}");

        sql("INSERT INTO settings (name, setting_value, description, row_version) VALUES ('ops.flag', 'true', NULL, 1)");
        repo.write("settings/shop.yaml", """
            kind: Setting
            name: checkout.timeout
            value: 45s
            """);
        repo.commit("longer timeout, no retries setting, no description");
        Plan plan = reconciler.plan();
        assertThat(plan.change(SettingsTableProvider.key("checkout.timeout")).orElseThrow().action()).isEqualTo(Action.UPDATE);
        assertThat(plan.change(SettingsTableProvider.key("checkout.retries")).orElseThrow().action()).isEqualTo(Action.DELETE);
        assertThat(reconciler.sync().isSuccessful()).isTrue();
        assertThat(rows()).as("a row Git never declared is not ours: left alone")
            .containsOnlyKeys("checkout.timeout", "ops.flag");
        assertThat(rows().get("checkout.timeout"))
            .as("the description removed from Git is removed from the row").isEqualTo(new Row("\"45s\"", null, 2));

        assertThat(reconciler.plan().change(SettingsTableProvider.key("checkout.timeout")).orElseThrow().action())
            .as("in sync (and the engine's merge cache now holds this row's version)").isEqualTo(Action.NOOP);
        sql("UPDATE settings SET setting_value = '\"5s\"' WHERE name = 'checkout.timeout'");
        Change drift = reconciler.plan().change(SettingsTableProvider.key("checkout.timeout")).orElseThrow();
        assertThat(drift.action()).isEqualTo(Action.UPDATE);
        assertThat(drift.drift()).as("edited by hand, row version untouched: still seen").isTrue();
        assertThat(reconciler.sync().isSuccessful()).isTrue();
        assertThat(rows().get("checkout.timeout").value()).isEqualTo("\"45s\"");

        assertThat(reconciler.plan().changes()).extracting(Change::action).containsOnly(Action.NOOP);
      }
    }
  }
}
