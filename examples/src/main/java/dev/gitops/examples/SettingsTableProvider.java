package dev.gitops.examples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.decode.DocumentMapping;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A provider in one file: keeps the rows of a database table in line with {@code kind: Setting}
 * documents in Git, through plain JDBC. The tests run it against an embedded H2 database; the SQL
 * is standard, so any database with a JDBC driver will do.
 *
 * <p>In Git (any {@code *.yaml}, {@code *.yml} or {@code *.json} file; documents of other shapes in
 * the generic manifest format):
 *
 * <pre class="language-yaml">{@code
 * kind: Setting
 * name: checkout.timeout
 * value: 30s                      # any YAML value; stored as JSON text
 * description: how long a checkout may take   # optional
 * }</pre>
 *
 * <p>In the database, one row per setting:
 *
 * <pre class="language-sql">{@code
 * CREATE TABLE settings (name VARCHAR(200) PRIMARY KEY, setting_value VARCHAR(100000) NOT NULL,
 *                        description VARCHAR(1000), row_version BIGINT NOT NULL)
 * }</pre>
 *
 * <p>Each setting is the resource {@code db:setting::<name>} with the document {@code {"value":
 * ..., "description": "..."}}. Reading Git needs no decoder code: the {@link DocumentMapping}
 * in {@link #decoder()} maps the documents. Wiring it up:
 *
 * <pre>{@code
 * try (Reconciler reconciler = Reconciler.builder()
 *     .source(GitSource.builder().url("https://git.example.com/ops/settings.git").ref("main").build())
 *     .provider(new SettingsTableProvider("jdbc:h2:/var/lib/shop/settings"))
 *     .store(FileStateStore.open(Path.of("/var/lib/shop/gitops")))
 *     .build()) {      // close() closes the Git source and the store
 *   reconciler.sync();   // rows created, changed and deleted to match Git; rows Git never declared are left alone
 * }
 * }</pre>
 *
 * <p>What makes it a well-behaved provider (and what {@code SettingsTableProviderConformanceTest}
 * checks): observe answers every key, ABSENT for a missing row and UNKNOWN (never absent) when the
 * database cannot be read or a row holds something that is not JSON; the version token changes
 * whenever the row changes; every write is idempotent (an upsert; deleting a missing row
 * succeeds); failures name the key and are TRANSIENT only when the connection failed.
 */
public final class SettingsTableProvider implements Provider {

  /** This provider's id. */
  public static final String ID = "db";
  /** The one resource type. */
  public static final String TYPE = "setting";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> FIELDS = Set.of("value", "description");
  /** How many names one SELECT asks for. */
  private static final int CHUNK = 500;
  /** {@code kind: Setting} documents: the name is the key, the rest is the document. */
  private static final DocumentMapping SETTINGS = DocumentMapping.when("/kind", "Setting")
      .provider(ID).type(TYPE).nameFrom("/name").without("/kind", "/name").build();

  private final String url;
  private final String user;
  private final String password;

  /**
   * A provider over the {@code settings} table of the database at {@code jdbcUrl}, created if it
   * does not exist.
   *
   * @throws IllegalStateException naming the URL when the database cannot be reached
   */
  public SettingsTableProvider(String jdbcUrl) {
    this(jdbcUrl, "", "");
  }

  /** Like {@link #SettingsTableProvider(String)}, logging in as {@code user}. */
  public SettingsTableProvider(String jdbcUrl, String user, String password) {
    this.url = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    this.user = Objects.requireNonNull(user, "user");
    this.password = Objects.requireNonNull(password, "password");
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS settings (name VARCHAR(200) PRIMARY KEY, "
          + "setting_value VARCHAR(100000) NOT NULL, description VARCHAR(1000), row_version BIGINT NOT NULL)");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create the settings table at " + url + ": " + e.getMessage(), e);
    }
  }

  /** The key of the setting {@code name}. */
  public static ResourceKey key(String name) {
    return ResourceKey.of(ID, TYPE, name);
  }

  @Override
  public String id() {
    return ID;
  }

  /** Reads {@code kind: Setting} documents; other documents in the generic manifest format. */
  @Override
  public Optional<Decoder> decoder() {
    return Optional.of(YamlManifestDecoder.builder().map(SETTINGS).build());
  }

  /**
   * Reads the rows of {@code keys}. A key that is not a setting, a row whose value is not JSON,
   * or a database that cannot be read is UNKNOWN with the reason: never taken as absent.
   */
  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    Map<ResourceKey, Observation> out = new LinkedHashMap<>();
    List<ResourceKey> settings = new ArrayList<>();
    for (ResourceKey k : keys) {
      if (isSetting(k)) {
        settings.add(k);
      } else {
        out.put(k, Observation.unknown(k, "not a setting key (want " + key("<name>") + ")"));
      }
    }
    try (Connection c = connect()) {
      for (int from = 0; from < settings.size(); from += CHUNK) {
        List<ResourceKey> chunk = settings.subList(from, Math.min(settings.size(), from + CHUNK));
        Map<String, Observation> rows = select(c, chunk);
        for (ResourceKey k : chunk) {
          Observation o = rows.get(k.name());
          out.put(k, o != null ? o : Observation.absent(k));
        }
      }
    } catch (SQLException e) {
      for (ResourceKey k : settings) {
        out.put(k, Observation.unknown(k, "cannot read the settings table at " + url + ": " + e.getMessage()));
      }
    }
    return out;
  }

  private Map<String, Observation> select(Connection c, List<ResourceKey> keys) throws SQLException {
    String marks = String.join(",", java.util.Collections.nCopies(keys.size(), "?"));
    Map<String, Observation> out = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT name, setting_value, description, row_version FROM settings WHERE name IN (" + marks + ")")) {
      for (int i = 0; i < keys.size(); i++) {
        ps.setString(i + 1, keys.get(i).name());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String name = rs.getString(1);
          out.put(name, row(key(name), rs.getString(2), rs.getString(3), rs.getLong(4)));
        }
      }
    }
    return out;
  }

  /**
   * One row as an observation. The version token is the row version our writes bump plus a digest
   * of the content: a row edited by hand without bumping the counter still gets a new token, so the
   * engine's merge cache (keyed by the token) never hides drift. A database that bumps a version on
   * every write itself (a trigger, SQL Server's rowversion, PostgreSQL's xmin) needs no digest.
   */
  private static Observation row(ResourceKey k, String value, String description, long version) {
    JsonNode parsed;
    try {
      parsed = JSON.readTree(value);
    } catch (JsonProcessingException e) {
      return Observation.unknown(k, "row '" + k.name() + "' holds a value that is not JSON: "
          + e.getOriginalMessage());
    }
    Map<String, JsonNode> doc = new LinkedHashMap<>();
    doc.put("value", parsed);
    if (description != null) {
      doc.put("description", Documents.nodes().textNode(description));
    }
    byte[] digest = Documents.sha256().digest((value + '\u0000' + description).getBytes(StandardCharsets.UTF_8));
    return Observation.present(k, Documents.object(doc), version + "-" + HexFormat.of().formatHex(digest, 0, 6));
  }

  /** Upserts the target (CREATE, UPDATE, REPLACE) or deletes the row (DELETE); idempotent. */
  @Override
  public Outcome apply(Change change, CallContext ctx) {
    ResourceKey k = change.key();
    if (!isSetting(k)) {
      return Outcome.permanentFailure(k + ": not a setting key (want " + key("<name>") + ")", null);
    }
    Action a = change.action();
    try (Connection c = connect()) {
      switch (a) {
        case CREATE, UPDATE, REPLACE -> {
          JsonNode target = change.target() != null ? change.target() : change.desired();
          String problem = validate(target);
          if (problem != null) {
            return Outcome.permanentFailure(k + ": " + problem, null);
          }
          JsonNode description = target.get("description");
          boolean created = upsert(c, k.name(), Documents.canonicalJson(target.get("value")),
              description == null || description.isNull() ? null : description.textValue());
          return created && a == Action.CREATE ? Outcome.created() : Outcome.configured();
        }
        case DELETE -> {
          try (PreparedStatement ps = c.prepareStatement("DELETE FROM settings WHERE name = ?")) {
            ps.setString(1, k.name());
            ps.executeUpdate();
          }
          return Outcome.deleted();
        }
        default -> {
          return Outcome.unchanged();
        }
      }
    } catch (SQLException e) {
      String message = k + ": " + a + " failed at " + url + ": " + e.getMessage();
      boolean connection = e instanceof SQLTransientException || e instanceof SQLRecoverableException
          || (e.getSQLState() != null && e.getSQLState().startsWith("08"));
      return connection ? Outcome.transientFailure(message, e) : Outcome.permanentFailure(message, e);
    }
  }

  /** Why {@code doc} cannot be a row, or null when it can. */
  private static String validate(JsonNode doc) {
    if (doc == null || !doc.isObject()) {
      return "a setting is a mapping with 'value' and an optional 'description', got " + doc;
    }
    for (var it = doc.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        return "unknown field '" + f + "' (a setting has 'value' and an optional 'description')";
      }
    }
    if (!doc.has("value")) {
      return "a setting needs a 'value'";
    }
    JsonNode description = doc.get("description");
    if (description != null && !description.isNull() && !description.isTextual()) {
      return "'description' must be a string, got " + description;
    }
    return null;
  }

  /** Updates the row, or inserts it when there is none; true when it was inserted. */
  private static boolean upsert(Connection c, String name, String value, String description) throws SQLException {
    c.setAutoCommit(false);
    try {
      int updated;
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE settings SET setting_value = ?, description = ?, row_version = row_version + 1 WHERE name = ?")) {
        ps.setString(1, value);
        ps.setString(2, description);
        ps.setString(3, name);
        updated = ps.executeUpdate();
      }
      if (updated == 0) {
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT INTO settings (name, setting_value, description, row_version) VALUES (?, ?, ?, 1)")) {
          ps.setString(1, name);
          ps.setString(2, value);
          ps.setString(3, description);
          ps.executeUpdate();
        }
      }
      c.commit();
      return updated == 0;
    } catch (SQLException e) {
      c.rollback();
      throw e;
    }
  }

  private static boolean isSetting(ResourceKey k) {
    return k.provider().equals(ID) && k.type().equals(TYPE) && k.scope().isEmpty();
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  @Override
  public String toString() {
    return "SettingsTableProvider(" + url + ")";
  }
}
