package dev.gitops.core.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.redact.Redactor;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes a {@link Plan} as a JSON review artifact, and reads one back. Sensitive values are
 * replaced by keyed hashes on the way out, so a plan file never holds a secret; reading a plan
 * back gives a plan with the same id, keys, actions and fields, which {@code
 * Reconciler.apply(plan)} recomputes before anything runs.
 *
 * <pre>{@code
 * Files.writeString(out, PlanCodec.toJson(plan, store.secretKey()));
 * Plan reviewed = PlanCodec.fromJson(Files.readString(out));
 * reconciler.apply(reviewed);
 * }</pre>
 */
public final class PlanCodec {

  /** The plan file format version this build writes and reads. */
  public static final int FORMAT = 1;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private PlanCodec() {}

  /** The plan as pretty JSON with sensitive values hashed under {@code secretKey}. */
  public static String toJson(Plan plan, byte[] secretKey) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("id", plan.id());
    root.put("revision", plan.revision());
    root.put("summary", plan.summary());
    ObjectNode vars = root.putObject("variables");
    plan.variables().forEach(vars::put);
    ObjectNode opts = root.putObject("options");
    plan.options().forEach(opts::put);
    ArrayNode unknown = root.putArray("unknown");
    plan.unknown().forEach(k -> unknown.add(k.toString()));
    ObjectNode unobserved = root.putObject("unobserved");
    plan.unobserved().forEach(unobserved::put);
    ArrayNode changes = root.putArray("changes");
    // Every document, patch value and field of every change goes out through the one redactor.
    Redactor redactor = Redactor.hashing(secretKey);
    for (Change c : plan.changes()) {
      changes.add(change(redactor.redact(c), plan));
    }
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new GitOpsException("cannot write plan " + plan.id() + " as JSON", e);
    }
  }

  private static ObjectNode change(Change c, Plan plan) {
    ObjectNode n = JSON.createObjectNode();
    n.put("key", c.key().toString());
    if (c.previousKey() != null) {
      n.put("previousKey", c.previousKey().toString());
    }
    n.put("action", c.action().name());
    n.put("reason", c.reason());
    ArrayNode flags = n.putArray("flags");
    c.flags().stream().sorted().forEach(f -> flags.add(f.name()));
    n.put("fingerprint", plan.fingerprints().getOrDefault(c.key(), ""));
    ArrayNode deps = n.putArray("dependencies");
    plan.dependencies().getOrDefault(c.key(), new TreeSet<>()).forEach(k -> deps.add(k.toString()));
    Resource r = c.resource();
    if (r != null) {
      ObjectNode meta = n.putObject("resource");
      meta.put("origin", r.origin().path());
      meta.put("line", r.origin().line());
      meta.put("originRevision", r.origin().revision());
      ArrayNode dependsOn = meta.putArray("dependsOn");
      r.dependsOn().forEach(k -> dependsOn.add(k.toString()));
      meta.put("wave", r.wave());
      meta.put("policy", r.policy().toString());
      ArrayNode sens = meta.putArray("sensitive");
      r.sensitive().forEach(p -> sens.add(p.toString()));
    }
    ArrayNode sens = n.putArray("sensitive");
    c.sensitive().stream().sorted().forEach(p -> sens.add(p.toString()));
    putDoc(n, "live", c.live());
    putDoc(n, "desired", c.desired());
    putDoc(n, "target", c.target());
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

  private static void putDoc(ObjectNode n, String name, JsonNode doc) {
    if (doc != null) {
      n.set(name, doc);
    }
  }

  /**
   * Reads a plan written by {@link #toJson}.
   *
   * @throws GitOpsException naming what is wrong with the text
   */
  public static Plan fromJson(String text) {
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new GitOpsException("not a plan file: " + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr(), e);
    }
    if (root == null || !root.isObject()) {
      throw new GitOpsException("not a plan file: expected a JSON object");
    }
    int format = root.path("format").asInt(-1);
    if (format != FORMAT) {
      throw new GitOpsException("plan file format " + format + " is not supported (this build reads format " + FORMAT + ")");
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
    TreeSet<ResourceKey> unknown = new TreeSet<>();
    root.path("unknown").forEach(k -> unknown.add(ResourceKey.parse(k.asText())));
    TreeMap<String, String> unobserved = new TreeMap<>();
    root.path("unobserved").fields().forEachRemaining(e -> unobserved.put(e.getKey(), e.getValue().asText()));
    return new Plan(text(root, "id"), text(root, "revision"), changes, deps, vars, opts, fingerprints, unknown,
        unobserved);
  }

  private static Change readChange(ResourceKey key, JsonNode n) {
    Action action = Action.valueOf(text(n, "action"));
    EnumSet<Change.Flag> flags = EnumSet.noneOf(Change.Flag.class);
    n.path("flags").forEach(f -> flags.add(Change.Flag.valueOf(f.asText())));
    Set<FieldPath> sensitive = new HashSet<>();
    n.path("sensitive").forEach(p -> sensitive.add(FieldPath.parse(p.asText())));
    JsonNode desired = n.hasNonNull("desired") ? n.get("desired") : null;
    Resource resource = null;
    JsonNode meta = n.get("resource");
    if (meta != null) {
      Resource.Builder b = Resource.builder(key)
          .document(desired != null ? desired : Documents.emptyObject())
          .origin(Origin.of(meta.path("origin").asText(""), meta.path("line").asInt(0), meta.path("originRevision").asText("")))
          .wave(meta.path("wave").asInt(0))
          .policy(ManagementPolicy.parse(meta.path("policy").asText("all")));
      meta.path("dependsOn").forEach(k -> b.dependsOn(ResourceKey.parse(k.asText())));
      Set<dev.gitops.api.PathPattern> sp = new HashSet<>();
      meta.path("sensitive").forEach(p -> sp.add(dev.gitops.api.PathPattern.of(p.asText())));
      b.sensitive(sp);
      resource = b.build();
    }
    List<PatchOp> patch = new ArrayList<>();
    for (JsonNode o : n.path("patch")) {
      PatchOp.Op op = PatchOp.Op.valueOf(text(o, "op").toUpperCase(java.util.Locale.ROOT));
      patch.add(new PatchOp(op, text(o, "path"), o.get("value"), o.hasNonNull("from") ? o.get("from").asText() : null));
    }
    List<FieldChange> fields = new ArrayList<>();
    for (JsonNode f : n.path("fields")) {
      fields.add(new FieldChange(FieldPath.parse(text(f, "path")), f.get("before"), f.get("after"), f.path("sensitive").asBoolean()));
    }
    return new Change(key, n.hasNonNull("previousKey") ? ResourceKey.parse(n.get("previousKey").asText()) : null, action,
        resource, n.get("live"), desired, n.get("target"), patch, fields, flags, n.path("reason").asText(""), sensitive,
        Set.of());
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new GitOpsException("plan file: missing text field '" + field + "'");
    }
    return v.asText();
  }

}
