package dev.gitops.core.internal.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.PatchOp;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanMismatchException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.internal.JsonErrors;
import dev.gitops.core.internal.OwnJson;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.redact.Redactor;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The plan file format and plan ids behind {@code dev.gitops.core.plan.PlanCodec}, with the
 * digest hooks the {@link Planner} uses to avoid hashing an unchanged change or document twice.
 * Internal: the public entry point is {@code PlanCodec}.
 */
public final class PlanFiles {

  /**
   * The plan file format version this build writes and reads. Format 3: a change's {@code
   * desired} is only ever the document in Git; the resource of a key Git no longer has (a delete)
   * keeps its last-applied document in {@code lastApplied}. Format 4: the same content, with an id
   * that takes each change's {@code resource.originRevision} beside the change's digest instead of
   * inside it (a new commit does not change the digest of a change whose document did not change).
   * Format 5: the options also hold the owner ({@code owner}) and the setting the plan was made for
   * ({@code setting.<name>}, for example the CLI's target), so a plan runs only for them.
   */
  public static final int FORMAT = 5;

  private static final ObjectMapper WRITER = OwnJson.trusting(JsonMapper.builder()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(JsonNodeFeature.WRITE_PROPERTIES_SORTED)
      // "\n" everywhere, whatever the platform's line separator: the same plan, the same bytes.
      .defaultPrettyPrinter(new DefaultPrettyPrinter()
          .withObjectIndenter(new DefaultIndenter("  ", "\n"))
          .withArrayIndenter(new DefaultIndenter("  ", "\n")))
      .build());
  /**
   * Exact decimals, so no number changes on the way back; a key given twice is an error, since a
   * reviewer reading the text could see the first value while a lenient parser keeps the second.
   */
  private static final ObjectMapper READER = OwnJson.trusting(JsonMapper.builder()
      .nodeFactory(Documents.nodes())
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build());
  /** The change fields that hold whole documents, which the id covers through their own digests. */
  private static final List<String> DOCUMENTS = List.of("live", "desired", "target", "lastApplied");

  private PlanFiles() {}

  /** Digests of the documents of a change, which a caller may remember (the planner does). */
  interface DocumentDigests {
    /** The SHA-256 hex of the canonical JSON of {@code doc}, the {@code field} document of {@code key}. */
    String of(ResourceKey key, String field, JsonNode doc);
  }

  static final DocumentDigests PLAIN_DIGESTS = (key, field, doc) -> Documents.digest(doc);

  /**
   * How values are written. A plan computed in this process holds plain values and is written
   * through the {@link Redactor}, sensitive ones hashed under the store's key; a plan read from a
   * file holds them hashed already and is written as it is.
   */
  private interface Values {
    Change prepare(Change c);
  }

  private static final Values AS_THEY_ARE = c -> c;

  /** Every document, patch value and field of a change through the one redactor, hashing under {@code secretKey}. */
  private static Values hashed(byte[] secretKey) {
    Redactor redactor = Redactor.hashing(Objects.requireNonNull(secretKey, "secretKey"));
    return redactor::redact;
  }

  // ---- writing ---------------------------------------------------------------------------------

  /** The plan as pretty JSON with sensitive values hashed under {@code secretKey}. */
  public static String toJson(Plan plan, byte[] secretKey) {
    ObjectNode root = content(plan, hashed(secretKey));
    root.put("id", plan.id());
    try {
      return WRITER.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new GitOpsException("cannot write plan " + plan.id() + " as JSON", e);
    }
  }

  /**
   * The id of {@code plan} as computed in this process (plain values, hashed under {@code
   * secretKey} as its file would hold them); {@code plan.id()} itself is ignored.
   */
  public static String id(Plan plan, byte[] secretKey) {
    return id(plan, secretKey, PLAIN_DIGESTS, null);
  }

  /**
   * {@link #id(Plan, byte[])} with documents digested by {@code digests} and, when {@code
   * remembered} is not null, the digest of a change taken from there while its inputs are equal.
   */
  static String id(Plan plan, byte[] secretKey, DocumentDigests digests, ChangeDigests remembered) {
    return id(plan, secretKey, digests, remembered, PARALLEL_LEAVES);
  }

  /**
   * {@link #id(Plan, byte[], DocumentDigests, ChangeDigests)}, digesting the leaves in parallel
   * when {@code parallelFrom} or more are to be digested.
   */
  static String id(Plan plan, byte[] secretKey, DocumentDigests digests, ChangeDigests remembered, int parallelFrom) {
    Values values = hashed(secretKey);
    RevisionNodes revisions = new RevisionNodes();
    List<Change> changes = plan.changes();
    int size = changes.size();
    Leaf[] leaves = new Leaf[size];
    // a plan's changes mostly come in key order: both maps are walked along instead of searched per change
    Along<String> fingerprints = new Along<>(plan.fingerprints(), "");
    Along<SortedSet<ResourceKey>> dependencies = new Along<>(plan.dependencies(), EMPTY);
    ChangeDigests.Pass pass = remembered == null ? null : remembered.pass(size);
    // the places whose leaf is digested below, with the inputs the pass remembers it by
    int[] todo = new int[size];
    String[] fingerprintOf = pass == null ? null : new String[size];
    @SuppressWarnings("unchecked")
    SortedSet<ResourceKey>[] depsOf = pass == null ? null : new SortedSet[size];
    int todos = 0;
    for (int at = 0; at < size; at++) {
      Change c = changes.get(at);
      String fingerprint = fingerprints.get(c.key());
      SortedSet<ResourceKey> deps = dependencies.get(c.key());
      String d = pass == null ? null : pass.get(at, c, fingerprint, deps, secretKey);
      if (d == null) {
        todo[todos++] = at;
        if (pass != null) {
          fingerprintOf[at] = fingerprint;
          depsOf[at] = deps;
        }
      } else {
        // the redactor keeps a resource's origin, so this is the revision the change's file states
        leaves[at] = new Leaf(d, c.resource() == null ? null : revisions.node(c.resource().origin().revision()));
      }
    }
    digestLeaves(plan, values, digests, todo, todos, leaves, parallelFrom);
    if (pass != null) {
      for (int i = 0; i < todos; i++) {
        int at = todo[i];
        pass.put(at, changes.get(at), fingerprintOf[at], depsOf[at], secretKey, leaves[at].digest());
      }
      pass.done();
    }
    return rootDigest(header(plan), Arrays.asList(leaves));
  }

