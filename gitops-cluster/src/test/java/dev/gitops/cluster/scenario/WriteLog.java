package dev.gitops.cluster.scenario;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The shared record of a scenario: every member JVM and the test append lines to one file opened
 * with O_APPEND, one {@code write} per line, so the file's order is the order in which the lines
 * were written, across processes and without a shared clock. Each line also carries the
 * wall-clock time in microseconds (for reading, not for the ordering).
 *
 * <ul>
 *   <li>{@code W+ <target> <member> <token> <micros> <pid>}: a write is about to reach the live system
 *   <li>{@code W- <target> <member> <token> <micros> <pid>}: it returned
 *   <li>{@code A <target> <member> <token> <micros> <pid> <operation> <ok|fenced|failed> <startMicros>}: a side
 *       effect was attempted (store write or provider call, outside the fence) and how it ended
 *   <li>{@code X <event> <member> <micros> <pid>}: what the test did to a member (killed, stopped, continued)
 * </ul>
 */
final class WriteLog implements AutoCloseable {

  /**
   * A stream, not a {@code FileChannel}: a channel is closed for every thread when one thread is
   * interrupted while writing (a sync cancelled mid-write), and the log would then refuse all the rest.
   */
  private final FileOutputStream out;

  WriteLog(Path file) {
    try {
      out = new FileOutputStream(file.toFile(), true);  // O_APPEND
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the scenario's write log " + file, e);
    }
  }

  static long micros() {
    return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
  }

  /** Appends {@code fields} and a newline as one write. */
  synchronized void append(Object... fields) {
    StringBuilder line = new StringBuilder();
    for (Object f : fields) {
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(f);
    }
    try {
      out.write(line.append('\n').toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to the scenario's write log", e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
