package dev.gitops.images.marker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * A YAML file with image markers, edited in place: the marked scalars are found with SnakeYAML's
 * marks, and {@link #withValues} replaces exactly their characters, so every other byte — comments,
 * blank lines, block scalars, quoting, indentation, {@code ---} separators, CRLF line ends, a
 * missing final newline — stays as it was.
 *
 * <p>A marker is a trailing comment whose text is a JSON object with an {@code $imagepolicy} field,
 * on the line where a single-line scalar ends, or, as Flux also reads it, a comment alone on the
 * line above a scalar that starts its own line (a list item, a value under its key); one above a
 * key is a {@linkplain #problems() problem}, since Flux sets nothing there. As in Flux, every field of the object is a string (or
 * null): a marker with a number, a boolean, an object or a list in any field is a {@linkplain
 * #problems() problem}, not used, since Flux ignores it.
 *
 * <pre class="language-yaml">{@code
 * image: registry.example.com/team/web:v1.2.3 # {"$imagepolicy": "apps:web"}
 * tag: "v1.2.3"  # {"$imagepolicy": "apps:web:tag"}
 * }</pre>
 *
 * <pre>{@code
 * if (MarkedYaml.mayHoldMarkers(bytes)) {
 *   MarkedYaml yaml = MarkedYaml.parse("apps/web.yaml", bytes);
 *   byte[] edited = yaml.withValues(Map.of(yaml.markers().get(0), "registry.example.com/team/web:v1.2.4"));
 * }
 * }</pre>
 *
 * <p>Only UTF-8 files are read (a strict decode, so re-encoding gives the same bytes; a byte order
 * mark stays); a UTF-16 or UTF-32 file, with a byte order mark or without, is refused as such
 * ({@link MarkerScan}). Untrusted content is bounded: nesting depth and size are limited; aliases
 * are not counted, since the file is only composed (an alias is the node it names) and each node is
 * walked once.
 */
public final class MarkedYaml {

  /** The field name a marker's JSON object holds. */
  public static final String MARKER_FIELD = "$imagepolicy";

  private static final byte[] NEEDLE = MARKER_FIELD.getBytes(StandardCharsets.UTF_8);
  /**
   * A trailing comment holding a JSON object: every leading {@code #} is taken off, as Flux's
   * setters do ({@code strings.TrimLeft(comment, "#")}), so {@code ## {...}} is a marker too.
   */
  private static final Pattern TRAILING_MARKER = Pattern.compile("^[ \\t]+#+[ \\t]*(\\{.*?)[ \\t]*$");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** An alias ({@code *name}) as the last thing before a comment: a key's value or a list item. */
  private static final Pattern ALIAS_BEFORE_COMMENT = Pattern.compile("(?:^|[\\s:,\\[{-])(\\*[^\\s,\\[\\]{}]+)[ \\t]*$");
  private static final Resolver RESOLVER = new Resolver();
  /**
   * Plain scalars that Go's YAML (go-yaml v2 and v3: Kubernetes, Helm, kustomize, Flux) reads as
   * no string where SnakeYAML's resolver sees one: v2's booleans {@code y}/{@code n}, and what
   * {@code strconv.ParseInt(s, 0, 64)} or YAML's float pattern takes once underscores are dropped
   * (only when the scalar starts with a digit): {@code 0o17}, {@code 0B1}, {@code 0X1f}, and a
   * zero-padded number that is no octal, {@code 0099} or {@code 08}, read as a float.
   */
  private static final Pattern GO_YAML_NOT_A_STRING = Pattern.compile(
      "[yYnN]|0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|(?:[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?");

  private final String file;
  private final byte[] bytes;
  private final String text;
  private final List<ImageMarker> markers;
  private final List<MarkerException> problems;

  private MarkedYaml(String file, byte[] bytes, String text, List<ImageMarker> markers, List<MarkerException> problems) {
    this.file = file;
    this.bytes = bytes;
    this.text = text;
    this.markers = List.copyOf(markers);
    this.problems = List.copyOf(problems);
  }

  /** Whether {@code content} mentions {@value #MARKER_FIELD} at all: files that do not are never parsed. */
  public static boolean mayHoldMarkers(byte[] content) {
    return mayHoldMarkers(content, content.length);
  }

  /** {@link #mayHoldMarkers(byte[])} of the first {@code length} bytes of {@code content} (a chunk of a stream). */
  public static boolean mayHoldMarkers(byte[] content, int length) {
    outer:
    for (int i = 0; i + NEEDLE.length <= length; i++) {
      for (int j = 0; j < NEEDLE.length; j++) {
        if (content[i + j] != NEEDLE[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /**
   * Parses {@code content} and finds its markers. A marker that cannot be used (bad JSON, on a
   * block or multi-line scalar) is kept as a {@linkplain #problems() problem}; the others still work.
   *
   * @throws MarkerException naming the file (and line) when it is not UTF-8 or not YAML
   */
  public static MarkedYaml parse(String file, byte[] content) {
    Objects.requireNonNull(file, "file");
    // UTF-16 or UTF-32 (which a UTF-8 decode may even take, NULs and all), or bytes no UTF-8: said as such
    java.util.Optional<String> notUtf8 = MarkerScan.of(content).notUtf8();
    if (notUtf8.isPresent()) {
      throw new MarkerException(file, 0, notUtf8.get() + "; markers are only read in UTF-8 files, so none of its"
          + " markers is used: save it as UTF-8", null);
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(content)).toString();
    } catch (CharacterCodingException e) {
      throw new MarkerException(file, 0, "not UTF-8 text; markers are only read in UTF-8 files", e);
    }
    Walker w = new Walker(file, text);
    LoaderOptions options = options(content.length);
    StreamReader reader = new StreamReader(new StringReader(text));
    Composer composer = new Composer(new ParserImpl(reader, options), new Resolver(), options);
    try {
      int doc = 0;
      while (composer.checkNode()) {
        Node root = composer.getNode();
        if (root != null) {
          w.document = doc;
          w.object = objectName(root);
          w.walk(root, "");
        }
        doc++;
      }
    } catch (YAMLException e) {
      // a limit (nesting depth, size) is no MarkedYAMLException: the line the reader had come to names where
      int line = e instanceof org.yaml.snakeyaml.error.MarkedYAMLException m && m.getProblemMark() != null
          ? m.getProblemMark().getLine() + 1 : reader.getLine() + 1;
      throw new MarkerException(file, line, "not valid YAML: " + yamlError(e), e);
    }
    w.reportMisplacedMarkers();
    w.markers.sort(Comparator.comparingInt(ImageMarker::start));
    w.problems.sort(Comparator.comparingInt(MarkerException::line));  // in file order, as they are read and fixed
    return new MarkedYaml(file, content, text, w.markers, w.problems);
  }

  private static LoaderOptions options(int size) {
    LoaderOptions o = new LoaderOptions();
    // composing only, never constructing: an alias is the node it names, not a copy, and the walker
    // visits each node once, so aliases cost no expansion ("billion laughs" needs a constructor). Their
    // number is bounded by the code-point limit (each is at least two characters), not by a count that
    // refuses valid files (a shared env list used 60 times)
    o.setMaxAliasesForCollections(Integer.MAX_VALUE);
    o.setAllowRecursiveKeys(false);
    o.setNestingDepthLimit(100);
    o.setCodePointLimit(Math.max(3 * 1024 * 1024, size + 1));
    o.setAllowDuplicateKeys(true);  // composing only: duplicate keys are the decoder's business, not the editor's
    return o;
  }

  /** SnakeYAML's context and problem ("while scanning ...: found character ..."), without its excerpt. */
  private static String yamlError(YAMLException e) {
    if (e instanceof org.yaml.snakeyaml.error.MarkedYAMLException m && m.getProblem() != null) {
      String context = m.getContext() == null ? "" : firstLine(m.getContext());
      return (context.isEmpty() ? "" : context + ": ") + firstLine(m.getProblem());
    }
    return firstLine(e.getMessage());
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    String t = s.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl);
  }

  /** The file's path. */
  public String file() {
    return file;
  }

  /** The markers, in file order. */
  public List<ImageMarker> markers() {
    return markers;
  }

  /** Markers that were found but cannot be used, each naming its line. */
  public List<MarkerException> problems() {
    return problems;
  }

  /** The file's bytes as read. */
  public byte[] bytes() {
    return bytes.clone();
  }

  /**
   * The file with each given marker's scalar set to its new value, written in the scalar's own
   * style (a plain scalar whose new value would read as another type, such as {@code 1.10}, or
   * that needs escaping, is double-quoted). Nothing else changes.
   *
   * @throws IllegalArgumentException when a marker is not one of this file's
   */
  public byte[] withValues(Map<ImageMarker, String> values) {
    List<Map.Entry<ImageMarker, String>> edits = new ArrayList<>(values.entrySet());
    for (Map.Entry<ImageMarker, String> e : edits) {
      if (!markers.contains(e.getKey())) {
        throw new IllegalArgumentException(e.getKey().location() + " is not a marker of this version of " + file);
      }
    }
    edits.sort(Comparator.comparingInt((Map.Entry<ImageMarker, String> e) -> e.getKey().start()).reversed());
    StringBuilder sb = new StringBuilder(text);
    for (Map.Entry<ImageMarker, String> e : edits) {
      sb.replace(e.getKey().start(), e.getKey().end(), render(e.getValue(), e.getKey().style()));
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** {@code value} as a scalar in {@code style}, or double-quoted when a plain scalar would not read back as it. */
  static String render(String value, ImageMarker.Style style) {
    return switch (style) {
      case PLAIN -> plainSafe(value) ? value : doubleQuoted(value);
      case SINGLE_QUOTED -> value.chars().allMatch(MarkedYaml::printable)
          ? "'" + value.replace("'", "''") + "'" : doubleQuoted(value);
      case DOUBLE_QUOTED -> doubleQuoted(value);
    };
  }

  private static boolean plainSafe(String v) {
    if (v.isEmpty() || !v.matches("[A-Za-z0-9_][A-Za-z0-9_./:@+-]*") || v.endsWith(":")) {
      return false;
    }
    return RESOLVER.resolve(NodeId.scalar, v, true).equals(Tag.STR) && !GO_YAML_NOT_A_STRING.matcher(
        Character.isDigit(v.charAt(0)) ? v.replace("_", "") : v).matches();
  }

  private static String doubleQuoted(String v) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            sb.append(String.format("\\x%02x", (int) c));
          } else if (!printable(c)) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /**
   * Whether {@code c} stays itself written raw in a quoted scalar: not a control character, not one
   * SnakeYAML (YAML 1.1) reads as a line break (NEL, LS, PS) that would fold the value, not a BOM,
   * not a lone surrogate.
   */
  private static boolean printable(int c) {
    return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c <= 0x9f) && c != 0x2028 && c != 0x2029 && c != 0xfeff
        && !Character.isSurrogate((char) c) && c != 0xfffe && c != 0xffff;
  }

  /** Whether anything but blanks follows the value {@code json} has read: a token, or text no JSON reads ("# …"). */
  private static boolean moreAfter(com.fasterxml.jackson.core.JsonParser json) {
    try {
      return json.nextToken() != null;
    } catch (IOException notJson) {
      return true;  // a '#', a word: text after the object all the same
    }
  }

  /**
   * The first field of a marker's JSON object whose value is neither a string nor null, as {@code
   * "name" (a number)}, or null when there is none. Flux decodes the comment into Go's {@code
   * map[string]string}, which a number, a boolean, an object or a list fails (also in a field the
   * same name has again later, which a tree keeps only the last of), and null leaves empty.
   */
  private static String notAString(String json) throws IOException {
    try (com.fasterxml.jackson.core.JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String name = p.currentName();
        com.fasterxml.jackson.core.JsonToken t = p.nextToken();
        String type = switch (t) {
          case VALUE_STRING, VALUE_NULL -> null;
          case START_OBJECT -> "an object";
          case START_ARRAY -> "a list";
          case VALUE_TRUE, VALUE_FALSE -> "a boolean";
          default -> "a number";
        };
        if (type != null) {
          return JSON.writeValueAsString(name) + " (" + type + ")";
        }
      }
      return null;
    }
  }

  /** {@code kind/name} or {@code kind/namespace/name} of a document, or "". */
  private static String objectName(Node root) {
    if (!(root instanceof MappingNode m)) {
      return "";
    }
    String kind = scalar(m, "kind");
    Node meta = child(m, "metadata");
    String name = meta instanceof MappingNode mm ? scalar(mm, "name") : "";
    String ns = meta instanceof MappingNode mm ? scalar(mm, "namespace") : "";
    if (kind.isEmpty() || name.isEmpty()) {
      return "";
    }
    return kind + "/" + (ns.isEmpty() ? "" : ns + "/") + name;
  }

  private static Node child(MappingNode m, String key) {
    for (NodeTuple t : m.getValue()) {
      if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
        return t.getValueNode();
      }
    }
    return null;
  }

  private static String scalar(MappingNode m, String key) {
    return child(m, key) instanceof ScalarNode s ? s.getValue() : "";
  }

  /** Walks one file's documents, collecting markers and problems. */
  private static final class Walker {
    private final String file;
    private final String text;
    /** Char offset of each code point index, or null when they are equal (no supplementary characters). */
    private final int[] cpToChar;
    private final Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<ImageMarker> markers = new ArrayList<>();
    private final List<MarkerException> problems = new ArrayList<>();
    /** Where each scalar's text starts and ends: a '#' inside one is not a comment. */
    private final java.util.TreeMap<Integer, Integer> scalarSpans = new java.util.TreeMap<>();
    /** The offsets of the marker comments read after a scalar (used or reported). */
    private final Set<Integer> markerComments = new java.util.HashSet<>();
    /** The start of each line that begins with a mapping key (after indentation and list dashes), and the key. */
    private final Map<Integer, String> keyLines = new java.util.HashMap<>();
    private int document;
    private String object = "";

    Walker(String file, String text) {
      this.file = file;
      this.text = text;
      int cps = text.codePointCount(0, text.length());
      if (cps == text.length()) {
        cpToChar = null;
      } else {
        cpToChar = new int[cps + 1];
        int ch = 0;
        for (int cp = 0; cp < cps; cp++) {
          cpToChar[cp] = ch;
          ch += Character.charCount(text.codePointAt(ch));
        }
        cpToChar[cps] = text.length();
      }
    }

    private int charOffset(Mark m) {
      return cpToChar == null ? m.getIndex() : cpToChar[m.getIndex()];
    }

    void walk(Node node, String path) {
      if (!seen.add(node)) {
        return;  // an alias of a node already walked: its text is at the anchor, found there once
      }
      if (node instanceof MappingNode m) {
        for (NodeTuple t : m.getValue()) {
          if (t.getKeyNode() instanceof ScalarNode k) {
            span(k);
            int ks = contentStart(charOffset(k.getStartMark()));
            int ls = lineStart(ks);
            if (text.substring(ls, ks).matches("[ \\t]*(?:-[ \\t]+)*")) {
              keyLines.put(ls, k.getValue());
            }
          }
          String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "?";
          walk(t.getValueNode(), path.isEmpty() ? key : path + "." + key);
        }
      } else if (node instanceof SequenceNode s) {
        List<Node> items = s.getValue();
        for (int i = 0; i < items.size(); i++) {
          walk(items.get(i), path + "[" + i + "]");
        }
      } else if (node instanceof ScalarNode s) {
        scalar(s, path);
      }
    }

    private void span(ScalarNode s) {
      int from = charOffset(s.getStartMark());
      int to = charOffset(s.getEndMark());
      if (to > from) {
        scalarSpans.merge(from, to, Math::max);
      }
    }

    private void scalar(ScalarNode s, String path) {
      span(s);
      int end = charOffset(s.getEndMark());
      // never past the end: an empty value with an anchor (a: &x) has no text, and the next line is not its text
      int start = Math.min(contentStart(charOffset(s.getStartMark())), end);
      int line = s.getStartMark().getLine() + 1;
      DumperOptions.ScalarStyle style = s.getScalarStyle();
      if (style == DumperOptions.ScalarStyle.LITERAL || style == DumperOptions.ScalarStyle.FOLDED) {
        String header = restOfLine(start);
        if (header.contains(MARKER_FIELD)) {
          markerComments.add(start + Math.max(0, header.indexOf('#')));
          problems.add(new MarkerException(file, line, "a marker on a block scalar (| or >) is not supported; "
              + "write the image as a single-line scalar", null));
        }
        return;
      }
      String rest = restOfLine(end);
      Matcher m = TRAILING_MARKER.matcher(rest);
      if (rest.indexOf('#') >= 0 && rest.contains(MARKER_FIELD) && m.matches()) {
        markerComments.add(end + rest.indexOf('#'));
        if (use(s, path, start, m.group(1), endLine(s))) {
          return;
        }
        // a line comment Flux does not read as a marker (no JSON, text after it, no policy name): Flux goes on to
        // the comment above the value, and so does this; the broken one stays a problem
      }
      // no marker at the end of the line ("$imagepolicy" in other text is none): as Flux (kyaml's fieldmeta) reads
      // the line comment first and then the head comment, a marker on the line above the value is one
      int head = headMarker(start);
      if (head >= 0) {
        markerComments.add(head);
        use(s, path, start, restOfLine(head).replaceFirst("^#+[ \\t]*", "").strip(), lineOf(head));
      }
    }

    /**
     * The offset of the '#' of a head marker of the scalar whose text starts at {@code start}, or -1.
     * go-yaml v3 gives the comment lines above a node to the node that starts the next line: a value
     * alone on its line (a list item {@code - host/web:v1}, or a value under its key), never the value
     * of a {@code key: value} line (the key holds them, and Flux reads only the value's). Flux decodes
     * the whole comment block as one JSON object, so a marker with other comment lines in its block
     * is none: that is said as a problem, since it was surely meant as a marker.
     */
    private int headMarker(int start) {
      int lineStart = lineStart(start);
      if (!text.substring(lineStart, start).matches("[ \\t]*(?:-[ \\t]+)*") || lineStart == 0) {
        return -1;
      }
      int hash = -1;
      boolean others = false;
      for (int at = lineStart; at > 0; ) {
        at = lineStart(at - 1);
        String line = restOfLine(at);
        int c = commentOnly(at, line);
        if (c >= 0) {
          others |= hash >= 0;
          hash = hash < 0 ? c : hash;
        } else if (!line.isBlank()) {
          break;  // a key, a value: the comment block above the value ends here
        }
      }
      if (hash < 0) {
        return -1;
      }
      String comment = restOfLine(hash).replaceFirst("^#+[ \\t]*", "").strip();
      if (!comment.startsWith("{") || !comment.contains(MARKER_FIELD)) {
        return -1;
      }
      if (others) {
        markerComments.add(hash);
        problems.add(new MarkerException(file, lineOf(hash), "marker " + comment + " is on the line above its value"
            + " with other comment lines in the same block, which Flux reads as one comment, no JSON, so it sets"
            + " nothing there; write it alone above the value or after it: 'image: <reference> # {...}'", null));
        return -1;
      }
      return hash;
    }

    /** The offset of the '#' when the line at {@code at} is a comment alone (not text inside a scalar), else -1. */
    private int commentOnly(int at, String line) {
      String body = (at == 0 && line.startsWith("\ufeff") ? line.substring(1) : line).stripLeading();  // a BOM
      if (!body.startsWith("#")) {
        return -1;
      }
      int hash = at + line.indexOf('#');
      Map.Entry<Integer, Integer> span = scalarSpans.floorEntry(hash);
      return span != null && hash < span.getValue() ? -1 : hash;
    }

    /**
     * Checks a marker's JSON ({@code json}, on line {@code commentLine}) and the scalar it marks, then
     * uses it. False when the comment is no marker as Flux reads one (no JSON object, text after it,
     * a policy name that is missing or has blanks around it, a field that is not a string): Flux then
     * reads the value's next comment. True when it is one, used or refused for the scalar it marks.
     */
    private boolean use(ScalarNode s, String path, int start, String json, int commentLine) {
      // the line and column of the text itself: an anchor or tag may stand on the line before (key: &a\n  value)
      boolean oneLine = text.substring(start, charOffset(s.getEndMark())).chars().noneMatch(c -> isBreak((char) c));
      boolean propertiesAbove = oneLine && s.getStartMark().getLine() != s.getEndMark().getLine();
      int line = propertiesAbove ? endLine(s) : s.getStartMark().getLine() + 1;
      int column = propertiesAbove ? start - lineStart(start) + 1 : s.getStartMark().getColumn() + 1;
      int end = charOffset(s.getEndMark());
      DumperOptions.ScalarStyle style = s.getScalarStyle();
      String setter;
      try (com.fasterxml.jackson.core.JsonParser parser = JSON.createParser(json)) {
        JsonNode marker = parser.nextToken() == null ? null : JSON.readTree(parser);
        if (marker != null && moreAfter(parser)) {
          // a second marker or a note after the object ("# {...} # {...}", "# {...} pinned"): Flux's JSON
          // decode refuses it and the marker sets nothing there; here it is said rather than half-read
          problems.add(new MarkerException(file, commentLine, "the marker comment holds text after its JSON"
              + " object (a second marker, a note), so it is not used; one marker per line: " + json, null));
          return false;
        }
        JsonNode v = marker == null ? null : marker.get(MARKER_FIELD);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
          problems.add(new MarkerException(file, commentLine, "the marker's " + MARKER_FIELD + " must be a policy name", null));
          return false;
        }
        String notText = notAString(json);
        if (notText != null) {
          // Flux (kyaml's fieldmeta) decodes the comment into a map of strings: a field of another type fails the
          // whole decode, and the marker sets nothing there; here it is said rather than used
          problems.add(new MarkerException(file, commentLine, "the marker's field " + notText + " is not a string, so"
              + " Flux does not read this comment as a marker and it is not used; every field of a marker is a"
              + " string: " + json, null));
          return false;
        }
        if (!v.asText().equals(v.asText().strip())) {
          // Flux looks the name up as written: with blanks around it, it names no policy
          problems.add(new MarkerException(file, commentLine, "the marker's " + MARKER_FIELD + " '" + v.asText()
              + "' has blanks around the policy name, which Flux reads as part of it (naming no policy); write '"
              + v.asText().strip() + "'", null));
          return false;
        }
        setter = v.asText();
      } catch (IOException e) {
        problems.add(new MarkerException(file, commentLine, "the marker comment is not a JSON object: " + json, e));
        return false;
      }
      if (!oneLine) {
        problems.add(new MarkerException(file, line, "marker " + setter + " is on a scalar that spans lines; "
            + "write the image on one line", null));
        return true;
      }
      if (start > charOffset(s.getStartMark()) && text.indexOf('!', charOffset(s.getStartMark())) >= 0
          && text.indexOf('!', charOffset(s.getStartMark())) < start && !Tag.STR.equals(s.getTag())) {
        // an explicit tag such as !!int or !custom: an image written there would make the document unreadable
        problems.add(new MarkerException(file, line, "marker " + setter + " is on a scalar tagged "
            + s.getTag().getValue() + "; only a string can hold an image (remove the tag or write !!str)", null));
        return true;
      }
      if (style == DumperOptions.ScalarStyle.PLAIN && s.getValue().isEmpty()) {
        boolean part = setter.endsWith(":tag") || setter.endsWith(":name") || setter.endsWith(":digest");
        problems.add(new MarkerException(file, line, "marker " + setter + " is on an empty value; write the current "
            + (part ? "value there, or \"\" when there is none yet" : "image there"), null));
        return true;
      }
      ImageMarker.Style st = switch (style) {
        case SINGLE_QUOTED -> ImageMarker.Style.SINGLE_QUOTED;
        case DOUBLE_QUOTED -> ImageMarker.Style.DOUBLE_QUOTED;
        default -> ImageMarker.Style.PLAIN;
      };
      markers.add(new ImageMarker(file, line, column, document, path, setter, s.getValue(), st, object, start, end));
      return true;
    }

    /**
     * Reports marker comments that follow no single-line scalar, which would otherwise be ignored
     * without a word: after a flow collection ({@code {name: web, image: x} # {...}}), on a line
     * inside one, or on a key whose value is on the next line. A comment alone on its line is a
     * note, not a marker, and is left alone.
     */
    void reportMisplacedMarkers() {
      for (int at = text.indexOf(MARKER_FIELD); at >= 0; at = text.indexOf(MARKER_FIELD, at + 1)) {
        int lineStart = lineStart(at);
        int hash = commentStart(lineStart, at);
        if (hash < 0 || markerComments.contains(hash)) {
          continue;
        }
        if (text.substring(lineStart, hash).isBlank()) {
          aboveAKey(hash);  // else a comment alone on its line is a note, not a marker
          continue;
        }
        String comment = restOfLine(hash + 1).strip();
        if (!comment.startsWith("{")) {
          continue;  // a comment that mentions the field, not a marker
        }
        markerComments.add(hash);
        Matcher alias = ALIAS_BEFORE_COMMENT.matcher(text.substring(lineStart, hash));
        if (alias.find()) {
          // the alias is the anchored node itself, whose text is elsewhere: no scalar here to edit
          problems.add(new MarkerException(file, lineOf(hash), "marker " + comment + " is on an alias ("
              + alias.group(1) + "), whose value is written where &" + alias.group(1).substring(1) + " anchors it, and"
              + " is not used; write the marker after the anchored value", null));
          continue;
        }
        problems.add(new MarkerException(file, lineOf(hash), "marker " + comment + " does not follow a single-line "
            + "scalar value and is not used (a marker after a flow collection {…} or […], or on a key whose value is"
            + " on another line); write it after the value: 'image: <reference> # {...}'", null));
      }
    }

    /**
     * Reports a marker comment alone on the line above a key ({@code # {...}} then {@code image:
     * host/web:v1}): go-yaml gives it to the key, and Flux reads only the value's comments, so it
     * sets nothing. Only a comment that is exactly one marker object counts; other text is a note.
     */
    private void aboveAKey(int hash) {
      String comment = restOfLine(hash).replaceFirst("^#+[ \\t]*", "").strip();
      try (com.fasterxml.jackson.core.JsonParser parser = JSON.createParser(comment)) {
        JsonNode marker = comment.startsWith("{") ? JSON.readTree(parser) : null;
        if (marker == null || !marker.has(MARKER_FIELD) || moreAfter(parser)) {
          return;
        }
      } catch (IOException notJson) {
        return;  // a note that mentions the field
      }
      int next = hash + restOfLine(hash).length();
      while (true) {
        while (next < text.length() && isBreak(text.charAt(next))) {
          next++;
        }
        if (next >= text.length() || !restOfLine(next).isBlank()) {
          break;
        }
        next += restOfLine(next).length();  // a blank line
      }
      String key = keyLines.get(next);
      if (key != null) {
        markerComments.add(hash);
        problems.add(new MarkerException(file, lineOf(hash), "marker " + comment + " is on the line above key '" + key
            + "', where Flux reads it as the key's comment and sets nothing, and it is not used; write it after the"
            + " value: '" + key + ": <reference> # {...}' (above a value only when the value starts its own line, as a"
            + " list item does)", null));
      }
    }

    /** The first '#' from {@code lineStart} up to {@code limit} that starts a comment, or -1. */
    private int commentStart(int lineStart, int limit) {
      for (int i = lineStart; i < limit; i++) {
        if (text.charAt(i) != '#' || (i > lineStart && text.charAt(i - 1) != ' ' && text.charAt(i - 1) != '\t')) {
          continue;
        }
        Map.Entry<Integer, Integer> span = scalarSpans.floorEntry(i);
        if (span != null && i < span.getValue()) {
          i = span.getValue() - 1;  // inside a scalar ("a # b"): text, not a comment
          continue;
        }
        return i;
      }
      return -1;
    }

    private int lineStart(int offset) {
      int i = offset;
      while (i > 0 && !isBreak(text.charAt(i - 1))) {
        i--;
      }
      return i;
    }

    /** The 1-based line of {@code offset}, counting breaks as SnakeYAML does (CRLF is one). */
    private int lineOf(int offset) {
      int line = 1;
      for (int i = 0; i < offset; i++) {
        char c = text.charAt(i);
        if (isBreak(c) && !(c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n')) {
          line++;
        }
      }
      return line;
    }

    private static boolean isBreak(char c) {
      return c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029';
    }

    private int endLine(ScalarNode s) {
      return s.getEndMark().getLine() + 1;
    }

    /**
     * Where a scalar's own text starts: a node's start mark is at its properties ({@code &anchor},
     * {@code !tag}) when it has them, and those must stay.
     */
    private int contentStart(int from) {
      int i = from;
      while (i < text.length() && (text.charAt(i) == '&' || text.charAt(i) == '!')) {
        while (i < text.length() && text.charAt(i) != ' ' && text.charAt(i) != '\t' && !isBreak(text.charAt(i))) {
          i++;
        }
        // blanks, line breaks and whole comments between the properties and the text (key: &a  # note\n  value)
        while (i < text.length()) {
          char c = text.charAt(i);
          if (c == ' ' || c == '\t' || isBreak(c)) {
            i++;
          } else if (c == '#') {
            i += restOfLine(i).length();
          } else {
            break;
          }
        }
      }
      return i;
    }

    /** The text from {@code from} to the end of its line (YAML line breaks), without the break. */
    private String restOfLine(int from) {
      int i = from;
      while (i < text.length()) {
        char c = text.charAt(i);
        if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
          break;
        }
        i++;
      }
      return text.substring(from, i);
    }
  }
}
