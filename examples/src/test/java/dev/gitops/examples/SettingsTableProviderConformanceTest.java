package dev.gitops.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.testkit.ProviderConformanceSuite;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;

/** The provider contract of gitops-testkit, against a real embedded H2 database (one per test). */
class SettingsTableProviderConformanceTest extends ProviderConformanceSuite<SettingsTableProvider> {

  private String url;

  static JsonNode json(String s) {
    try {
      return new ObjectMapper().readTree(s.replace('\'', '"'));
    } catch (Exception e) {
      throw new IllegalArgumentException(s, e);
    }
  }

  @Override
  protected SettingsTableProvider newProvider() {
    url = "jdbc:h2:mem:conformance-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    return new SettingsTableProvider(url);
  }

  @AfterEach
  void dropDatabase() throws Exception {
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("SHUTDOWN");
    }
  }

  @Override
  protected List<Resource> sampleResources() {
    return List.of(
        Resource.of(SettingsTableProvider.key("checkout.timeout"), json("{'value':'30s','description':'per checkout'}")),
        Resource.of(SettingsTableProvider.key("checkout.retries"), json("{'value':{'count':3,'backoff':[1,2.5]}}")),
        Resource.of(SettingsTableProvider.key("feature.dark-mode"), json("{'value':true}")),
        Resource.of(SettingsTableProvider.key("limits.max"), json("{'value':12345678901234}")),
        Resource.of(SettingsTableProvider.key("nothing"), json("{'value':null}")));
  }

  @Override
  protected Optional<Resource> modify(Resource r) {
    return Optional.of(r.withDocument(json("{'value':['changed'],'description':'changed by the test'}")));
  }

  /** A row written by hand whose value is not JSON: the provider cannot say what it holds. */
  @Override
  protected boolean makeUnobservable(SettingsTableProvider provider, ResourceKey key) throws Exception {
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement ps = c.prepareStatement("UPDATE settings SET setting_value = ? WHERE name = ?")) {
      ps.setString(1, "{not json");
      ps.setString(2, key.name());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    return true;
  }

  @Override
  protected Optional<Change> invalidChange(SettingsTableProvider provider) {
    Resource r = Resource.of(SettingsTableProvider.key("bad"), json("{'value':1,'colour':'red'}"));
    return Optional.of(createOf(r));
  }

  /** Rows hold exactly what was applied: no server defaults, no extra fields. */
  @Override
  protected void assertObservedMatches(ResourceKey key, JsonNode applied, JsonNode observed) {
    assertThat(observed).as(key.toString()).isEqualTo(Documents.freeze(applied));
  }

  @org.junit.jupiter.api.Test
  void aCreateWithoutADocumentOrOfAnotherKeyFailsNamingTheKey() {
    ResourceKey other = ResourceKey.of("db", "table", "orders");
    assertThat(provider().apply(Change.create(Resource.of(other, json("{'value':1}")), "x"),
        context()).message()).contains(other.toString()).contains("not a setting key");
    ResourceKey k = SettingsTableProvider.key("empty");
    assertThat(provider().apply(Change.builder(k, Action.CREATE).reason("x").build(), context()).message())
        .contains(k.toString());
    assertThat(provider().observe(List.of(other), context()).get(other).isUnknown()).isTrue();
  }
}