  /** Below this many leaves to digest, {@link #digestLeaves} stays on the calling thread. */
  private static final int PARALLEL_LEAVES = 256;

  /**
   * The leaves of the changes at the first {@code todos} places of {@code todo}, into {@code
   * leaves}; on the calling thread alone when they are fewer than {@code parallelFrom}. Each leaf
   * depends on its change alone (the hashing redactor holds only its key, the document digests are
   * kept per key, the digest's buffers per thread), so many are digested in parallel on the common
   * pool: SHA-256 over the changes of a first sync (a create's content is in its patch and its
   * fields) is most of its plan id, and the other core is idle while the plan is made.
   */
  private static void digestLeaves(Plan plan, Values values, DocumentDigests digests, int[] todo, int todos,
      Leaf[] leaves, int parallelFrom) {
    List<Change> changes = plan.changes();
    java.util.function.IntConsumer digest = i -> {
      Change c = changes.get(todo[i]);
      Leaf plain = plainLeaf(c, plan, digests);
      leaves[todo[i]] = plain != null ? plain : leaf(change(c, plan, values), c.key(), digests, true);
    };
    if (todos < parallelFrom) {
      for (int i = 0; i < todos; i++) {
        digest.accept(i);
      }
    } else {
      // the stream's end orders every leaf written before the root reads them
      java.util.stream.IntStream.range(0, todos).parallel().forEach(digest);
    }
  }

  /**
   * The changes {@link #quietInputs} digests together: each chunk of this many (in plan order, the
   * last one shorter) is digested on its own, in parallel with the others, and the inputs' digest
   * is that of the header and the chunks' digests in order. A fixed size, so that equal plans
   * digest equal whatever the number of cores.
   */
  static final int QUIET_CHUNK = 1024;

  /** What {@link #quietInputs} digests first: its own version and the plan format's. */
  private static final String QUIET_INPUTS = "gitops-quiet-plan-inputs 2 (chunks of " + QUIET_CHUNK
      + " changes; plan id of format " + FORMAT + ")";

  /**
   * A digest of everything {@link #id} covers in {@code plan} when every change is a plain NOOP of
   * a desired resource: the change of a key the store proved in sync, or a merge that found
   * nothing to do, whose live and target documents are its desired resource's very document (the
   * instance of {@code desired}), with no patch, field or last-applied record. Such a change's
   * file form follows from its key, reason, flags, sensitive and unknown paths, fingerprint,
   * dependencies, its resource's origin, dependencies, wave, policy and sensitive patterns, the
   * digest of its document ({@code documentDigest}, called from several threads) and the secret
   * key the redactor hashes under; the plan's from those and its header: equal inputs, equal id.
   * Null when a change is not plain (then nothing is digested). Each text goes in with its length,
   * so no two inputs run together; the changes go in by chunks of {@link #QUIET_CHUNK}. A change
   * to what {@link #id} covers, or to how this digests it, must change {@link #QUIET_INPUTS} too,
   * so inputs recorded by an older build match no plan of this one.
   */
  static String quietInputs(Plan plan, byte[] secretKey, Map<ResourceKey, Resource> desired,
      java.util.function.Function<Resource, String> documentDigest) {
    List<Change> changes = plan.changes();
    for (Change c : changes) {
      Resource r = c.resource();
      JsonNode doc = r == null ? null : r.document();
      if (c.action() != Action.NOOP || c.previousKey() != null || doc == null || r != desired.get(c.key())
          || c.desired() != doc || c.live() != doc || c.target() != doc || !c.patch().isEmpty()
          || !c.fields().isEmpty()) {
        return null;
      }
    }
    int chunks = (changes.size() + QUIET_CHUNK - 1) / QUIET_CHUNK;
    String[] digests = new String[chunks];
    java.util.function.IntConsumer chunk = k -> digests[k] = quietChunk(plan, k * QUIET_CHUNK,
        Math.min(changes.size(), (k + 1) * QUIET_CHUNK), documentDigest);
    if (chunks < 2) {
      for (int k = 0; k < chunks; k++) {
        chunk.accept(k);
      }
    } else {
      // SHA-256 of every change's inputs is most of a no-change plan's cost in a new process; the
      // stream's end orders every chunk's digest written before they are read below
      java.util.stream.IntStream.range(0, chunks).parallel().forEach(chunk);
    }
    MessageDigest md = Documents.sha256();
    Utf8Feed feed = new Utf8Feed(md);
    text(feed, QUIET_INPUTS);
    text(feed, Documents.canonicalJson(header(plan)));
    text(feed, HexFormat.of().formatHex(Objects.requireNonNull(secretKey, "secretKey")));
    feed.number(chunks).ascii("#");
    for (String d : digests) {
      text(feed, d);
    }
    feed.flush();
    return HexFormat.of().formatHex(md.digest());
  }

  /** The digest of the inputs of the plain NOOPs at places [{@code from}, {@code to}) of {@code plan}. */
  private static String quietChunk(Plan plan, int from, int to,
      java.util.function.Function<Resource, String> documentDigest) {
    MessageDigest md = Documents.sha256();
    Utf8Feed feed = new Utf8Feed(md);
    // one walk per chunk: a chunk's first lookups walk past the keys of the chunks before it
    Along<String> fingerprints = new Along<>(plan.fingerprints(), "");
    Along<SortedSet<ResourceKey>> dependencies = new Along<>(plan.dependencies(), EMPTY);
    for (Change c : plan.changes().subList(from, to)) {
      Resource r = c.resource();
      text(feed, c.key().toString());
      text(feed, c.reason());
      texts(feed, c.flags());
      text(feed, fingerprints.get(c.key()));
      texts(feed, dependencies.get(c.key()));
      texts(feed, c.sensitive());
      texts(feed, c.unknown());
      text(feed, r.origin().path());
      feed.number(r.origin().line()).ascii(";");
      text(feed, r.origin().revision());
      texts(feed, r.dependsOn());
      feed.number(r.wave()).ascii(";");
      text(feed, r.policy().toString());
      texts(feed, r.sensitive());
      text(feed, documentDigest.apply(r));
    }
    feed.flush();
    return HexFormat.of().formatHex(md.digest());
  }

