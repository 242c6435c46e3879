package dev.gitops.terraform.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one command of the Terraform or OpenTofu binary: an argument list (never a shell), a
 * working directory, extra environment, a deadline and a cancellation check. Standard output is
 * either collected whole (for {@code show -json}) or handed over line by line as it arrives (the
 * machine-readable UI stream); standard error is kept up to a bound, its start and its end.
 *
 * <p>The command writes its output to files in a scratch directory, not to pipes: a Go program
 * that writes to a pipe nobody reads any more dies of SIGPIPE, and Terraform dying in the middle
 * of writing its local state leaves it empty. So when this JVM ends, for whatever reason, a
 * running Terraform finishes on its own and releases its lock. A command that overruns its
 * deadline, or is cancelled, is interrupted as Ctrl-C would (SIGTERM, which Terraform and OpenTofu
 * take as an interrupt: no new operation starts, those in flight end, the state is written), and
 * killed with every process it started when it has not ended within its grace period. Killed at
 * once, an apply could leave objects it had created out of the state.
 */
public final class CommandRunner {

  private static final Logger LOG = LoggerFactory.getLogger(CommandRunner.class);
  /** How much of standard error is kept: its start and its end, where the error is (the rest is not read). */
  static final int STDERR_LIMIT = 256 * 1024;
  /** How much collected standard output is accepted (a plan of tens of thousands of resources fits). */
  private static final long STDOUT_LIMIT = 512L * 1024 * 1024;
  /** The longest line of the UI stream handed over (a longer one is cut there). */
  private static final int LINE_LIMIT = 16 * 1024 * 1024;
  /** How often a running command's output and its deadline are looked at. */
  private static final long POLL_MILLIS = 50;

  /** What a command did. */
  public record Result(int exitCode, byte[] stdout, String stderr, boolean timedOut, boolean cancelled) {
    /** Standard output as UTF-8 text. */
    public String stdoutText() {
      return new String(stdout, StandardCharsets.UTF_8);
    }
  }

  /**
   * Whether the environment variable {@code name} of this process is kept from Terraform: {@code
   * TF_WORKSPACE} (Terraform would plan and apply in another workspace, whose state is not the one
   * the provider reads and guards: a CI job that exports it would build everything a second time,
   * unseen) and {@code TF_CLI_ARGS}, {@code TF_CLI_ARGS_<command>} (arguments added to the ones the
   * provider gives: {@code -destroy}, {@code -target}, another {@code -state}).
   */
  public static boolean isWithheld(String name) {
    return name.equals("TF_WORKSPACE") || name.equals("TF_CLI_ARGS") || name.startsWith("TF_CLI_ARGS_");
  }

  /**
   * One command to run.
   *
   * @param grace how long a command interrupted (deadline, cancellation) may take to stop before it
   *     is killed
   * @param scratch an owner-only directory for the command's output files (removed when it ends)
   */
  public record Command(List<String> argv, Path workDir, Map<String, String> environment, Duration timeout,
      BooleanSupplier cancelled, Consumer<String> lines, Duration grace, Path scratch) {
    /** Validates. */
    public Command {
      argv = List.copyOf(argv);
      Objects.requireNonNull(workDir, "workDir");
      environment = Map.copyOf(environment);
      Objects.requireNonNull(timeout, "timeout");
      Objects.requireNonNull(cancelled, "cancelled");
      Objects.requireNonNull(grace, "grace");
      Objects.requireNonNull(scratch, "scratch");
    }
  }

