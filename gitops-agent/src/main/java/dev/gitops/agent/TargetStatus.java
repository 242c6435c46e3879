package dev.gitops.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.core.internal.JsonErrors;
import dev.gitops.core.internal.fs.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Where a target stands after its last sync, as the agent records it in {@code
 * <stateDir>/status/<target>.json} (what {@code gitops status --config} prints). {@link
 * Agent#status()} also gives, for a target restarted (with the agent, or by a reload) whose first
 * sync has not ended yet, the status its file recorded before, {@linkplain #carriedOver() carried
 * over}.
 *
 * <pre>{@code
 * Optional<TargetStatus> s = TargetStatus.read(agent.config().stateDir(), "web");
 * s.ifPresent(t -> log.info("{} {} at {}", t.target(), t.result(), t.revision()));
 * }</pre>
 *
 * @param target the target's name
 * @param provider its provider's id
 * @param revision the revision of the last sync; when it ended before reading one, the revision recorded
 *     before it ("" when none was)
 * @param result how the last sync ended: {@code succeeded}, {@code out_of_sync} (resources Git declares were
 *     skipped), {@code failed}, {@code incomplete}, {@code cancelled} (the agent stopped or restarted the target),
 *     {@code planned}, {@code refused} or {@code error} (the {@code result} tag of {@code gitops.syncs})
 * @param finished when the last sync ended
 * @param lastSuccess when the last successful sync ended, or null
 * @param drift the resources the last sync found changed outside gitops
 * @param driftCorrected whether the last sync corrected all of them
 * @param lastError what went wrong in the last sync (for {@code out_of_sync}: what was skipped, why, and the way
 *     forward; for {@code planned}: the changes a detect-only sync left pending), or null when it succeeded
 * @param carriedOver whether this is the status the target's file recorded before the target's current run
 *     started (the agent or the target restarted), read back because no sync of this run has ended yet: its
 *     sync ran before the restart, and the target is not synced since (in JSON {@code "carriedOver": true}, a
 *     field present only then); false for the status of a sync of this run, and in the status file itself
 */
public record TargetStatus(String target, String provider, String revision, String result, Instant finished,
    Instant lastSuccess, List<String> drift, boolean driftCorrected, String lastError, boolean carriedOver) {

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

  /** The status of a sync of the target's current run (not {@linkplain #carriedOver() carried over}). */
  public TargetStatus(String target, String provider, String revision, String result, Instant finished,
      Instant lastSuccess, List<String> drift, boolean driftCorrected, String lastError) {
    this(target, provider, revision, result, finished, lastSuccess, drift, driftCorrected, lastError, false);
  }

  /** This status, marked as carried over from before the target's current run started. */
  TargetStatus asCarriedOver() {
    return new TargetStatus(target, provider, revision, result, finished, lastSuccess, drift, driftCorrected,
        lastError, true);
  }

  /** The status file of {@code target} under {@code stateDir}. */
  public static Path file(Path stateDir, String target) {
    return stateDir.resolve("status").resolve(target + ".json");
  }

  /**
   * The status recorded for {@code target}, or empty when the agent never finished a sync of it.
   *
   * @throws UncheckedIOException naming the file, and the line and column or the field at fault,
   *     when it cannot be read or is not a status (truncated, say)
   */
  public static Optional<TargetStatus> read(Path stateDir, String target) {
    Path f = file(stateDir, target);
    try {
      JsonNode n = JSON.readTree(Files.readAllBytes(f));
      if (n == null || !n.isObject()) {
        throw new IOException("not a JSON object" + (n == null || n.isMissingNode() ? " (the file is empty)" : ""));
      }
      if (!n.path("result").isTextual() || n.path("result").asText().isEmpty()) {
        // a status without its result says nothing of where the target stands (an agent restarted on it shows it)
        throw new IOException("result: missing; want the last sync's result, such as \"succeeded\" or \"failed\"");
      }
      List<String> drift = new ArrayList<>();
      n.path("drift").forEach(d -> drift.add(d.asText()));
      return Optional.of(new TargetStatus(n.path("target").asText(target), n.path("provider").asText(""),
          n.path("revision").asText(""), n.path("result").asText(""), instant(n, "finished"),
          n.hasNonNull("lastSuccess") ? instant(n, "lastSuccess") : null, drift,
          n.path("driftCorrected").asBoolean(), n.hasNonNull("lastError") ? n.get("lastError").asText() : null,
          n.path("carriedOver").asBoolean()));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? ""
          : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": ";
      throw new UncheckedIOException(new IOException("cannot read the status file " + f + ": " + where
          + JsonErrors.problem(e), e));
    } catch (IOException | RuntimeException e) {
      throw new UncheckedIOException(new IOException("cannot read the status file " + f + ": " + e.getMessage(), e));
    }
  }

  private static Instant instant(JsonNode status, String field) throws IOException {
    String text = status.path(field).asText();
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IOException(field + ": want a time such as 2026-11-30T10:00:00Z, got \"" + text + "\"", e);
    }
  }

  /**
   * This status as JSON (what the file holds and {@code gitops status --format json} prints), with
   * {@code "carriedOver": true} only when it is {@linkplain #carriedOver() carried over}.
   */
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
    if (carriedOver) {
      o.put("carriedOver", true);
    }
    return o;
  }

  /** What a status file's mode is: readable by whoever may read the state directory ({@code gitops status}). */
  private static final Set<PosixFilePermission> MODE = PosixFilePermissions.fromString("rw-r--r--");

  /**
   * Writes this status to its file under {@code stateDir}, atomically and durably: through a
   * temporary file of its own (a sync that outlived its target's stop may write beside the
   * restarted target's) that is forced before it is renamed over the file, and the directory
   * forced after, so that a power loss leaves the old status or the new, never an empty file.
   */
  void write(Path stateDir) throws IOException {
    Path f = file(stateDir, target);
    Files.createDirectories(f.getParent());
    DurableFiles.write(f, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(toJson()),
        DurableFiles.tempBeside(f), MODE, () -> { });
  }
}
