package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code ansible-playbook} running on a work directory, recorded in a pid file there: its pid,
 * its start time, its command and the process that started it. It is written right after the
 * start and removed when the run ends, so a file left behind names a playbook whose starter died
 * (killed, or its JVM exited) — a playbook that may still be running, re-parented to init.
 */
public final class PidFile {

  private static final Logger LOG = LoggerFactory.getLogger(PidFile.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * How far two readings of one process's start time may differ: the JDK derives it from the boot
   * time, which the kernel recomputes from the wall clock and may shift by a second.
   */
  private static final Duration START_TOLERANCE = Duration.ofSeconds(2);

  /**
   * A playbook recorded in the file and still running.
   *
   * @param pid its pid
   * @param started when it started
   * @param owner the pid of the process that started it
   * @param ownerAlive whether that process still runs (then it is no leftover but a concurrent run)
   * @param handle the running process
   */
  public record Live(long pid, Instant started, long owner, boolean ownerAlive, ProcessHandle handle) {
    /** Says who left it, for messages. */
    public String describe() {
      return ownerAlive
          ? "an ansible-playbook started by process " + owner + " (pid " + pid + ", since " + started
              + ") is still running on this inventory"
          : "an ansible-playbook left by an earlier process (pid " + pid + ") is still running on this inventory"
              + " (started " + started + " by process " + owner + ", which is gone)";
    }
  }

  private final Path file;

  /** The pid file of {@code workDir}. */
  public PidFile(Path workDir) {
    this.file = workDir.resolve("ansible-playbook.pid");
  }

  /** The file. */
  public Path file() {
    return file;
  }

  /** Records {@code p}, started as {@code program}. */
  public void record(Process p, String program) throws IOException {
    ProcessHandle.Info info = p.info();
    Instant started = info.startInstant().orElse(Instant.now());
    byte[] bytes = JSON.writeValueAsBytes(JSON.createObjectNode()
        .put("pid", p.pid())
        .put("started", started.toEpochMilli())
        .put("program", programName(program))
        .put("owner", ProcessHandle.current().pid()));
    ManagedInventory.write(file, bytes);
  }

  /** Removes the record of {@code pid} (a record of another run is left alone). */
  public void clear(long pid) {
    try {
      JsonNode rec = JSON.readTree(Files.readAllBytes(file));
      if (rec.path("pid").asLong(-1) == pid) {
        Files.deleteIfExists(file);
      }
    } catch (NoSuchFileException e) {
      // nothing recorded
    } catch (IOException e) {
      LOG.warn("cannot remove the pid file {} of ansible-playbook (pid {}): {}", file, pid, e.toString());
    }
  }

  /**
   * The recorded playbook when it still runs: the pid is alive, started at the recorded time (so
   * the pid was not reused) and runs the recorded program. A record of a playbook that ended is
   * stale and removed.
   */
  public Optional<Live> live() throws IOException {
    JsonNode rec;
    try {
      rec = JSON.readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      // a torn or foreign file protects nothing; it is replaced by the next run's record
      LOG.warn("unreadable pid file {} removed: {}", file, e.toString());
      Files.deleteIfExists(file);
      return Optional.empty();
    }
    long pid = rec.path("pid").asLong(-1);
    Instant started = Instant.ofEpochMilli(rec.path("started").asLong(0));
    String program = rec.path("program").asText("");
    long owner = rec.path("owner").asLong(-1);
    Optional<ProcessHandle> handle = pid > 0 ? ProcessHandle.of(pid).filter(ProcessHandle::isAlive) : Optional.empty();
    if (handle.isPresent() && sameProcess(handle.get(), started, program)) {
      boolean ownerAlive = owner > 0 && ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false);
      return Optional.of(new Live(pid, started, owner, ownerAlive, handle.get()));
    }
    LOG.info("removing the stale pid file {}: ansible-playbook (pid {}) has ended", file, pid);
    Files.deleteIfExists(file);
    return Optional.empty();
  }

  private static boolean sameProcess(ProcessHandle h, Instant started, String program) {
    ProcessHandle.Info info = h.info();
    Optional<Instant> start = info.startInstant();
    if (start.isPresent() && Duration.between(start.get(), started).abs().compareTo(START_TOLERANCE) > 0) {
      return false;  // the pid was reused by a later process
    }
    // a script's command line starts with its interpreter: the program appears among the arguments
    return info.commandLine().map(c -> program.isEmpty() || c.contains(program)).orElse(true);
  }

  private static String programName(String program) {
    Path name = Path.of(program).getFileName();
    return name == null ? program : name.toString();
  }
}
