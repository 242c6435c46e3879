package dev.gitops.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a target stands after its last sync, as the agent records it in {@code
 * <stateDir>/status/<target>.json} (what {@code gitops status --config} prints).
 *
 * <pre>{@code
 * Optional<TargetStatus> s = TargetStatus.read(agent.config().stateDir(), "web");
 * s.ifPresent(t -> log.info("{} {} at {}", t.target(), t.result(), t.revision()));
 * }</pre>
 *
 * @param target the target's name
 * @param provider its provider's id
 * @param revision the revision of the last sync ("" when it ended before reading one)
 * @param result how the last sync ended: {@code succeeded}, {@code failed}, {@code incomplete},
 *     {@code planned}, {@code refused} or {@code error} (the {@code result} tag of {@code gitops.syncs})
 * @param finished when the last sync ended
 * @param lastSuccess when the last successful sync ended, or null
 * @param drift the resources the last sync found changed outside gitops
 * @param driftCorrected whether the last sync corrected all of them
 * @param lastError what went wrong in the last sync, or null when it succeeded
 */
public record TargetStatus(String target, String provider, String revision, String result, Instant finished,
    Instant lastSuccess, List<String> drift, boolean driftCorrected, String lastError) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Copies. */
  public TargetStatus {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(result, "result");
    Objects.requireNonNull(finished, "finished");
    drift = List.copyOf(drift);
  }

  /** The status file of {@code target} under {@code stateDir}. */
  public static Path file(Path stateDir, String target) {
    return stateDir.resolve("status").resolve(target + ".json");
  }

  /**
   * The status recorded for {@code target}, or empty when the agent never finished a sync of it.
   *
   * @throws UncheckedIOException naming the file when it cannot be read or is not a status
   */
  public static Optional<TargetStatus> read(Path stateDir, String target) {
    Path f = file(stateDir, target);
    try {
      JsonNode n = JSON.readTree(Files.readAllBytes(f));
      List<String> drift = new ArrayList<>();
      n.path("drift").forEach(d -> drift.add(d.asText()));
      return Optional.of(new TargetStatus(n.path("target").asText(target), n.path("provider").asText(""),
          n.path("revision").asText(""), n.path("result").asText(""), Instant.parse(n.path("finished").asText()),
          n.hasNonNull("lastSuccess") ? Instant.parse(n.get("lastSuccess").asText()) : null, drift,
          n.path("driftCorrected").asBoolean(), n.hasNonNull("lastError") ? n.get("lastError").asText() : null));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      throw new UncheckedIOException(new IOException("cannot read the status file " + f + ": " + e.getMessage(), e));
    }
  }

  /** This status as JSON (what the file holds and {@code gitops status --format json} prints). */
  public ObjectNode toJson() {
    ObjectNode o = JSON.createObjectNode();
    o.put("target", target);
    o.put("provider", provider);
    o.put("revision", revision);
    o.put("result", result);
    o.put("finished", finished.toString());
    o.put("lastSuccess", lastSuccess == null ? null : lastSuccess.toString());
    com.fasterxml.jackson.databind.node.ArrayNode keys = o.putArray("drift");
    drift.forEach(keys::add);
    o.put("driftCorrected", driftCorrected);
    o.put("lastError", lastError);
    return o;
  }

  /** Writes this status to its file under {@code stateDir}: a temporary file renamed over it, so a reader never sees half. */
  void write(Path stateDir) throws IOException {
    Path f = file(stateDir, target);
    Files.createDirectories(f.getParent());
    Path tmp = f.resolveSibling("." + target + ".json.tmp");
    Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(toJson()));
    try {
      Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
