package dev.gitops.agent.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.internal.JsonErrors;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A value of the configuration file with where it is: typed accessors that fail with a {@link
 * ConfigException} naming the file, the line and the field ({@code targets[0].source.url}).
 * Provider factories read their options through it, so their errors read like the agent's.
 *
 * <pre>{@code
 * Path dir = options.path("directory");               // required, relative to the config file
 * List<String> globs = options.strings("structured");  // optional list, empty when absent
 * options.allowOnly("type", "directory", "structured");
 * }</pre>
 */
public final class ConfigNode {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
  private static final Pattern SIZE = Pattern.compile("(\\d+)(KiB|MiB|GiB)?");
  /** The prefix of YAML's own tags ({@code !!str} is {@code tag:yaml.org,2002:str}): other tags are refused. */
  private static final String YAML_TAGS = "tag:yaml.org,2002:";

  /** The forms of a size, for messages. */
  public static final String SIZE_FORMS = "a positive size in bytes or with a unit KiB, MiB or GiB, such as 4MiB";
  /** The largest configuration file read ({@link AgentConfig#read} reads no more than one byte past it). */
  static final int MAX_BYTES = 1 << 20;

  private final Path file;
  private final JsonNode node;
  private final String pointer;
  private final Map<String, Integer> lines;
  /**
   * The text of each number or boolean written otherwise than it reads ({@code 1.10}, {@code 010},
   * {@code 0x1F}; YAML 1.1's {@code yes}, {@code no}, {@code on}, {@code off}), by pointer.
   */
  private final Map<String, String> numbers;

  private ConfigNode(Path file, JsonNode node, String pointer, Map<String, Integer> lines, Map<String, String> numbers) {
    this.file = file;
    this.node = node;
    this.pointer = pointer;
    this.lines = lines;
    this.numbers = numbers;
  }

  /** What a file larger than {@link #MAX_BYTES} is refused with. */
  static ConfigException tooLarge(Path file) {
    return new ConfigException(file, 0, "larger than " + MAX_BYTES + " bytes: not an agent configuration");
  }

  /**
   * Reads one YAML document, remembering the line of every field and element.
   *
   * @throws ConfigException naming the line of malformed YAML, a duplicate key, or a second document
   */
  static ConfigNode parse(Path file, byte[] yaml) {
    if (yaml.length > MAX_BYTES) {
      throw tooLarge(file);
    }
    Map<String, Integer> lines = new HashMap<>();
    Map<String, String> numbers = new HashMap<>();
    try (JsonParser p = new YAMLFactory().createParser(yaml)) {
      JsonToken t = p.nextToken();
      JsonNode root = t == null ? JsonNodeFactory.instance.objectNode() : read(file, p, t, "", lines, numbers);
      if (t != null && p.nextToken() != null) {
        throw new ConfigException(file, lineOf(p.currentTokenLocation()), "a second YAML document: the configuration is one");
      }
      return new ConfigNode(file, root, "", lines, numbers);
    } catch (JsonProcessingException e) {
      throw new ConfigException(file, JsonErrors.line(e), "malformed YAML: " + JsonErrors.problem(e), e);
    } catch (IOException e) {
      throw new ConfigException(file, 0, "cannot read: " + e.getMessage(), e);
    }
  }

