package dev.gitops.core.files;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.decode.Glob;
import dev.gitops.core.internal.JsonErrors;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The files provider's sensitive rules: which values of which files are secret. A rule is a glob
 * over relative paths and a JSON-pointer pattern into the file's parsed content, written {@code
 * <glob>:<pointer>} ({@code secrets/*.yaml:/data/*}); a rule without a pointer ({@code certs/*.key}
 * or {@code certs/*.key:}) covers the whole file.
 *
 * <p>A pointer can only reach into a structured file (a {@code .json}, {@code .yaml} or {@code .yml}
 * file matching a structured glob): there it marks {@code /data<pointer>}, and also the file's
 * {@code content}, which is what a live copy that does not parse is observed as. A file that is not
 * structured is one text value, so a rule that matches it marks its whole content, whatever its
 * pointer: the rule redacts more than asked rather than nothing.
 */
final class SensitiveFiles {

  /** One rule. {@code pointer} is null for the whole file. */
  record Rule(Glob glob, PathPattern pointer, String text) {
    @Override
    public String toString() {
      return text;
    }
  }

  static final SensitiveFiles NONE = new SensitiveFiles(List.of());

  private static final String CONFIG_SECTION = "files";
  private static final String CONFIG_SENSITIVE = "sensitive";
  private static final List<PathPattern> WHOLE = List.of(
      PathPattern.of("/" + FileFormats.CONTENT), PathPattern.of("/" + FileFormats.CONTENT_BASE64),
      PathPattern.of("/" + FileFormats.DATA));

  private final List<Rule> rules;

  private SensitiveFiles(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /**
   * Parses {@code <glob>[:<pointer>]}. The pointer starts at the first {@code ":/"}; a rule ending
   * in {@code ":"} or without {@code ":"} covers the whole file. A rule with a {@code ":"} that
   * starts no pointer ({@code db.yaml:password}) is refused: read as a glob it would match no file
   * and hide nothing, where {@link #rule} refuses the pointer {@code password} (a whole file whose
   * name holds {@code ":"} is {@code a:b.yaml:}).
   *
   * @throws IllegalArgumentException naming the rule when the glob or pointer is malformed
   */
  static Rule parse(String rule) {
    Objects.requireNonNull(rule, "rule");
    String glob = rule;
    String pointer = null;
    int at = rule.indexOf(":/");
    if (at >= 0) {
      glob = rule.substring(0, at);
      pointer = rule.substring(at + 1);
    } else if (rule.endsWith(":")) {
      glob = rule.substring(0, rule.length() - 1);
    } else if (rule.indexOf(':') >= 0) {
      int colon = rule.lastIndexOf(':');
      throw new IllegalArgumentException("sensitive rule '" + rule + "': the JSON pointer after ':' must start with"
          + " '/' (write '" + rule.substring(0, colon) + ":/" + rule.substring(colon + 1) + "'); for a whole file"
          + " whose name holds ':', end the rule with ':' ('" + rule + ":')");
    }
    return rule(glob, pointer, rule);
  }

  /** A rule from its parts; {@code pointer} null, empty or {@code "/"} means the whole file. */
  static Rule rule(String glob, String pointer, String text) {
    if (glob == null || glob.isBlank()) {
      throw new IllegalArgumentException("sensitive rule '" + text + "' has no glob (want <glob>:<json-pointer>)");
    }
    try {
      Glob g = Glob.of(glob);
      PathPattern p = pointer == null || pointer.isEmpty() || pointer.equals("/") ? null : PathPattern.of(pointer);
      return new Rule(g, p, text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("sensitive rule '" + text + "': " + e.getMessage(), e);
    }
  }

  /** These rules followed by {@code more}. */
  SensitiveFiles plus(List<Rule> more) {
    if (more.isEmpty()) {
      return this;
    }
    List<Rule> all = new ArrayList<>(rules);
    all.addAll(more);
    return new SensitiveFiles(all);
  }

  boolean isEmpty() {
    return rules.isEmpty();
  }

  /** Whether any rule matches the file at {@code path}. */
  boolean matches(String path) {
    for (Rule r : rules) {
      if (r.glob().matches(path)) {
        return true;
      }
    }
    return false;
  }

  /** The document paths of the file at {@code path} that are sensitive; {@code structured} says whether it is parsed. */
  Set<PathPattern> marks(String path, boolean structured) {
    Set<PathPattern> out = null;
    for (Rule r : rules) {
      if (!r.glob().matches(path)) {
        continue;
      }
      if (out == null) {
        out = new LinkedHashSet<>();
      }
      if (structured && r.pointer() != null) {
        out.add(PathPattern.of("/" + FileFormats.DATA + r.pointer()));
        out.add(WHOLE.get(0));
        out.add(WHOLE.get(1));
      } else {
        out.addAll(WHOLE);
      }
    }
    return out == null ? Set.of() : out;
  }

  /**
   * The rules of a repository config file: its {@code files.sensitive} list of rule strings.
   *
   * <pre class="language-yaml">{@code
   * # .gitops.yaml at the root of the repository's path
   * files:
   *   sensitive:
   *     - "secrets/*.yaml:/data/*"
   *     - "certs/*.key"
   * }</pre>
   *
   * @throws DecodeException naming the file and line when it does not parse or has an unknown key
   */
  static List<Rule> fromConfig(SourceFile config) {
    JsonNode root;
    try {
      root = FileFormats.parse(FileFormats.Format.YAML, config.content());
    } catch (JsonProcessingException e) {
      int line = e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getLineNr());
      throw new DecodeException(Origin.of(config.path(), line, config.revision()),
          "not a valid repository config: " + JsonErrors.problem(e), e);
    } catch (IOException e) {
      throw new DecodeException(Origin.of(config.path(), 1, config.revision()),
          "not a valid repository config: " + e.getMessage(), e);
    }
    if (root == null || root.isNull() || root.isMissingNode()) {
      return List.of();
    }
    JsonPointer top = JsonPointer.empty();
    if (!root.isObject()) {
      throw new DecodeException(at(config, top), "a repository config is a map (for example 'files: {sensitive: [...]}')");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!name.equals(CONFIG_SECTION)) {
        // A misspelt section would silently leave secrets unredacted: refuse it.
        throw new DecodeException(at(config, top.appendProperty(name)),
            "unknown key '" + name + "' (known: " + CONFIG_SECTION + ")");
      }
    }
    JsonNode files = root.path(CONFIG_SECTION);
    if (files.isMissingNode() || files.isNull()) {
      return List.of();
    }
    JsonPointer section = top.appendProperty(CONFIG_SECTION);
    if (!files.isObject()) {
      throw new DecodeException(at(config, section), "'" + CONFIG_SECTION + "' must be a map");
    }
    for (Map.Entry<String, JsonNode> e : files.properties()) {
      if (!e.getKey().equals(CONFIG_SENSITIVE)) {
        throw new DecodeException(at(config, section.appendProperty(e.getKey())), "unknown key '" + CONFIG_SECTION
            + "." + e.getKey() + "' (known: " + CONFIG_SECTION + "." + CONFIG_SENSITIVE + ")");
      }
    }
    JsonNode list = files.path(CONFIG_SENSITIVE);
    if (list.isMissingNode() || list.isNull()) {
      return List.of();
    }
    JsonPointer sensitive = section.appendProperty(CONFIG_SENSITIVE);
    if (!list.isArray()) {
      throw new DecodeException(at(config, sensitive), "'" + CONFIG_SECTION + "." + CONFIG_SENSITIVE
          + "' must be a list of '<glob>:<json-pointer>' strings");
    }
    List<Rule> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode r = list.get(i);
      if (!r.isTextual()) {
        throw new DecodeException(at(config, sensitive.appendIndex(i)), "'" + CONFIG_SECTION + "."
            + CONFIG_SENSITIVE + "' entry " + r + " is not a '<glob>:<json-pointer>' string");
      }
      try {
        out.add(parse(r.textValue()));
      } catch (IllegalArgumentException e) {
        throw new DecodeException(at(config, sensitive.appendIndex(i)), e.getMessage(), e);
      }
    }
    return out;
  }

  /** Where the node at {@code pointer} of a config that parsed starts (only on the error path: it parses again). */
  private static Origin at(SourceFile config, JsonPointer pointer) {
    int line;
    try {
      line = FileFormats.lines(FileFormats.Format.YAML, config.content()).getOrDefault(pointer.toString(), 1);
    } catch (IOException e) {
      line = 1; // cannot happen: the same text just parsed
    }
    return Origin.of(config.path(), line, config.revision());
  }

  @Override
  public String toString() {
    return rules.toString();
  }
}
