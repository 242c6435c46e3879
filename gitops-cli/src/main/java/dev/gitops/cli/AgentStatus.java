package dev.gitops.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.agent.Agent;
import dev.gitops.agent.TargetStatus;
import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.TargetConfig;
import dev.gitops.cluster.Ownership;
import dev.gitops.core.render.PlanRenderer;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code gitops status --config agent.yaml}: every target of an agent's configuration in one table
 * (or JSON), from the status the agent recorded after each sync: revision, result, drift, last
 * error. Reads files only; the agent need not run, and its secrets are not needed. A status file
 * that cannot be read (truncated, not JSON) is named in its target's row, result {@code
 * unreadable}; the other targets are shown as usual.
 */
final class AgentStatus {

  /** How to print. */
  enum Format {
    /** One line per target, aligned columns. */
    TABLE,
    /** A JSON array, one object per target. */
    JSON
  }

  /** The result of a target whose status file cannot be read. */
  static final String UNREADABLE = "unreadable";

  private AgentStatus() {}

  /**
   * Prints every target's status, with its owner when {@code owners} (a cluster's, by target) is
   * not null; 0 when every target's last sync succeeded, 2 otherwise.
   */
  static int print(Path configFile, Format format, PrintWriter out, Map<String, Ownership> owners) {
    AgentConfig config = Agent.readConfig(configFile);
    List<TargetConfig> targets = config.targets();
    List<Optional<TargetStatus>> statuses = new ArrayList<>();
    for (TargetConfig t : targets) {
      statuses.add(read(config.stateDir(), t));
    }
    if (format == Format.JSON) {
      json(targets, statuses, owners, out);
    } else {
      table(targets, statuses, owners, out, Instant.now());
    }
    out.flush();
    boolean allGood = statuses.stream().allMatch(s -> s.isPresent() && s.get().result().equals("succeeded")
        && (s.get().drift().isEmpty() || s.get().driftCorrected()));
    return allGood ? ExitCodes.OK : ExitCodes.PENDING;
  }

  /**
   * The status recorded for {@code t}; one that cannot be read becomes a status of result {@code
   * unreadable} whose error names the file and why, so that one damaged file does not hide the others.
   */
  private static Optional<TargetStatus> read(Path stateDir, TargetConfig t) {
    try {
      return TargetStatus.read(stateDir, t.name());
    } catch (UncheckedIOException e) {
      return Optional.of(new TargetStatus(t.name(), t.provider().providerId(), "", UNREADABLE,
          Instant.EPOCH, null, List.of(), false, e.getCause().getMessage()));
    }
  }

  private static void json(List<TargetConfig> targets, List<Optional<TargetStatus>> statuses,
      Map<String, Ownership> owners, PrintWriter out) {
    ObjectMapper mapper = new ObjectMapper();
    ArrayNode all = mapper.createArrayNode();
    for (int i = 0; i < targets.size(); i++) {
      TargetConfig t = targets.get(i);
      ObjectNode o = statuses.get(i).map(s -> s.result().equals(UNREADABLE) ? unreadable(mapper, s) : s.toJson())
          .orElse(null);
      if (o == null) {
        o = without(mapper, t.name(), t.provider().providerId(), "never", null);
      }
      if (owners != null) {
        Ownership owner = owners.get(t.name());
        o.put("owner", owner == null ? null : owner.member());
        if (owner != null) {
          o.put("ownerToken", owner.token());
          o.put("ownedSince", owner.since().toString());
        }
      }
      all.add(o);
    }
    try {
      out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(all));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot write the status as JSON", e);
    }
  }

  /** What is known of a target whose status file cannot be read: no time, no revision, only why. */
  private static ObjectNode unreadable(ObjectMapper mapper, TargetStatus s) {
    return without(mapper, s.target(), s.provider(), UNREADABLE, s.lastError());
  }

  /**
   * A target without a recorded sync ({@code never}, or {@code unreadable}) with every field a
   * recorded status has, null or empty where nothing is known: a script reads each element the
   * same way ({@code .revision}, {@code .finished}), whether or not the target has synced.
   */
  private static ObjectNode without(ObjectMapper mapper, String target, String provider, String result, String error) {
    ObjectNode o = mapper.createObjectNode();
    o.put("target", target);
    o.put("provider", provider);
    o.putNull("revision");
    o.put("result", result);
    o.putNull("finished");
    o.putNull("lastSuccess");
    o.putArray("drift");
    o.put("driftCorrected", false);
    o.put("lastError", error);
    return o;
  }

  private static void table(List<TargetConfig> targets, List<Optional<TargetStatus>> statuses,
      Map<String, Ownership> owners, PrintWriter out, Instant now) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"TARGET", "PROVIDER", "REVISION", "RESULT", "DRIFT", "LAST SYNC", "LAST ERROR"});
    for (int i = 0; i < targets.size(); i++) {
      rows.add(row(targets.get(i), statuses.get(i), now));
    }
    if (owners != null) {
      // the owner columns go after the target's name: who runs it is what a clustered reader looks for first
      rows.set(0, withOwner(rows.get(0), "OWNER", "OWNED SINCE"));
      for (int i = 0; i < targets.size(); i++) {
        Ownership o = owners.get(targets.get(i).name());
        rows.set(i + 1, withOwner(rows.get(i + 1), o == null ? "-" : o.member() + " (token " + o.token() + ")",
            o == null ? "-" : ago(o.since(), now)));
      }
    }
    print(rows, out);
  }

  private static String[] withOwner(String[] row, String owner, String since) {
    String[] out = new String[row.length + 2];
    out[0] = row[0];
    out[1] = owner;
    out[2] = since;
    System.arraycopy(row, 1, out, 3, row.length - 1);
    return out;
  }

  private static String[] row(TargetConfig t, Optional<TargetStatus> s, Instant now) {
    if (s.isEmpty()) {
      return new String[] {t.name(), t.provider().providerId(), "-", "never", "-", "-", "-"};
    }
    TargetStatus st = s.get();
    if (st.result().equals(UNREADABLE)) {
      // in full: the file's name and what is wrong with it are the point (the last column has no width)
      return new String[] {st.target(), st.provider(), "-", UNREADABLE, "-", "-", PlanRenderer.oneLine(st.lastError())};
    }
    String drift = st.drift().isEmpty() ? "none"
        : st.drift().size() + (st.driftCorrected() ? " (corrected)" : " (not corrected)");
    return new String[] {st.target(), st.provider(),
        st.revision().isEmpty() ? "-" : PlanRenderer.shortRevision(st.revision()), st.result(), drift,
        ago(st.finished(), now), st.lastError() == null ? "-" : oneLine(st.lastError())};
  }

  private static void print(List<String[]> rows, PrintWriter out) {
    int[] widths = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int c = 0; c < r.length - 1; c++) {
        widths[c] = Math.max(widths[c], r[c].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < r.length; c++) {
        line.append(c == r.length - 1 ? r[c] : String.format("%-" + widths[c] + "s  ", r[c]));
      }
      out.println(line.toString().stripTrailing());
    }
  }

  private static String ago(Instant then, Instant now) {
    Duration d = Duration.between(then, now);
    String rel = d.isNegative() ? "just now" : d.toDays() > 0 ? d.toDays() + "d ago" : d.toHours() > 0
        ? d.toHours() + "h ago" : d.toMinutes() > 0 ? d.toMinutes() + "m ago" : d.toSeconds() + "s ago";
    return then.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + " (" + rel + ")";
  }

  private static String oneLine(String text) {
    String line = PlanRenderer.oneLine(text);
    return line.length() > 120 ? line.substring(0, 117) + "..." : line;
  }
}