  /**
   * Runs {@code command}. With {@link Command#lines()} set, standard output goes to it line by
   * line and {@link Result#stdout()} is empty; otherwise it is collected.
   *
   * @throws UncheckedIOException when the binary cannot be started, or its output files not made or read
   */
  public Result run(Command command) {
    Path out;
    Path err;
    try {
      out = Files.createTempFile(command.scratch(), "command-", ".out");
      err = Files.createTempFile(command.scratch(), "command-", ".err");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the output files of " + command.argv().get(0) + " in "
          + command.scratch() + ": " + e.getMessage(), e);
    }
    try {
      return run(command, out, err);
    } finally {
      // Output files of a command that outlived this JVM stay (one pair per such end); these are done.
      delete(out);
      delete(err);
    }
  }

  /** A command running now, for {@link #interruptAll} when this JVM shuts down. */
  private record Running(java.util.concurrent.CompletableFuture<Process> started, Duration grace, List<String> argv,
      java.util.concurrent.CountDownLatch done) {}

  private static final java.util.Set<Running> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** How long, once its command ended, a shutdown waits for the call that ran it to take its result. */
  private static final Duration RESULT_TAKEN = Duration.ofSeconds(5);
  /** How long a shutdown waits for a command being started to be started. */
  private static final Duration STARTING = Duration.ofSeconds(2);

  /** Guards {@link #hook} and its registration, with {@link #RUNNING}'s first and last entries. */
  private static final Object HOOK_LOCK = new Object();
  /** The shutdown hook running {@link #interruptAll}, registered while a command runs; null otherwise. */
  private static Thread hook;

  /**
   * Adds {@code running} and, for the first command running, registers the shutdown hook that
   * interrupts it. A library registers no process-wide hook when its class is loaded or a provider
   * built: an application that never runs Terraform, or runs it now and then, keeps its shutdown
   * to itself between commands.
   */
  private static void register(Running running) {
    synchronized (HOOK_LOCK) {
      RUNNING.add(running);
      if (hook == null) {
        Thread t = new Thread(CommandRunner::interruptAll, "gitops-terraform-shutdown");
        try {
          Runtime.getRuntime().addShutdownHook(t);
          hook = t;
        } catch (IllegalStateException | SecurityException e) {
          // Already shutting down, or not allowed: the command then finishes on its own after this
          // JVM ends (its output goes to files, no pipe breaks), holding the state's lock until then.
          LOG.debug("cannot register the shutdown hook that interrupts running terraform commands: {}", e.toString());
        }
      }
    }
  }

  /** Removes {@code running} and, when no command runs any more, the shutdown hook. */
  private static void unregister(Running running) {
    synchronized (HOOK_LOCK) {
      RUNNING.remove(running);
      if (RUNNING.isEmpty() && hook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // Shutting down: the hook runs now, or is about to, and finds no command to interrupt.
          LOG.trace("shutdown hook not removed, the JVM is shutting down: {}", e.toString());
        }
        hook = null;
      }
    }
  }

  /**
   * When this JVM shuts down (SIGTERM, SIGINT, the end of a one-shot command past an abandoned call),
   * interrupts each running command as Ctrl-C would (SIGTERM, which Terraform takes as an interrupt:
   * nothing new starts, the operations in flight end, the state is written and its lock released)
   * and waits up to its grace for it to end, then kills what is left, as for a deadline; then lets
   * the call that ran it take its result for a moment. Without this a command outlived its JVM,
   * holding the state's lock, and a gitops run at once was told to force-unlock it.
   */
  static void interruptAll() {
    List<Running> now = new ArrayList<>();
    List<Process> processes = new ArrayList<>();
    for (Running r : new ArrayList<>(RUNNING)) {
      Process p;
      try {
        // registered before it is started: one starting now is waited for, not missed
        p = r.started().get(STARTING.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        continue;  // it did not start
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      now.add(r);
      processes.add(p);
    }
    for (int i = 0; i < now.size(); i++) {
      Running r = now.get(i);
      Process process = processes.get(i);
      if (process.isAlive() && foregroundOfTerminal(process.pid())) {
        // Ctrl-C at the terminal reached it as well: a second interrupt would make Terraform stop at
        // once. Waited for below like the others, and killed if it outlives the grace (the signal
        // may have come from elsewhere, a kill of this JVM alone)
        LOG.warn("shutting down: waiting up to {} for {} {} (pid {}), interrupted at the terminal, to stop", r.grace(),
            r.argv().get(0), r.argv().size() > 1 ? r.argv().get(1) : "", process.pid());
      } else if (process.isAlive()) {
        LOG.warn("shutting down: interrupting {} {} (pid {}), waiting up to {} for it to stop", r.argv().get(0),
            r.argv().size() > 1 ? r.argv().get(1) : "", process.pid(), r.grace());
        process.destroy();
      }
    }
    for (int i = 0; i < now.size(); i++) {
      Running r = now.get(i);
      Process process = processes.get(i);
      try {
        if (!process.waitFor(r.grace().toMillis(), TimeUnit.MILLISECONDS)) {
          LOG.warn("{} did not stop within {} of being interrupted: killed", r.argv().get(0), r.grace());
          process.descendants().forEach(ProcessHandle::destroyForcibly);
          process.destroyForcibly();
        }
        r.done().await(RESULT_TAKEN.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Whether process {@code pid} is in the foreground process group of a terminal (Linux: its {@code
   * /proc/<pid>/stat}), where Ctrl-C reaches it as it reaches this JVM.
   */
  static boolean foregroundOfTerminal(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // after the name: state ppid pgrp session tty_nr tpgid
      return !f[4].equals("0") && f[5].equals(f[2]);
    } catch (IOException | RuntimeException e) {
      return false;  // no /proc (not Linux), or the process ended: taken as not at a terminal, so it is interrupted
    }
  }

  private Result run(Command command, Path out, Path err) {
    ProcessBuilder pb = new ProcessBuilder(command.argv()).directory(command.workDir().toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    // what this JVM's environment holds that would make Terraform act elsewhere or otherwise than asked
    pb.environment().keySet().removeIf(CommandRunner::isWithheld);
    pb.environment().putAll(command.environment());
    // registered before it starts: a shutdown that comes as it starts interrupts it too
    Running running = new Running(new java.util.concurrent.CompletableFuture<>(), command.grace(), command.argv(),
        new java.util.concurrent.CountDownLatch(1));
    register(running);
    try {
      Process process;
      try {
        process = pb.start();
      } catch (IOException e) {
        running.started().completeExceptionally(e);
        throw new UncheckedIOException("cannot start " + command.argv().get(0) + ": " + e.getMessage(), e);
      }
      running.started().complete(process);
      return await(command, process, out, err);
    } finally {
      unregister(running);
      running.done().countDown();
    }
  }

  private Result await(Command command, Process process, Path out, Path err) {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // Standard input is not used (-input=false); a failure to close it changes nothing.
      LOG.trace("closing stdin of {} failed: {}", command.argv().get(0), e.toString());
    }
    boolean timedOut = false;
    boolean cancelled = false;
    try (Tail stdout = new Tail(out, command.lines())) {
      long deadline = System.nanoTime() + command.timeout().toNanos();
      try {
        while (!process.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
          stdout.poll();
          if (command.cancelled().getAsBoolean()) {
            cancelled = true;
            break;
          }
          if (System.nanoTime() - deadline >= 0) {
            timedOut = true;
            break;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        cancelled = true;
      }
      if (timedOut || cancelled) {
        stop(process, command.grace(), command.argv(), stdout);
      }
      stdout.poll();
      stdout.finish();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the output of " + command.argv().get(0) + " from " + out + ": "
          + e.getMessage(), e);
    }
    int exit = process.isAlive() ? -1 : process.exitValue();
    byte[] collected = command.lines() != null ? new byte[0] : read(out, STDOUT_LIMIT, "stdout");
    String stderr = ends(err, STDERR_LIMIT);
    return new Result(exit, collected, stderr, timedOut, cancelled);
  }

  /**
   * Interrupts the process (SIGTERM to it alone: Terraform stops its provider plugins itself, and
   * must outlive them to write the state), hands on its output while it stops, waits up to {@code
   * grace} for it to end, then kills what is left of it and of every process it started (a plugin
   * must not outlive its Terraform).
   */
  private static void stop(Process process, Duration grace, List<String> argv, Tail stdout) throws IOException {
    List<ProcessHandle> started = new ArrayList<>();
    process.toHandle().descendants().forEach(started::add);
    process.destroy();
    // an interrupted thread still grants the grace: killed mid-apply, Terraform loses what it made
    boolean interrupted = Thread.interrupted();
    long end = System.nanoTime() + grace.toNanos();
    while (process.isAlive() && System.nanoTime() - end < 0) {
      try {
        process.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        interrupted = true;  // kept for the caller; the grace still runs out first
      }
      stdout.poll();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (process.isAlive()) {
      LOG.warn("{} {} did not stop within {} of being interrupted: killed", argv.get(0), argv.size() > 1 ? argv.get(1)
          : "", grace);
    }
    process.toHandle().descendants().forEach(started::add);
    // the command first: killed after its children, it could go on for a moment once their end
    // wakes it (a shell's `wait` returns and it runs its next line); they are known already, so
    // they are killed right after it, although they no longer descend from it then
    process.destroyForcibly();
    started.forEach(ProcessHandle::destroyForcibly);
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The first {@code limit} bytes of {@code file}; {@code what} names output whose excess is worth a
   * warning (null: cut silently).
   */
  private static byte[] read(Path file, long limit, String what) {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long size = f.length();
      if (size > limit && what != null) {
        LOG.warn("the {} of a terraform command exceeded {} bytes; the rest is dropped", what, limit);
      }
      byte[] bytes = new byte[(int) Math.min(size, limit)];
      f.readFully(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The text of {@code file} up to {@code limit} bytes: all of it, or its first quarter and its last
   * lines, saying how much was left out between. Terraform prints its errors last: with {@code
   * TF_LOG} set, a failed {@code init} prints megabytes of log before them, and the first bytes
   * alone held no error at all.
   */
  static String ends(Path file, int limit) {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long size = f.length();
      if (size <= limit) {
        byte[] all = new byte[(int) size];
        f.readFully(all);
        return new String(all, StandardCharsets.UTF_8);
      }
      byte[] head = new byte[limit / 4];
      f.readFully(head);
      byte[] tail = new byte[limit - head.length];
      f.seek(size - tail.length);
      f.readFully(tail);
      int to = head.length;
      while (to > 0 && head[to - 1] != '\n') {
        to--;  // to the last whole line of the start
      }
      int from = 0;
      while (from < tail.length && tail[from] != '\n') {
        from++;  // from the first whole line of the end
      }
      from = Math.min(from + 1, tail.length);
      return new String(head, 0, to, StandardCharsets.UTF_8) + "... (" + (size - to - (tail.length - from))
          + " bytes of standard error left out) ...\n" + new String(tail, from, tail.length - from,
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Removes the output files that commands of ended processes left in {@code scratch} (a JVM that
   * ends while its command runs leaves them) once they are older than {@code age}: a command
   * still running elsewhere keeps writing to a removed file, so none is in the way.
   */
  public static void removeStale(Path scratch, Duration age) {
    long before = System.currentTimeMillis() - age.toMillis();
    try (java.nio.file.DirectoryStream<Path> files = Files.newDirectoryStream(scratch, "command-*.{out,err}")) {
      for (Path f : files) {
        if (Files.getLastModifiedTime(f).toMillis() < before) {
          delete(f);
        }
      }
    } catch (IOException | java.nio.file.DirectoryIteratorException e) {
      LOG.debug("cannot look for stale command output in {}: {}", scratch, e.toString());
    }
  }

  private static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // Only the output of a finished command is left behind, in the provider's own directory.
      LOG.debug("cannot remove {}: {}", file, e.toString());
    }
  }

  /**
   * The lines a running command appends to its output file, handed over as each one ends. A
   * {@link RandomAccessFile}, not a channel: an interrupted thread must still read what the
   * command says while it stops.
   */
  private static final class Tail implements AutoCloseable {
    private final RandomAccessFile file;
    private final Consumer<String> lines;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final byte[] buf = new byte[64 * 1024];

    Tail(Path path, Consumer<String> lines) throws IOException {
      this.file = lines == null ? null : new RandomAccessFile(path.toFile(), "r");
      this.lines = lines;
    }

    /** Hands over every line ended since the last poll. */
    void poll() throws IOException {
      if (file == null) {
        return;
      }
      int n;
      while ((n = file.read(buf)) > 0) {
        for (int i = 0; i < n; i++) {
          byte b = buf[i];
          if (b == '\n') {
            deliver(lines, line);
          } else if (line.size() < LINE_LIMIT) {
            line.write(b);
          }
        }
      }
    }

    /** Hands over a last line without its line break. */
    void finish() {
      if (file != null && line.size() > 0) {
        deliver(lines, line);
      }
    }

    @Override
    public void close() throws IOException {
      if (file != null) {
        file.close();
      }
    }
  }

  private static void deliver(Consumer<String> lines, ByteArrayOutputStream line) {
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    if (text.endsWith("\r")) {
      text = text.substring(0, text.length() - 1);
    }
    try {
      lines.accept(text);
    } catch (RuntimeException e) {
      // A line handler's failure must not stop the reading of the rest.
      LOG.warn("handling a line of terraform output failed: {}", e.toString());
    }
  }
}