  private static JsonNode read(Path file, JsonParser p, JsonToken t, String ptr, Map<String, Integer> lines,
      Map<String, String> numbers) throws IOException {
    lines.putIfAbsent(ptr, lineOf(p.currentTokenLocation()));
    if (p instanceof YAMLParser y && y.isCurrentAlias()) {
      // Jackson reads an alias as its anchor's name: url: *repo would be the local path "repo"
      throw new ConfigException(file, lineOf(p.currentTokenLocation()), display(ptr) + ": YAML aliases (*"
          + p.getText() + ") are not supported in the agent configuration: write the value out");
    }
    if (p instanceof YAMLParser y && y.getTypeId() != null && !y.getTypeId().startsWith(YAML_TAGS)) {
      // Jackson drops a tag of its own (!env X) and reads the value as written: url: !env REPO_URL
      // would be the local path REPO_URL. YAML's own tags (!!str) keep their meaning.
      throw new ConfigException(file, lineOf(p.currentTokenLocation()), display(ptr) + ": a YAML tag (!"
          + y.getTypeId() + ") is not supported in the agent configuration: the value would be read as if the tag"
          + " were not there; write the value plainly (a secret by reference, as {env: NAME} or {file: PATH})");
    }
    JsonNodeFactory f = JsonNodeFactory.instance;
    switch (t) {
      case START_OBJECT -> {
        ObjectNode o = f.objectNode();
        for (JsonToken k = nextKey(file, p, ptr); k != JsonToken.END_OBJECT; k = nextKey(file, p, ptr)) {
          String name = p.currentName();
          String child = ptr + "/" + name.replace("~", "~0").replace("/", "~1");
          int line = lineOf(p.currentTokenLocation());
          if (name.equals("<<") && p instanceof YAMLParser) {
            throw new ConfigException(file, line, display(child) + ": YAML merge keys (<<) are not supported in the agent"
                + " configuration: write the fields out");
          }
          if (o.has(name)) {
            throw new ConfigException(file, line, display(child) + ": duplicate key (first at line " + lines.get(child)
                + ")");
          }
          lines.put(child, line);
          o.set(name, read(file, p, p.nextToken(), child, lines, numbers));
        }
        return o;
      }
      case START_ARRAY -> {
        ArrayNode a = f.arrayNode();
        int i = 0;
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
          a.add(read(file, p, e, ptr + "/" + i++, lines, numbers));
        }
        return a;
      }
      case VALUE_STRING -> {
        return f.textNode(p.getText());
      }
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
        // a whole number past a long is kept whole: integer() refuses it naming the field, a string reads as written
        JsonNode n = t == JsonToken.VALUE_NUMBER_FLOAT ? f.numberNode(p.getDoubleValue())
            : p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? f.numberNode(p.getBigIntegerValue())
            : f.numberNode(p.getLongValue());
        if (!n.asText().equals(p.getText())) {
          numbers.put(ptr, p.getText());
        }
        return n;
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        JsonNode b = f.booleanNode(t == JsonToken.VALUE_TRUE);
        if (!b.asText().equalsIgnoreCase(p.getText())) {
          numbers.put(ptr, p.getText());  // YAML 1.1's yes, no, on, off: a string read would say "got true"
        }
        return b;
      }
      case VALUE_NULL -> {
        return f.nullNode();
      }
      case VALUE_EMBEDDED_OBJECT -> throw new ConfigException(file, lineOf(p.currentTokenLocation()), display(ptr)
          + ": a YAML !!binary value is not supported in the agent configuration: write the value as text");
      default -> throw new ConfigException(file, lineOf(p.currentTokenLocation()), display(ptr)
          + ": a YAML value of a kind the agent configuration does not take");
    }
  }

  /**
   * The next key of a mapping at {@code ptr}, or its end. Jackson refuses a key that is not a
   * scalar (a YAML complex key, {@code ? [a, b]}) naming SnakeYAML's event: it is said in words.
   */
  private static JsonToken nextKey(Path file, JsonParser p, String ptr) throws IOException {
    try {
      return p.nextToken();
    } catch (JsonParseException e) {
      if (e.getOriginalMessage() == null || !e.getOriginalMessage().startsWith("Expected a field name")) {
        throw e;
      }
      throw new ConfigException(file, e.getLocation() == null ? 0 : lineOf(e.getLocation()), display(ptr)
          + ": a key that is a list or a mapping (a YAML complex key, ? ...) is not supported in the agent"
          + " configuration: keys are plain names", e);
    }
  }

  private static int lineOf(JsonLocation loc) {
    return Math.max(0, loc.getLineNr());
  }

  /** {@code targets[0].source.url} for {@code /targets/0/source/url}. */
  static String display(String pointer) {
    if (pointer.isEmpty()) {
      return "(top level)";
    }
    StringBuilder b = new StringBuilder();
    for (String seg : pointer.substring(1).split("/", -1)) {
      String s = seg.replace("~1", "/").replace("~0", "~");
      if (!s.isEmpty() && s.chars().allMatch(Character::isDigit)) {
        b.append('[').append(s).append(']');
      } else {
        b.append(b.length() == 0 ? "" : ".").append(s);
      }
    }
    return b.toString();
  }

  /** The file. */
  public Path file() {
    return file;
  }

  /** The field's name as errors show it, for example {@code targets[0].source.url}. */
  public String where() {
    return display(pointer);
  }

  /** The line of this value, or of the nearest enclosing one that has a line. */
  public int line() {
    for (String p = pointer; ; p = p.substring(0, p.lastIndexOf('/'))) {
      Integer l = lines.get(p);
      if (l != null || p.isEmpty()) {
        return l == null ? 0 : l;
      }
    }
  }

  /** The value as a JSON tree (missing when absent). */
  public JsonNode json() {
    return node;
  }

  /** Whether the value is absent or written without one ({@link #isAbsent} refuses the latter). */
  public boolean isMissing() {
    return node.isMissingNode() || node.isNull();
  }

  /**
   * Whether the value is absent: not written. A key written without a value ({@code interval:},
   * {@code credentials:}) is refused, not taken for the default: it is a value lost in an edit, and
   * the default may be far from what was meant (no credentials, every event). Every accessor reads
   * through it; a factory reading a mapping itself should too. A required key ({@link #string},
   * {@link #path}) has no default: written without a value, it is said to be required instead.
   *
   * @throws ConfigException when the key is written without a value
   */
  public boolean isAbsent() {
    if (node.isNull()) {
      throw error("has no value (remove the key for the default)");
    }
    return node.isMissingNode();
  }

  /** An error about this value: {@code <file>:<line>: <field>: <problem>}. */
  public ConfigException error(String problem) {
    return new ConfigException(file, line(), where() + ": " + problem);
  }

  /** The field {@code name} of this mapping (missing when absent). */
  public ConfigNode get(String name) {
    JsonNode child = node.isObject() && node.has(name) ? node.get(name) : MissingNode.getInstance();
    return new ConfigNode(file, child, pointer + "/" + name.replace("~", "~0").replace("/", "~1"), lines, numbers);
  }

  /** Fails unless this is a mapping whose fields are all among {@code allowed}. */
  public ConfigNode allowOnly(String... allowed) {
    if (node.isNull()) {
      throw error("has no value");
    }
    if (!node.isObject()) {
      throw error("must be a mapping, got " + kind(node));
    }
    Set<String> ok = new LinkedHashSet<>(List.of(allowed));
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!ok.contains(name)) {
        throw get(name).error("unknown field (allowed here: " + String.join(", ", ok) + ")");
      }
    }
    return this;
  }

  /** The elements of the list at {@code name}; empty when absent. */
  public List<ConfigNode> list(String name) {
    ConfigNode c = get(name);
    if (c.isAbsent()) {
      return List.of();
    }
    if (!c.node.isArray()) {
      throw c.error("must be a list, got " + kind(c.node));
    }
    List<ConfigNode> out = new ArrayList<>();
    for (int i = 0; i < c.node.size(); i++) {
      out.add(new ConfigNode(file, c.node.get(i), c.pointer + "/" + i, lines, numbers));
    }
    return out;
  }

  /** The required non-empty string at {@code name}. */
  public String string(String name) {
    return string(name, null);
  }

  /**
   * The required non-empty string at {@code name}; {@code what} says what it is when it is missing
   * ({@code "required: the repository"}), or is null.
   */
  public String string(String name, String what) {
    return required(name, what).optionalString(name).orElseThrow(() -> missing(name, what));
  }

  /** The non-empty string at {@code name}, if present. */
  public Optional<String> optionalString(String name) {
    ConfigNode c = get(name);
    if (c.isAbsent()) {
      return Optional.empty();
    }
    c.notReadOtherwise();
    if (!c.node.isTextual() && !c.node.isNumber()) {
      throw c.error("must be a string, got " + kind(c.node));
    }
    String s = c.node.asText();
    if (s.isBlank()) {
      throw c.error("is empty");
    }
    return Optional.of(s);
  }

  /**
   * Refuses a value where a string is meant that YAML reads otherwise than it is written, saying
   * how it was read and to quote it: {@code ref: 1.10} would be the tag 1.1, {@code ref: 010} the
   * branch 8, and {@code name: no} or {@code namespace: off} the boolean false ("got false" named
   * nothing that was written).
   */
  void notReadOtherwise() {
    String written = numbers.get(pointer);
    if (written != null) {
      throw error("YAML reads " + written + " as the " + (node.isBoolean() ? "boolean " : "number ") + node.asText()
          + "; quote it (\"" + written + "\") if that is the string meant");
    }
  }

  /** The strings of the list (or single string) at {@code name}; empty when absent. */
  public List<String> strings(String name) {
    ConfigNode c = get(name);
    if (c.isAbsent()) {
      return List.of();
    }
    if (c.node.isTextual()) {
      return List.of(string(name));
    }
    List<String> out = new ArrayList<>();
    for (ConfigNode e : list(name)) {
      e.notReadOtherwise();
      if (!e.node.isTextual() || e.node.asText().isBlank()) {
        throw e.error("must be a non-empty string, got " + kind(e.node));
      }
      out.add(e.node.asText());
    }
    return out;
  }

  /** The boolean at {@code name}, or {@code otherwise}. */
  public boolean bool(String name, boolean otherwise) {
    ConfigNode c = get(name);
    if (c.isAbsent()) {
      return otherwise;
    }
    if (!c.node.isBoolean()) {
      throw c.error("must be true or false, got " + kind(c.node));
    }
    return c.node.booleanValue();
  }

  /** The integer at {@code name} within {@code min..max}, or {@code otherwise}. */
  public int integer(String name, int min, int max, int otherwise) {
    ConfigNode c = get(name);
    if (c.isAbsent()) {
      return otherwise;
    }
    if (!c.node.isIntegralNumber() || !c.node.canConvertToLong() || c.node.longValue() < min
        || c.node.longValue() > max) {
      throw c.error("must be a whole number from " + min + " to " + max + ", got " + c.node);
    }
    return c.node.intValue();
  }

  /** The number at {@code name} within {@code min..max}, or {@code otherwise}. */
  public double number(String name, double min, double max, double otherwise) {
    ConfigNode c = get(name);
    if (c.isAbsent()) {
      return otherwise;
    }
    if (!c.node.isNumber() || c.node.doubleValue() < min || c.node.doubleValue() > max) {
      throw c.error("must be a number from " + min + " to " + max + ", got " + c.node);
    }
    return c.node.doubleValue();
  }

  /**
   * The positive duration at {@code name} ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h},
   * {@code 1d}, or ISO-8601 {@code PT30S}), or {@code otherwise}.
   */
  public Duration duration(String name, Duration otherwise) {
    ConfigNode c = get(name);
    if (c.isAbsent()) {
      return otherwise;
    }
    return parseDuration(c.node.isTextual() ? c.node.asText() : "")
        .orElseThrow(() -> c.error("must be a positive duration such as 500ms, 30s, 5m, 1h or PT30S (at most 36500d),"
            + " got " + c.node));
  }

  /**
   * The duration at {@code name} as {@link #duration(String, Duration)} reads it, or {@code
   * otherwise} (which may be null), refused at its line when shorter than {@code min}: a timeout of {@code 1ms} (a slip
   * for {@code 1m}) would fail every call it bounds. {@code why} says what the value bounds.
   *
   * <pre>{@code
   * Duration timeout = options.duration("timeout", null, Duration.ofSeconds(1), "it bounds each run");  // null: absent
   * // timeout: 1ms -> agent.yaml:12: targets[0].provider.timeout: must be at least 1s: it bounds each run, got 1ms
   * }</pre>
   */
  public Duration duration(String name, Duration otherwise, Duration min, String why) {
    Duration d = duration(name, otherwise);
    if (d != null && d.compareTo(min) < 0) {
      throw get(name).error("must be at least " + show(min) + ": " + why + ", got " + get(name).node.asText());
    }
    return d;
  }

  /** A duration as a file would write it: 90s, 15m, 2h, 1500ms. */
  static String show(Duration d) {
    long ms = d.toMillis();
    if (ms % 1000 != 0) {
      return ms + "ms";
    }
    long s = ms / 1000;
    return s != 0 && s % 3600 == 0 ? s / 3600 + "h" : s != 0 && s % 60 == 0 ? s / 60 + "m" : s + "s";
  }

  /**
   * The positive duration {@code text} spells ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h},
   * {@code 1d}, or ISO-8601 {@code PT30S}) up to {@link ExecutionOptions#MAX}, or empty when it
   * spells none: the one reading of a duration for configuration files and command-line flags alike.
   *
   * <pre>{@code
   * Duration callTimeout = ConfigNode.parseDuration("5m").orElseThrow();   // PT5M
   * }</pre>
   */
  public static Optional<Duration> parseDuration(String text) {
    String s = text == null ? "" : text.trim();
    Duration d = null;
    Matcher m = DURATION.matcher(s);
    if (m.matches() && m.group(1).length() <= 12) {
      long n = Long.parseLong(m.group(1));
      d = switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    } else if (s.startsWith("P") || s.startsWith("p")) {
      try {
        d = Duration.parse(s);
      } catch (DateTimeParseException e) {
        // not a duration: the caller reports it with the accepted forms
      }
    }
    // longer than the longest timeout (ExecutionOptions.MAX, about 100 years) is no duration either:
    // deadlines and waits would overflow
    return d == null || d.isNegative() || d.isZero() || d.compareTo(ExecutionOptions.MAX) > 0 ? Optional.empty()
        : Optional.of(d);
  }

  /**
   * The positive size in bytes at {@code name} ({@code 1048576}, {@code 512KiB}, {@code 4MiB},
   * {@code 1GiB}), or {@code otherwise}.
   */
  public long size(String name, long otherwise) {
    ConfigNode c = get(name);
    if (c.isAbsent()) {
      return otherwise;
    }
    // a number is read as written: 010 is ten bytes, not YAML 1.1's octal eight
    String text = c.node.isTextual() || c.node.isIntegralNumber() ? c.numbers.getOrDefault(c.pointer, c.node.asText())
        : "";
    return parseSize(text).orElseThrow(() -> c.error("must be " + SIZE_FORMS + ", got " + c.node));
  }

  /**
   * The positive size {@code text} spells, in bytes: digits, optionally followed by {@code KiB},
   * {@code MiB} or {@code GiB} (powers of 1024); empty when it spells none (zero, a sign, another
   * unit, more than a long holds): the one reading of a size for configuration files and
   * command-line flags alike.
   *
   * <pre>{@code
   * long limit = ConfigNode.parseSize("4MiB").orElseThrow();   // 4194304
   * }</pre>
   */
  public static OptionalLong parseSize(String text) {
    Matcher m = SIZE.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      return OptionalLong.empty();
    }
    int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
      case "KiB" -> 10;
      case "MiB" -> 20;
      default -> 30;
    };
    try {
      long n = Long.parseLong(m.group(1));
      return n == 0 || n > Long.MAX_VALUE >> shift ? OptionalLong.empty() : OptionalLong.of(n << shift);
    } catch (NumberFormatException e) {
      return OptionalLong.empty();  // more digits than a long holds
    }
  }

  /** The path at {@code name}, relative to the configuration file's directory; required. */
  public Path path(String name) {
    return path(name, null);
  }

  /**
   * The path at {@code name}, relative to the configuration file's directory; required, {@code
   * what} saying what it is when it is missing, or null.
   */
  public Path path(String name, String what) {
    return required(name, what).optionalPath(name).orElseThrow(() -> missing(name, what));
  }

  /**
   * This node, unless the required key {@code name} is written without a value: {@link #isAbsent}
   * would suggest removing the key for a default that a required key does not have.
   */
  private ConfigNode required(String name, String what) {
    if (get(name).node.isNull()) {
      throw missing(name, what);
    }
    return this;
  }

  /** {@code required: <what>}, after {@code has no value; } when the key is written without one. */
  private ConfigException missing(String name, String what) {
    ConfigNode c = get(name);
    return c.error((c.node.isNull() ? "has no value; " : "") + "required" + (what == null ? "" : ": " + what));
  }

  /** The path at {@code name}, relative to the configuration file's directory, if present. */
  public Optional<Path> optionalPath(String name) {
    return optionalString(name).map(s -> {
      try {
        Path p = Path.of(s);
        Path base = file.toAbsolutePath().getParent();
        return (p.isAbsolute() || base == null ? p : base.resolve(p)).normalize();
      } catch (java.nio.file.InvalidPathException e) {
        throw get(name).error("not a path: " + e.getMessage());
      }
    });
  }

  /**
   * {@link #optionalPath} of a directory, which may not exist yet (it is made when needed) but is
   * refused when something else stands there (a file: nothing could be made or locked inside it).
   */
  public Optional<Path> optionalDirectory(String name) {
    Optional<Path> p = optionalPath(name);
    if (p.isPresent() && java.nio.file.Files.exists(p.get()) && !java.nio.file.Files.isDirectory(p.get())) {
      throw get(name).error(p.get() + " exists and is not a directory");
    }
    return p;
  }

  /**
   * The secret referenced at {@code name}: {@code {env: NAME}} or {@code {file: PATH}}, never the
   * secret itself, so the configuration can be shared and reviewed.
   */
  public Optional<SecretRef> secret(String name) {
    ConfigNode c = get(name);
    if (c.isAbsent()) {
      return Optional.empty();
    }
    if (c.node.isTextual()) {
      throw c.error("secrets are given by reference, {env: NAME} or {file: PATH}, never inline");
    }
    c.allowOnly("env", "file");
    if (c.node.size() != 1) {
      throw c.error("give exactly one of env or file");
    }
    String only = c.node.fieldNames().next();
    c.required(only, "env".equals(only) ? "the name of the environment variable holding the secret"
        : "the file holding the secret");
    Optional<String> env = c.optionalString("env");
    if (env.isPresent()) {
      return Optional.of(SecretRef.env(env.get(), c));
    }
    return Optional.of(SecretRef.file(c.path("file"), c));
  }

  private static String kind(JsonNode n) {
    if (n.isObject()) {
      return "a mapping";
    }
    if (n.isArray()) {
      return "a list";
    }
    return n.isTextual() ? "'" + n.asText() + "'" : n.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ConfigNode c && c.node.equals(node) && c.pointer.equals(pointer);
  }

  @Override
  public int hashCode() {
    return Objects.hash(node, pointer);
  }

  @Override
  public String toString() {
    return file + ":" + line() + ": " + where();
  }
}
