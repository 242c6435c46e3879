package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.terraform.TerraformLockException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Terraform's machine-readable UI ({@code -json}): one JSON object per line with {@code @level},
 * {@code @message}, {@code type} and a type-specific body. Collects diagnostics (up to a bound,
 * counting the errors past it) and, for apply,
 * the last hook per resource address ({@code apply_start}, {@code apply_progress}, {@code
 * apply_complete}, {@code apply_errored}); hands every message to a listener as it arrives. Lines
 * that are not JSON (a wrapper script, an old binary) are kept as plain log lines.
 */
public final class UiStream implements Consumer<String> {

  /** One message. */
  public record Message(String type, String level, String text, String address, String action, double elapsed,
      JsonNode body) {}

  /** One diagnostic. */
  public record Diagnostic(String severity, String summary, String detail, String address, String file, int line) {

    /** A diagnostic without a source range. */
    public Diagnostic(String severity, String summary, String detail, String address) {
      this(severity, summary, detail, address, "", 0);
    }
  }

  /**
   * How many characters of diagnostics (summaries and details) are kept once {@link #ALWAYS_KEPT}
   * are: past them a diagnostic is counted, not kept. A plan of thousands of failing instances (a
   * precondition of a {@code for_each}) prints one per instance, each up to a line's length.
   */
  static final long KEPT_CHARS = 4L * 1024 * 1024;
  /** How many diagnostics are kept whatever their size (the first error is usually the one to read). */
  static final int ALWAYS_KEPT = 10;

  private final Consumer<Message> listener;
  private final List<Diagnostic> diagnostics = Collections.synchronizedList(new ArrayList<>());
  /** The characters of the diagnostics kept (guarded by {@link #diagnostics}). */
  private long keptChars;
  /** The errors counted but not kept (guarded by {@link #diagnostics}). */
  private int droppedErrors;
  private final Map<String, Message> lastHook = Collections.synchronizedMap(new LinkedHashMap<>());
  private final List<String> plain = Collections.synchronizedList(new ArrayList<>());
  private volatile String version = "";

  /** A stream handing each message to {@code listener}. */
  public UiStream(Consumer<Message> listener) {
    this.listener = listener;
  }

  @Override
  public void accept(String line) {
    String trimmed = line.strip();
    if (trimmed.isEmpty()) {
      return;
    }
    JsonNode n;
    if (trimmed.startsWith("{")) {
      try {
        n = PlanReader.JSON.readTree(trimmed);
      } catch (java.io.IOException e) {
        n = null;
      }
    } else {
      n = null;
    }
    if (n == null || !n.isObject()) {
      if (plain.size() < 1000) {
        plain.add(trimmed);
      }
      return;
    }
    String type = n.path("type").asText("");
    JsonNode hook = n.path("hook");
    String address = hook.path("resource").path("addr").asText("");
    Message m = new Message(type, n.path("@level").asText(""), n.path("@message").asText(""), address,
        hook.path("action").asText(""), hook.path("elapsed_seconds").asDouble(0), n);
    switch (type) {
      case "version" -> version = n.path("terraform").asText(n.path("tofu").asText(""));
      case "diagnostic" -> {
        JsonNode d = n.path("diagnostic");
        Diagnostic diagnostic = new Diagnostic(d.path("severity").asText("error"), d.path("summary").asText(""),
            d.path("detail").asText(""), d.path("address").asText(""), d.path("range").path("filename").asText(""),
            d.path("range").path("start").path("line").asInt(0));
        synchronized (diagnostics) {
          if (diagnostics.size() < ALWAYS_KEPT || keptChars < KEPT_CHARS) {
            keptChars += diagnostic.summary().length() + diagnostic.detail().length();
            diagnostics.add(diagnostic);
          } else if (diagnostic.severity().equals("error")) {
            droppedErrors++;
          }
        }
      }
      case "apply_start", "apply_progress", "apply_complete", "apply_errored" -> {
        if (!address.isEmpty()) {
          lastHook.put(address, m);
        }
      }
      default -> { }
    }
    if (listener != null) {
      listener.accept(m);
    }
  }

  /** The version the stream announced ("" when none). */
  public String version() {
    return version;
  }

  /**
   * How many errors were counted but not kept among {@link #diagnostics()}: those past the first
   * {@value #KEPT_CHARS} characters of diagnostics.
   */
  public int droppedErrors() {
    synchronized (diagnostics) {
      return droppedErrors;
    }
  }

  /** The diagnostics so far (those kept: {@link #droppedErrors()}). */
  public List<Diagnostic> diagnostics() {
    synchronized (diagnostics) {
      return List.copyOf(diagnostics);
    }
  }

  /** The errors among the diagnostics. */
  public List<Diagnostic> errors() {
    return diagnostics().stream().filter(d -> d.severity().equals("error")).toList();
  }

  /** The last apply hook of each address. */
  public Map<String, Message> lastHooks() {
    synchronized (lastHook) {
      return Map.copyOf(lastHook);
    }
  }

  /** Lines that were not JSON. */
  public List<String> plainLines() {
    synchronized (plain) {
      return List.copyOf(plain);
    }
  }

  private static final Pattern LOCK_FIELD =
      Pattern.compile("^\\s*(ID|Path|Operation|Who|Version|Created|Info):[ \\t]*(.*)$", Pattern.MULTILINE);

  /**
   * The lock error among {@code diagnostics} and {@code stderr}, if Terraform refused because the
   * state is locked: with the lock's id, holder, time and operation as its {@code Lock Info} says.
   */
  public static Optional<TerraformLockException> lockError(List<Diagnostic> diagnostics, String stderr,
      KnownSecrets scrubber) {
    String text = null;
    for (Diagnostic d : diagnostics) {
      if (d.summary().toLowerCase(java.util.Locale.ROOT).contains("state lock")) {
        text = d.summary() + "\n" + d.detail();
        break;
      }
    }
    if (text == null && stderr != null && stderr.contains("Lock Info:")) {
      text = stderr;
    }
    if (text == null || !text.contains("Lock Info:")) {
      return Optional.empty();
    }
    Map<String, String> info = new LinkedHashMap<>();
    Matcher m = LOCK_FIELD.matcher(text.substring(text.indexOf("Lock Info:")));
    while (m.find()) {
      info.putIfAbsent(m.group(1), m.group(2).strip());
    }
    String id = info.getOrDefault("ID", "");
    String who = scrubber.scrub(info.getOrDefault("Who", ""));
    String created = info.getOrDefault("Created", "");
    String operation = info.getOrDefault("Operation", "");
    String path = scrubber.scrub(info.getOrDefault("Path", ""));
    return Optional.of(new TerraformLockException("the state is locked by " + (who.isEmpty() ? "someone" : who)
        + " since " + (created.isEmpty() ? "an unknown time" : created) + " (lock id " + id
        + (operation.isEmpty() ? "" : ", operation " + operation) + (path.isEmpty() ? "" : ", state " + path)
        + "); gitops never breaks a lock by itself: once its holder is gone, release it with 'terraform force-unlock "
        + id + "' in the working directory (TerraformProvider.forceUnlock from code)", id, who, created, operation, path));
  }
}
