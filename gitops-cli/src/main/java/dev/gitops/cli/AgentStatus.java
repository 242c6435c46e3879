package dev.gitops.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.agent.Agent;
import dev.gitops.agent.TargetStatus;
import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.TargetConfig;
import dev.gitops.core.render.PlanRenderer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code gitops status --config agent.yaml}: every target of an agent's configuration in one table
 * (or JSON), from the status the agent recorded after each sync: revision, result, drift, last
 * error. Reads files only; the agent need not run, and its secrets are not needed.
 */
final class AgentStatus {

  /** How to print. */
  enum Format {
    /** One line per target, aligned columns. */
    TABLE,
    /** A JSON array, one object per target. */
    JSON
  }

  private AgentStatus() {}

  /** Prints every target's status; 0 when every target's last sync succeeded, 2 otherwise. */
  static int print(Path configFile, Format format, PrintWriter out) {
    AgentConfig config = Agent.readConfig(configFile);
    List<TargetConfig> targets = config.targets();
    List<Optional<TargetStatus>> statuses = new ArrayList<>();
    for (TargetConfig t : targets) {
      statuses.add(TargetStatus.read(config.stateDir(), t.name()));
    }
    if (format == Format.JSON) {
      json(targets, statuses, out);
    } else {
      table(targets, statuses, out, Instant.now());
    }
    out.flush();
    boolean allGood = statuses.stream().allMatch(s -> s.isPresent() && s.get().result().equals("succeeded")
        && (s.get().drift().isEmpty() || s.get().driftCorrected()));
    return allGood ? ExitCodes.OK : ExitCodes.PENDING;
  }

  private static void json(List<TargetConfig> targets, List<Optional<TargetStatus>> statuses, PrintWriter out) {
    ObjectMapper mapper = new ObjectMapper();
    ArrayNode all = mapper.createArrayNode();
    for (int i = 0; i < targets.size(); i++) {
      TargetConfig t = targets.get(i);
      ObjectNode o = statuses.get(i).map(TargetStatus::toJson).orElseGet(() -> {
        ObjectNode never = mapper.createObjectNode();
        never.put("target", t.name());
        never.put("provider", t.provider().providerId());
        never.put("result", "never");
        return never;
      });
      all.add(o);
    }
    try {
      out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(all));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot write the status as JSON", e);
    }
  }

  private static void table(List<TargetConfig> targets, List<Optional<TargetStatus>> statuses, PrintWriter out,
      Instant now) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"TARGET", "PROVIDER", "REVISION", "RESULT", "DRIFT", "LAST SYNC", "LAST ERROR"});
    for (int i = 0; i < targets.size(); i++) {
      TargetConfig t = targets.get(i);
      Optional<TargetStatus> s = statuses.get(i);
      if (s.isEmpty()) {
        rows.add(new String[] {t.name(), t.provider().providerId(), "-", "never", "-", "-", "-"});
        continue;
      }
      TargetStatus st = s.get();
      String drift = st.drift().isEmpty() ? "none"
          : st.drift().size() + (st.driftCorrected() ? " (corrected)" : " (not corrected)");
      rows.add(new String[] {st.target(), st.provider(),
          st.revision().isEmpty() ? "-" : PlanRenderer.shortRevision(st.revision()), st.result(), drift,
          ago(st.finished(), now), st.lastError() == null ? "-" : oneLine(st.lastError())});
    }
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
    String line = text.strip().replaceAll("\\s*\\R\\s*", " ");
    return line.length() > 120 ? line.substring(0, 117) + "..." : line;
  }
}
