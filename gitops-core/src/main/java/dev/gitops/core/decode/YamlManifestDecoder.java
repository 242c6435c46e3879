package dev.gitops.core.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
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
 * <p>Files come from Git and are treated as hostile: the bytes must be valid UTF-8; duplicate keys
 * in a mapping are rejected; explicit YAML tags ({@code !foo}, {@code !!java.lang...}, {@code
 * !!binary}, ...) are rejected except the core {@code !!str}, {@code !!map} and {@code !!seq};
 * aliases are expanded here (Jackson alone would read them as strings) with at most {@link
 * Builder#maxAliases(int)} alias uses per file and at most {@link Builder#maxNodes(int)} nodes after
 * expansion, each document's aliases referring to its own anchors only (as kubectl reads a file);
 * merge keys ({@code <<}) merge as they do in kubectl; the text is bounded by {@link
 * Builder#maxCodePoints(int)}. Every error is a {@link DecodeException} naming the file, the line
 * and the revision.
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
  /** A top-level list whose elements' lines are recorded: the objects of a Kubernetes {@code kind: List}. */
  private static final String ITEMS = "/items";

  private final String defaultProvider;
  private final List<DocumentMapping> mappings;
  /** The pointers (and their prefixes) whose lines the reader records: those the mappings read. */
  private final Set<String> tracked;
  private final int maxAliases;
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
    this.maxCodePoints = b.maxCodePoints;
    this.maxNodes = b.maxNodes;
    LoaderOptions lo = new LoaderOptions();
    lo.setMaxAliasesForCollections(maxAliases);
    lo.setCodePointLimit(maxCodePoints);
    lo.setAllowDuplicateKeys(false);
    lo.setNestingDepthLimit(b.maxDepth);
    // tags are checked token by token below; the inspector refuses global tags should SnakeYAML ever construct them
    lo.setTagInspector(tag -> false);
    this.emptyValuesAsNull = b.emptyValuesAsNull;
    com.fasterxml.jackson.dataformat.yaml.YAMLFactoryBuilder yb = YAMLFactory.builder()
        .loaderOptions(lo)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION);
    if (emptyValuesAsNull) {
      yb.enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL);
    } else {
      yb.disable(YAMLParser.Feature.EMPTY_STRING_AS_NULL);
    }
    this.yamlFactory = new AnchoredYamlFactory(yb);
    this.jsonFactory = JsonFactory.builder()
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
        + ",aliases=" + maxAliases + ",codePoints=" + maxCodePoints + ",nodes=" + maxNodes
        + (mappings.isEmpty() ? "" : ",mappings=" + mappings) + (emptyValuesAsNull ? ",emptyValuesAsNull" : "") + ",v1)";
  }

  @Override
  public List<Resource> decode(SourceFile file) {
    List<Resource> out = new ArrayList<>();
    read(file, (doc, fieldLines, origin) -> {
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
   */
  public record Document(JsonNode content, Origin origin, Map<String, Integer> lines) {
    /** Freezes the content. */
    public Document {
      content = Documents.freeze(Objects.requireNonNull(content, "content"));
      Objects.requireNonNull(origin, "origin");
      lines = Map.copyOf(lines);
    }

    /** A document whose lines inside are not known: {@link #originOf} answers its start. */
    public Document(JsonNode content, Origin origin) {
      this(content, origin, Map.of());
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
    read(file, (doc, fieldLines, origin) -> out.add(new Document(doc, origin, fieldLines)));
    return out;
  }

  /** What {@link #read} hands each document: the mapping, its recorded field lines and its origin. */
  @FunctionalInterface
  private interface DocumentSink {
    void accept(JsonNode doc, Map<String, Integer> fieldLines, Origin origin);
  }

  private void read(SourceFile file, DocumentSink sink) {
    Objects.requireNonNull(file, "file");
    String path = file.path();
    String rev = file.revision();
    int codePoints = checkUtf8(file);
    if (codePoints > maxCodePoints) {
      throw new DecodeException(Origin.of(path, 0, rev),
          "file has " + codePoints + " code points, more than the limit of " + maxCodePoints);
    }
    boolean json = path.toLowerCase(Locale.ROOT).endsWith(".json");
    int line = 0;
    try (JsonParser p = json ? jsonFactory.createParser(file.content()) : yamlFactory.createParser(file.content())) {
      TreeReader reader = new TreeReader(p, path, rev);
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        line = lineOf(p.currentTokenLocation());
        Map<String, Integer> fieldLines = new HashMap<>();
        JsonNode doc = reader.read(t, fieldLines);
        reader.endDocument();
        if (doc.isNull() || (!json && doc.isTextual() && doc.textValue().isEmpty())) {
          continue;  // an empty YAML document (Jackson reads it as null or as an empty scalar)
        }
        Origin origin = Origin.of(path, line, rev);
        if (!doc.isObject()) {
          throw new DecodeException(origin, "a document must be a mapping, got " + doc.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        sink.accept(doc, fieldLines, origin);
      }
    } catch (JsonProcessingException e) {
      if (e.getCause() instanceof MarkedYAMLException y) {
        throw malformed(y, path, line, rev);
      }
      JsonLocation loc = e.getLocation();
      int at = loc == null ? line : lineOf(loc);
      throw new DecodeException(Origin.of(path, at, rev), "malformed " + (json ? "JSON" : "YAML") + ": " + e.getOriginalMessage(), e);
    } catch (MarkedYAMLException e) {
      throw malformed(e, path, line, rev);
    } catch (YAMLException e) {
      throw new DecodeException(Origin.of(path, line, rev), "malformed YAML: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new DecodeException(Origin.of(path, line, rev), "cannot read: " + e.getMessage(), e);
    }
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
      int line = 1;
      for (int k = 0; k < pos; k++) {
        if (file.content()[k] == '\n') {
          line++;
        }
      }
      throw new DecodeException(Origin.of(file.path(), line, file.revision()),
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
    Mark m = e.getProblemMark();
    int at = m == null ? line : m.getLine() + 1;
    String context = e.getContext() == null ? "" : e.getContext() + ": ";
    String column = m == null ? "" : " (column " + (m.getColumn() + 1) + ")";
    return new DecodeException(Origin.of(path, at, rev), "malformed YAML: " + context + e.getProblem() + column, e);
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

  /** Reads one root value token by token, checking tags and expanding aliases within budgets. */
  private final class TreeReader {
    private final JsonParser p;
    private final YAMLParser yaml;
    private final String path;
    private final String rev;
    private final Map<String, JsonNode> anchors = new HashMap<>();
    private final Map<JsonNode, Integer> sizes = new java.util.IdentityHashMap<>();
    /** Anchors of the file's earlier documents, which its later ones cannot use: named in the error only. */
    private final Set<String> earlier = new HashSet<>();
    private int aliases;
    private long nodes;

    TreeReader(JsonParser p, String path, String rev) {
      this.p = p;
      this.yaml = p instanceof YAMLParser y ? y : null;
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
      sizes.clear();
    }

    /** Reads a root value, recording in {@code lines} the line of each top-level field and of each tracked pointer. */
    JsonNode read(JsonToken t, Map<String, Integer> lines) throws IOException {
      return value(t, "", lines, 0);
    }

    /** {@code ptr} is this value's JSON pointer while it is the root or tracked, else null. */
    private JsonNode value(JsonToken t, String ptr, Map<String, Integer> lines, int depth) throws IOException {
      if (depth > 500) {
        throw error("nesting deeper than 500");
      }
      String anchor = null;
      if (yaml != null) {
        if (t == JsonToken.VALUE_STRING && yaml.isCurrentAlias()) {
          return alias(p.getText());
        }
        String tag = yaml.getTypeId();
        if (tag != null && !ALLOWED_TAGS.contains(tag)) {
          throw error("YAML tag '" + (tag.startsWith("tag:yaml.org,2002:") ? "!!" + tag.substring(18) : "!" + tag)
              + "' is not allowed (only plain YAML: strings, numbers, booleans, null, mappings, lists)");
        }
        anchor = yaml.getObjectId();
      }
      if (++nodes > maxNodes) {
        throw error("document has more than " + maxNodes + " nodes");
      }
      long before = nodes;
      JsonNode result;
      switch (t) {
        case START_OBJECT -> {
          ObjectNode o = NODES.objectNode();
          List<ObjectNode> merged = null;
          JsonToken k;
          while ((k = p.nextToken()) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            if (yaml != null && name.equals("<<")) {
              merged = merged == null ? new ArrayList<>() : merged;
              mergeSources(value(p.nextToken(), null, lines, depth + 1), merged);
              continue;
            }
            String child = ptr == null ? null : ptr + pointerOf(name);
            boolean track = child != null && (tracked.contains(child) || child.equals(ITEMS));
            if (track || (child != null && ptr.isEmpty())) {
              lines.put(child, lineOf(p.currentTokenLocation()));
            }
            JsonToken vt = p.nextToken();
            o.set(name, value(vt, track ? child : null, lines, depth + 1));
          }
          if (k != JsonToken.END_OBJECT) {
            throw error("unexpected token " + k + " in a mapping");
          }
          if (merged != null) {
            // YAML's merge key: the mapping's own keys win wherever they stand, then the
            // merged mappings in their order
            for (ObjectNode from : merged) {
              from.fields().forEachRemaining(f -> {
                if (!o.has(f.getKey())) {
                  o.set(f.getKey(), f.getValue());
                }
              });
            }
          }
          result = o;
        }
        case START_ARRAY -> {
          ArrayNode a = NODES.arrayNode();
          JsonToken e;
          while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
            if (e == null) {
              throw error("unexpected end of input in a list");
            }
            String child = ptr == null ? null : ptr + "/" + a.size();
            boolean track = child != null && (tracked.contains(child) || ITEMS.equals(ptr));
            if (track) {
              lines.put(child, lineOf(p.currentTokenLocation()));
            }
            a.add(value(e, track ? child : null, lines, depth + 1));
          }
          result = a;
        }
        case VALUE_STRING -> result = NODES.textNode(p.getText());
        case VALUE_NUMBER_INT -> {
          java.math.BigInteger big = p.getBigIntegerValue();
          result = big.bitLength() < 64 ? NODES.numberNode(big.longValue()) : NODES.numberNode(big);
        }
        case VALUE_NUMBER_FLOAT -> {
          double d = p.getDoubleValue();
          if (!Double.isFinite(d)) {
            throw error("number " + p.getText() + " is not a finite number (JSON has no NaN or infinity)");
          }
          BigDecimal exact;
          try {
            exact = p.getDecimalValue();
          } catch (NumberFormatException | IOException e) {
            exact = BigDecimal.valueOf(d);  // YAML float spellings BigDecimal cannot parse; the double is exact enough
          }
          result = NODES.numberNode(exact);
        }
        case VALUE_TRUE -> result = NODES.booleanNode(true);
        case VALUE_FALSE -> result = NODES.booleanNode(false);
        case VALUE_NULL -> result = NODES.nullNode();
        default -> throw error("unsupported value " + t);
      }
      if (anchor != null) {
        anchors.put(anchor, result);
        sizes.put(result, (int) Math.min(Integer.MAX_VALUE, nodes - before + 1));
      }
      return result;
    }

    /** Adds the mappings a merge key's {@code value} names to {@code into}: a mapping, or a list of them. */
    private void mergeSources(JsonNode value, List<ObjectNode> into) {
      if (value instanceof ObjectNode o) {
        into.add(o);
        return;
      }
      if (value.isArray() && value.size() > 0) {
        for (JsonNode e : value) {
          if (!(e instanceof ObjectNode o)) {
            throw error("the merge key << takes a mapping or a list of mappings, got a list holding " + e.getNodeType()
                .toString().toLowerCase(java.util.Locale.ROOT));
          }
          into.add(o);
        }
        return;
      }
      throw error("the merge key << takes a mapping or a list of mappings, got " + (value.isArray() ? "an empty list"
          : value.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
    }

    private JsonNode alias(String name) {
      JsonNode target = anchors.get(name);
      if (target == null) {
        throw error("alias *" + name + " refers to no anchor" + (earlier.contains(name)
            ? " in its document (&" + name + " is in an earlier one; an anchor does not reach past '---')" : ""));
      }
      if (++aliases > maxAliases) {
        throw error("more than " + maxAliases + " YAML aliases in one file");
      }
      nodes += sizes.getOrDefault(target, 1);
      if (nodes > maxNodes) {
        throw error("document has more than " + maxNodes + " nodes after expanding aliases");
      }
      return target.deepCopy();
    }
  }

  /** Builds {@link YamlManifestDecoder}. */
  public static final class Builder {
    private String defaultProvider;
    private final List<DocumentMapping> mappings = new ArrayList<>();
    private int maxAliases = 50;
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

    /** At most this nesting depth of YAML collections (default 100). */
    public Builder maxDepth(int max) {
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
