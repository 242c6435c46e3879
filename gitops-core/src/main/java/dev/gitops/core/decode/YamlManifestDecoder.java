package dev.gitops.core.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.SequenceStartEvent;
import org.yaml.snakeyaml.reader.ReaderException;

/**
 * The generic decoder: claims {@code *.yaml}, {@code *.yml} and {@code *.json} files and reads
 * every document in them as one resource in the <b>generic manifest format</b>.
 *
 * <h2>Generic manifest format</h2>
 *
 * <p>A file holds one or more documents (YAML documents separated by {@code ---}; for JSON, one
 * or more top-level objects one after the other). Empty YAML documents are skipped. Each document
 * is a mapping with exactly these fields:
 *
 * <pre class="language-yaml">{@code
 * provider: memory        # provider id; optional when the decoder has a default provider
 * type: widget            # required
 * scope: team-a           # optional, default ""
 * name: web               # required
 * dependsOn: ["memory:widget:team-a:db"]   # optional, canonical ResourceKey strings
 * wave: 1                 # optional integer, default 0
 * management: no-prune    # optional, see ManagementPolicy.parse; default all
 * sensitive: ["/password"]  # optional PathPattern strings over the spec
 * spec: { ... }           # the desired document (any JSON value); default {}
 * }</pre>
 *
 * <p>Identity fields ({@code provider}, {@code type}, {@code scope}, {@code name}) must be
 * strings (quote {@code "2024"} or {@code "no"}). Any other top-level field is an error, so a typo
 * such as {@code dependOn} is caught. Each resource's origin is the file, the line where its
 * document starts and the revision. {@code docs/manifests.md} describes every field.
 *
 * <h2>Your own document shapes</h2>
 *
 * <p>With {@link Builder#map(DocumentMapping)} documents of another shape are read without
 * writing a decoder: the first mapping that matches a document says where its key, document and
 * metadata are; documents no mapping matches are read in the generic format.
 *
 * <pre>{@code
 * Decoder d = YamlManifestDecoder.builder()
 *     .map(DocumentMapping.when("/kind", "Setting").provider("db").type("setting")
 *         .nameFrom("/name").without("/kind", "/name").build())
 *     .build();
 * }</pre>
 *
 * <h2>Untrusted input</h2>
 *
 * <p>Files come from Git and are treated as hostile: the bytes must be valid UTF-8 (a UTF-16
 * file is refused with a hint to save it as UTF-8); duplicate keys in a mapping are rejected;
 * explicit YAML tags ({@code !foo}, {@code !!java.lang...}, {@code !!binary}, ...) are rejected
 * except the core {@code !!str}, {@code !!map} and {@code !!seq}, each on the kind of node it is
 * for; aliases are expanded here (Jackson alone would read them as strings) with at most {@link
 * Builder#maxAliases(int)} alias uses, {@link Builder#maxAliasExpansions(int)} expansions and
 * {@link Builder#maxNodes(int)} nodes after expansion per file, each document's aliases referring
 * to its own anchors only (as kubectl reads a file), anchors on keys included; an alias inside
 * the node it names is refused as recursive; nesting is bounded by {@link Builder#maxDepth(int)},
 * an alias counting where it is used; plain merge keys ({@code <<}, not a quoted {@code "<<"})
 * merge as they do in kubectl; the text is bounded by {@link Builder#maxCodePoints(int)}. Every
 * error is a {@link DecodeException} naming the file, the line and the revision, and the document
 * in a file of several; a syntax error names the column and never quotes the text.
 *
 * <pre>{@code
 * Decoder d = YamlManifestDecoder.builder().defaultProvider("memory").build();
 * List<Resource> rs = d.decode(new SourceFile("apps/web.yaml", blobId, bytes, "main@sha1:..."));
 * }</pre>
 */
public final class YamlManifestDecoder implements Decoder {

  private static final Set<String> FIELDS = new LinkedHashSet<>(List.of(
      "provider", "type", "scope", "name", "dependsOn", "wave", "management", "sensitive", "spec"));
  private static final Set<String> ALLOWED_TAGS = Set.of(
      "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq");
  private static final JsonNodeFactory NODES = Documents.nodes();
  /**
   * The highest {@link Builder#maxDepth}: the engine's own limit ({@link Documents#MAX_DEPTH}, the
   * one constant), so a document this decoder accepts is never refused as too deep after it; also
   * Jackson's own nesting limit, and a bound on the reader's recursion.
   */
  private static final int MAX_DEPTH = Documents.MAX_DEPTH;
  /**
   * The most digits a number may have written out (Jackson's own limit on a number's text): a
   * float with a far exponent is short to write but not to write out.
   */
  private static final int MAX_NUMBER_TEXT = com.fasterxml.jackson.core.StreamReadConstraints.DEFAULT_MAX_NUM_LEN;
  /** A top-level list whose elements' lines are recorded: the objects of a Kubernetes {@code kind: List}. */
  private static final String ITEMS = "/items";

  private final String defaultProvider;
  private final List<DocumentMapping> mappings;
  /** The pointers (and their prefixes) whose lines the reader records: those the mappings read. */
  private final Set<String> tracked;
  private final int maxAliases;
  private final int maxAliasExpansions;
  private final int maxDepth;
  private final boolean emptyValuesAsNull;
  private final int maxCodePoints;
  private final int maxNodes;
  private final YAMLFactory yamlFactory;
  private final JsonFactory jsonFactory;

