package dev.gitops.core.redact;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Change;
import dev.gitops.api.ConflictException;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Outcome;
import dev.gitops.api.PatchOp;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.core.internal.redact.SensitiveValues;
import dev.gitops.core.merge.ThreeWayMerge;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one place that decides what is sensitive in a change and hides it wherever a change is
 * shown: plan files, diffs, status, events, log and exception text.
 *
 * <p>Two steps. {@link #complete} runs once, when the planner makes a change: it applies the
 * provider's sensitive rules ({@link MergeRules} sensitive path patterns with their key
 * selectors) and every decoder-marked pattern of the desired, last-applied and pending resource
 * to <em>every</em> document the change holds (live, desired, target, the resource's own), so a
 * delete's live object, an orphan, a skipped unknown key and a field Git removed are covered like
 * a create. The paths found become the change's mask ({@link Change#sensitive()}) and flag every
 * field entry at, above or below them. {@link #redact} then hides every masked value of every
 * document, patch operation and field entry; it needs no rules, so a plan read back from a file
 * redacts the same way.
 *
 * <p>A redactor made with the store's secret key shows a sensitive value as {@code
 * "hmac-sha256:<hex>"} (equal values hash equal, so a reviewer still sees that something
 * changed); one made without a key shows {@value #MARKER}.
 *
 * <pre>{@code
 * Change masked = Redactor.complete(change, rules, Redactor.marks(desiredResource, lastAppliedResource),
 *     store.secretKey());
 * String json = PlanCodec.toJson(plan, store.secretKey());          // uses Redactor.hashing(key)
 * Plan shown = Redactor.marking().redact(plan);                     // for text, diffs and events
 * }</pre>
 */
public final class Redactor {

  /** What a sensitive value reads as where no key is at hand. */
  public static final String MARKER = SensitiveValues.REDACTED;

  private static final Redactor MARKING = new Redactor(null);

  /** Null: values are replaced by {@link #MARKER}. */
  private final byte[] secretKey;

  private Redactor(byte[] secretKey) {
    this.secretKey = secretKey;
  }

  /** A redactor that shows sensitive values as keyed hashes under {@code secretKey}. */
  public static Redactor hashing(byte[] secretKey) {
    return new Redactor(Objects.requireNonNull(secretKey, "secretKey").clone());
  }

  /** A redactor that shows sensitive values as {@value #MARKER}. */
  public static Redactor marking() {
    return MARKING;
  }

  // ------------------------------------------------------------------------------ finding

  /** Every pattern the decoder marked on any of {@code resources} (null entries are skipped). */
  public static Set<PathPattern> marks(Resource... resources) {
    Set<PathPattern> out = null;
    for (Resource r : resources) {
      if (r != null && !r.sensitive().isEmpty()) {
        if (out == null) {
          out = new LinkedHashSet<>();
        }
        out.addAll(r.sensitive());
      }
    }
    return out == null ? Set.of() : out;
  }

  /**
   * {@code change} with its mask completed: the sensitive paths under {@code rules} and {@code
   * marked} of every document it holds, added to those it already has, and every field entry at,
   * above or below one of them flagged sensitive. Secret list elements are named by keyed hashes
   * under {@code secretKey} (the store's), as the merge names them, so the mask matches the paths
   * of the plan in every process. Returns {@code change} itself when nothing is or can be sensitive.
   */
  public static Change complete(Change change, MergeRules rules, Set<PathPattern> marked, byte[] secretKey) {
    Objects.requireNonNull(rules, "rules");
    if (marked.isEmpty() && !rules.hasSensitiveFor(change.key())) {
      return change.sensitive().isEmpty() ? change : withMask(change, change.sensitive());
    }
    Set<FieldPath> mask = new TreeSet<>(change.sensitive());
    Set<JsonNode> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (JsonNode doc : documents(change)) {
      if (doc != null && seen.add(doc)) {
        mask.addAll(ThreeWayMerge.sensitivePaths(change.key(), doc, rules, marked, secretKey));
      }
    }
    if (mask.isEmpty()) {
      return change;
    }
    return withMask(change, mask);
  }

  /** Field entries at, above or below a path of {@code mask} flagged sensitive; {@code fields} itself when none changes. */
  public static List<FieldChange> flag(List<FieldChange> fields, Set<FieldPath> mask) {
    if (mask.isEmpty()) {
      return fields;
    }
    List<FieldChange> out = null;
    for (int i = 0; i < fields.size(); i++) {
      FieldChange f = fields.get(i);
      boolean secret = f.sensitive();
      for (FieldPath s : mask) {
        if (secret) {
          break;
        }
        secret = s.isPrefixOf(f.path()) || f.path().isPrefixOf(s);
      }
      if (secret != f.sensitive()) {
        if (out == null) {
          out = new ArrayList<>(fields);
        }
        out.set(i, new FieldChange(f.path(), f.before(), f.after(), true));
      }
    }
    return out == null ? fields : out;
  }

  private static Change withMask(Change c, Set<FieldPath> mask) {
    List<FieldChange> fields = flag(c.fields(), mask);
    if (fields == c.fields() && mask.equals(c.sensitive())) {
      return c;
    }
    return c.toBuilder().fields(fields).sensitive(mask).build();
  }

  private static List<JsonNode> documents(Change c) {
    List<JsonNode> docs = new ArrayList<>(4);
    docs.add(c.desired());
    docs.add(c.live());
    docs.add(c.target());
    docs.add(c.resource() == null ? null : c.resource().document());
    return docs;
  }

  // ------------------------------------------------------------------------------ hiding

  /** How one whole sensitive value is shown. */
  public JsonNode value(JsonNode v) {
    if (secretKey == null) {
      return Documents.nodes().textNode(MARKER);
    }
    return SensitiveValues.hash(v, Set.of(FieldPath.root()), secretKey);
  }

  /**
   * {@code doc} with the value at every path of {@code mask} hidden; paths it lacks are skipped. A
   * path to an element of a set list hides the whole list: such an element is found by its value,
   * which a path must not carry, so the list is hidden rather than the element looked up.
   */
  public JsonNode document(JsonNode doc, Set<FieldPath> mask) {
    if (doc == null || mask.isEmpty()) {
      return doc;
    }
    Set<FieldPath> at = reachable(mask);
    return secretKey == null ? SensitiveValues.redact(doc, at) : SensitiveValues.hash(doc, at, secretKey);
  }

  /** {@code mask} with each path cut before its first segment that is neither a field, a key nor an index. */
  private static Set<FieldPath> reachable(Set<FieldPath> mask) {
    Set<FieldPath> out = null;
    for (FieldPath p : mask) {
      FieldPath cut = FieldPath.root();
      for (FieldPath.Segment s : p.segments()) {
        if (!(s instanceof FieldPath.Field || s instanceof FieldPath.Key || s instanceof FieldPath.Index)) {
          break;
        }
        cut = cut.append(s);
      }
      if (cut.size() != p.size() && out == null) {
        out = new LinkedHashSet<>(mask);
      }
      if (out != null) {
        out.remove(p);
        out.add(cut);
      }
    }
    return out == null ? mask : out;
  }

  /**
   * {@code c} with every masked value hidden in its live, desired and target documents, its
   * resource's document, its patch values and its flagged field entries. Returns {@code c} itself
   * when it has nothing sensitive.
   */
  public Change redact(Change c) {
    Set<FieldPath> mask = c.sensitive();
    // A change made elsewhere (a provider's planner, a plan file) may carry a mask its fields do not reflect.
    List<FieldChange> flagged = flag(c.fields(), mask);
    boolean any = false;
    for (FieldChange f : flagged) {
      any |= f.sensitive();
    }
    if (mask.isEmpty() && !any) {
      return c;
    }
    Resource r = c.resource();
    if (r != null && !mask.isEmpty()) {
      r = r.withDocument(document(r.document(), mask));
    }
    List<FieldChange> fields = new ArrayList<>(flagged.size());
    for (FieldChange f : flagged) {
      fields.add(!f.sensitive() ? f
          : new FieldChange(f.path(), f.before() == null ? null : value(f.before()),
              f.after() == null ? null : value(f.after()), true));
    }
    return c.toBuilder().resource(r).live(document(c.live(), mask)).desiredDocument(document(c.desired(), mask))
        .target(document(c.target(), mask)).patch(patch(c.patch(), mask)).fields(fields).sensitive(mask).build();
  }

  /** {@code plan} with every change {@linkplain #redact(Change) redacted}. */
  public Plan redact(Plan plan) {
    List<Change> changes = new ArrayList<>(plan.changes().size());
    boolean changed = false;
    for (Change c : plan.changes()) {
      Change r = redact(c);
      changed |= r != c;
      changes.add(r);
    }
    if (!changed) {
      return plan;
    }
    // Only the changes differ: every other component (blind spots, owned counts) is kept for listeners.
    return plan.withChanges(changes);
  }

  /** {@code result} with its plan {@linkplain #redact(Plan) redacted}. */
  public SyncResult redact(SyncResult result) {
    Plan p = redact(result.plan());
    return p == result.plan() ? result
        : new SyncResult(result.revision(), p, result.status(), result.outcomes(), result.duration(), result.historyId());
  }

  /** {@code event} with every change, plan and result it carries {@linkplain #redact(Change) redacted}. */
  public SyncEvent redact(SyncEvent event) {
    if (event instanceof SyncEvent.Planned e) {
      return new SyncEvent.Planned(e.revision(), redact(e.plan()));
    }
    if (event instanceof SyncEvent.ChangeStarted e) {
      return new SyncEvent.ChangeStarted(e.revision(), redact(e.change()), e.attempt());
    }
    if (event instanceof SyncEvent.ChangeFinished e) {
      return new SyncEvent.ChangeFinished(e.revision(), redact(e.change()), e.outcome(), e.attempt());
    }
    if (event instanceof SyncEvent.Retrying e) {
      return new SyncEvent.Retrying(e.revision(), redact(e.change()), e.outcome(), e.attempt(), e.delay());
    }
    if (event instanceof SyncEvent.Finished e) {
      return new SyncEvent.Finished(e.revision(), redact(e.result()));
    }
    // SourceRead, DriftDetected and WaitingForHealth carry keys, paths and counts: nothing to hide.
    return event;
  }

  /**
   * {@code outcome} with every sensitive value of {@code change} hidden in its message, shown as
   * {@value #MARKER} (a keyed hash would be no use to a reader of an error). A provider's error
   * text may quote what it was given: an API server's "Invalid value", a failed task's arguments,
   * the exception a client threw. The values are those {@link #redact(Change)} hides (every masked
   * value of the change's documents, patch operations and flagged field entries), hidden in text as
   * {@link Scrubber} hides them. A cause whose chain quotes a value is replaced by a copy with the
   * messages hidden (its stack traces and, for a {@link ProviderException}, its type, key and
   * retryability kept), since an outcome's text shows its cause. Returns {@code outcome} itself
   * when neither quotes a sensitive value.
   *
   * <pre>{@code
   * Outcome shown = Redactor.marking().redact(change, provider.apply(change, ctx));
   * }</pre>
   */
  public Outcome redact(Change change, Outcome outcome) {
    // a success's empty message and no cause (nearly every outcome) need no scrubber built
    if (outcome.message().length() < Scrubber.SHORTEST && outcome.cause() == null || !hasSensitive(change)) {
      return outcome;
    }
    Scrubber secrets = scrubber(change);
    String message = secrets.scrub(outcome.message());
    Throwable cause = hide(outcome.cause(), secrets, 0);
    return message.equals(outcome.message()) && cause == outcome.cause() ? outcome
        : new Outcome(outcome.kind(), message, cause, outcome.outputs());
  }

  /**
   * {@code text} (an outcome's message, a health check's) with every sensitive value of {@code
   * change} hidden, as {@link #redact(Change, Outcome)} says; {@code text} itself when it holds none.
   */
  public String redact(Change change, String text) {
    if (text.length() < Scrubber.SHORTEST || !hasSensitive(change)) {
      return text;
    }
    return scrubber(change).scrub(text);
  }

  /** A scrubber of every value {@link #redact(Change)} hides in {@code change}. */
  private static Scrubber scrubber(Change change) {
    List<JsonNode> values = new ArrayList<>();
    Redactor marking = marking();
    Set<FieldPath> mask = change.sensitive();
    for (JsonNode doc : documents(change)) {
      if (doc != null && !mask.isEmpty()) {
        hidden(doc, marking.document(doc, mask), values);
      }
    }
    List<PatchOp> shown = marking.patch(change.patch(), mask);
    for (int i = 0; i < shown.size(); i++) {
      hidden(change.patch().get(i).value(), shown.get(i).value(), values);
    }
    for (FieldChange f : flag(change.fields(), mask)) {
      if (f.sensitive()) {
        values.add(f.before());
        values.add(f.after());
      }
    }
    return Scrubber.none().withValues(values, v -> false);
  }

  /**
   * {@code t} itself when no message of its cause chain quotes a value, else a copy of the chain
   * with those messages hidden and each stack trace kept: a conflict stays a conflict and a
   * provider exception keeps its key and retryability; any other throwable becomes a {@link
   * GitOpsException} naming its class. Suppressed exceptions are not copied.
   */
  private static Throwable hide(Throwable t, Scrubber secrets, int depth) {
    if (t == null || depth > 16) {
      return t;  // a chain deeper than any a client builds, or a cycle: left as it is beyond this
    }
    Throwable cause = t.getCause() == t ? null : hide(t.getCause(), secrets, depth + 1);
    String message = t.getMessage();
    String shown = secrets.scrub(message);
    if (cause == t.getCause() && Objects.equals(shown, message)) {
      return t;
    }
    Throwable copy;
    if (t instanceof ProviderException pe) {
      String prefix = pe.key() == null ? "" : pe.key() + ": ";
      String own = shown != null && shown.startsWith(prefix) ? shown.substring(prefix.length()) : shown;
      // a conflict has no cause: its constructor sets none, which cannot be set again
      copy = t instanceof ConflictException ? new ConflictException(pe.key(), own)
          : new ProviderException(pe.key(), own, pe.isRetryable(), cause);
    } else {
      copy = new GitOpsException(t.getClass().getName() + (shown == null ? "" : ": " + shown), cause);
    }
    copy.setStackTrace(t.getStackTrace());
    return copy;
  }

  private static boolean hasSensitive(Change c) {
    if (!c.sensitive().isEmpty()) {
      return true;
    }
    for (FieldChange f : c.fields()) {
      if (f.sensitive()) {
        return true;
      }
    }
    return false;
  }

  /** Adds to {@code out} the subtrees of {@code plain} where {@code shown}, its redacted copy, differs. */
  private static void hidden(JsonNode plain, JsonNode shown, List<JsonNode> out) {
    if (plain == null || plain == shown || plain.equals(shown)) {
      return;
    }
    if (shown != null && plain.isObject() && shown.isObject()) {
      plain.fields().forEachRemaining(e -> hidden(e.getValue(), shown.get(e.getKey()), out));
    } else if (shown != null && plain.isArray() && shown.isArray() && plain.size() == shown.size()) {
      for (int i = 0; i < plain.size(); i++) {
        hidden(plain.get(i), shown.get(i), out);
      }
    } else {
      out.add(plain);
    }
  }

  /**
   * Patch operations with their values hidden where the operation's pointer lies at or below a
   * masked path (the whole value) or above one (the masked part of the value). Pointers address
   * list elements by index and masks by key, so any index matches any element segment: a patch
   * is hidden rather more than needed, never less.
   */
  private List<PatchOp> patch(List<PatchOp> ops, Set<FieldPath> mask) {
    if (mask.isEmpty()) {
      return ops;
    }
    List<PatchOp> out = new ArrayList<>(ops.size());
    for (PatchOp op : ops) {
      if (op.value() == null) {
        out.add(op);
        continue;
      }
      List<String> tokens = pointerTokens(op.path());
      boolean whole = false;
      Set<FieldPath> inside = new LinkedHashSet<>();
      for (FieldPath m : mask) {
        List<FieldPath.Segment> segs = m.segments();
        int n = Math.min(segs.size(), tokens.size());
        boolean match = true;
        for (int i = 0; i < n && match; i++) {
          match = matches(segs.get(i), tokens.get(i));
        }
        if (!match) {
          continue;
        }
        if (segs.size() <= tokens.size()) {
          whole = true;
          break;
        }
        FieldPath rest = FieldPath.root();
        for (FieldPath.Segment s : segs.subList(tokens.size(), segs.size())) {
          rest = rest.append(s);
        }
        inside.add(rest);
      }
      JsonNode v = whole ? value(op.value()) : document(op.value(), inside);
      out.add(v == op.value() ? op : new PatchOp(op.op(), op.path(), v, op.from()));
    }
    return out;
  }

  private static boolean matches(FieldPath.Segment s, String token) {
    return s instanceof FieldPath.Field f ? f.name().equals(token) : true;
  }

  /** The unescaped reference tokens of an RFC 6901 pointer. */
  private static List<String> pointerTokens(String pointer) {
    if (pointer.isEmpty()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String t : pointer.substring(1).split("/", -1)) {
      out.add(t.replace("~1", "/").replace("~0", "~"));
    }
    return out;
  }
}