  private static void text(Utf8Feed feed, String s) {
    feed.number(s.length()).ascii(":").ascii(s);
  }

  /** A set as {@link #sorted} writes it: its count, then its texts in order (most sets here are empty). */
  private static void texts(Utf8Feed feed, Set<?> items) {
    feed.number(items.size()).ascii("#");
    for (String t : sortedTexts(items)) {
      text(feed, t);
    }
  }

  /**
   * What the root of the id holds for one change: the digest of the change without its resource's
   * {@code originRevision}, and that revision as the file states it (null when the change has no
   * resource, or its resource no such field). Every resource of a plan read at a new commit has a
   * new origin revision; kept out of the change's digest, it does not make every change's digest
   * new, while the id still covers it.
   */
  record Leaf(String digest, JsonNode originRevision) {}

  /** The text node of an origin revision, made once while the changes of a plan repeat one revision string. */
  private static final class RevisionNodes {
    private String last;
    private JsonNode node;

    JsonNode node(String revision) {
      if (!revision.equals(last)) {
        last = revision;
        node = Documents.nodes().textNode(revision);
      }
      return node;
    }
  }

  private static final SortedSet<ResourceKey> EMPTY = java.util.Collections.emptySortedSet();

  /**
   * Per key, the digest of the last change rendered and what it was rendered from; a planner
   * keeps one, so a resync renders only the changes that moved. Thread-safe; one entry per key.
   */
  static final class ChangeDigests {
    /** What one key's digest was rendered from; {@code change} moves to an equal one re-dated at a new commit. */
    private static final class Entry {
      private final ResourceKey key;
      private volatile Change change;
      private final String fingerprint;
      private final SortedSet<ResourceKey> deps;
      private final byte[] secretKey;
      private final String digest;

      Entry(Change change, String fingerprint, SortedSet<ResourceKey> deps, byte[] secretKey, String digest) {
        this.key = change.key();
        this.change = change;
        this.fingerprint = fingerprint;
        this.deps = deps;
        this.secretKey = secretKey;
        this.digest = digest;
      }
    }

    private final Map<ResourceKey, Entry> entries = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The entries of the last id's changes by their place in that plan (null where it had none):
     * the next plan's changes mostly stand where they stood, so an entry is found by its place and
     * an identity (or equality) check of its key before the key is hashed into {@link #entries}.
     */
    private volatile Entry[] byPlace = new Entry[0];

    /** One id's pass over its plan's changes, in their order; not thread-safe: one per id. */
    Pass pass(int size) {
      return new Pass(byPlace, new Entry[size]);
    }

    /** Lookups and entries of one id, by the place of each change in its plan. */
    final class Pass {
      private final Entry[] last;
      private final Entry[] now;

      private Pass(Entry[] last, Entry[] now) {
        this.last = last;
        this.now = now;
      }

      /**
       * The remembered digest of {@code c}, the plan's change at place {@code at}, when every input
       * is equal by value (frozen documents compare cheaply), the origin's revision of the change's
       * resource aside (the digest does not cover it), else null.
       */
      String get(int at, Change c, String fingerprint, SortedSet<ResourceKey> deps, byte[] secretKey) {
        Entry e = at < last.length ? last[at] : null;
        if (e == null || e.key != c.key() && !e.key.equals(c.key())) {
          e = entries.get(c.key());
        }
        if (e == null || !e.fingerprint.equals(fingerprint) || !e.deps.equals(deps)
            || !java.util.Arrays.equals(e.secretKey, secretKey)) {
          return null;
        }
        Change was = e.change;
        if (was != c) {
          if (!Changes.sameButOriginRevision(was, c)) {
            return null;
          }
          // the next plan finds this very change again: the entry holds it in place (every other input
          // is equal, so the entry stays true for either change; no new entry, no map write per key)
          e.change = c;
        }
        now[at] = e;
        return e.digest;
      }

      /** Remembers the digest just computed for {@code c}, the plan's change at place {@code at}. */
      void put(int at, Change c, String fingerprint, SortedSet<ResourceKey> deps, byte[] secretKey, String digest) {
        Entry e = new Entry(c, fingerprint, deps, secretKey.clone(), digest);
        entries.put(c.key(), e);
        now[at] = e;
      }

      /** The places of this pass are the ones the next pass looks at first. */
      void done() {
        byPlace = now;
      }
    }

    /** Forgets keys that are gone. */
    void retain(Set<ResourceKey> keys) {
      if (entries.size() > keys.size()) {
        entries.keySet().retainAll(keys);
      }
    }
  }

  /** The plan file's content without its id. */
  private static ObjectNode content(Plan plan, Values values) {
    ObjectNode root = header(plan);
    ArrayNode changes = root.putArray("changes");
    for (Change c : plan.changes()) {
      changes.add(change(c, plan, values));
    }
    return root;
  }

  /** Everything of the plan file but its id and its changes. */
  private static ObjectNode header(Plan plan) {
    ObjectNode root = Documents.nodes().objectNode();
    root.put("format", FORMAT);
    root.put("revision", plan.revision());
    ObjectNode vars = root.putObject("variables");
    plan.variables().forEach(vars::put);
    ObjectNode opts = root.putObject("options");
    plan.options().forEach(opts::put);
    ObjectNode owned = root.putObject("owned");
    plan.owned().forEach(owned::put);
    ArrayNode unknown = root.putArray("unknown");
    plan.unknown().forEach(k -> unknown.add(k.toString()));
    ObjectNode unobserved = root.putObject("unobserved");
    plan.unobserved().forEach(unobserved::put);
    return root;
  }

