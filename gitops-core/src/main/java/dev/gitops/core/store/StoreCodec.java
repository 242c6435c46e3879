package dev.gitops.core.store;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.core.internal.JsonErrors;
import dev.gitops.core.internal.OwnJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JSON form of what a {@link FileStateStore} keeps. Reading is strict: a missing field, a
 * wrong type or trailing garbage is a {@link BadContentException} so that a damaged file is never
 * half-read.
 */
final class StoreCodec {

  /** Reads back whatever it wrote: no bound on sizes or depth ({@link OwnJson}). */
  static final ObjectMapper MAPPER = OwnJson.trusting(JsonMapper.builder()
      .nodeFactory(Documents.nodes())
      // exact decimals: a document read back must equal the one written, number for number
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .build());

  /** Reads one value at a time from a parser over more content (the rest follows it). */
  static final ObjectReader IN_STREAM = MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** Content that parsed (or not) but is not what the store wrote. */
  static final class BadContentException extends Exception {
    private static final long serialVersionUID = 1L;

    BadContentException(String message) {
      super(message);
    }

    BadContentException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private StoreCodec() {}

  // ---------------------------------------------------------------- writing

  static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      // only trees of plain JSON values reach here; failing to write one is a bug, not I/O
      throw new UncheckedIOException("cannot serialize store content", e);
    }
  }

  static ObjectNode resource(Resource r) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("key", r.key().toString());
    n.set("document", r.document());
    ObjectNode origin = n.putObject("origin");
    origin.put("path", r.origin().path());
    origin.put("line", r.origin().line());
    origin.put("revision", r.origin().revision());
    ArrayNode deps = n.putArray("dependsOn");
    r.dependsOn().forEach(k -> deps.add(k.toString()));
    n.put("wave", r.wave());
    n.put("policy", r.policy().toString());
    ArrayNode sensitive = n.putArray("sensitive");
    new TreeSet<>(r.sensitive().stream().map(PathPattern::toString).toList()).forEach(sensitive::add);
    return n;
  }

  static ObjectNode inventoryEntry(StoredResource s) {
    return inventoryEntry(s, null, false);
  }

  /**
   * An inventory entry whose resource is written as {@code encoded} has it (see {@link
   * EncodedResources}; null: serialized here), remembered there when {@code remember}.
   */
  static ObjectNode inventoryEntry(StoredResource s, EncodedResources encoded, boolean remember) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("key", s.resource().key().toString());
    n.put("serial", s.serial());
    n.put("revision", s.revision());
    putResource(n, s.resource(), encoded, remember);
    if (s.inSync() != null) {
      // what proved the live object in sync with this record; entries without it read as before
      ObjectNode proof = n.putObject("inSync");
      proof.put("desired", s.inSync().desired());
      proof.put("rules", s.inSync().rules());
      proof.put("version", s.inSync().version());
    }
    return n;
  }

  static ObjectNode pendingEntry(Resource r) {
    return pendingEntry(r, null, false);
  }

  /** A pending entry, its resource written as {@link #inventoryEntry(StoredResource, EncodedResources, boolean)} does. */
  static ObjectNode pendingEntry(Resource r, EncodedResources encoded, boolean remember) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("key", r.key().toString());
    putResource(n, r, encoded, remember);
    return n;
  }

  private static void putResource(ObjectNode n, Resource r, EncodedResources encoded, boolean remember) {
    if (encoded == null) {
      n.set("resource", resource(r));
    } else {
      n.putRawValue("resource", encoded.of(r, remember));
    }
  }

  static ObjectNode history(HistoryEntry h) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("id", h.id());
    n.put("time", h.time().toString());
    n.put("revision", h.revision());
    n.put("planId", h.planId());
    n.put("status", h.status().name());
    ObjectNode counts = n.putObject("counts");
    new java.util.TreeMap<>(h.counts()).forEach(counts::put);
    n.put("message", h.message());
    if (!h.owner().isEmpty()) {
      n.put("owner", h.owner());  // a field older builds do not read: they still read the entry
    }
    // always written (older builds ignore it): an entry without it is one an older build wrote
    n.put("operation", h.operation().name());
    return n;
  }

  /**
   * What meta.json accounts for in the key directories: how many inventory and pending entries
   * there are besides {@code entry}, the file name the write that wrote meta.json was about to
   * change ("" for none). A crash in that write can leave {@code entry} either way, but never
   * changes the others, so the counts hold after any crash and a missing or extra file is damage.
   */
  record Accounting(long inventory, long pending, String entry, boolean compacting) {}

  /** The meta.json of a store of format 2: serial, revisions and the serial of the snapshot it expects (0: none). */
  static ObjectNode meta(long serial, String attempted, String applied, long snapshot, long entries) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("serial", serial);
    n.put("lastAttemptedRevision", attempted);
    n.put("lastAppliedRevision", applied);
    n.put("snapshot", snapshot);
    n.put("entries", entries);
    return n;
  }

  /**
   * The serial of the last entry write meta.json knows to be durable in the journal or the
   * snapshot (0 for a meta.json written before stores kept it).
   */
  static long entriesSerial(JsonNode meta) throws BadContentException {
    if (!meta.has("entries")) {
      return 0;
    }
    long s = longValue(meta, "entries");
    if (s < 0) {
      throw new BadContentException("negative entries serial " + s);
    }
    return s;
  }

  /** The no-change marker file: the serial it was recorded at and the source fingerprint it vouches for. */
  static ObjectNode marker(long serial, String fingerprint) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("serial", serial);
    n.put("fingerprint", fingerprint);
    return n;
  }

  /** The snapshot serial a meta.json names; 0 when it names none (format 1, or before the first compaction). */
  static long snapshotSerial(JsonNode meta) throws BadContentException {
    if (!meta.has("snapshot")) {
      return 0;
    }
    long s = longValue(meta, "snapshot");
    if (s < 0) {
      throw new BadContentException("negative snapshot serial " + s);
    }
    return s;
  }

  /** The accounting of a meta.json of format 1, or null for one written before stores kept it. */
  static Accounting accounting(JsonNode meta) throws BadContentException {
    if (!meta.has("inventory") && !meta.has("pending") && !meta.has("entry")) {
      return null;
    }
    long inventory = longValue(meta, "inventory");
    long pending = longValue(meta, "pending");
    if (inventory < 0 || pending < 0) {
      throw new BadContentException("negative entry counts (inventory " + inventory + ", pending " + pending + ")");
    }
    JsonNode compacting = meta.get("compacting");
    if (compacting != null && !compacting.isBoolean()) {
      throw new BadContentException("'compacting' is not a boolean: " + compacting);
    }
    return new Accounting(inventory, pending, text(meta, "entry"), compacting != null && compacting.booleanValue());
  }

  // ---------------------------------------------------------------- reading

  /** Initializes the mapper and the tree reader every store file goes through, by parsing a small document. */
  static void warmUp() {
    try {
      parse("{\"serial\": 1, \"a\": [\"x\", {\"b\": true, \"n\": 1.5}]}".getBytes(StandardCharsets.UTF_8));
    } catch (BadContentException e) {
      throw new IllegalStateException("the store's codec cannot read its own sample document", e);
    }
  }

  static JsonNode parse(byte[] bytes) throws BadContentException {
    JsonNode node;
    try {
      node = MAPPER.readTree(bytes);
    } catch (JsonProcessingException e) {
      String at = JsonErrors.at(e);
      throw new BadContentException("not valid JSON (" + JsonErrors.problem(e) + (at.isEmpty() ? " at ?" : at) + ")", e);
    } catch (IOException e) {
      // bad bytes surface as a CharConversionException, which is no JsonProcessingException
      throw new BadContentException("not valid JSON (" + e.getMessage() + ")", e);
    }
    if (node == null || node.isMissingNode()) {
      throw new BadContentException("empty file");
    }
    if (!node.isObject()) {
      throw new BadContentException("want a JSON object, found " + node.getNodeType());
    }
    return node;
  }

  static Resource readResource(JsonNode n) throws BadContentException {
    requireObject(n, "resource");
    return resource(n.get("key"), n.get("document"), n.get("origin"), n.get("dependsOn"), n.get("wave"),
        n.get("policy"), n.get("sensitive"));
  }

  /** A resource from its fields' values (null: absent), checked in one order whichever way they were read. */
  private static Resource resource(JsonNode keyValue, JsonNode document, JsonNode o, JsonNode dependsOn,
      JsonNode waveValue, JsonNode policyValue, JsonNode sensitiveValue) throws BadContentException {
    ResourceKey key = key(textOf(keyValue, "key"), "key");
    if (document == null) {
      throw new BadContentException("field 'document' is missing");
    }
    requireObject(o, "origin");
    Origin origin;
    try {
      origin = Origin.of(text(o, "path"), integer(o, "line"), text(o, "revision"));
    } catch (IllegalArgumentException e) {
      throw new BadContentException("bad origin: " + e.getMessage(), e);
    }
    // most resources depend on nothing and mark nothing sensitive: no set is built for them
    SortedSet<ResourceKey> deps = Collections.emptySortedSet();
    for (JsonNode d : array(dependsOn, "dependsOn")) {
      if (!d.isTextual()) {
        throw new BadContentException("dependsOn holds a non-string: " + d);
      }
      if (deps.isEmpty()) {
        deps = new TreeSet<>();
      }
      deps.add(key(d.textValue(), "dependsOn"));
    }
    int wave = intOf(waveValue, "wave");
    ManagementPolicy policy = policy(textOf(policyValue, "policy"));
    Set<PathPattern> sensitive = Set.of();
    for (JsonNode s : array(sensitiveValue, "sensitive")) {
      if (!s.isTextual()) {
        throw new BadContentException("sensitive holds a non-string: " + s);
      }
      if (sensitive.isEmpty()) {
        sensitive = new HashSet<>();
      }
      try {
        sensitive.add(PathPattern.of(s.textValue()));
      } catch (IllegalArgumentException e) {
        throw new BadContentException("bad sensitive pattern: " + e.getMessage(), e);
      }
    }
    try {
      return new Resource(key, Documents.freeze(document), origin, deps, wave, policy, sensitive);
    } catch (IllegalArgumentException e) {
      throw new BadContentException("bad resource: " + e.getMessage(), e);
    }
  }

  static StoredResource readInventoryEntry(JsonNode n) throws BadContentException {
    Resource r = readResource(n.get("resource"));
    checkEntryKey(n.get("key"), n.get("resource").get("key"), r);
    long serial = longValue(n, "serial");
    return new StoredResource(r, serial, text(n, "revision"), inSync(n.get("inSync")));
  }

  /**
   * {@link #readInventoryEntry(JsonNode)} read from {@code p} at the entry's START_OBJECT, to its
   * END_OBJECT: the same checks in the same order with the same messages, but only the document,
   * the origin and the proof become trees (a snapshot holds one entry per key; the tree of each
   * whole entry was a quarter of a no-change sync's allocation). Fields it does not know are
   * skipped, as the tree form ignores them; duplicate fields are the parser's to refuse.
   *
   * <p>With {@code source} (the array {@code p} reads, from offset {@code base}), a document that
   * is an object is not parsed here but kept as its text in {@code source}: the parser only checks
   * it on the way past (well-formed, UTF-8, no duplicate field: damage the load refuses as before),
   * and {@link Documents#lazyObject} parses it when it is first read. The array is kept while any
   * such document is unread. What only a parse finds (Jackson's limits, such as a string over its
   * longest) throws {@link StoreCorruptException} naming {@code where} and the key, at every read.
   */
  static StoredResource readInventoryEntry(JsonParser p) throws IOException, BadContentException {
    return readInventoryEntry(p, null, 0, null);
  }

  static StoredResource readInventoryEntry(JsonParser p, byte[] source, int base, String where)
      throws IOException, BadContentException {
    JsonNode key = null;
    JsonNode serial = null;
    JsonNode revision = null;
    JsonNode inSync = null;
    EntryResource r = null;
    JsonNode resourceValue = null;
    for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
      JsonToken t = p.nextToken();
      switch (field) {
        case "key" -> key = scalar(p);
        case "serial" -> serial = scalar(p);
        case "revision" -> revision = scalar(p);
        case "inSync" -> inSync = tree(p);
        case "resource" -> {
          if (t == JsonToken.START_OBJECT) {
            r = EntryResource.read(p, source, base, where);
            resourceValue = null;
          } else {
            resourceValue = tree(p);
            r = null;
          }
        }
        default -> p.skipChildren();
      }
    }
    if (r == null) {
      requireObject(resourceValue, "resource");
    }
    Resource resource = r.resource();
    checkEntryKey(key, r.key, resource);
    return new StoredResource(resource, longOf(serial, "serial"), textOf(revision, "revision"), inSync(inSync));
  }

  /** The fields of a resource object read from a parser (null: absent). */
  private static final class EntryResource {
    JsonNode key;
    JsonNode document;
    JsonNode origin;
    JsonNode dependsOn;
    JsonNode wave;
    JsonNode policy;
    JsonNode sensitive;

    static EntryResource read(JsonParser p, byte[] source, int base, String where) throws IOException {
      EntryResource r = new EntryResource();
      for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
        JsonToken t = p.nextToken();
        switch (field) {
          case "key" -> r.key = scalar(p);
          case "document" -> r.document = source != null && t == JsonToken.START_OBJECT
              ? r.lazyDocument(p, source, base, where) : IN_STREAM.readTree(p);
          case "origin" -> r.origin = tree(p);
          case "dependsOn" -> r.dependsOn = tree(p);
          case "wave" -> r.wave = scalar(p);
          case "policy" -> r.policy = scalar(p);
          case "sensitive" -> r.sensitive = tree(p);
          default -> p.skipChildren();
        }
      }
      return r;
    }

    Resource resource() throws BadContentException {
      return StoreCodec.resource(key, document, origin, dependsOn, wave, policy, sensitive);
    }

    /** The object at {@code p} (at its START_OBJECT), checked and skipped, parsed when first read. */
    private JsonNode lazyDocument(JsonParser p, byte[] source, int base, String where) throws IOException {
      int from = base + (int) p.currentTokenLocation().getByteOffset();
      p.skipChildren();
      int to = base + (int) p.currentTokenLocation().getByteOffset() + 1;
      return Documents.lazyObject(() -> {
        try {
          return parse(source, from, to - from);
        } catch (IOException | RuntimeException e) {
          throw new StoreCorruptException("store file " + where + ": the stored document of "
              + (key == null ? "an entry" : key.asText()) + " does not parse (" + e.getMessage() + ")", e);
        }
      });
    }

    private static JsonNode parse(byte[] source, int from, int length) throws IOException {
      JsonNode d = MAPPER.readTree(source, from, length);
      if (d == null || !d.isObject()) {
        throw new IOException("want a JSON object");
      }
      return d;
    }
  }

  /** The value at {@code p}'s current token as a node; a string without the tree reader's machinery. */
  private static JsonNode scalar(JsonParser p) throws IOException {
    return p.currentToken() == JsonToken.VALUE_STRING ? Documents.nodes().textNode(p.getText()) : tree(p);
  }

  /**
   * The value at {@code p}'s current token (to its end) as the node {@code IN_STREAM.readTree(p)}
   * gives, built without a deserialization context per value: an entry's origin, dependencies,
   * sensitive paths and proof are small trees read 10,000 times in a store of 10,000 keys, and the
   * context of each {@code readTree} was most of their cost. Objects, arrays, strings, integers,
   * booleans and null are built here with the mapper's node factory (integers as the tree reader
   * types them: int, long, else big integer); any other token (a decimal, whose node the tree reader
   * shapes by the mapper's features) is read by the tree reader itself. Duplicate fields, bad UTF-8
   * and nesting limits are the parser's to refuse, as before.
   */
  static JsonNode tree(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == null) {
      return IN_STREAM.readTree(p);
    }
    switch (t) {
      case START_OBJECT -> {
        ObjectNode o = NODES.objectNode();
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
          p.nextToken();
          o.replace(name, tree(p));
        }
        return o;
      }
      case START_ARRAY -> {
        ArrayNode a = NODES.arrayNode();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          a.add(tree(p));
        }
        return a;
      }
      case VALUE_STRING -> {
        return NODES.textNode(p.getText());
      }
      case VALUE_NUMBER_INT -> {
        return switch (p.getNumberType()) {
          case INT -> NODES.numberNode(p.getIntValue());
          case LONG -> NODES.numberNode(p.getLongValue());
          default -> NODES.numberNode(p.getBigIntegerValue());
        };
      }
      case VALUE_TRUE -> {
        return NODES.booleanNode(true);
      }
      case VALUE_FALSE -> {
        return NODES.booleanNode(false);
      }
      case VALUE_NULL -> {
        return NODES.nullNode();
      }
      default -> {
        return IN_STREAM.readTree(p);
      }
    }
  }

  /** The node factory of {@link #MAPPER}. */
  private static final JsonNodeFactory NODES = Documents.nodes();

  /** The in-sync proof of an inventory entry, or null when it has none (entries written before it existed). */
  private static StoredResource.InSync inSync(JsonNode n) throws BadContentException {
    if (n == null) {
      return null;
    }
    requireObject(n, "inSync");
    try {
      return new StoredResource.InSync(text(n, "desired"), text(n, "rules"), text(n, "version"));
    } catch (IllegalArgumentException e) {
      throw new BadContentException("bad inSync: " + e.getMessage(), e);
    }
  }

  static Resource readPendingEntry(JsonNode n) throws BadContentException {
    Resource r = readResource(n.get("resource"));
    checkEntryKey(n.get("key"), n.get("resource").get("key"), r);
    return r;
  }

  /**
   * Checks that an entry's {@code key} is its resource's: the same text as the resource's key
   * (parsed once, by {@link #readResource}), or, written differently, a key that parses equal.
   */
  private static void checkEntryKey(JsonNode entryKey, JsonNode resourceKey, Resource r) throws BadContentException {
    String text = textOf(entryKey, "key");
    if (text.equals(resourceKey.textValue())) {
      return;
    }
    ResourceKey key = key(text, "key");
    if (!key.equals(r.key())) {
      throw new BadContentException("the entry's key " + key + " differs from its resource's key " + r.key());
    }
  }

  /** Policies parsed so far by their text (a store holds a handful of distinct ones; each entry names one). */
  private static final Map<String, ManagementPolicy> POLICIES = new ConcurrentHashMap<>();

  private static ManagementPolicy policy(String text) throws BadContentException {
    ManagementPolicy known = POLICIES.get(text);
    if (known != null) {
      return known;
    }
    ManagementPolicy policy;
    try {
      policy = ManagementPolicy.parse(text);
    } catch (IllegalArgumentException e) {
      throw new BadContentException("bad policy: " + e.getMessage(), e);
    }
    if (POLICIES.size() < 64) {
      POLICIES.put(text, policy);
    }
    return policy;
  }

  static HistoryEntry readHistory(JsonNode n) throws BadContentException {
    Instant time;
    try {
      time = Instant.parse(text(n, "time"));
    } catch (DateTimeParseException e) {
      throw new BadContentException("bad time: " + e.getMessage(), e);
    }
    JsonNode c = n.get("counts");
    requireObject(c, "counts");
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : c.properties()) {
      if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt()) {
        throw new BadContentException("count '" + e.getKey() + "' is not an int: " + e.getValue());
      }
      counts.put(e.getKey(), e.getValue().intValue());
    }
    // an entry older builds wrote records no owner
    String owner = n.has("owner") ? text(n, "owner") : "";
    String revision = text(n, "revision");
    String message = text(n, "message");
    HistoryEntry.Operation operation = n.has("operation") ? constant(HistoryEntry.Operation.class, "operation", text(n, "operation"))
        : olderOperation(revision, message);
    return new HistoryEntry(text(n, "id"), time, revision, text(n, "planId"), constant(SyncResult.Status.class, "status", text(n, "status")),
        counts, message, owner, operation);
  }

  /**
   * The operation of an entry an older build wrote, which records none, as its other fields tell
   * ({@link HistoryEntry.Operation}): a forget's message starts "forgot N of M; ", a
   * destroy(ORPHAN)'s "orphaned everything; ", a destroy(DELETE)'s revision is "destroy"; a sync's
   * message starts with a count ("2 to create, ..."), and its revision is the source's.
   */
  static HistoryEntry.Operation olderOperation(String revision, String message) {
    if (OLDER_FORGET.matcher(message).lookingAt()) {
      return HistoryEntry.Operation.FORGET;
    }
    if (message.startsWith("orphaned everything; ")) {
      return HistoryEntry.Operation.DESTROY_ORPHAN;
    }
    return revision.equals("destroy") ? HistoryEntry.Operation.DESTROY : HistoryEntry.Operation.SYNC;
  }

  /** The start of the message of a forget's entry, as every build wrote it. */
  private static final java.util.regex.Pattern OLDER_FORGET = java.util.regex.Pattern.compile("forgot \\d+ of \\d+; ");

  /**
   * The constant of {@code type} named {@code name}, the value of {@code field}: a history entry's
   * status (as every store version wrote it) or operation.
   */
  private static <E extends Enum<E>> E constant(Class<E> type, String field, String name) throws BadContentException {
    try {
      return Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      throw new BadContentException("field '" + field + "' is '" + name + "', not one of "
          + java.util.Arrays.toString(type.getEnumConstants()), e);
    }
  }

  // ---------------------------------------------------------------- field helpers

  /** The owner entry of a store, {@code {"owner": "<id>"}} ({@link StoreEntries#ownerEntry}). */
  static ObjectNode ownerEntry(String owner) {
    return MAPPER.createObjectNode().put("owner", owner);
  }

  /** The owner an owner entry names. */
  static String owner(JsonNode n) throws BadContentException {
    String owner = text(n, "owner");
    if (owner.isBlank()) {
      throw new BadContentException("names a blank owner");
    }
    return owner;
  }

  static String text(JsonNode n, String field) throws BadContentException {
    return textOf(n.get(field), field);
  }

  /** The text of {@code v}, the value of {@code field} (null: absent). */
  private static String textOf(JsonNode v, String field) throws BadContentException {
    if (v == null || !v.isTextual()) {
      throw new BadContentException("field '" + field + "' is " + (v == null ? "missing" : "not a string: " + v));
    }
    return v.textValue();
  }

  static long longValue(JsonNode n, String field) throws BadContentException {
    return longOf(n.get(field), field);
  }

  private static long longOf(JsonNode v, String field) throws BadContentException {
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new BadContentException("field '" + field + "' is " + (v == null ? "missing" : "not an integer: " + v));
    }
    return v.longValue();
  }

  static int integer(JsonNode n, String field) throws BadContentException {
    return intOf(n.get(field), field);
  }

  private static int intOf(JsonNode v, String field) throws BadContentException {
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new BadContentException("field '" + field + "' is " + (v == null ? "missing" : "not an int: " + v));
    }
    return v.intValue();
  }

  private static Iterable<JsonNode> array(JsonNode v, String field) throws BadContentException {
    if (v == null || !v.isArray()) {
      throw new BadContentException("field '" + field + "' is " + (v == null ? "missing" : "not an array: " + v));
    }
    return v;
  }

  private static void requireObject(JsonNode n, String what) throws BadContentException {
    if (n == null || !n.isObject()) {
      throw new BadContentException("'" + what + "' is " + (n == null ? "missing" : "not an object: " + n));
    }
  }

  static ResourceKey key(String text, String what) throws BadContentException {
    try {
      return ResourceKey.parse(text);
    } catch (IllegalArgumentException e) {
      throw new BadContentException("bad " + what + ": " + e.getMessage(), e);
    }
  }
}
