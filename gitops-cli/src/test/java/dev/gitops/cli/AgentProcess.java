package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.micrometer.PrometheusText;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code gitops run} as a real process: the built jar, plus the memory provider type (gitops-agent's
 * test jar, gitops-testkit) on its class path, metrics on a free loopback port. Signals go through
 * {@code kill}; stdout is collected line by line.
 */
final class AgentProcess implements AutoCloseable {

  private static final Pattern METRICS = Pattern.compile("metrics on (http://\\S+)/metrics");
  /** Every wait of these tests is bounded by this. */
  static final Duration WAIT = Duration.ofSeconds(60);

  private final Process process;
  private final List<String> out = new CopyOnWriteArrayList<>();
  private final Path err;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private volatile String base;

  private AgentProcess(Process process, Path err) {
    this.process = process;
    this.err = err;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          out.add(line);
          Matcher m = METRICS.matcher(line);
          if (m.find()) {
            base = m.group(1);
          }
        }
      } catch (IOException e) {
        // The process ended: what it printed is in out.
      }
    }, "agent-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code gitops run --config config --metrics-port 0 --metrics-address 127.0.0.1 more...} in {@code workDir}. */
  static AgentProcess start(Path workDir, Path config, String... more) throws IOException, InterruptedException {
    AgentProcess a = launch(workDir, config, 0, more);
    a.await("the agent serves its metrics", () -> a.base != null);
    return a;
  }

  /**
   * Starts {@code gitops run} with its metrics on {@code port} (0: any free one) without waiting
   * for anything: with a fixed port, {@code http://127.0.0.1:port} answers from before its targets start.
   */
  static AgentProcess launch(Path workDir, Path config, int port, String... more) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add("dev.gitops.cli.Main");
    cmd.addAll(List.of("run", "--config", config.toString(), "--metrics-port", Integer.toString(port),
        "--metrics-address", "127.0.0.1"));
    cmd.addAll(List.of(more));
    Path err = Files.createTempFile(workDir, "agent-stderr-", ".txt");
    Process p = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectError(err.toFile()).start();
    AgentProcess a = new AgentProcess(p, err);
    if (port != 0) {
      a.base = "http://127.0.0.1:" + port;
    }
    return a;
  }

  /** The jar, and what the memory provider type needs beside it. */
  private static String classPath() {
    List<String> cp = new ArrayList<>(List.of(GitopsJar.jar().toString()));
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      boolean agentTests = e.contains("gitops-agent") && (e.endsWith("test-classes") || e.endsWith("-tests.jar"));
      boolean testkit = e.contains("gitops-testkit") && !e.contains("test-classes");
      if (agentTests || testkit) {
        cp.add(e);
      }
    }
    assertThat(cp).as("the agent's test classes and the testkit on the test class path").hasSize(3);
    return String.join(File.pathSeparator, cp);
  }

  long pid() {
    return process.pid();
  }

  /** Sends {@code signal} (HUP, TERM) with {@code kill}. */
  void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -%s", signal).isZero();
  }

  /** kill -9: the process dies where it stands. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    assertThat(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
  }

  /** Waits for the process to exit and returns its code. */
  int awaitExit(Duration within) throws InterruptedException {
    assertThat(process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)).as("exited within %s; %s", within, this)
        .isTrue();
    return process.exitValue();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** What it printed on stderr so far. */
  String err() throws IOException {
    return Files.readString(err);
  }

  /** What it printed on stdout so far. */
  List<String> out() {
    return List.copyOf(out);
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** /metrics, scraped and parsed. */
  PrometheusText metrics() throws IOException, InterruptedException {
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    return PrometheusText.parse(r.body());
  }

  /** The value of a sample of target {@code target}, or -1 when there is none. */
  double sample(String name, String target, String... labels) throws IOException, InterruptedException {
    List<String> want = new ArrayList<>(List.of("target=" + target));
    want.addAll(Arrays.asList(labels));
    return metrics().samples().stream()
        .filter(s -> s.name().equals(name) && want.stream().allMatch(l -> l.split("=", 2)[1].equals(s.labels().get(l.split("=", 2)[0]))))
        .mapToDouble(PrometheusText.Sample::value).findFirst().orElse(-1);
  }

  interface Check {
    boolean holds() throws Exception;
  }

  /** Waits (bounded by {@link #WAIT}) until {@code check} holds. */
  void await(String what, Check check) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    Exception last = null;
    while (System.nanoTime() < end) {
      try {
        if (check.holds()) {
          return;
        }
      } catch (Exception e) {
        last = e;
      }
      if (!process.isAlive()) {
        break;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(what + ": not within " + WAIT + " (last error: " + last + ")\n" + this);
  }

  @Override
  public String toString() {
    String e;
    try {
      e = Files.readString(err);
    } catch (IOException x) {
      e = x.toString();
    }
    return "--- agent stdout ---\n" + String.join("\n", out) + "\n--- agent stderr ---\n" + e;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }
}