  private static ObjectNode change(Change plain, Plan plan, Values values) {
    Change c = values.prepare(plain);
    ObjectNode n = Documents.nodes().objectNode();
    n.put("key", c.key().toString());
    if (c.previousKey() != null) {
      n.put("previousKey", c.previousKey().toString());
    }
    n.put("action", c.action().name());
    n.put("reason", c.reason());
    sorted(n.putArray("flags"), c.flags());
    n.put("fingerprint", plan.fingerprints().getOrDefault(c.key(), ""));
    sorted(n.putArray("dependencies"), plan.dependencies().getOrDefault(c.key(), new TreeSet<>()));
    Resource r = c.resource();
    if (r != null) {
      ObjectNode meta = n.putObject("resource");
      meta.put("origin", r.origin().path());
      meta.put("line", r.origin().line());
      meta.put("originRevision", r.origin().revision());
      sorted(meta.putArray("dependsOn"), r.dependsOn());
      meta.put("wave", r.wave());
      meta.put("policy", r.policy().toString());
      sorted(meta.putArray("sensitive"), r.sensitive());
    }
    sorted(n.putArray("sensitive"), c.sensitive());
    sorted(n.putArray("unknown"), c.unknown());
    putDocument(n, "live", c.live());
    putDocument(n, "desired", c.desired());
    putDocument(n, "target", c.target());
    // The resource's document is the desired one when Git has the key; otherwise it is the last-applied one.
    putDocument(n, "lastApplied", c.lastApplied() == null ? null : c.lastApplied().document());
    ArrayNode patch = n.putArray("patch");
    for (PatchOp op : c.patch()) {
      patch.add(op.toJson());
    }
    ArrayNode fields = n.putArray("fields");
    for (FieldChange f : c.fields()) {
      ObjectNode o = fields.addObject();
      o.put("path", f.path().toString());
      o.put("sensitive", f.sensitive());
      if (f.before() != null) {
        o.set("before", f.before());
      }
      if (f.after() != null) {
        o.set("after", f.after());
      }
    }
    return n;
  }

  /** Writes a set in the order of its text, never in its (per-process) iteration order. */
  private static void sorted(ArrayNode out, Set<?> items) {
    sortedTexts(items).forEach(out::add);
  }

  /** The texts of {@code items} (an enum's by its name) in their order. */
  private static List<String> sortedTexts(Set<?> items) {
    if (items.isEmpty()) {
      return List.of();
    }
    List<String> texts = new ArrayList<>(items.size());
    items.forEach(i -> texts.add(i instanceof Enum<?> e ? e.name() : i.toString()));
    texts.sort(null);
    return texts;
  }

  private static void putDocument(ObjectNode n, String name, JsonNode doc) {
    if (doc != null) {
      n.set(name, doc);
    }
  }

  /** The id of a plan file's content (its documents digested as they are). */
  private static String idOf(JsonNode content) {
    ObjectNode header = Documents.nodes().objectNode();
    header.setAll((ObjectNode) content);
    header.remove("id");
    header.remove("changes");
    List<Leaf> changes = new ArrayList<>();
    for (JsonNode c : content.path("changes")) {
      changes.add(leaf((ObjectNode) c, null, PLAIN_DIGESTS, false));
    }
    return rootDigest(header, changes);
  }

  /**
   * A change's {@link Leaf}: SHA-256 of its canonical JSON with its documents by digest and its
   * resource's {@code originRevision} taken out (a shallow copy swaps and drops them, or, for a
   * change node of its own, {@code own}, the node itself), and that revision.
   */
  private static Leaf leaf(ObjectNode change, ResourceKey key, DocumentDigests digests, boolean own) {
    // a change built for this digest alone (own) is swapped in place: the same keys and
    // values as the copy, so the same canonical text, without copying every field of every change
    ObjectNode view = own ? change : Documents.nodes().objectNode();
    if (!own) {
      view.setAll(change);
    }
    for (String field : DOCUMENTS) {
      JsonNode doc = change.get(field);
      if (doc != null) {
        view.put(field, "sha256:" + digests.of(key, field, doc));
      }
    }
    JsonNode revision = null;
    if (change.get("resource") instanceof ObjectNode meta && meta.has("originRevision")) {
      ObjectNode rest = own ? meta : Documents.nodes().objectNode();
      if (!own) {
        rest.setAll(meta);
      }
      revision = rest.remove("originRevision");
      view.set("resource", rest);
    }
    // Documents.digest is SHA-256 of the same canonical text, hashed from its thread's buffer
    // without a String and a byte array per change
    return new Leaf(Documents.digest(view), revision);
  }

  /** This thread's digest feed for {@link #plainLeaf}: one per thread, not one (and its buffers) per leaf. */
  private static final ThreadLocal<Utf8Feed> PLAIN_LEAF_FEED = ThreadLocal.withInitial(() -> new Utf8Feed(Documents.sha256()));

