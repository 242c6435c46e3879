package dev.gitops.terraform.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
 * machine-readable UI stream); standard error is kept up to a bound. A command that overruns its
 * deadline, or is cancelled, is killed with every process it started.
 */
public final class CommandRunner {

  private static final Logger LOG = LoggerFactory.getLogger(CommandRunner.class);
  /** How much of standard error is kept (the rest is counted, not stored). */
  private static final int STDERR_LIMIT = 256 * 1024;
  /** How much collected standard output is accepted (a plan of tens of thousands of resources fits). */
  private static final long STDOUT_LIMIT = 512L * 1024 * 1024;

  /** What a command did. */
  public record Result(int exitCode, byte[] stdout, String stderr, boolean timedOut, boolean cancelled) {
    /** Standard output as UTF-8 text. */
    public String stdoutText() {
      return new String(stdout, StandardCharsets.UTF_8);
    }
  }

  /** One command to run. */
  public record Command(List<String> argv, Path workDir, Map<String, String> environment, Duration timeout,
      BooleanSupplier cancelled, Consumer<String> lines) {
    /** Validates. */
    public Command {
      argv = List.copyOf(argv);
      Objects.requireNonNull(workDir, "workDir");
      environment = Map.copyOf(environment);
      Objects.requireNonNull(timeout, "timeout");
      Objects.requireNonNull(cancelled, "cancelled");
    }
  }

  /**
   * Runs {@code command}. With {@link Command#lines()} set, standard output goes to it line by
   * line and {@link Result#stdout()} is empty; otherwise it is collected.
   *
   * @throws UncheckedIOException when the binary cannot be started
   */
  public Result run(Command command) {
    ProcessBuilder pb = new ProcessBuilder(command.argv()).directory(command.workDir().toFile());
    pb.environment().putAll(command.environment());
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command.argv().get(0) + ": " + e.getMessage(), e);
    }
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // Standard input is not used (-input=false); a failure to close it changes nothing.
      LOG.trace("closing stdin of {} failed: {}", command.argv().get(0), e.toString());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread stdout = pump(process.getInputStream(), command.lines(), out, STDOUT_LIMIT, "stdout");
    Thread stderr = pump(process.getErrorStream(), null, err, STDERR_LIMIT, "stderr");
    long deadline = System.nanoTime() + command.timeout().toNanos();
    boolean timedOut = false;
    boolean cancelled = false;
    try {
      while (!process.waitFor(50, TimeUnit.MILLISECONDS)) {
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
      kill(process);
    }
    join(stdout);
    join(stderr);
    int exit;
    try {
      exit = process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exit = -1;
    }
    return new Result(exit, out.toByteArray(), err.toString(StandardCharsets.UTF_8), timedOut, cancelled);
  }

  /** Kills the process and everything it started (a shell's children would keep the pipes open). */
  private static void kill(Process process) {
    List<ProcessHandle> all = new ArrayList<>();
    process.toHandle().descendants().forEach(all::add);
    all.forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void join(Thread t) {
    try {
      t.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Thread pump(InputStream in, Consumer<String> lines, ByteArrayOutputStream sink, long limit,
      String name) {
    Thread t = new Thread(() -> {
      try (InputStream s = new java.io.BufferedInputStream(in, 64 * 1024)) {
        if (lines != null) {
          ByteArrayOutputStream line = new ByteArrayOutputStream();
          int b;
          while ((b = s.read()) >= 0) {
            if (b == '\n') {
              deliver(lines, line);
            } else if (line.size() < 16 * 1024 * 1024) {
              line.write(b);
            }
          }
          if (line.size() > 0) {
            deliver(lines, line);
          }
        } else {
          byte[] buf = new byte[64 * 1024];
          int n;
          long total = 0;
          while ((n = s.read(buf)) >= 0) {
            total += n;
            if (sink.size() + (long) n <= limit) {
              sink.write(buf, 0, n);
            } else if (total - n < limit) {
              // Past the bound: the rest is read (so the process does not block) and dropped.
              LOG.warn("the {} of a terraform command exceeded {} bytes; the rest is dropped", name, limit);
            }
          }
        }
      } catch (IOException e) {
        // The process was killed or closed the stream: what was read so far is what it said.
        LOG.trace("reading {} ended: {}", name, e.toString());
      }
    }, "terraform-" + name);
    t.setDaemon(true);
    t.start();
    return t;
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
      // A line handler's failure must not stop the reading, or the process would block on a full pipe.
      LOG.warn("handling a line of terraform output failed: {}", e.toString());
    }
  }
}
