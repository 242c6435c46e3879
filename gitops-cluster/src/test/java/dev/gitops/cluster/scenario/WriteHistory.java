package dev.gitops.cluster.scenario;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A scenario's {@link WriteLog}, read back in file order, and what it proves. */
final class WriteHistory {

  /** One line; {@code index} is its position in the file. */
  record Line(int index, String kind, String target, String member, long token, long micros, long pid,
      String operation, String how, long startMicros) {}

  final List<Line> lines;

  private WriteHistory(List<Line> lines) {
    this.lines = lines;
  }

  static WriteHistory read(Path file) throws IOException {
    List<Line> out = new ArrayList<>();
    for (String s : Files.readAllLines(file)) {
      String[] f = s.split(" ");
      int i = out.size();
      out.add(switch (f[0]) {
        case "W+", "W-" -> new Line(i, f[0], f[1], f[2], Long.parseLong(f[3]), Long.parseLong(f[4]),
            Long.parseLong(f[5]), "", "", 0);
        case "A" -> new Line(i, f[0], f[1], f[2], Long.parseLong(f[3]), Long.parseLong(f[4]), Long.parseLong(f[5]),
            f[6], f[7], Long.parseLong(f[8]));
        case "X" -> new Line(i, f[0], "", f[2], 0, Long.parseLong(f[3]), Long.parseLong(f[4]), f[1], "", 0);
        default -> throw new IllegalStateException("line " + (i + 1) + " of " + file + " is not a record: " + s);
      });
    }
    return new WriteHistory(out);
  }

  /**
   * What contradicts "one writer at a time, and never a stale one", target by target: a write that
   * starts while another process's write to the same target has not returned, and a write whose
   * token is older than one that already wrote to the target. A killed process's unfinished write
   * ends at the kill (it cannot write afterwards).
   */
  List<String> violations() {
    List<String> out = new ArrayList<>();
    Map<String, Map<Long, Line>> open = new HashMap<>();
    Map<String, Line> newest = new HashMap<>();
    for (Line l : lines) {
      if (l.kind().equals("X") && l.operation().equals("killed")) {
        open.values().forEach(byPid -> byPid.remove(l.pid()));
      } else if (l.kind().equals("W+")) {
        Map<Long, Line> writing = open.computeIfAbsent(l.target(), t -> new HashMap<>());
        for (Line other : writing.values()) {
          if (other.pid() != l.pid()) {
            out.add(l.target() + ": " + describe(l) + " started while " + describe(other) + " had not finished");
          }
        }
        Line last = newest.get(l.target());
        if (last != null && l.token() < last.token()) {
          out.add(l.target() + ": " + describe(l) + " wrote after " + describe(last) + " (a stale token landed)");
        }
        if (last == null || l.token() >= last.token()) {
          newest.put(l.target(), l);
        }
        writing.put(l.pid(), l);
      } else if (l.kind().equals("W-")) {
        Map<Long, Line> writing = open.get(l.target());
        if (writing != null) {
          writing.remove(l.pid());
        }
      }
    }
    return out;
  }

  private static String describe(Line l) {
    return "the write of " + l.member() + " (pid " + l.pid() + ", token " + l.token() + ", line " + (l.index() + 1) + ")";
  }

  /** The line the test wrote when it did {@code event} to process {@code pid}. */
  Line event(String event, long pid) {
    return lines.stream().filter(l -> l.kind().equals("X") && l.operation().equals(event) && l.pid() == pid)
        .reduce((a, b) -> b).orElseThrow(() -> new IllegalStateException("no " + event + " of pid " + pid + " recorded"));
  }

  /**
   * The writes that reached the live system from process {@code pid} under the tokens it held
   * ({@code tokens}, by target: a token counts per target on Kubernetes), after line {@code after}.
   */
  List<Line> landed(long pid, Map<String, Long> tokens, Line after) {
    return lines.stream().filter(l -> l.index() > after.index() && l.kind().equals("W+") && l.pid() == pid
        && Long.valueOf(l.token()).equals(tokens.get(l.target()))).toList();
  }

  /** The side effects process {@code pid} attempted under {@code tokens} (by target), started after {@code sinceMicros}. */
  List<Line> attempted(long pid, Map<String, Long> tokens, long sinceMicros) {
    return lines.stream().filter(l -> l.kind().equals("A") && l.pid() == pid
        && Long.valueOf(l.token()).equals(tokens.get(l.target())) && l.startMicros() >= sinceMicros).toList();
  }

  /** How many writes reached the live system. */
  long landedWrites() {
    return lines.stream().filter(l -> l.kind().equals("W+")).count();
  }
}