  /**
   * The {@link #leaf} of {@code c} written straight into the digest, for a change whose file form
   * is plain: no previous key, a resource, its live, desired and target documents and no
   * last-applied one, no patch, field or sensitive path (so the redactor gives it back as it is),
   * and every text in it one that JSON writes between quotes as it is (no control character, quote
   * or backslash). The bytes fed are the canonical JSON {@link #leaf} hashes for it (sorted names, no
   * white space, the documents by digest, the origin's revision left out), without the node of the
   * change, its copy and its canonical text: for the thousands of NOOPs of a plan at a new commit,
   * whose digests a new process does not hold, that was most of the plan's id. Null when {@code c}
   * is not such a change (the caller takes the general path). {@code PlanFilesPlainLeafTest} holds
   * the two paths equal.
   */
  static Leaf plainLeaf(Change c, Plan plan, DocumentDigests digests) {
    Resource r = c.resource();
    if (r == null || c.previousKey() != null || c.live() == null || c.desired() == null || c.target() == null
        || c.lastApplied() != null || !c.patch().isEmpty() || !c.fields().isEmpty() || !c.sensitive().isEmpty()) {
      return null;
    }
    ResourceKey key = c.key();
    // the same calls, in the same order, as leaf's on the change's node
    String live = digests.of(key, "live", c.live());
    String desired = digests.of(key, "desired", c.desired());
    String target = digests.of(key, "target", c.target());
    Utf8Feed feed = PLAIN_LEAF_FEED.get();
    feed.reset();
    feed.ascii("{\"action\":\"").ascii(c.action().name()).ascii("\",\"dependencies\":");
    if (!quotedArray(feed, plan.dependencies().getOrDefault(key, EMPTY))) {
      return null;
    }
    feed.ascii(",\"desired\":\"sha256:").ascii(desired).ascii("\",\"fields\":[],\"fingerprint\":");
    if (!quoted(feed, plan.fingerprints().getOrDefault(key, ""))) {
      return null;
    }
    feed.ascii(",\"flags\":");
    quotedArray(feed, c.flags());  // enum names
    feed.ascii(",\"key\":");
    if (!quoted(feed, key.toString())) {
      return null;
    }
    feed.ascii(",\"live\":\"sha256:").ascii(live).ascii("\",\"patch\":[],\"reason\":");
    if (!quoted(feed, c.reason())) {
      return null;
    }
    feed.ascii(",\"resource\":{\"dependsOn\":");
    if (!quotedArray(feed, r.dependsOn())) {
      return null;
    }
    feed.ascii(",\"line\":").number(r.origin().line()).ascii(",\"origin\":");
    if (!quoted(feed, r.origin().path())) {
      return null;
    }
    feed.ascii(",\"policy\":");
    if (!quoted(feed, r.policy().toString())) {
      return null;
    }
    feed.ascii(",\"sensitive\":");
    if (!quotedArray(feed, r.sensitive())) {
      return null;
    }
    feed.ascii(",\"wave\":").number(r.wave()).ascii("},\"sensitive\":[],\"target\":\"sha256:").ascii(target)
        .ascii("\",\"unknown\":");
    if (!quotedArray(feed, c.unknown())) {
      return null;
    }
    feed.ascii("}");
    return new Leaf(feed.hex(), Documents.nodes().textNode(r.origin().revision()));
  }

  /** {@code s} as a JSON string, when JSON writes it as it is; false (nothing fed) when it needs an escape. */
  private static boolean quoted(Utf8Feed feed, String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char ch = s.charAt(i);
      if (ch < 0x20 || ch == '"' || ch == '\\') {
        return false;
      }
    }
    feed.ascii("\"").ascii(s).ascii("\"");
    return true;
  }

  /** {@code items} as {@link #sorted} writes them, when each is {@linkplain #quoted written as it is}. */
  private static boolean quotedArray(Utf8Feed feed, Set<?> items) {
    feed.ascii("[");
    boolean first = true;
    for (String t : sortedTexts(items)) {
      if (!first) {
        feed.ascii(",");
      }
      first = false;
      if (!quoted(feed, t)) {
        return false;
      }
    }
    feed.ascii("]");
    return true;
  }

  /**
   * SHA-256 of the canonical JSON of {@code header} with {@code "changes"}: {@code sha256:} and the
   * SHA-256 of the canonical JSON array of the changes' leaves, each an array of its digest and,
   * when its resource states one, its origin revision (canonical JSON). The array's UTF-8 bytes
   * are fed to the digest as they are written, through one small buffer: neither a tree of one node
   * per change nor the whole text is built.
   */
  private static String rootDigest(ObjectNode header, List<Leaf> leaves) {
    MessageDigest md = Documents.sha256();
    Utf8Feed feed = new Utf8Feed(md);
    feed.ascii("[");
    JsonNode lastRevision = null;
    byte[] lastText = null;
    for (int i = 0; i < leaves.size(); i++) {
      Leaf l = leaves.get(i);
      feed.ascii(i == 0 ? "[\"" : ",[\"").ascii(l.digest()).ascii("\"");
      if (l.originRevision() != null) {
        // the changes of one plan mostly share one revision: its text is encoded once
        if (lastRevision == null || !lastRevision.equals(l.originRevision())) {
          lastRevision = l.originRevision();
          lastText = Documents.canonicalJson(lastRevision).getBytes(StandardCharsets.UTF_8);
        }
        feed.ascii(",").bytes(lastText);
      }
      feed.ascii("]");
    }
    feed.ascii("]").flush();
    ObjectNode root = header.deepCopy();
    root.put("changes", "sha256:" + HexFormat.of().formatHex(md.digest()));
    return Documents.digest(root);
  }

  /** Bytes into a digest through a small buffer: text that is mostly ASCII is copied in a chunk at a time. */
  static final class Utf8Feed {
    private final MessageDigest md;
    private final byte[] buffer = new byte[8192];
    private final char[] chars = new char[8192];
    private int used;

    Utf8Feed(MessageDigest md) {
      this.md = md;
    }

    /**
     * {@code text}, mostly ASCII (hex digests and JSON punctuation), whose ASCII chars are their own
     * UTF-8 bytes. Its characters are copied out a chunk at a time ({@code getChars}: a {@code
     * charAt} call per character cost more than the hashing in a C1-only process).
     */
    Utf8Feed ascii(String text) {
      int len = text.length();
      for (int from = 0; from < len; ) {
        if (used == buffer.length) {
          flush();
        }
        int to = Math.min(len, from + buffer.length - used);
        text.getChars(from, to, chars, 0);
        int n = to - from;
        for (int k = 0; k < n; k++) {
          char c = chars[k];
          if (c >= 0x80) {
            used += k;
            return bytes(text.substring(from + k).getBytes(StandardCharsets.UTF_8));
          }
          buffer[used + k] = (byte) c;
        }
        used += n;
        from = to;
      }
      return this;
    }

