package dev.gitops.core.files;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.ContentReference;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.gitops.api.Documents;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * How file bytes become documents and back: plain files as {@code content} (UTF-8 text) or {@code
 * contentBase64} (anything else), structured JSON/YAML files as a parsed {@code data} tree.
 */
final class FileFormats {
  static final String CONTENT = "content";
  static final String CONTENT_BASE64 = "contentBase64";
  static final String DATA = "data";
  static final String MODE = "mode";

  /** The largest structured file parsed (bytes); larger ones are refused rather than risked. */
  static final int MAX_STRUCTURED_BYTES = 8 * 1024 * 1024;

  /** The structured formats, chosen by file extension. */
  enum Format {
    JSON,
    YAML;

    /** The format of {@code path} by its extension, or null when it is neither JSON nor YAML. */
    static Format of(String path) {
      String lower = path.toLowerCase(Locale.ROOT);
      if (lower.endsWith(".json")) {
        return JSON;
      }
      if (lower.endsWith(".yaml") || lower.endsWith(".yml")) {
        return YAML;
      }
      return null;
    }
  }

  private static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
      .maxNestingDepth(200)
      .maxStringLength(MAX_STRUCTURED_BYTES)
      .build();

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  /**
   * The YAML mapper, built on first use: a repository without YAML files (properties, plain text,
   * JSON) never pays for it (YAMLFactory, SnakeYAML's loader: ~5 ms of a one-shot command's decode).
   */
  private static final class Yaml {
    static final ObjectMapper MAPPER = yamlMapper();
  }

  static {
    JSON.getFactory().setStreamReadConstraints(LIMITS);
  }

  private FileFormats() {}

  private static ObjectMapper yamlMapper() {
    // Untrusted Git content: bounded aliases (no billion laughs), bounded size, no recursive keys.
    LoaderOptions loader = new LoaderOptions();
    loader.setMaxAliasesForCollections(50);
    loader.setAllowRecursiveKeys(false);
    loader.setNestingDepthLimit(200);
    loader.setCodePointLimit(MAX_STRUCTURED_BYTES);
    YAMLFactory factory = YAMLFactory.builder()
        .loaderOptions(loader)
        .streamReadConstraints(LIMITS)
        .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
        .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
        .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
        .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
        .build();
    return YAMLMapper.builder(factory)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
  }

