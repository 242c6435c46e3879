package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.core.internal.JsonErrors;
import dev.gitops.core.internal.fs.LockFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * The provider's record of the live fleet: for each host the document it was last converged with,
 * for each group the document last recorded, kept in a JSON state file next to the managed
 * inventory ({@code .<inventory name>.gitops-state.json}). A host is recorded as converged only
 * after a run converged it; the provider records the hosts of a run as not converged before it
 * starts, so a run cut short (a crash, a kill) leaves them so and the next sync runs them again.
 * Both files are written atomically and are readable by the owner only: they hold the variables
 * Ansible gets, secrets included.
 *
 * <p>The state file also names the owner (the reconciler's owner id) that wrote it: the provider
 * marks no host, so this is the only place that tells one owner's fleet from another's when two
 * owners point at the same managed inventory (see {@link #checkOwner}). A state file without an
 * owner, written by an older build, is claimed by the first owner that writes it. The owner is an
 * extra field of version 1, which an older build reads (and drops when it writes).
 */
public final class ManagedInventory {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The recorded documents: hosts and groups by name, and the owner that wrote them (empty for a
   * state file of an older build, or when nothing was recorded yet).
   */
  public record Record(Optional<String> owner, Map<String, JsonNode> hosts, Map<String, JsonNode> groups) {
    /** Copies into sorted maps. */
    public Record {
      Objects.requireNonNull(owner, "owner");
      hosts = new TreeMap<>(hosts);
      groups = new TreeMap<>(groups);
    }
  }

  private final Path inventory;
  private final Path state;
  private final Path lock;

  /** The managed inventory at {@code inventory}, and its state file and lock file beside it. */
  public ManagedInventory(Path inventory) {
    this.inventory = inventory.toAbsolutePath();
    this.state = this.inventory.resolveSibling("." + this.inventory.getFileName() + ".gitops-state.json");
    this.lock = this.inventory.resolveSibling("." + this.inventory.getFileName() + ".gitops-lock");
  }

  /** The lock file (see {@link #lock}). */
  public Path lockFile() {
    return lock;
  }

  /**
   * The managed inventory's lock, held while one call reads its state, runs a playbook and writes
   * the state back ({@link #lock}); closing it releases it.
   */
  public static final class Lock implements AutoCloseable {
    private final LockFile file;

    private Lock(LockFile file) {
      this.file = file;
    }

    /** Releases the lock (once; later calls do nothing). */
    @Override
    public void close() {
      try {
        file.clearHolder();  // a holder that is gone is not described to the next one who waits
      } catch (IOException | IllegalStateException e) {
        // closed already, or the file is gone: closing below releases the lock all the same
      }
      try {
        file.close();
      } catch (IOException e) {
        // closing releases the lock; a failure to close leaves nothing to do
        org.slf4j.LoggerFactory.getLogger(ManagedInventory.class).debug("cannot close {}: {}", file, e.toString());
      }
    }
  }

  /** The lock was not free before the call's stop time, or the call was cancelled meanwhile. */
  public static final class Busy extends IOException {
    private static final long serialVersionUID = 1L;

    Busy(String message) {
      super(message);
    }
  }

  /**
   * Takes the managed inventory's lock (an OS lock on {@link #lockFile()}, which also keeps out
   * another provider of this process), waiting until {@code until} unless {@code cancelled} says
   * to stop; {@code doing} describes the holder to one who waits. Two providers pointed at one
   * managed inventory (two processes, two targets, a cron job beside a manual sync) each read its
   * state when a call begins and write it back when the call ends: without the lock, the later
   * one wrote back what it read before the earlier one recorded its hosts, and the inventory one
   * wrote for its run was replaced by the other's, without its hosts, before its playbook read it.
   *
   * @throws Busy naming the managed inventory, the lock file and its holder, when the lock is
   *     not free in time
   */
  public Lock lock(String doing, Instant until, BooleanSupplier cancelled) throws IOException, InterruptedException {
    Files.createDirectories(lock.getParent());
    LockFile file = LockFile.open(lock, LockFile.Option.PRIVATE);
    boolean held = false;
    try {
      long deadline = System.nanoTime() + Math.max(0, Duration.between(Instant.now(), until).toNanos());
      if (!file.poll(deadline, Duration.ofMillis(100), cancelled, () -> { })) {
        String who = holder(file);
        throw new Busy("the managed inventory " + inventory + " is in use by " + (who.isEmpty()
            ? "another sync (it has not said which yet)" : who) + " (lock file " + lock + "); "
            + (cancelled.getAsBoolean() ? "cancelled" : "the call's stop time (" + until + ") came")
            + " while waiting for it. One sync at a time reads and writes a managed inventory");
      }
      file.writeHolder("pid " + ProcessHandle.current().pid() + ", " + doing + ", since " + Instant.now() + "\n",
          false);
      held = true;
      return new Lock(file);
    } finally {
      if (!held) {
        file.close();
      }
    }
  }

  /** What the holder wrote of itself, control characters dropped (its text goes into a message); "" when unreadable. */
  private static String holder(LockFile file) {
    try {
      return file.holder(512).codePoints().filter(c -> !Character.isISOControl(c))
          .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString().strip();
    } catch (IOException e) {
      return "";  // described as not having said which
    }
  }

  /** The managed inventory file. */
  public Path inventoryFile() {
    return inventory;
  }

  /** The state file. */
  public Path stateFile() {
    return state;
  }

  /**
   * The record; empty when nothing was recorded yet.
   *
   * @throws IOException when the state file cannot be read or is corrupt
   */
  public Record load() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(state);
    } catch (NoSuchFileException e) {
      return new Record(Optional.empty(), Map.of(), Map.of());
    }
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new IOException(state + " is corrupt: " + JsonErrors.describe(e), e);
    }
    if (root == null || !root.isObject() || root.path("version").asInt() != 1 || !root.path("hosts").isObject()
        || !root.path("groups").isObject()) {
      throw new IOException(state + " is not a gitops-ansible state file (version 1)");
    }
    JsonNode owner = root.get("owner");
    if (owner != null && (!owner.isTextual() || owner.asText().isBlank())) {
      throw new IOException(state + " is corrupt: its owner is not an owner id but " + owner);
    }
    return new Record(owner == null ? Optional.empty() : Optional.of(owner.asText()), entries(root.get("hosts")),
        entries(root.get("groups")));
  }

  /**
   * Refuses {@code asking} a record another owner wrote: that owner's hosts are not {@code
   * asking}'s, which would take them for its own, plan those its Git lacks as removed and
   * decommission them (the provider marks no host, so nothing else tells them apart). A record
   * with no owner (nothing recorded yet, or an older build's) is anyone's to claim.
   *
   * @throws IOException naming the managed inventory, the owner it belongs to and {@code asking}
   */
  public void checkOwner(Record record, String asking) throws IOException {
    String holder = record.owner().orElse(null);
    if (holder != null && !holder.equals(asking)) {
      throw new IOException("the managed inventory " + inventory + " belongs to owner '" + holder
          + "' (recorded in its state file " + state + "), not to owner '" + asking + "', which would take"
          + " its hosts for its own and decommission those its Git does not declare: nothing is run or"
          + " decommissioned; give each owner a managed inventory of its own (inventoryOut, --inventory-out in"
          + " the CLI)");
    }
  }

  private static Map<String, JsonNode> entries(JsonNode obj) {
    Map<String, JsonNode> out = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), Documents.freeze(e.getValue()));
    }
    return out;
  }

  /** The first line of every managed inventory the provider writes. */
  public static final String HEADER =
      "# Written by gitops-ansible: the managed inventory. Every run rewrites it; do not edit.";

  /**
   * What {@code file}, when it exists, is other than a regular file: "a directory", "a character
   * device", "a FIFO", "a symbolic link to '…'" and the like; null when it is a regular file or
   * does not exist. The managed inventory is written by renaming a new file over it, which would
   * replace a device, a FIFO or a symbolic link (not write where it points) and fails on a
   * directory, so none of them is taken.
   */
  public static String notARegularFile(Path file) {
    java.nio.file.attribute.BasicFileAttributes a;
    try {
      a = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
          java.nio.file.LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return null;  // none there, or a parent that is no directory: the write says so, naming it
    }
    if (a.isRegularFile()) {
      return null;
    }
    if (a.isSymbolicLink()) {
      String to;
      try {
        to = Files.readSymbolicLink(file).toString();
      } catch (IOException e) {
        to = "?";
      }
      return "a symbolic link to '" + to + "'";
    }
    if (a.isDirectory()) {
      return "a directory";
    }
    int type;
    try {
      type = ((Integer) Files.getAttribute(file, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS)) & 0170000;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      type = 0;
    }
    return switch (type) {
      case 0020000 -> "a character device";
      case 0060000 -> "a block device";
      case 0010000 -> "a FIFO";
      case 0140000 -> "a socket";
      default -> "not a regular file";
    };
  }

  /**
   * Refuses a managed inventory path that exists and is not a regular file (see {@link
   * #notARegularFile}), before anything is written or run.
   *
   * @throws IOException naming the file, what it is and the builder option
   */
  public void checkRegularFile() throws IOException {
    String what = notARegularFile(inventory);
    if (what != null) {
      throw new IOException("the managed inventory " + inventory + " is " + what + ", not a regular file: it is"
          + " never replaced (the provider writes the inventory by renaming a new file over it); point"
          + " inventoryOut at a regular file or a path that does not exist yet");
    }
  }

  /**
   * Refuses to take over an inventory file that this provider did not write: with no state file
   * beside it, a file at the managed inventory's path that is neither empty nor starts with
   * {@link #HEADER} is someone's own inventory (an {@code inventoryOut} pointed at the repository's
   * or at {@code /etc/ansible/hosts.yml}), which the first run would overwrite.
   *
   * @throws IOException naming the file, when it is not ours or is not a regular file
   */
  public void checkOwned() throws IOException {
    checkRegularFile();
    if (Files.exists(state) || !Files.isRegularFile(inventory)) {
      return;
    }
    byte[] head;
    try (java.io.InputStream in = Files.newInputStream(inventory)) {
      head = in.readNBytes(HEADER.length());
    }
    if (head.length > 0 && !new String(head, java.nio.charset.StandardCharsets.UTF_8).equals(HEADER)) {
      throw new IOException("the managed inventory " + inventory + " already exists and was not written by"
          + " gitops-ansible (its first line is not '" + HEADER + "', and there is no state file " + state
          + "); it is not overwritten: point inventoryOut at a file of its own, or remove this one");
    }
  }

  /** Writes {@code record} atomically, with its owner when it has one. */
  public void save(Record record) throws IOException {
    ObjectNode root = Documents.nodes().objectNode();
    root.put("version", 1);
    record.owner().ifPresent(o -> root.put("owner", o));
    ObjectNode hosts = root.putObject("hosts");
    record.hosts().forEach(hosts::set);
    ObjectNode groups = root.putObject("groups");
    record.groups().forEach(groups::set);
    write(state, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
  }

  /**
   * Temp file beside the target, forced, renamed over it, directory forced: a reader sees the old
   * file or the new one, never half of one, even after a power loss.
   */
  public static void write(Path target, byte[] bytes) throws IOException {
    Path dir = target.getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    boolean moved = false;
    try {
      if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      }
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(java.nio.ByteBuffer.wrap(bytes));
        ch.force(true);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the file system of " + dir + " cannot rename atomically", e);
      }
      moved = true;
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      } catch (IOException e) {
        // some file systems cannot open a directory for reading; the rename itself has happened
        org.slf4j.LoggerFactory.getLogger(ManagedInventory.class).debug("cannot force directory {}: {}", dir, e.toString());
      }
    } finally {
      if (!moved) {
        Files.deleteIfExists(tmp);
      }
    }
  }
}