    /** The decimal digits of {@code n} (a sign first when negative), without a String. */
    Utf8Feed number(int n) {
      if (used + 12 > buffer.length) {
        flush();
      }
      long v = n;
      if (v < 0) {
        buffer[used++] = '-';
        v = -v;
      }
      int start = used;
      do {
        buffer[used++] = (byte) ('0' + v % 10);
        v /= 10;
      } while (v > 0);
      for (int i = start, j = used - 1; i < j; i++, j--) {
        byte t = buffer[i];
        buffer[i] = buffer[j];
        buffer[j] = t;
      }
      return this;
    }

    /** {@code b} as they are: copied into the buffer when they fit (a leaf's revision), so the digest is fed per buffer, not per leaf. */
    Utf8Feed bytes(byte[] b) {
      if (b.length > buffer.length - used) {
        flush();
        if (b.length > buffer.length) {
          md.update(b);
          return this;
        }
      }
      System.arraycopy(b, 0, buffer, used, b.length);
      used += b.length;
      return this;
    }

    void flush() {
      md.update(buffer, 0, used);
      used = 0;
    }

    /** Drops what was fed since the last {@link #hex} (a feed given up half way). */
    void reset() {
      used = 0;
      md.reset();
    }

    /** The digest of everything fed, as lower-case hex; the feed starts anew. */
    String hex() {
      flush();
      return HexFormat.of().formatHex(md.digest());
    }
  }

  // ---- reading ---------------------------------------------------------------------------------

  /**
   * Reads a plan written by {@link #toJson}. The plan keeps the id the file states; whether the
   * file still matches it is checked when the plan is run.
   *
   * @throws GitOpsException naming what is wrong with the text
   */
  public static Plan fromJson(String text) {
    JsonNode root;
    try {
      JsonNode read = READER.readTree(text);
      // Jackson reads any depth without recursion; what walks the tree from here on recurses. A
      // plan file holds documents within Documents.MAX_DEPTH, its own levels around them within ENVELOPE.
      int depth = Documents.depth(read);
      if (depth > Documents.MAX_DEPTH + Documents.ENVELOPE) {
        throw new GitOpsException("not a plan file: it nests " + depth + " levels deep, more than a"
            + " plan holds (" + Documents.MAX_DEPTH + " for a document, Documents.MAX_DEPTH, and "
            + Documents.ENVELOPE + " for the plan's own levels)");
      }
      root = canonicalNumbers(read);
    } catch (JsonProcessingException e) {
      throw new GitOpsException("not a plan file: " + JsonErrors.problem(e) + JsonErrors.at(e), e);
    }
    if (root == null || !root.isObject()) {
      throw new GitOpsException("not a plan file: expected a JSON object");
    }
    JsonNode format = root.get("format");
    if (format == null) {
      throw new GitOpsException("not a plan file: it has no \"format\" field (a plan file written by PlanCodec.toJson"
          + " or 'gitops plan --out' states its format, " + FORMAT + " for this build)");
    }
    if (!format.isIntegralNumber()) {
      throw new GitOpsException("not a plan file: its \"format\" is " + format + ", not a format number (this build"
          + " reads format " + FORMAT + ")");
    }
    if (!format.canConvertToInt() || format.intValue() != FORMAT) {
      throw new GitOpsException("plan file format " + format.asText() + " is not supported (this build reads format "
          + FORMAT + "); compute the plan again with this version");
    }
    List<Change> changes = new ArrayList<>();
    TreeMap<ResourceKey, SortedSet<ResourceKey>> deps = new TreeMap<>();
    TreeMap<ResourceKey, String> fingerprints = new TreeMap<>();
    for (JsonNode n : root.path("changes")) {
      ResourceKey key = ResourceKey.parse(text(n, "key"));
      SortedSet<ResourceKey> d = new TreeSet<>();
      n.path("dependencies").forEach(k -> d.add(ResourceKey.parse(k.asText())));
      if (!d.isEmpty()) {
        deps.put(key, d);
      }
      fingerprints.put(key, n.path("fingerprint").asText(""));
      changes.add(readChange(key, n));
    }
    TreeMap<String, String> vars = new TreeMap<>();
    root.path("variables").fields().forEachRemaining(e -> vars.put(e.getKey(), e.getValue().asText()));
    TreeMap<String, String> opts = new TreeMap<>();
    root.path("options").fields().forEachRemaining(e -> opts.put(e.getKey(), e.getValue().asText()));
    TreeMap<String, Integer> owned = new TreeMap<>();
    root.path("owned").fields().forEachRemaining(e -> owned.put(e.getKey(), e.getValue().asInt()));
    TreeSet<ResourceKey> unknown = new TreeSet<>();
    root.path("unknown").forEach(k -> unknown.add(ResourceKey.parse(k.asText())));
    TreeMap<String, String> unobserved = new TreeMap<>();
    root.path("unobserved").fields().forEachRemaining(e -> unobserved.put(e.getKey(), e.getValue().asText()));
    return new Plan(text(root, "id"), text(root, "revision"), changes, deps, vars, opts, fingerprints, unknown,
        unobserved, owned);
  }