  private YamlManifestDecoder(Builder b) {
    this.defaultProvider = b.defaultProvider;
    this.mappings = List.copyOf(b.mappings);
    Set<String> t = new HashSet<>();
    for (DocumentMapping m : mappings) {
      if (m.provider() == null && defaultProvider == null) {
        throw new IllegalStateException("YamlManifestDecoder needs a provider for " + m
            + ": call .defaultProvider(id), or give the mapping .provider(id)");
      }
      for (String p : m.pointers()) {
        for (int i = p.indexOf('/', 1); i > 0; i = p.indexOf('/', i + 1)) {
          t.add(p.substring(0, i));
        }
        t.add(p);
      }
    }
    this.tracked = Set.copyOf(t);
    this.maxAliases = b.maxAliases;
    this.maxAliasExpansions = b.maxAliasExpansions;
    this.maxDepth = b.maxDepth;
    this.maxCodePoints = b.maxCodePoints;
    this.maxNodes = b.maxNodes;
    // Jackson reads SnakeYAML's events, not its composed nodes: the alias and depth limits of
    // LoaderOptions apply to composing only, so TreeReader enforces them (and the code point limit
    // is checked before parsing); they are set here as well should a composer ever read the text
    LoaderOptions lo = new LoaderOptions();
    lo.setMaxAliasesForCollections(maxAliases);
    lo.setCodePointLimit(maxCodePoints);
    lo.setAllowDuplicateKeys(false);
    lo.setNestingDepthLimit(maxDepth);
    // tags are checked token by token below; the inspector refuses global tags should SnakeYAML ever construct them
    lo.setTagInspector(tag -> false);
    this.emptyValuesAsNull = b.emptyValuesAsNull;
    // Jackson's own nesting limit (1,000 by default) one level past the highest maxDepth, so that
    // the reader's message, naming maxDepth, is the one a file nested too deep gets
    StreamReadConstraints nesting = StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH + 1).build();
    com.fasterxml.jackson.dataformat.yaml.YAMLFactoryBuilder yb = YAMLFactory.builder()
        .loaderOptions(lo)
        .streamReadConstraints(nesting)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION);
    if (emptyValuesAsNull) {
      yb.enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL);
    } else {
      yb.disable(YAMLParser.Feature.EMPTY_STRING_AS_NULL);
    }
    this.yamlFactory = new AnchoredYamlFactory(yb);
    this.jsonFactory = JsonFactory.builder()
        .streamReadConstraints(nesting)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
  }

  /** A decoder with no default provider and the default limits. */
  public static YamlManifestDecoder create() {
    return builder().build();
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public boolean claims(String path) {
    String p = path.toLowerCase(Locale.ROOT);
    return p.endsWith(".yaml") || p.endsWith(".yml") || p.endsWith(".json");
  }

  @Override
  public String fingerprint() {
    return "YamlManifestDecoder(provider=" + (defaultProvider == null ? "" : defaultProvider)
        + ",aliases=" + maxAliases + ",expansions=" + maxAliasExpansions + ",codePoints=" + maxCodePoints
        + ",nodes=" + maxNodes + ",depth=" + maxDepth
        + (mappings.isEmpty() ? "" : ",mappings=" + mappings) + (emptyValuesAsNull ? ",emptyValuesAsNull" : "")
        // v2: maxDepth counts aliases where they are used, alias expansion is bounded, a quoted "<<"
        // is a plain key, anchors on keys are read: files read before may read differently now
        + ",v2)";
  }

  @Override
  public List<Resource> decode(SourceFile file) {
    List<Resource> out = new ArrayList<>();
    read(file, (doc, fieldLines, origin, number) -> {
      DocumentMapping mapping = mappingFor(doc);
      out.add(mapping != null ? mapped(mapping, (ObjectNode) doc, fieldLines, origin)
          : toResource((ObjectNode) doc, fieldLines, origin));
    });
    return out;
  }

  /**
   * One document of a file, read under the decoder's limits but not interpreted.
   *
   * @param content the document, a mapping (frozen)
   * @param origin the file, the line where the document starts and the revision
   * @param lines where top-level fields and top-level {@code items} elements start (see {@link #originOf})
   * @param number the document's place in its file, 1-based, counting empty documents as the reader's own
   *     errors do ("document 3: ..."); 0 when not known
   */
  public record Document(JsonNode content, Origin origin, Map<String, Integer> lines, int number) {
    /** Freezes the content. */
    public Document {
      content = Documents.freeze(Objects.requireNonNull(content, "content"));
      Objects.requireNonNull(origin, "origin");
      lines = Map.copyOf(lines);
      if (number < 0) {
        throw new IllegalArgumentException("document number must not be negative, got " + number);
      }
    }

    /** A document whose place in its file is not known. */
    public Document(JsonNode content, Origin origin, Map<String, Integer> lines) {
      this(content, origin, lines, 0);
    }

    /** A document whose lines inside are not known: {@link #originOf} answers its start. */
    public Document(JsonNode content, Origin origin) {
      this(content, origin, Map.of(), 0);
    }

    /**
     * Where the value at {@code pointer} starts, for a top-level field ({@code /kind}) or an element
     * of a top-level {@code items} list ({@code /items/3}, the objects of a Kubernetes {@code kind:
     * List}); the document's start otherwise.
     */
    public Origin originOf(String pointer) {
      Integer l = lines.get(pointer);
      return l == null || l <= 0 ? origin : Origin.of(origin.path(), l, origin.revision());
    }
  }

  /**
   * Reads every document of {@code file} with the protections this decoder gives untrusted input
   * (strict UTF-8, no tags, bounded aliases, size and depth, duplicate keys refused) but without
   * reading it as a generic manifest: for decoders of other formats (Kubernetes manifests) that
   * interpret the documents themselves. Empty YAML documents are skipped; a document that is not
   * a mapping is an error.
   *
   * <pre>{@code
   * for (YamlManifestDecoder.Document d : YamlManifestDecoder.create().documents(file)) {
   *   String kind = d.content().path("kind").asText();   // d.origin() names file and line
   * }
   * }</pre>
   *
   * @throws DecodeException naming file, line and revision
   */
  public List<Document> documents(SourceFile file) {
    List<Document> out = new ArrayList<>();
    read(file, (doc, fieldLines, origin, number) -> out.add(new Document(doc, origin, fieldLines, number)));
    return out;
  }

  /** What {@link #read} hands each document: the mapping, its recorded field lines, its origin and its number. */
  @FunctionalInterface
  private interface DocumentSink {
    void accept(JsonNode doc, Map<String, Integer> fieldLines, Origin origin, int number);
  }

  /** Where {@link #read} is in a file: the document it reads and the line that document starts at. */
  private static final class Progress {
    /** The number of the last document started, 1-based; 0 before the first. */
    int document;
    /** Whether the reader is between documents (an error there belongs to the next one). */
    boolean between = true;
    /** The line of the last document's start. */
    int line;
  }

  private void read(SourceFile file, DocumentSink sink) {
    Objects.requireNonNull(file, "file");
    String path = file.path();
    String rev = file.revision();
    String utf16 = SourceText.utf16(file.content());
    if (utf16 != null) {
      throw new DecodeException(Origin.of(path, 1, rev), SourceText.utf16Message(utf16));
    }
    int codePoints = checkUtf8(file);
    if (codePoints > maxCodePoints) {
      throw new DecodeException(Origin.of(path, 0, rev),
          "file has " + codePoints + " code points, more than the limit of " + maxCodePoints);
    }
    boolean json = path.toLowerCase(Locale.ROOT).endsWith(".json");
    Progress at = new Progress();
    try {
      readDocuments(file, json, sink, at);
    } catch (DecodeException e) {
      throw numbered(e, file, json, at);
    }
  }

  private void readDocuments(SourceFile file, boolean json, DocumentSink sink, Progress at) {
    String path = file.path();
    String rev = file.revision();
    JsonParser p;
    try {
      p = json ? jsonFactory.createParser(file.content()) : yamlFactory.createParser(file.content());
    } catch (IOException e) {
      throw new DecodeException(Origin.of(path, 0, rev), "cannot read: " + e.getMessage(), e);
    }
    try (p) {
      TreeReader reader = new TreeReader(p, path, rev);
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        at.document++;
        at.between = false;
        at.line = lineOf(p.currentTokenLocation());
        Map<String, Integer> fieldLines = new HashMap<>();
        JsonNode doc = reader.read(t, fieldLines);
        reader.endDocument();
        if (doc.isNull() || (!json && doc.isTextual() && doc.textValue().isEmpty())) {
          at.between = true;
          continue;  // an empty YAML document (Jackson reads it as null or as an empty scalar)
        }
        Origin origin = Origin.of(path, at.line, rev);
        if (!doc.isObject()) {
          throw new DecodeException(origin, "a document must be a mapping, got " + doc.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        sink.accept(doc, fieldLines, origin, at.document);
        at.between = true;
      }
    } catch (JsonProcessingException e) {
      if (e.getCause() instanceof MarkedYAMLException y) {
        throw malformed(y, path, at.line, rev);
      }
      if (e.getCause() instanceof ReaderException r) {
        throw unreadable(r, file);
      }
      if (p instanceof AnchoredYamlFactory.Parser y && e.getOriginalMessage() != null
          && e.getOriginalMessage().startsWith("Expected a field name")) {
        DecodeException key = complexKey(y.lastEvent(), path, rev);
        if (key != null) {
          throw key;
        }
      }
      JsonLocation loc = e.getLocation();
      if (loc == null || loc.getLineNr() <= 0) {
        // Jackson's limits (StreamConstraintsException: a number, key or string too long) say no
        // place; the parser stands at the value that broke one
        loc = p.currentLocation();
      }
      int line = loc == null || loc.getLineNr() <= 0 ? at.line : lineOf(loc);
      boolean limit = e instanceof StreamConstraintsException;
      // past a limit, the parser stands at the value's end: its line, not a column to look at
      String column = limit || loc == null || loc.getColumnNr() <= 0 ? "" : " (column " + loc.getColumnNr() + ")";
      String problem = limit ? SyntaxErrors.limit(e.getOriginalMessage()) : SyntaxErrors.jackson(e.getOriginalMessage());
      throw new DecodeException(Origin.of(path, line, rev), "malformed " + (json ? "JSON" : "YAML") + ": "
          + problem + column, e);
    } catch (MarkedYAMLException e) {
      throw malformed(e, path, at.line, rev);
    } catch (ReaderException e) {
      throw unreadable(e, file);
    } catch (YAMLException e) {
      // not marked: SnakeYAML's own text without a place, which names no text of the file
      throw new DecodeException(Origin.of(path, at.line, rev), "malformed YAML: " + SyntaxErrors.yaml(e.getMessage()), e);
    } catch (IOException e) {
      throw new DecodeException(Origin.of(path, at.line, rev), "cannot read: " + e.getMessage(), e);
    }
  }

  /**
   * {@code e} naming the document too ("document 3: ...") when the file holds more than one:
   * line numbers alone are hard to follow in a long stream of documents.
   */
  private static DecodeException numbered(DecodeException e, SourceFile file, boolean json, Progress at) {
    int n = at.between ? at.document + 1 : at.document;
    boolean several = n > 1 || (!json && n == 1 && severalYamlDocuments(file));
    if (!several) {
      return e;
    }
    String prefix = e.origin() + ": ";
    String message = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
    DecodeException out = e.getCause() == null ? new DecodeException(e.origin(), "document " + n + ": " + message)
        : new DecodeException(e.origin(), "document " + n + ": " + message, e.getCause());
    out.setStackTrace(e.getStackTrace());
    return out;
  }

  /**
   * Whether a YAML document marker ({@code ---} at the start of a line) stands after the first
   * line of content (not blank, a comment or a directive): a marker there can only end a document
   * (inside a block or quoted scalar it ends the document too), so another one follows.
   */
  private static boolean severalYamlDocuments(SourceFile file) {
    String text = new String(file.content(), StandardCharsets.UTF_8);
    text = text.startsWith("\uFEFF") ? text.substring(1) : text;
    boolean content = false;
    int from = 0;
    for (int k = 0; k <= text.length(); k++) {
      if (k < text.length() && !SourceText.endsLine(text, k)) {
        continue;
      }
      String line = text.substring(from, k).replace("\r", "");
      from = k + 1;
      boolean marker = line.startsWith("---") && (line.length() == 3 || line.charAt(3) == ' ' || line.charAt(3) == '\t');
      if (marker && content) {
        return true;
      }
      String t = line.strip();
      content |= !marker && !t.isEmpty() && !t.startsWith("#") && !t.startsWith("%");
    }
    return false;
  }

  /**
   * An alias or a collection where Jackson wants a key ({@code *k : v}, {@code ? [a, b] : v}): keys
   * are strings here (JSON has no other kind), and an alias cannot be read as one. Null for
   * another event.
   */
  private static DecodeException complexKey(Event event, String path, String rev) {
    if (event == null) {
      return null;
    }
    Mark m = event.getStartMark();
    Origin at = Origin.of(path, m == null ? 0 : m.getLine() + 1, rev);
    String column = m == null ? "" : " (column " + (m.getColumn() + 1) + ")";
    if (event instanceof AliasEvent a) {
      return new DecodeException(at, "alias *" + a.getAnchor() + " as a mapping key is not supported: write the key"
          + " out (an alias may stand for a value, and an anchor on a key is read by an alias in a value)" + column);
    }
    if (event instanceof CollectionStartEvent) {
      return new DecodeException(at, (event instanceof SequenceStartEvent ? "a list" : "a mapping")
          + " as a mapping key is not supported: keys are strings, numbers or booleans (JSON has no other kind)"
          + column);
    }
    return null;
  }

  /**
   * A character SnakeYAML refuses (a control character, a NUL), at its line and column, named by
   * its code point: a file that looks like UTF-16 was refused before.
   */
  private static DecodeException unreadable(ReaderException e, SourceFile file) {
    String text = new String(file.content(), StandardCharsets.UTF_8);
    int line = 1;
    int column = 1;
    int k = 0;
    for (int cp = 0; cp < e.getPosition() && k < text.length(); cp++) {
      boolean end = SourceText.endsLine(text, k);
      k += Character.charCount(text.codePointAt(k));
      if (end) {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
    return new DecodeException(Origin.of(file.path(), line, file.revision()), String.format(Locale.ROOT,
        "malformed YAML: character U+%04X is not allowed in YAML (column %d); remove it, or write it as an escape"
        + " (\\u%04X) in a double-quoted string", e.getCodePoint(), column, e.getCodePoint()), e);
  }

  private static int lineOf(JsonLocation loc) {
    return Math.max(0, loc.getLineNr());
  }

  /** Validates UTF-8 strictly and returns the number of code points. */
  private static int checkUtf8(SourceFile file) {
    CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(file.content());
    CharBuffer out = CharBuffer.allocate(file.content().length + 1);
    CoderResult r = dec.decode(in, out, true);
    if (!r.isError()) {
      r = dec.flush(out);
    }
    if (r.isError()) {
      int pos = in.position();
      throw new DecodeException(Origin.of(file.path(), SourceText.lineAt(file.content(), pos), file.revision()),
          "not valid UTF-8 (bad byte at offset " + pos + ")");
    }
    out.flip();
    return Character.codePointCount(out, 0, out.limit());
  }

  private ResourceKey keyOf(ObjectNode doc, Map<String, Integer> lines, Origin origin) {
    String provider = identity(doc, "provider", lines, origin, defaultProvider == null);
    if (provider == null) {
      provider = defaultProvider;
    }
    String type = identity(doc, "type", lines, origin, true);
    String scope = identity(doc, "scope", lines, origin, false);
    String name = identity(doc, "name", lines, origin, true);
    return ResourceKey.of(provider, type, scope == null ? "" : scope, name);
  }

  private Resource toResource(ObjectNode doc, Map<String, Integer> lines, Origin origin) {
    for (var it = doc.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        throw new DecodeException(at(origin, lines, pointerOf(f)),
            "unknown field '" + f + "' (the generic manifest has " + String.join(", ", FIELDS) + ")"
            + (mappings.isEmpty() ? "" : "; no mapping matched the document (mappings read: "
                + String.join("; ", mappings.stream().map(DocumentMapping::describeMatch).toList()) + ")"));
      }
    }
    ResourceKey key = keyOf(doc, lines, origin);
    Resource.Builder b = Resource.builder(key).origin(origin);
    JsonNode spec = doc.get("spec");
    b.document(spec == null ? NODES.objectNode() : spec);
    for (String f : List.of("dependsOn", "wave", "management", "sensitive")) {
      metadata(b, f, doc.get(f), f, at(origin, lines, pointerOf(f)));
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new DecodeException(origin, e.getMessage(), e);
    }
  }

  /** The first mapping that matches {@code doc}, or null: read it in the generic format. */
  private DocumentMapping mappingFor(JsonNode doc) {
    for (DocumentMapping m : mappings) {
      if (m.matches(doc)) {
        return m;
      }
    }
    return null;
  }

  /** Reads {@code doc} as {@code m} says. */
  private Resource mapped(DocumentMapping m, ObjectNode doc, Map<String, Integer> lines, Origin origin) {
    String provider = m.provider() != null ? m.provider() : defaultProvider;
    String type = m.type() != null ? m.type() : required(m, doc, m.typeFrom(), "type", lines, origin);
    String scope = m.scope();
    if (m.scopeFrom() != null) {
      JsonNode v = m.at(doc, m.scopeFrom());
      scope = v.isMissingNode() || v.isNull() ? "" : text(v, m.scopeFrom(), at(origin, lines, m.scopeFrom()), false);
    }
    String name = required(m, doc, m.nameFrom(), "name", lines, origin);
    ResourceKey key = ResourceKey.of(provider, type, scope, name);
    JsonNode document = m.at(doc, m.documentFrom());
    if (document.isMissingNode()) {
      throw new DecodeException(origin, "document matches mapping for " + m.describeMatch() + " but has no "
          + m.documentFrom() + " (the resource's document)");
    }
    if (!m.without().isEmpty() && document.isContainerNode()) {
      document = document.deepCopy();
      for (String w : m.without()) {
        remove(document, w);
      }
    }
    Resource.Builder b = Resource.builder(key).origin(origin).document(document);
    String[][] fields = {{"dependsOn", m.dependsOnFrom()}, {"wave", m.waveFrom()}, {"management", m.managementFrom()},
        {"sensitive", m.sensitiveFrom()}};
    for (String[] f : fields) {
      if (f[1] != null) {
        JsonNode v = m.at(doc, f[1]);
        metadata(b, f[0], v.isMissingNode() ? null : v, f[1], at(origin, lines, f[1]));
      }
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new DecodeException(origin, e.getMessage(), e);
    }
  }

  /** The non-empty string at {@code pointer}, or an error naming the mapping, the pointer and the line. */
  private static String required(DocumentMapping m, JsonNode doc, String pointer, String what,
      Map<String, Integer> lines, Origin origin) {
    JsonNode v = m.at(doc, pointer);
    if (v.isMissingNode() || v.isNull()) {
      throw new DecodeException(origin, "document matches mapping for " + m.describeMatch() + " but has no "
          + pointer + " (the resource's " + what + ")");
    }
    return text(v, pointer, at(origin, lines, pointer), true);
  }

  /** Removes the field at {@code pointer} from {@code doc} (a mutable copy); absent fields are fine. */
  private static void remove(JsonNode doc, String pointer) {
    JsonPointer p = JsonPointer.compile(pointer);
    JsonNode parent = doc.at(p.head());
    String last = p.last().getMatchingProperty();
    if (parent instanceof ObjectNode o) {
      o.remove(last);
    } else if (parent instanceof ArrayNode a && p.last().mayMatchElement() && p.last().getMatchingIndex() < a.size()) {
      a.remove(p.last().getMatchingIndex());
    }
  }

  /**
   * Reads one metadata field ({@code dependsOn}, {@code wave}, {@code management} or {@code
   * sensitive}) into {@code b}; {@code v} null means absent. {@code field} names it in errors, which
   * point at {@code at}.
   */
  private static void metadata(Resource.Builder b, String which, JsonNode v, String field, Origin at) {
    if (v == null) {
      return;
    }
    switch (which) {
      case "dependsOn" -> {
        for (String s : strings(v, field, at)) {
          try {
            b.dependsOn(ResourceKey.parse(s));
          } catch (IllegalArgumentException e) {
            throw new DecodeException(at, field + ": " + e.getMessage(), e);
          }
        }
      }
      case "wave" -> {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
          throw new DecodeException(at, "field '" + field + "' must be an integer, got " + v);
        }
        b.wave(v.intValue());
      }
      case "management" -> {
        if (!v.isTextual()) {
          throw new DecodeException(at, "field '" + field + "' must be a string, got " + v);
        }
        try {
          b.policy(ManagementPolicy.parse(v.textValue()));
        } catch (IllegalArgumentException e) {
          throw new DecodeException(at, e.getMessage(), e);
        }
      }
      case "sensitive" -> {
        Set<PathPattern> patterns = new HashSet<>();
        for (String s : strings(v, field, at)) {
          try {
            patterns.add(PathPattern.of(s));
          } catch (IllegalArgumentException e) {
            throw new DecodeException(at, field + ": " + e.getMessage(), e);
          }
        }
        b.sensitive(patterns);
      }
      default -> throw new IllegalArgumentException(which);
    }
  }

  private static String identity(ObjectNode doc, String field, Map<String, Integer> lines, Origin origin,
      boolean required) {
    JsonNode v = doc.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new DecodeException(origin, "missing field '" + field + "'");
      }
      return null;
    }
    return text(v, field, at(origin, lines, pointerOf(field)), required);
  }

  /** {@code v} as a string, or an error at {@code at} naming the field. */
  private static String text(JsonNode v, String field, Origin at, boolean nonEmpty) {
    if (!v.isTextual()) {
      throw new DecodeException(at, "field '" + field + "' must be a string, got " + v + " (quote it)");
    }
    if (nonEmpty && v.textValue().isEmpty()) {
      throw new DecodeException(at, "field '" + field + "' is empty");
    }
    return v.textValue();
  }

  private static List<String> strings(JsonNode v, String field, Origin at) {
    if (!v.isArray()) {
      throw new DecodeException(at, "field '" + field + "' must be a list of strings, got " + v);
    }
    List<String> out = new ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        throw new DecodeException(at, "field '" + field + "' must be a list of strings, got element " + e);
      }
      out.add(e.textValue());
    }
    return out;
  }

  /**
   * SnakeYAML's error as the problem and where it is, without the quoted source line its message
   * carries: that line may hold a secret (a Secret's value on the line that fails to parse), and
   * errors reach logs and notifications. The file, line and column are enough to find it.
   */
  private static DecodeException malformed(MarkedYAMLException e, String path, int line, String rev) {
    Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
    int at = m == null ? line : m.getLine() + 1;
    // SnakeYAML's contexts are its own words ("while scanning a double-quoted scalar"); its problems
    // may quote what it found, which SyntaxErrors leaves out
    String context = e.getContext() == null ? "" : e.getContext() + ": ";
    String column = m == null ? "" : " (column " + (m.getColumn() + 1) + ")";
    return new DecodeException(Origin.of(path, at, rev), "malformed YAML: " + context + SyntaxErrors.yaml(e.getProblem())
        + column, e);
  }

  /** The JSON pointer of a top-level field (RFC 6901 escapes). */
  private static String pointerOf(String field) {
    return "/" + field.replace("~", "~0").replace("/", "~1");
  }

  /** Where the field at {@code pointer} is, or the document's start when its line was not recorded. */
  private static Origin at(Origin doc, Map<String, Integer> lines, String pointer) {
    Integer l = lines.get(pointer);
    return l == null || l <= 0 ? doc : Origin.of(doc.path(), l, doc.revision());
  }

  /** The prefix of YAML's core tags ({@code !!str} is {@code tag:yaml.org,2002:str}). */
  private static final String CORE = "tag:yaml.org,2002:";
  /** The kind of node each of YAML's tags ({@code !!map}, {@code !!int}, ...) is for. */
  private static final Map<String, String> CORE_KINDS = Map.ofEntries(
      Map.entry("map", "a mapping"), Map.entry("set", "a mapping"), Map.entry("seq", "a list"),
      Map.entry("omap", "a list"), Map.entry("pairs", "a list"), Map.entry("str", "a scalar"),
      Map.entry("int", "a scalar"), Map.entry("float", "a scalar"), Map.entry("bool", "a scalar"),
      Map.entry("null", "a scalar"), Map.entry("binary", "a scalar"), Map.entry("timestamp", "a scalar"),
      Map.entry("merge", "a scalar"), Map.entry("value", "a scalar"));

  /**
   * Reads one root value token by token, checking tags and expanding aliases within budgets.
   * Depth is counted in collections, the root being level 1; an alias counts at the level where it
   * is used, with the depth of the node it names.
   *
   * <p>The collections being read are a stack of its own, not the thread's: a file nested past
   * {@code maxDepth} is refused at that level whatever the thread's stack (a 256 KiB thread
   * overflowed some 300 levels deep when this recursed), and values are built frozen from the
   * bottom up, so what it returns is frozen without another walk and an alias shares the node it
   * names instead of copying it (the budgets count its nodes as if copied).
   */
  private final class TreeReader {
    private final JsonParser p;
    private final AnchoredYamlFactory.Parser yaml;
    private final String path;
    private final String rev;
    /** The anchors of the current document: the latest node of each name, with what it costs to use. */
    private final Map<String, Anchored> anchors = new HashMap<>();
    /** Anchors of collections being read: an alias of one of them is inside the node it names. */
    private final Set<String> open = new HashSet<>();
    /** Anchors of the file's earlier documents, which its later ones cannot use: named in the error only. */
    private final Set<String> earlier = new HashSet<>();
    private int aliases;
    private long expansions;
    private long nodes;
    /** The deepest level the value being read reaches. */
    private int reached;

    TreeReader(JsonParser p, String path, String rev) {
      this.p = p;
      this.yaml = p instanceof AnchoredYamlFactory.Parser y ? y : null;
      this.path = path;
      this.rev = rev;
    }

    private DecodeException error(String message) {
      return new DecodeException(Origin.of(path, lineOf(p.currentTokenLocation()), rev), message);
    }

    /**
     * Ends a document: its anchors are not visible to the next one (YAML's anchors belong to one
     * document, and kubectl refuses an alias to another's, so a file it refuses is refused here too).
     */
    void endDocument() {
      earlier.addAll(anchors.keySet());
      anchors.clear();
      open.clear();
    }

    /**
     * Reads a root value starting at token {@code first}, recording in {@code lines} the line of
     * each top-level field and of each tracked pointer. The value is frozen.
     */
    JsonNode read(JsonToken first, Map<String, Integer> lines) throws IOException {
      reached = 0;
      java.util.ArrayDeque<OpenCollection> stack = new java.util.ArrayDeque<>();
      JsonToken t = first;
      // where the value starting at t goes: its pointer (null: not tracked), its level, whether it
      // is what its mapping's merge key merges
      String ptr = "";
      int level = 1;
      boolean merges = false;
      while (true) {
        JsonNode done = begin(t, ptr, level, merges, stack);
        // hand finished values to the collection holding them, until the next value starts
        while (true) {
          OpenCollection top = stack.peek();
          if (done != null) {
            if (top == null) {
              return done;
            }
            top.add(done);
            done = null;
          }
          JsonToken next = p.nextToken();
          if (top.object) {
            if (next == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              merges = false;
              if (yaml != null) {
                key(name);
                // a plain << is YAML's merge key ("<<" quoted is a plain key); what it merges is read
                // at this mapping's level, where its values land
                merges = name.equals("<<") && yaml.isPlainScalar();
              }
              if (merges) {
                ptr = null;
                level = top.level;
              } else {
                String child = top.ptr == null ? null : top.ptr + pointerOf(name);
                boolean track = child != null && (tracked.contains(child) || child.equals(ITEMS));
                if (track || (child != null && top.ptr.isEmpty())) {
                  lines.put(child, lineOf(p.currentTokenLocation()));
                }
                ptr = track ? child : null;
                level = top.level + 1;
              }
              top.name = name;
              top.merging = merges;
              t = p.nextToken();
              break;
            }
            if (next != JsonToken.END_OBJECT) {
              throw error("unexpected token " + next + " in a mapping");
            }
          } else if (next != JsonToken.END_ARRAY) {
            if (next == null) {
              throw error("unexpected end of input in a list");
            }
            String child = top.ptr == null ? null : top.ptr + "/" + top.elements.size();
            boolean track = child != null && (tracked.contains(child) || ITEMS.equals(top.ptr));
            if (track) {
              lines.put(child, lineOf(p.currentTokenLocation()));
            }
            ptr = track ? child : null;
            level = top.level + 1;
            merges = false;
            t = next;
            break;
          }
          stack.pop();
          done = close(top);
        }
      }
    }

    /**
     * Starts the value at token {@code t}: a scalar or an alias is returned; a collection is
     * pushed on {@code stack} (opened at {@code level}) and null returned.
     */
    private JsonNode begin(JsonToken t, String ptr, int level, boolean merges, java.util.ArrayDeque<OpenCollection> stack)
        throws IOException {
      boolean collection = t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY;
      String anchor = null;
      if (yaml != null) {
        if (t == JsonToken.VALUE_STRING && yaml.isCurrentAlias()) {
          return alias(p.getText(), level);
        }
        checkTag(yaml.getTypeId(), collection ? (t == JsonToken.START_OBJECT ? "a mapping" : "a list") : "a scalar");
        anchor = yaml.getObjectId();
      }
      if (++nodes > maxNodes) {
        throw error("document has more than " + maxNodes + " nodes");
      }
      if (collection) {
        if (level > maxDepth) {
          throw error("nesting deeper than " + maxDepth + " levels (the decoder's maxDepth; the root is level 1)");
        }
        if (anchor != null) {
          open.add(anchor);
        }
        stack.push(new OpenCollection(t == JsonToken.START_OBJECT, ptr, level, anchor, nodes, expansions, reached));
        reached = level;
        return null;
      }
      JsonNode result = scalar(t);
      reached = Math.max(reached, level - 1);
      if (anchor != null) {
        define(anchor, new Anchored(result, 1, 0, 0));
      }
      return result;
    }

    /** The collection {@code c}, all read: frozen, its anchor defined. */
    private JsonNode close(OpenCollection c) {
      JsonNode result;
      if (c.object) {
        if (c.merged != null) {
          // YAML's merge key: the mapping's own keys win wherever they stand, then the
          // merged mappings in their order
          for (JsonNode from : c.merged) {
            from.fields().forEachRemaining(f -> c.fields.putIfAbsent(f.getKey(), f.getValue()));
          }
        }
        result = Documents.object(c.fields);
      } else {
        result = Documents.array(c.elements);
      }
      int height = reached - (c.level - 1);
      reached = Math.max(c.outer, reached);
      if (c.anchor != null) {
        define(c.anchor, new Anchored(result, (int) Math.min(Integer.MAX_VALUE, nodes - c.nodesBefore + 1), height,
            (int) Math.min(Integer.MAX_VALUE, expansions - c.expansionsBefore)));
      }
      return result;
    }

    private JsonNode scalar(JsonToken t) throws IOException {
      switch (t) {
        case VALUE_STRING:
          return NODES.textNode(p.getText());
        case VALUE_NUMBER_INT: {
          java.math.BigInteger big = p.getBigIntegerValue();
          return big.bitLength() < 64 ? NODES.numberNode(big.longValue()) : NODES.numberNode(big);
        }
        case VALUE_NUMBER_FLOAT: {
          double d = p.getDoubleValue();
          if (!Double.isFinite(d)) {
            throw error("number " + p.getText() + " is not a finite number (JSON has no NaN or infinity)");
          }
          BigDecimal exact;
          try {
            exact = p.getDecimalValue();
          } catch (NumberFormatException | IOException e) {
            exact = yamlDecimal(p.getText(), d);
          }
          long written = writtenLength(exact);
          if (written > MAX_NUMBER_TEXT) {
            // 1e-999999999 is 12 characters, but digests and stores write numbers out in full:
            // a billion digits, which ran the engine out of memory at its first digest
            throw error("a number whose decimal form has " + written + " digits (exponent "
                + (exact.precision() - (long) exact.scale() - 1) + "), more than the " + MAX_NUMBER_TEXT
                + " a number may have (quote it to read it as a string)");
          }
          return NODES.numberNode(exact);
        }
        case VALUE_TRUE:
          return NODES.booleanNode(true);
        case VALUE_FALSE:
          return NODES.booleanNode(false);
        case VALUE_NULL:
          return NODES.nullNode();
        default:
          throw error("unsupported value " + t);
      }
    }

    /**
     * How many digits {@code n} has written out without an exponent (as digests and stores write
     * it), counted without building that text: {@code 1e-400} has 401.
     */
    private static long writtenLength(BigDecimal n) {
      BigDecimal s = n.signum() == 0 ? BigDecimal.ZERO : n.stripTrailingZeros();
      long precision = s.precision();
      long scale = s.scale();
      return scale <= 0 ? precision - scale : Math.max(precision, scale + 1);
    }

    /**
     * The value of a YAML float spelled in a way BigDecimal cannot read ({@code 2_0.0e+22}: YAML 1.1
     * digit separators), whose double is {@code d}: the number written, exactly, as it reads without
     * its separators, so that it equals the same number spelled without them; else the double's
     * shortest decimal ({@link Documents#shortestDecimal}). Not {@code BigDecimal.valueOf(d)}, whose
     * value depends on the JDK (JDK 17 reads {@code 2_0.0e+22} as 199999999999999980000000).
     */
    private static BigDecimal yamlDecimal(String text, double d) {
      if (text != null) {
        try {
          return new BigDecimal(text.replace("_", ""));
        } catch (NumberFormatException e) {
          // a spelling that is not a decimal even without separators: the double read is the value
        }
      }
      return Documents.shortestDecimal(d);
    }

    /** Checks the key just read: a tag on it must be a scalar's; an anchor on it is an anchor of its text. */
    private void key(String name) throws IOException {
      checkTag(yaml.getTypeId(), "a scalar");
      String anchor = yaml.getObjectId();
      if (anchor != null) {
        define(anchor, new Anchored(NODES.textNode(name), 1, 0, 0));
      }
    }

    /** {@code anchor} names {@code node} from now on (YAML: an alias refers to the latest anchor of its name). */
    private void define(String anchor, Anchored node) {
      open.remove(anchor);
      anchors.put(anchor, node);
    }

    /**
     * Refuses {@code tag} (null: none) on a node of {@code kind}: only YAML's {@code !!str}, {@code
     * !!map} and {@code !!seq} are allowed, each on the kind of node it is for.
     */
    private void checkTag(String tag, String kind) {
      if (tag == null) {
        return;
      }
      boolean core = tag.startsWith(CORE);
      String name = core ? tag.substring(CORE.length()) : tag;
      String shown = core ? "!!" + name : "!" + tag;
      String forKind = core ? CORE_KINDS.get(name) : null;
      if (core && forKind != null && !forKind.equals(kind)) {
        throw error("YAML tag '" + shown + "' is for " + forKind + ", not " + kind + " (remove the tag"
            + (forKind.equals("a mapping") && kind.equals("a scalar") ? "; {} is the empty mapping" : "")
            + (forKind.equals("a list") && kind.equals("a scalar") ? "; [] is the empty list" : "") + ")");
      }
      if (!ALLOWED_TAGS.contains(tag)) {
        throw error("YAML tag '" + shown + "' is not allowed (only plain YAML: strings, numbers, booleans, null, mappings,"
            + " lists; of YAML's tags !!str, !!map and !!seq)");
      }
    }

    /** Adds the mappings a merge key's {@code value} names to {@code into}: a mapping, or a list of them. */
    private void mergeSources(JsonNode value, List<JsonNode> into) {
      if (value.isObject()) {
        into.add(value);
        return;
      }
      if (value.isArray() && value.size() > 0) {
        for (JsonNode e : value) {
          if (!e.isObject()) {
            throw error("the merge key << takes a mapping or a list of mappings, got a list holding " + e.getNodeType()
                .toString().toLowerCase(java.util.Locale.ROOT));
          }
          into.add(e);
        }
        return;
      }
      throw error("the merge key << takes a mapping or a list of mappings, got " + (value.isArray() ? "an empty list"
          : value.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
    }

    /**
     * The node alias {@code *name} refers to, used at {@code level}: frozen, so shared rather than
     * copied, and counted in the budgets as the copy it stands for.
     */
    private JsonNode alias(String name, int level) {
      if (open.contains(name)) {
        throw error("alias *" + name + " is inside the node &" + name + " it refers to: a recursive structure has no"
            + " JSON form (write the inner part out, or anchor a part that does not hold the alias)");
      }
      Anchored target = anchors.get(name);
      if (target == null) {
        throw error("alias *" + name + " refers to no anchor" + (earlier.contains(name)
            ? " in its document (&" + name + " is in an earlier one; an anchor does not reach past '---')" : ""));
      }
      if (++aliases > maxAliases) {
        throw error("more than " + maxAliases + " YAML aliases in one file (the decoder's maxAliases)");
      }
      expansions += 1 + target.inner();
      if (expansions > maxAliasExpansions) {
        throw error("YAML aliases expand more than " + maxAliasExpansions + " times in one file (an alias of a node"
            + " holding aliases expands each of them again; the decoder's maxAliasExpansions)");
      }
      int deepest = level - 1 + target.height();
      if (deepest > maxDepth) {
        throw error("alias *" + name + " nests deeper than " + maxDepth + " levels where it is used (it counts at the"
            + " level where it is used with the depth of &" + name + "; the decoder's maxDepth)");
      }
      reached = Math.max(reached, deepest);
      nodes += target.size();
      if (nodes > maxNodes) {
        throw error("document has more than " + maxNodes + " nodes after expanding aliases");
      }
      return target.node();
    }

    /**
     * A collection being read: whether it is a mapping, its pointer (null: not tracked), its
     * level, its anchor (or null), the budgets' counts and the reader's deepest level when it
     * opened, and what it holds so far.
     */
    private final class OpenCollection {
      final boolean object;
      final String ptr;
      final int level;
      final String anchor;
      final long nodesBefore;
      final long expansionsBefore;
      final int outer;
      final Map<String, JsonNode> fields;
      final List<JsonNode> elements;
      /** The mappings its merge keys merge, in their order; null when it has none. */
      List<JsonNode> merged;
      /** The field whose value is being read, and whether that field is the merge key. */
      String name;
      boolean merging;

      OpenCollection(boolean object, String ptr, int level, String anchor, long nodesBefore, long expansionsBefore,
          int outer) {
        this.object = object;
        this.ptr = ptr;
        this.level = level;
        this.anchor = anchor;
        this.nodesBefore = nodesBefore;
        this.expansionsBefore = expansionsBefore;
        this.outer = outer;
        this.fields = object ? new java.util.LinkedHashMap<>() : null;
        this.elements = object ? null : new ArrayList<>();
      }

      /** Takes the value just read: a field's, a merge key's or an element. */
      void add(JsonNode value) {
        if (!object) {
          elements.add(value);
        } else if (merging) {
          merged = merged == null ? new ArrayList<>() : merged;
          mergeSources(value, merged);
        } else {
          fields.put(name, value);
        }
      }
    }
  }

  /**
   * What an anchor names: the node (frozen), and what each alias of it costs: its nodes, the
   * levels it spans (0 for a scalar) and the alias expansions inside it.
   */
  private record Anchored(JsonNode node, int size, int height, int inner) {}

  /** Builds {@link YamlManifestDecoder}. */
  public static final class Builder {
    private String defaultProvider;
    private final List<DocumentMapping> mappings = new ArrayList<>();
    private int maxAliases = 50;
    private int maxAliasExpansions = 1_000;
    private int maxCodePoints = 3 * 1024 * 1024;
    private int maxNodes = 1_000_000;
    private int maxDepth = 100;
    private boolean emptyValuesAsNull;

    private Builder() {}

    /**
     * Whether a key written without a value ({@code labels:}) reads as null, as YAML and kubectl
     * read it, rather than as the empty string (default off: the empty string). A quoted empty
     * string ({@code ''}) is always a string.
     */
    public Builder emptyValuesAsNull(boolean on) {
      this.emptyValuesAsNull = on;
      return this;
    }

    /** The provider id used when a document has no {@code provider} field. */
    public Builder defaultProvider(String providerId) {
      if (providerId != null && providerId.isEmpty()) {
        throw new IllegalArgumentException("default provider id must not be empty");
      }
      this.defaultProvider = providerId;
      return this;
    }

    /**
     * Reads documents that {@code mapping} matches as it says (see {@link DocumentMapping});
     * mappings are tried in the order given, and documents none matches are read in the generic
     * format.
     */
    public Builder map(DocumentMapping mapping) {
      mappings.add(Objects.requireNonNull(mapping, "mapping"));
      return this;
    }

    /** At most this many alias uses per file (default 50). */
    public Builder maxAliases(int max) {
      this.maxAliases = positive(max, "maxAliases");
      return this;
    }

    /**
     * At most this many alias expansions per file (default 1,000), counting the aliases inside
     * what an alias names again each time it is expanded: with {@code b: &b [*a, *a]}, every
     * {@code *b} is three expansions.
     */
    public Builder maxAliasExpansions(int max) {
      this.maxAliasExpansions = positive(max, "maxAliasExpansions");
      return this;
    }

    /** At most this many code points per file (default 3 Mi). */
    public Builder maxCodePoints(int max) {
      this.maxCodePoints = positive(max, "maxCodePoints");
      return this;
    }

    /** At most this many nodes per file after alias expansion (default 1,000,000). */
    public Builder maxNodes(int max) {
      this.maxNodes = positive(max, "maxNodes");
      return this;
    }

    /**
     * At most this nesting depth of collections (default 100, at most 1,000), the root being level
     * 1; an alias counts at the level where it is used, with the depth of the node it names.
     */
    public Builder maxDepth(int max) {
      if (max > MAX_DEPTH) {
        throw new IllegalArgumentException("maxDepth must be at most " + MAX_DEPTH + " (Jackson's nesting limit), got " + max);
      }
      this.maxDepth = positive(max, "maxDepth");
      return this;
    }

    private static int positive(int v, String what) {
      if (v <= 0) {
        throw new IllegalArgumentException(what + " must be > 0, got " + v);
      }
      return v;
    }

    /**
     * The decoder.
     *
     * @throws IllegalStateException when a mapping names no provider and there is no default provider
     */
    public YamlManifestDecoder build() {
      return new YamlManifestDecoder(this);
    }
  }

  @Override
  public String toString() {
    return fingerprint();
  }

}