  /**
   * Parses one structured document. A YAML stream with more than one document is refused: one
   * file is one resource. Empty documents after the first (a trailing {@code ---}, as generators and
   * editors leave one) hold nothing and are not counted.
   *
   * @throws IOException with the parser's location when the text is not valid (bytes that are not
   *     UTF-8 at the line of the first bad byte)
   */
  static JsonNode parse(Format format, byte[] bytes) throws IOException {
    if (bytes.length > MAX_STRUCTURED_BYTES) {
      throw new IOException("structured file is larger than " + MAX_STRUCTURED_BYTES + " bytes");
    }
    ObjectMapper mapper = format == Format.JSON ? JSON : Yaml.MAPPER;
    try {
      if (format == Format.YAML) {
        checkYaml(bytes);
      }
      try (JsonParser p = mapper.createParser(bytes)) {
        JsonNode tree = mapper.readTree(p);
        if (format == Format.YAML) {
          // from here on an empty plain scalar (what an empty document holds) reads as a null with no
          // text, while '' stays a string and an explicit 'null' or '~' keeps its text
          ((YAMLParser) p).enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL);
        }
        for (JsonToken t = format == Format.YAML ? p.nextToken() : null; t != null; t = p.nextToken()) {
          if (t != JsonToken.VALUE_NULL || !p.getText().isEmpty()) {
            throw new JsonParseException(p, "more than one YAML document: a second starts at line "
                + p.currentTokenLocation().getLineNr() + "; a structured file holds exactly one");
          }
        }
        return Documents.freeze(tree);
      }
    } catch (IOException e) {
      // the decoder's message (wrapped by the YAML parser) counts bytes and chars of its buffer, not
      // lines: say where in the file
      int bad = badCharacters(e) ? firstBadUtf8(bytes) : -1;
      if (bad < 0) {
        throw e;
      }
      int line = 1;
      for (int i = 0; i < bad; i++) {
        line += bytes[i] == '\n' || bytes[i] == '\r' && (i + 1 == bytes.length || bytes[i + 1] != '\n') ? 1 : 0;
      }
      throw new JsonParseException(null, "not UTF-8 (byte 0x" + String.format("%02X", bytes[bad] & 0xff)
          + " at offset " + bad + ", line " + line + "); structured files are read as UTF-8",
          new JsonLocation(ContentReference.unknown(), bad, -1, line, -1));
    }
  }

  /** Whether {@code e} or one of its causes is a failure to decode characters. */
  private static boolean badCharacters(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof CharConversionException) {
        return true;
      }
    }
    return false;
  }

  /** The offset of the first byte of {@code bytes} that does not belong to valid UTF-8, or -1. */
  private static int firstBadUtf8(byte[] bytes) {
    CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(4096);
    while (true) {
      CoderResult r = dec.decode(in, out, true);
      if (r.isError()) {
        return in.position();
      }
      if (r.isUnderflow()) {
        return -1;
      }
      out.clear();
    }
  }

  /**
   * The line (from 1) where each node of a structured text starts, by JSON pointer ({@code ""} for
   * the root): a field's is its key's line, an array element's its own. The tree {@link #parse}
   * returns carries no locations; this is for error messages that must point at the right line.
   *
   * @throws IOException when the text is not valid (call it on text {@link #parse} accepted)
   */
  static Map<String, Integer> lines(Format format, byte[] bytes) throws IOException {
    Map<String, Integer> out = new HashMap<>();
    try (JsonParser p = (format == Format.JSON ? JSON : Yaml.MAPPER).createParser(bytes)) {
      while (p.nextToken() != null) {
        // On a field name the context points at the field; on a value, at the value (its key's line wins).
        out.putIfAbsent(p.getParsingContext().pathAsPointer().toString(), p.currentTokenLocation().getLineNr());
      }
    }
    return out;
  }

  /**
   * Refuses what Jackson would silently get wrong in untrusted YAML: aliases (Jackson reads
   * {@code *a} as the text "a" rather than the anchored node, so expanding them is not on offer)
   * and tags other than YAML's core scalar and collection tags.
   */
  private static void checkYaml(byte[] bytes) throws IOException {
    try (YAMLParser p = (YAMLParser) Yaml.MAPPER.createParser(bytes)) {
      while (p.nextToken() != null) {
        if (p.isCurrentAlias()) {
          throw new JsonParseException(p, "YAML aliases (*" + p.getText() + ") are not supported in structured files");
        }
        String tag = p.getTypeId();
        if (tag != null && !CORE_TAGS.contains(tag)) {
          throw new JsonParseException(p, "YAML tag '" + tag + "' is not supported in structured files");
        }
      }
    }
  }

  private static final Set<String> CORE_TAGS = Set.of("str", "int", "float", "bool", "null", "map", "seq")
      .stream().map(t -> "tag:yaml.org,2002:" + t).collect(Collectors.toUnmodifiableSet());

  /**
   * The canonical form of a plain or structured document: {@code contentBase64} whose bytes are
   * text becomes {@code content}, text with NUL bytes becomes {@code contentBase64}, and {@code
   * mode} gets four digits. Anything it does not understand is returned as is.
   */
  static JsonNode canonical(JsonNode doc) {
    if (doc == null || !doc.isObject()) {
      return doc;
    }
    Map<String, JsonNode> out = new LinkedHashMap<>();
    boolean changed = false;
    for (Map.Entry<String, JsonNode> e : doc.properties()) {
      String k = e.getKey();
      JsonNode v = e.getValue();
      if (k.equals(CONTENT_BASE64) && v.isTextual() && !doc.has(CONTENT) && !doc.has(DATA)) {
        try {
          Map<String, JsonNode> p = plain(Base64.getDecoder().decode(v.textValue()));
          out.putAll(p);
          changed |= !p.containsKey(CONTENT_BASE64);
          continue;
        } catch (IllegalArgumentException bad) {
          // Not base64: leave it for apply to refuse with a message naming the key.
        }
      } else if (k.equals(CONTENT) && v.isTextual() && v.textValue().indexOf('\0') >= 0 && !doc.has(CONTENT_BASE64)) {
        out.putAll(plain(v.textValue().getBytes(StandardCharsets.UTF_8)));
        changed = true;
        continue;
      } else if (k.equals(MODE) && v.isTextual()) {
        try {
          String m = Modes.canonical(v.textValue());
          changed |= !m.equals(v.textValue());
          out.put(k, Documents.nodes().textNode(m));
          continue;
        } catch (IllegalArgumentException bad) {
          // An invalid mode stays as it is; apply refuses it naming the key.
        }
      }
      out.put(k, v);
    }
    return changed ? Documents.object(out) : Documents.freeze(doc);
  }

  /** Renders {@code data} as pretty JSON or block YAML, ending with a newline. */
  static byte[] render(Format format, JsonNode data) throws IOException {
    if (format == Format.JSON) {
      StringWriter w = new StringWriter();
      try (JsonGenerator g = prettyJson(w)) {
        JSON.writeTree(g, data);
      }
      return (w + "\n").getBytes(StandardCharsets.UTF_8);
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (JsonGenerator g = new SameOnEveryJdk(Yaml.MAPPER.getFactory().createGenerator(out))) {
      Yaml.MAPPER.writeTree(g, data);
    }
    return out.toByteArray();
  }

  /**
   * A JSON generator writing the provider's pretty form (two-space indent, {@code "key": value}),
   * doubles as {@link SameOnEveryJdk} writes them.
   */
  static JsonGenerator prettyJson(Writer w) throws IOException {
    DefaultPrettyPrinter pp = new DefaultPrettyPrinter(
        Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
        .withObjectIndenter(new DefaultIndenter("  ", "\n"))
        .withArrayIndenter(new DefaultIndenter("  ", "\n"));
    return new SameOnEveryJdk(JSON.getFactory().createGenerator(w).setPrettyPrinter(pp));
  }

  /**
   * Writes a double as {@link Documents#doubleText} (its shortest decimal), not as Jackson does,
   * with {@code Double.toString}, whose text differs between JDKs for some values (JDK 17 writes
   * {@code 2.0E23} as {@code 1.9999999999999998E23}): a file's bytes must not depend on the JDK.
   */
  private static final class SameOnEveryJdk extends com.fasterxml.jackson.core.util.JsonGeneratorDelegate {
    SameOnEveryJdk(JsonGenerator g) {
      super(g, false);
    }

    @Override
    public void writeNumber(double d) throws IOException {
      if (Double.isFinite(d)) {
        super.writeNumber(Documents.doubleText(d));
      } else {
        super.writeNumber(d);
      }
    }
  }

  /** A parser over {@code bytes} with the limits and checks {@link #parse} applies. */
  static JsonParser parser(Format format, byte[] bytes) throws IOException {
    return (format == Format.JSON ? JSON : Yaml.MAPPER).createParser(bytes);
  }

  /** {@code s} as a JSON string literal (also a valid YAML double-quoted scalar). */
  static String jsonString(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a string always serializes", e);
    }
  }

  /**
   * {@code {"content": text}} when the bytes are valid UTF-8 without NUL bytes (Git's own test for
   * text), else {@code {"contentBase64": ...}}.
   */
  static Map<String, JsonNode> plain(byte[] bytes) {
    Map<String, JsonNode> doc = new LinkedHashMap<>();
    String text = utf8OrNull(bytes);
    if (text != null) {
      doc.put(CONTENT, Documents.nodes().textNode(text));
    } else {
      doc.put(CONTENT_BASE64, Documents.nodes().textNode(Base64.getEncoder().encodeToString(bytes)));
    }
    return doc;
  }

  /** The text of {@code bytes} if they are valid UTF-8 without NUL bytes, else null. */
  static String utf8OrNull(byte[] bytes) {
    boolean ascii = true;
    for (byte b : bytes) {
      if (b == 0) {
        return null;
      }
      ascii &= b > 0;
    }
    if (ascii) {
      // ASCII is valid UTF-8 of the same characters: one copy, no decoder and no char buffer
      return new String(bytes, StandardCharsets.US_ASCII);
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      // Not UTF-8: the caller represents the bytes as base64 instead.
      return null;
    }
  }
}