  private static Change readChange(ResourceKey key, JsonNode n) {
    Action action = Action.valueOf(text(n, "action"));
    EnumSet<Change.Flag> flags = EnumSet.noneOf(Change.Flag.class);
    n.path("flags").forEach(f -> flags.add(Change.Flag.valueOf(f.asText())));
    Set<FieldPath> sensitive = new HashSet<>();
    n.path("sensitive").forEach(p -> sensitive.add(FieldPath.parse(p.asText())));
    Set<FieldPath> unknownPaths = new HashSet<>();
    n.path("unknown").forEach(p -> unknownPaths.add(FieldPath.parse(p.asText())));
    JsonNode desired = n.get("desired");
    Resource resource = null;
    JsonNode meta = n.get("resource");
    if (meta != null) {
      JsonNode document = desired != null ? desired : n.get("lastApplied");
      if (document == null) {
        throw new GitOpsException("plan file: change of " + key + " has a resource but neither a 'desired' nor a "
            + "'lastApplied' document");
      }
      Resource.Builder b = Resource.builder(key)
          .document(document)
          .origin(Origin.of(meta.path("origin").asText(""), meta.path("line").asInt(0), meta.path("originRevision").asText("")))
          .wave(meta.path("wave").asInt(0))
          .policy(ManagementPolicy.parse(meta.path("policy").asText("all")));
      meta.path("dependsOn").forEach(k -> b.dependsOn(ResourceKey.parse(k.asText())));
      Set<PathPattern> sp = new HashSet<>();
      meta.path("sensitive").forEach(p -> sp.add(PathPattern.of(p.asText())));
      b.sensitive(sp);
      resource = b.build();
    }
    List<PatchOp> patch = new ArrayList<>();
    for (JsonNode o : n.path("patch")) {
      PatchOp.Op op = PatchOp.Op.valueOf(text(o, "op").toUpperCase(Locale.ROOT));
      patch.add(new PatchOp(op, text(o, "path"), o.get("value"), o.hasNonNull("from") ? o.get("from").asText() : null));
    }
    List<FieldChange> fields = new ArrayList<>();
    for (JsonNode f : n.path("fields")) {
      fields.add(new FieldChange(FieldPath.parse(text(f, "path")), f.get("before"), f.get("after"), f.path("sensitive").asBoolean()));
    }
    return Change.builder(key, action)
        .previousKey(n.hasNonNull("previousKey") ? ResourceKey.parse(n.get("previousKey").asText()) : null)
        .resource(resource).live(n.get("live")).desiredDocument(desired).target(n.get("target")).patch(patch)
        .fields(fields).flags(flags).reason(n.path("reason").asText("")).sensitive(sensitive).unknown(unknownPaths)
        .build();
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new GitOpsException("plan file: missing text field '" + field + "'");
    }
    return v.asText();
  }

  /**
   * The parsed tree, frozen, with each number in the form it had when written. Canonical
   * integers are written without a fraction or exponent and canonical decimals are never
   * integral, so a number read with a fraction or exponent but integral in value was a double
   * (one too large to be held as an integer); every other number freezes to what was written.
   */
  private static JsonNode canonicalNumbers(JsonNode n) {
    if (n == null) {
      return null;
    }
    if (n.isBigDecimal()) {
      BigDecimal v = n.decimalValue();
      return v.signum() == 0 || v.stripTrailingZeros().scale() <= 0 ? Documents.nodes().numberNode(v.doubleValue()) : n;
    }
    if (n.isObject()) {
      Map<String, JsonNode> out = new LinkedHashMap<>();
      n.fields().forEachRemaining(e -> out.put(e.getKey(), canonicalNumbers(e.getValue())));
      return Documents.object(out);
    }
    if (n.isArray()) {
      List<JsonNode> out = new ArrayList<>(n.size());
      n.forEach(e -> out.add(canonicalNumbers(e)));
      return Documents.array(out);
    }
    return Documents.freeze(n);
  }

  // ---- checking a reviewed plan ----------------------------------------------------------------

  /** Why a plan that does not match its own id is refused, in {@link PlanMismatchException}'s words. */
  static final String EDITED = "it was changed after it was computed (its content no longer matches its id)";

  /**
   * The content of {@code reviewed} that its id covers, or null when it matches its id in no form:
   * a plan read from a file already holds hashes where values are sensitive, one computed in this
   * process holds the values (hashed here under {@code secretKey}; null: only the first form is tried).
   */
  private static JsonNode contentOfItsId(Plan reviewed, byte[] secretKey) {
    JsonNode asRead = content(reviewed, AS_THEY_ARE);
    if (idOf(asRead).equals(reviewed.id())) {
      return asRead;
    }
    if (secretKey == null) {
      return null;
    }
    JsonNode plain = content(reviewed, hashed(secretKey));
    return idOf(plain).equals(reviewed.id()) ? plain : null;
  }

  /**
   * Checks that {@code reviewed} matches its own id, as {@link #checkReviewed} does first, without
   * computing a plan now.
   *
   * @param reviewed a plan read by {@link #fromJson}, or one computed in this process
   * @param secretKey the store's key, to check a plan computed in this process that holds sensitive
   *     values; null for a plan read from a file (its values are hashed already)
   * @throws PlanMismatchException when its content no longer matches its id (it was edited)
   */
  public static void checkId(Plan reviewed, byte[] secretKey) {
    if (contentOfItsId(reviewed, secretKey) == null) {
      throw new PlanMismatchException(reviewed.id(), reviewed.id(), List.of(), EDITED);
    }
  }

  /**
   * Checks that {@code reviewed} still holds: that it matches its own id (its content was not
   * changed after it was computed) and that {@code now}, computed from the same revision and the
   * current stored and live state, equals it change for change.
   *
   * @param reviewed a plan read by {@link #fromJson} (values already hashed) or computed in this
   *     process (plain values)
   * @param now the plan computed now; its id is trusted (it was just computed)
   * @param secretKey the store's key, under which both plans' sensitive values are hashed
   * @throws PlanMismatchException naming the first differing key and field
   */
  public static void checkReviewed(Plan reviewed, Plan now, byte[] secretKey) {
    JsonNode current = content(now, hashed(secretKey));
    JsonNode seen = contentOfItsId(reviewed, secretKey);
    boolean matchesId = seen != null;
    if (!matchesId) {
      seen = content(reviewed, AS_THEY_ARE);  // compared as read: the first difference is likely the edit
    }
    Difference d = firstDifference(Documents.freeze(seen), Documents.freeze(current));
    String detail;
    if (!matchesId) {
      detail = EDITED;
    } else if (d == null) {
      return;
    } else if (!reviewed.revision().equals(now.revision())) {
      detail = "the source now reads " + now.revision();
    } else if (d.key() == null && d.field().equals("/options/owner")) {
      detail = "it was computed for another owner";
    } else if (d.key() == null && d.field().startsWith("/options/" + PlanOptions.SETTING)) {
      detail = "it was computed for another " + d.field().substring(("/options/" + PlanOptions.SETTING).length());
    } else if (d.key() == null && d.field().startsWith("/options/")) {
      detail = "it was computed with other options";
    } else if (incompleteNow(reviewed, now) != null) {
      // the state may not have moved at all: what could not be observed or planned now says why
      detail = "the plan computed now is incomplete: " + incompleteNow(reviewed, now);
    } else {
      detail = "the stored or live state changed since it was computed";
    }
    if (d == null) {
      throw new PlanMismatchException(reviewed.id(), now.id(), List.of(), detail + "; only its id differs", null,
          "/id", "reviewed: " + reviewed.id() + ", now: " + now.id());
    }
    throw new PlanMismatchException(reviewed.id(), now.id(), d.moved(), detail, d.key(), d.field(), d.values());
  }

  /**
   * Why {@code now} is incomplete where {@code reviewed} was not, in words (the first thing that
   * could not be planned or observed now, with why), or null: a planning provider that cannot plan
   * without a variable the reviewed plan was made with says so here.
   */
  private static String incompleteNow(Plan reviewed, Plan now) {
    for (Map.Entry<String, String> e : now.unobserved().entrySet()) {
      if (!e.getValue().equals(reviewed.unobserved().get(e.getKey()))) {
        return e.getKey() + ": " + e.getValue();
      }
    }
    for (ResourceKey k : now.unknown()) {
      if (!reviewed.unknown().contains(k)) {
        return "could not observe " + k;
      }
    }
    return null;
  }

  /** Where two plan contents first differ. */
  private record Difference(ResourceKey key, String field, String values, List<ResourceKey> moved) {}

  private static Difference firstDifference(JsonNode reviewed, JsonNode now) {
    Set<String> names = new TreeSet<>();
    reviewed.fieldNames().forEachRemaining(names::add);
    now.fieldNames().forEachRemaining(names::add);
    names.remove("changes");
    names.remove("id");
    for (String name : names) {
      String at = firstDifference(reviewed.get(name), now.get(name), "/" + escape(name));
      if (at != null) {
        return new Difference(null, at, values(at, at(reviewed, at), at(now, at)), List.of());
      }
    }
    Map<String, JsonNode> before = byKey(reviewed.path("changes"));
    if (before.size() != reviewed.path("changes").size()) {
      String twice = duplicate(reviewed.path("changes"));
      return new Difference(ResourceKey.parse(twice), "", "the reviewed plan has more than one change for it",
          List.of(ResourceKey.parse(twice)));
    }
    Map<String, JsonNode> after = byKey(now.path("changes"));
    Set<String> keys = new java.util.LinkedHashSet<>(after.keySet());
    keys.addAll(before.keySet());
    Difference first = null;
    List<ResourceKey> moved = new ArrayList<>();
    for (String k : keys) {
      JsonNode a = before.get(k);
      JsonNode b = after.get(k);
      String at = a == null || b == null ? "" : firstDifference(a, b, "");
      if (at == null) {
        continue;
      }
      ResourceKey key = ResourceKey.parse(k);
      moved.add(key);
      if (first == null) {
        String values = a == null ? "not in the reviewed plan; now: " + b.path("action").asText()
            : b == null ? "reviewed: " + a.path("action").asText() + "; not in the plan now"
                : values(at, at(a, at), at(b, at));
        first = new Difference(key, at, values, null);
      }
    }
    if (first == null) {
      // The changes may also differ in order only.
      List<String> order = new ArrayList<>(before.keySet());
      if (!order.equals(new ArrayList<>(after.keySet()))) {
        return new Difference(null, "/changes", "the same changes in another order", List.of());
      }
      return null;
    }
    return new Difference(first.key(), first.field(), first.values(), moved);
  }

  private static Map<String, JsonNode> byKey(JsonNode changes) {
    Map<String, JsonNode> out = new LinkedHashMap<>();
    for (JsonNode c : changes) {
      out.put(c.path("key").asText(), c);
    }
    return out;
  }

  private static String duplicate(JsonNode changes) {
    Set<String> seen = new HashSet<>();
    for (JsonNode c : changes) {
      if (!seen.add(c.path("key").asText())) {
        return c.path("key").asText();
      }
    }
    throw new IllegalStateException("no key appears twice");
  }

  /** The pointer of the first place {@code a} and {@code b} differ below {@code at}, or null. */
  private static String firstDifference(JsonNode a, JsonNode b, String at) {
    if (Objects.equals(a, b)) {
      return null;
    }
    if (a == null || b == null || a.getNodeType() != b.getNodeType()) {
      return at;
    }
    if (a.isObject()) {
      Set<String> names = new TreeSet<>();
      a.fieldNames().forEachRemaining(names::add);
      b.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        String d = firstDifference(a.get(name), b.get(name), at + "/" + escape(name));
        if (d != null) {
          return d;
        }
      }
      return at;
    }
    if (a.isArray()) {
      for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
        String d = firstDifference(a.get(i), b.get(i), at + "/" + i);
        if (d != null) {
          return d;
        }
      }
      return at + "/" + Math.min(a.size(), b.size());
    }
    return at;
  }

  private static JsonNode at(JsonNode root, String pointer) {
    JsonNode n = root.at(pointer);
    return n.isMissingNode() ? null : n;
  }

  /**
   * Short values in words. Values from documents, patches and field entries are left to the
   * pointer: a plan built in this process holds sensitive values in plain.
   */
  private static String values(String pointer, JsonNode reviewed, JsonNode now) {
    if (pointer.matches("/(live|desired|target)(/.*)?|/patch/\\d+/value(/.*)?|/fields/\\d+/(before|after)(/.*)?")) {
      return "";
    }
    String a = shortText(reviewed);
    String b = shortText(now);
    return a == null || b == null ? "" : "reviewed: " + a + ", now: " + b;
  }

  private static String shortText(JsonNode n) {
    if (n == null) {
      return "(none)";
    }
    if (n.isContainerNode()) {
      return null;
    }
    String t = n.isTextual() ? n.textValue() : n.toString();
    return t.length() > 80 ? null : t;
  }

  private static String escape(String name) {
    return name.replace("~", "~0").replace("/", "~1");
  }
}
