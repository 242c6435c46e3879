package dev.gitops.terraform.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.redact.Scrubber;
import dev.gitops.terraform.TerraformException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads the JSON plan representation ({@code terraform show -json <planfile>}, format 1.x) into
 * the SDK's changes: one per {@code resource_changes} entry and one per {@code output_changes}
 * entry, with {@code resource_drift} flagged and collected apart. Sensitive values are replaced
 * before any document leaves here: those under Terraform's masks, and in a resource's documents
 * every other value that holds one of them or another known secret ({@link Masks#holding}); the
 * plan's {@code configuration} and {@code prior_state} are read only for the secrets, its {@code
 * variables} also for one NOOP change per root variable (a sensitive value as its HMAC).
 */
public final class PlanReader {

  /**
   * Reads what Terraform prints and writes (plans, states, its UI stream, its records) without
   * Jackson's bounds on the length of a string, a number or a name, which are for untrusted input:
   * Terraform prints a resource's attribute whole (a {@code local_file}'s content, a {@code
   * filebase64()} of a 16 MB archive), and refusing it would leave that configuration unplannable.
   * The size of what is read is bounded where it is read (a command's output, a file); the depth of
   * nesting keeps Jackson's bound.
   */
  static final ObjectMapper JSON = new ObjectMapper();

  static {
    JSON.getFactory().setStreamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
        .maxStringLength(Integer.MAX_VALUE).maxNumberLength(Integer.MAX_VALUE).maxNameLength(Integer.MAX_VALUE)
        .build());
  }

  /** Every action word this reader knows; an unknown one refuses the plan rather than guessing. */
  private static final Set<String> KNOWN_ACTIONS = Set.of("no-op", "create", "read", "update", "delete", "forget");

  /**
   * A read plan.
   *
   * @param declaredVariables the variables the root module declares, or null when the plan has no
   *     {@code configuration} section to tell
   */
  public record Parsed(String formatVersion, String terraformVersion, boolean complete, boolean applyable,
      boolean errored, List<Change> changes, List<Change> drift, Map<String, ResourceKey> keysByAddress,
      Set<String> secrets, int deferred, Set<String> declaredVariables) {

    /** Whether any change does something (is not NOOP). */
    public boolean hasChanges() {
      return changes.stream().anyMatch(c -> c.action() != Action.NOOP);
    }
  }

  private PlanReader() {}

  /**
   * Reads {@code json}.
   *
   * @throws TerraformException when it is not JSON, not a plan, or of a format major version other than 1
   */
  public static Parsed read(String provider, byte[] json) {
    return read(provider, json, Scrubber.none());
  }

  /**
   * Reads {@code json}, hiding in resources' documents the values that hold a secret of the plan's
   * own or one of {@code known} (the provider's sensitive variables, what earlier reads found).
   *
   * @throws TerraformException when it is not JSON, not a plan, or of a format major version other than 1
   */
  public static Parsed read(String provider, byte[] json, Scrubber known) {
    return read(provider, json, known, null);
  }

  /**
   * Reads {@code json} as {@link #read(String, byte[], Scrubber)} does, adding one NOOP change per
   * root input variable ({@code <provider>:var::<name>}, document {@code {"value": ...}}), so the
   * values a plan was made with are part of what a reviewed plan pins. The value of a variable
   * declared sensitive, or holding a known secret, is hidden and replaced by its HMAC under {@code
   * hmacKey} (field {@code hmac}): a changed value is seen, never the value. Without a key no
   * variable change is added.
   */
  public static Parsed read(String provider, byte[] json, Scrubber known, byte[] hmacKey) {
    JsonNode root = parse(json, "the plan (show -json)");
    if (!root.isObject()) {
      throw new TerraformException("show -json did not print a plan object");
    }
    String format = root.path("format_version").asText("");
    checkFormat(format, "plan");
    Set<String> secrets = new LinkedHashSet<>();
    collectSensitiveInputs(root, secrets);
    // every secret of the plan first: a value under one change's mask can come back unmarked in another
    for (String section : List.of("resource_drift", "resource_changes")) {
      for (JsonNode rc : root.path(section)) {
        maskedSecrets(rc.path("change"), secrets);
      }
    }
    for (JsonNode ch : root.path("output_changes")) {
      maskedSecrets(ch, secrets);
    }
    StateReader.secrets(root.path("prior_state").path("values").path("root_module"), secrets);
    Scrubber hiding = known.with(secrets);

    Map<ResourceKey, Set<FieldPath>> driftPaths = new TreeMap<>();
    List<Change> drift = new ArrayList<>();
    for (JsonNode rc : root.path("resource_drift")) {
      Change c = resourceChange(provider, rc, hiding, true);
      drift.add(c.withFlag(Change.Flag.DRIFT));
      Set<FieldPath> paths = new TreeSet<>();
      c.fields().forEach(f -> paths.add(f.path()));
      driftPaths.put(c.key(), paths);
    }
    List<Change> changes = new ArrayList<>();
    Map<String, ResourceKey> byAddress = new LinkedHashMap<>();
    Set<ResourceKey> seen = new TreeSet<>();
    for (JsonNode rc : root.path("resource_changes")) {
      Change c = resourceChange(provider, rc, hiding, false);
      if (!seen.add(c.key())) {
        throw new TerraformException("the plan lists " + rc.path("address").asText() + " twice");
      }
      if (driftPaths.containsKey(c.key())) {
        c = c.withFlag(Change.Flag.DRIFT);
        c = c.withAction(c.action(), c.reason() + "; changed outside Terraform at " + driftPaths.get(c.key()));
      }
      if (rc.path("deposed").asText("").isEmpty()) {
        byAddress.put(rc.path("address").asText(), c.key());
      }
      changes.add(c);
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("output_changes").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      changes.add(outputChange(provider, e.getKey(), e.getValue()));
      byAddress.put("output." + e.getKey(), Addresses.output(provider, e.getKey()));
    }
    if (hmacKey != null) {
      changes.addAll(variableChanges(provider, root, hiding, hmacKey));
    }
    return new Parsed(format, root.path("terraform_version").asText(""), root.path("complete").asBoolean(true),
        root.path("applyable").asBoolean(true), root.path("errored").asBoolean(false), changes, drift, byAddress,
        secrets, root.path("deferred_changes").size(), declaredVariables(root));
  }

  /**
   * One NOOP change per root variable of the plan's {@code variables} section: the value Terraform
   * planned with, whatever set it (a {@code -var}, a variable file, an {@code *.auto.tfvars}, the
   * default).
   */
  private static List<Change> variableChanges(String provider, JsonNode root, Scrubber hiding, byte[] hmacKey) {
    JsonNode declared = root.path("configuration").path("root_module").path("variables");
    List<Change> out = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("variables").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue().get("value");
      if (v == null) {
        continue;
      }
      JsonNode doc = valueDoc(v);
      boolean secret = declared.path(e.getKey()).path("sensitive").asBoolean(false)
          || !Masks.holding(doc, hiding).isEmpty();
      Set<FieldPath> sensitive = Set.of();
      if (secret) {
        FieldPath value = FieldPath.of("value");
        sensitive = Set.of(value);
        Map<String, JsonNode> m = new LinkedHashMap<>();
        m.put("value", Masks.redact(doc, sensitive).get("value"));
        m.put("hmac", Documents.nodes().textNode(hmac(hmacKey, e.getKey(), v)));
        doc = Documents.object(m);
      }
      out.add(Change.builder(Addresses.variable(provider, e.getKey()), Action.NOOP).live(doc).desiredDocument(doc)
          .target(doc).sensitive(sensitive).reason("variable " + e.getKey() + ": the value this plan was made with"
              + (secret ? " (sensitive: shown as its HMAC)" : "")).build());
    }
    return out;
  }

  private static String hmac(byte[] key, String name, JsonNode value) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
      mac.update((name + "\u0000").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return "hmac-sha256:" + java.util.HexFormat.of().formatHex(mac.doFinal(JSON.writeValueAsBytes(value)));
    } catch (java.security.GeneralSecurityException | JsonProcessingException e) {
      throw new IllegalStateException("cannot hash the value of variable " + name + ": " + e.getClass().getSimpleName());
    }
  }

  private static Set<String> declaredVariables(JsonNode root) {
    JsonNode module = root.path("configuration").path("root_module");
    if (!module.isObject()) {
      return null;
    }
    Set<String> names = new TreeSet<>();
    module.path("variables").fieldNames().forEachRemaining(names::add);
    return java.util.Collections.unmodifiableSet(names);
  }

  static JsonNode parse(byte[] json, String what) {
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      // Jackson's message may quote the input, which may hold secrets: only the position is kept (a limit of
      // Jackson's, nesting deeper than it reads, has none: its kind is said instead)
      throw new TerraformException(what + (e instanceof com.fasterxml.jackson.core.io.JsonEOFException
          ? " ends before its JSON does (cut short, at " : " is not valid JSON (at ") + position(e) + ")");
    } catch (java.io.IOException e) {
      throw new TerraformException(what + " could not be read: " + e.getClass().getSimpleName());
    }
  }

  /**
   * Where Jackson stopped reading, quoting nothing of the input: {@code line 3, column 7}, or the
   * kind of error when it has no position ({@code StreamConstraintsException}: nesting deeper than
   * it reads).
   */
  static String position(JsonProcessingException e) {
    com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
    return at == null ? "no position: " + e.getClass().getSimpleName()
        : "line " + at.getLineNr() + ", column " + at.getColumnNr();
  }

  /** Accepts any 1.x format; refuses another major version, naming it. */
  static void checkFormat(String format, String what) {
    String major = format.contains(".") ? format.substring(0, format.indexOf('.')) : format;
    if (!"1".equals(major)) {
      throw new TerraformException("unsupported " + what + " format_version '" + format
          + "': this provider reads format 1.x (a newer major version changed the format incompatibly)");
    }
  }

  /** Values of variables the configuration declares sensitive, and of sensitive outputs, for scrubbing. */
  private static void collectSensitiveInputs(JsonNode root, Set<String> secrets) {
    JsonNode declared = root.path("configuration").path("root_module").path("variables");
    for (Iterator<Map.Entry<String, JsonNode>> it = declared.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().path("sensitive").asBoolean(false)) {
        JsonNode v = root.path("variables").path(e.getKey()).path("value");
        if (!v.isMissingNode()) {
          Masks.strings(v, secrets);
        }
      }
    }
    for (JsonNode outputs : List.of(root.path("planned_values").path("outputs"),
        root.path("prior_state").path("values").path("outputs"))) {
      for (JsonNode o : outputs) {
        if (o.path("sensitive").asBoolean(false) && o.has("value")) {
          Masks.strings(o.get("value"), secrets);
        }
      }
    }
  }

  /** Adds every string under {@code ch}'s sensitive masks, before and after, to {@code out}. */
  private static void maskedSecrets(JsonNode ch, Set<String> out) {
    Set<FieldPath> sensitive = new TreeSet<>(Masks.paths(ch.get("before_sensitive")));
    sensitive.addAll(Masks.paths(ch.get("after_sensitive")));
    Masks.secrets(value(ch.get("before")), sensitive, out);
    Masks.secrets(value(ch.get("after")), sensitive, out);
  }

  private static Change resourceChange(String provider, JsonNode rc, Scrubber hiding, boolean drift) {
    String address = rc.path("address").asText();
    JsonNode ch = rc.path("change");
    List<String> actions = new ArrayList<>();
    for (JsonNode a : ch.path("actions")) {
      String word = a.asText();
      if (!KNOWN_ACTIONS.contains(word)) {
        throw new TerraformException("the plan has action '" + word + "' for " + address
            + ", which this provider does not know; it refuses to guess what applying would do");
      }
      actions.add(word);
    }
    if (actions.isEmpty()) {
      throw new TerraformException("the plan has no actions for " + address);
    }
    ResourceKey key = Addresses.resource(provider, rc.path("mode").asText("managed"), rc.path("type").asText(),
        rc.path("module_address").asText(""), rc.path("name").asText(), rc.get("index"), rc.path("deposed").asText(""));
    String previous = rc.path("previous_address").asText("");
    ResourceKey previousKey = previous.isEmpty() || previous.equals(address) ? null : previousKey(provider, previous, rc);
    boolean importing = ch.has("importing") && !ch.get("importing").isNull();

    Action action = action(actions, previousKey != null || importing);
    JsonNode before = value(ch.get("before"));
    JsonNode after = action == Action.DELETE || action == Action.FORGET ? null : value(ch.get("after"));
    Set<FieldPath> sensitive = new TreeSet<>(Masks.paths(ch.get("before_sensitive")));
    sensitive.addAll(Masks.paths(ch.get("after_sensitive")));
    sensitive.addAll(Masks.holding(before, hiding));
    sensitive.addAll(Masks.holding(after, hiding));
    Set<FieldPath> unknown = after == null && !(action == Action.CREATE || action == Action.UPDATE
        || action == Action.REPLACE || action == Action.READ) ? Set.of() : Masks.paths(ch.get("after_unknown"));

    StringBuilder reason = new StringBuilder(drift ? "changed outside Terraform" : describe(actions, importing));
    String why = reason(rc.path("action_reason").asText(""));
    if (!why.isEmpty()) {
      reason.append(": ").append(why);
    }
    if (ch.has("replace_paths") && ch.get("replace_paths").size() > 0) {
      reason.append("; cannot change in place: ").append(replacePaths(ch.get("replace_paths")));
    }
    if (previousKey != null) {
      reason.append("; moved from ").append(previous);
    }
    if (importing) {
      String id = ch.get("importing").path("id").asText("");
      reason.append("; importing").append(id.isEmpty() ? "" : " id=" + id);
    }
    if (!rc.path("deposed").asText("").isEmpty()) {
      reason.append("; a deposed object (").append(rc.path("deposed").asText()).append(") of ").append(address);
    }
    return planned(key, action, before, after, sensitive, unknown).previousKey(previousKey).reason(reason.toString())
        .build();
  }

  /**
   * The SDK action for Terraform's action list, scanning it rather than matching fixed lists:
   * anything that deletes and creates is a REPLACE (in either order), create-then-forget a CREATE
   * (the old object is kept, only forgotten), a move or import without other change an UPDATE of
   * the state.
   */
  static Action action(List<String> actions, boolean movesOrImports) {
    boolean create = actions.contains("create");
    boolean delete = actions.contains("delete");
    boolean forget = actions.contains("forget");
    if (create && delete) {
      return Action.REPLACE;
    }
    if (create) {
      return Action.CREATE;
    }
    if (delete) {
      return Action.DELETE;
    }
    if (forget) {
      return Action.FORGET;
    }
    if (actions.contains("update")) {
      return Action.UPDATE;
    }
    if (actions.contains("read")) {
      return Action.READ;
    }
    return movesOrImports ? Action.UPDATE : Action.NOOP;
  }

  private static String describe(List<String> actions, boolean importing) {
    if (actions.contains("create") && actions.contains("delete")) {
      return actions.indexOf("delete") < actions.indexOf("create") ? "replace (destroy, then create)"
          : "replace (create the new object, then destroy the old one)";
    }
    if (actions.contains("create") && actions.contains("forget")) {
      return "replace (create the new object, then forget the old one without destroying it)";
    }
    return switch (actions.get(0)) {
      case "create" -> "create";
      case "delete" -> "destroy";
      case "forget" -> "forget: remove from the state without destroying it";
      case "update" -> "update in place";
      case "read" -> "read during apply";
      default -> importing ? "import" : "no change";
    };
  }

  /** A readable explanation of Terraform's {@code action_reason} keyword ("" when none; an unknown one as it is). */
  static String reason(String keyword) {
    return switch (keyword) {
      case "" -> "";
      case "replace_because_cannot_update" -> "an attribute cannot be updated in place";
      case "replace_because_tainted" -> "the object is tainted";
      case "replace_by_request" -> "replacement was requested (-replace)";
      case "replace_by_triggers" -> "replace_triggered_by fired";
      case "delete_because_no_resource_config" -> "it is no longer in the configuration";
      case "delete_because_wrong_repetition" -> "its repetition (count or for_each) changed";
      case "delete_because_count_index" -> "its count index is out of range";
      case "delete_because_each_key" -> "its for_each key is gone";
      case "delete_because_no_module" -> "its module is no longer in the configuration";
      case "delete_because_no_move_target" -> "its moved block has no target";
      case "read_because_config_unknown" -> "its configuration depends on values known only after apply";
      case "read_because_dependency_pending" -> "it depends on a change not applied yet";
      case "read_because_check_nested" -> "it is read by a check block";
      default -> keyword;
    };
  }

  private static String replacePaths(JsonNode paths) {
    List<String> out = new ArrayList<>();
    for (JsonNode path : paths) {
      FieldPath p = FieldPath.root();
      for (JsonNode step : path) {
        p = step.isInt() ? p.index(step.asInt()) : p.field(step.asText());
      }
      out.add(p.toString());
    }
    return String.join(", ", out);
  }

  private static ResourceKey previousKey(String provider, String previous, JsonNode rc) {
    // The previous address is a string only: parse its module path and index back.
    Address a = Address.parse(previous);
    return Addresses.resource(provider, a.mode(), a.type(), a.module(), a.name(), a.index(), "");
  }

  /**
   * An output's change. Its value is hidden where Terraform marks it only: an output is the
   * configuration's declared interface, and one declassified there ({@code nonsensitive()}) is
   * meant to be handed on, even when it holds a secret.
   */
  private static Change outputChange(String provider, String name, JsonNode ch) {
    ResourceKey key = Addresses.output(provider, name);
    List<String> actions = new ArrayList<>();
    ch.path("actions").forEach(a -> actions.add(a.asText()));
    Action action;
    if (actions.contains("delete")) {
      // An output removed from the configuration is only forgotten from the state: nothing is destroyed.
      action = actions.contains("create") ? Action.UPDATE : Action.FORGET;
    } else if (actions.contains("create")) {
      action = Action.CREATE;
    } else if (actions.contains("update")) {
      action = Action.UPDATE;
    } else {
      action = Action.NOOP;
    }
    FieldPath value = FieldPath.of("value");
    JsonNode before = ch.has("before") && !ch.get("before").isNull() || action != Action.CREATE
        ? valueDoc(ch.get("before")) : null;
    JsonNode after = action == Action.FORGET ? null : valueDoc(ch.get("after"));
    Set<FieldPath> sensitive = new TreeSet<>(Masks.paths(ch.get("before_sensitive"), value));
    sensitive.addAll(Masks.paths(ch.get("after_sensitive"), value));
    Set<FieldPath> unknown = action == Action.FORGET ? Set.of() : Masks.paths(ch.get("after_unknown"), value);
    Change.Builder planned = planned(key, action, before, after, sensitive, unknown);
    if (unknown.contains(value) && after != null) {
      // known after apply: an empty document, and only the unknown value among the fields (not "{}" added)
      JsonNode empty = Documents.emptyObject();
      planned.desiredDocument(empty).target(empty).fields(Masks.fields(before, null, sensitive, unknown));
    }
    return planned.reason("output " + name + ": " + switch (action) {
          case CREATE -> "new";
          case UPDATE -> "changes";
          case FORGET -> "removed from the configuration";
          default -> "unchanged";
        }).build();
  }

  /**
   * A change Terraform planned, with its documents and fields masked: before is the live
   * document, after both the desired document and the target (there is no resource).
   */
  private static Change.Builder planned(ResourceKey key, Action action, JsonNode before, JsonNode after,
      Set<FieldPath> sensitive, Set<FieldPath> unknown) {
    JsonNode masked = Masks.redact(after, sensitive);
    return Change.builder(key, action).live(Masks.redact(before, sensitive)).desiredDocument(masked).target(masked)
        .fields(Masks.fields(before, after, sensitive, unknown)).sensitive(sensitive).unknown(unknown);
  }

  private static JsonNode value(JsonNode v) {
    return v == null || v.isNull() || v.isMissingNode() ? null : v;
  }

  private static JsonNode valueDoc(JsonNode v) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    m.put("value", v == null || v.isMissingNode() ? Documents.nodes().nullNode() : v);
    return Documents.object(m);
  }
}
