package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.redact.Scrubber;
import dev.gitops.terraform.TerraformException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads Terraform state: the local backend's {@code terraform.tfstate} (or {@code state pull}'s
 * output), version 4 ({@code version}, {@code serial}, {@code lineage}, {@code outputs}, {@code
 * resources[].instances[].attributes} with {@code sensitive_attributes}), and the state
 * representation {@code show -json} prints (format 1.x, {@code values.root_module} with child
 * modules). Sensitive values are hidden in what comes out: those under Terraform's masks, and in
 * a resource's attributes every other value that holds one of them or another known secret ({@link
 * Masks#holding}); their plain strings are collected for scrubbing messages.
 */
public final class StateReader {

  /** One object in the state: its attributes (sensitive ones hidden) and which paths are sensitive. */
  public record StateObject(JsonNode attributes, Set<FieldPath> sensitive) {}

  /** One root output. */
  public record StateOutput(JsonNode value, boolean sensitive) {}

  /**
   * A read state.
   *
   * @param lineage the state's lineage ("" when unknown or empty)
   * @param serial its serial (-1 when the format has none: {@code show -json})
   * @param objects the resource instances by key
   * @param outputs the root outputs by name (sensitive values hidden)
   * @param secrets plain strings of sensitive values
   */
  public record TfState(String lineage, long serial, SortedMap<ResourceKey, StateObject> objects,
      SortedMap<String, StateOutput> outputs, Set<String> secrets) {

    /** An empty state (no file yet). */
    public static TfState empty() {
      return new TfState("", 0, new TreeMap<>(), new TreeMap<>(), Set.of());
    }

    /** The concurrency token: lineage and serial. */
    public String token() {
      return (lineage.isEmpty() ? "-" : lineage) + "/" + serial;
    }
  }

  private StateReader() {}

  /**
   * Reads a version 4 state file.
   *
   * @throws TerraformException when it is not JSON or of another version
   */
  public static TfState v4(String provider, byte[] bytes, String what) {
    return v4(provider, bytes, what, Scrubber.none());
  }

  /**
   * Reads a version 4 state file, hiding in resources' attributes the values that hold a secret of
   * the state's own or one of {@code known}.
   *
   * @throws TerraformException when it is not JSON or of another version
   */
  public static TfState v4(String provider, byte[] bytes, String what, Scrubber known) {
    if (isEmpty(bytes)) {
      return TfState.empty();
    }
    return v4(provider, PlanReader.parse(bytes, what), what, known);
  }

  /**
   * Reads the local state file {@code file} (its content {@code bytes}), version 4. An empty file is
   * an empty state (what follows decides whether one was expected). A file that is not a JSON
   * object (cut short by a crash or a full disk, zero-filled, overwritten) is refused naming it and
   * how to restore it: from {@code terraform.tfstate.backup} beside it, Terraform's copy of the
   * state before its last write, or from a backup of its own.
   *
   * @throws TerraformException naming the file and the way to restore it when it is corrupt, or
   *     the file and the version when it is of another version
   */
  public static TfState file(String provider, byte[] bytes, java.nio.file.Path file, Scrubber known) {
    if (isEmpty(bytes)) {
      return TfState.empty();
    }
    String what = "the state file " + file;
    JsonNode root;
    try {
      root = PlanReader.JSON.readTree(bytes);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // Jackson's message (and so the exception, not kept as the cause) may quote the file, which holds
      // secrets: only the position is kept
      throw corrupt(file, "is not valid JSON (" + PlanReader.position(e) + ")");
    } catch (java.io.IOException e) {
      // not text in any encoding Jackson knows (binary garbage, zeros): named by its type, quoting nothing
      throw corrupt(file, "is not JSON text (" + e.getClass().getSimpleName() + ")");
    }
    if (root == null || !root.isObject()) {
      throw corrupt(file, "is not a JSON object (it holds " + (root == null ? "nothing"
          : root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)) + ")");
    }
    if (!root.path("version").isIntegralNumber() && root.path("encryption_version").isTextual()) {
      throw new TerraformException(what + " is encrypted by OpenTofu (state encryption, encryption_version "
          + root.path("encryption_version").asText() + "): only the binary, with the configuration's key, reads it");
    }
    if (!root.path("version").isIntegralNumber()) {
      // every state Terraform writes names its format first: without one this is no state (or what is left of one)
      throw corrupt(file, "is a JSON object without a state format version");
    }
    return v4(provider, root, what, known);
  }

  /**
   * Whether {@code bytes} are an encrypted state of OpenTofu's (its state encryption: a JSON object
   * of {@code meta}, {@code encrypted_data} and {@code encryption_version}, no format version),
   * which only the binary, with the configuration's key, decrypts ({@code tofu state pull}). Read
   * as a stream, the values skipped: a state is not parsed twice.
   */
  public static boolean encrypted(byte[] bytes) {
    boolean payload = false;
    try (com.fasterxml.jackson.core.JsonParser p = PlanReader.JSON.getFactory().createParser(bytes)) {
      if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        return false;
      }
      while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String name = p.currentName();
        com.fasterxml.jackson.core.JsonToken value = p.nextToken();
        if (name.equals("version")) {
          return false;  // a state: whatever else it holds
        }
        payload |= name.equals("encryption_version") && value == com.fasterxml.jackson.core.JsonToken.VALUE_STRING;
        p.skipChildren();
      }
    } catch (java.io.IOException e) {
      // not JSON: no payload of OpenTofu's either; reading it as a state file says what is wrong with it
      return false;
    }
    return payload;
  }

  /** Whether {@code bytes} hold nothing but white space: no state yet, or a file emptied. */
  private static boolean isEmpty(byte[] bytes) {
    return bytes.length == 0 || new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank();
  }

  /** The refusal of a corrupt state file: what is wrong with it, and how to restore it. */
  private static TerraformException corrupt(java.nio.file.Path file, String why) {
    java.nio.file.Path backup = file.resolveSibling(file.getFileName() + ".backup");
    String from = java.nio.file.Files.isRegularFile(backup)
        ? "from " + backup + " (Terraform's copy of the state before its last write; check it holds what you expect)"
        + " or from a backup of your own"
        : "from a backup of your own (there is no " + backup + ", Terraform's copy of the state before its last"
        + " write)";
    return new TerraformException("the state file " + file + " " + why + ": it is corrupt (cut short or"
        + " overwritten), and gitops plans nothing against it. Restore it " + from + ", then sync"
        + " again (if gitops then says the state's serial went back and that copy is the state you mean, remove"
        + " the record .gitops-terraform/state.json in the working directory, as that error says)");
  }

  /** Reads the parsed version 4 state {@code root}. */
  private static TfState v4(String provider, JsonNode root, String what, Scrubber known) {
    int version = root.path("version").asInt(-1);
    if (version != 4) {
      throw new TerraformException(what + " has state format version " + (version < 0 ? "(none)" : version)
          + "; this provider reads version 4 (upgrade it with a current Terraform first)");
    }
    Set<String> secrets = new LinkedHashSet<>();
    Map<ResourceKey, JsonNode> attributes = new TreeMap<>();
    Map<ResourceKey, Set<FieldPath>> masks = new TreeMap<>();
    for (JsonNode res : root.path("resources")) {
      for (JsonNode inst : res.path("instances")) {
        ResourceKey key = Addresses.resource(provider, res.path("mode").asText("managed"), res.path("type").asText(),
            res.path("module").asText(""), res.path("name").asText(), inst.get("index_key"),
            inst.path("deposed").asText(""));
        JsonNode attrs = inst.has("attributes") ? dynamicUnwrapped(inst.get("attributes"))
            : flat(inst.path("attributes_flat"));
        Set<FieldPath> sensitive = within(attrs, sensitivePaths(inst.path("sensitive_attributes")));
        Masks.secrets(attrs, sensitive, secrets);
        attributes.put(key, attrs);
        masks.put(key, sensitive);
      }
    }
    SortedMap<String, StateOutput> outputs = outputs(root.path("outputs"), secrets);
    return new TfState(root.path("lineage").asText(""), root.path("serial").asLong(0),
        objects(attributes, masks, known.with(secrets)), outputs, secrets);
  }

  /**
   * The objects of {@code attributes}, each hiding what its {@code masks} mark and every value that
   * holds a secret of {@code hiding} (every secret of the state is known by then).
   */
  private static SortedMap<ResourceKey, StateObject> objects(Map<ResourceKey, JsonNode> attributes,
      Map<ResourceKey, Set<FieldPath>> masks, Scrubber hiding) {
    SortedMap<ResourceKey, StateObject> objects = new TreeMap<>();
    attributes.forEach((key, attrs) -> {
      Set<FieldPath> sensitive = new TreeSet<>(masks.get(key));
      sensitive.addAll(Masks.holding(attrs, hiding));
      objects.put(key, new StateObject(Masks.redact(attrs, sensitive), Collections.unmodifiableSet(sensitive)));
    });
    return Collections.unmodifiableSortedMap(objects);
  }

  /** The root outputs of {@code outputs}, the values of sensitive ones hidden and added to {@code secrets}. */
  private static SortedMap<String, StateOutput> outputs(JsonNode outputs, Set<String> secrets) {
    SortedMap<String, StateOutput> out = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = outputs.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), output(e.getValue(), secrets));
    }
    return Collections.unmodifiableSortedMap(out);
  }

  /**
   * Reads the state representation of {@code show -json} (no serial or lineage there).
   *
   * @throws TerraformException when it is not JSON or of a format major version other than 1
   */
  public static TfState representation(String provider, byte[] bytes) {
    return representation(provider, bytes, Scrubber.none());
  }

  /**
   * Reads the state representation of {@code show -json}, hiding in resources' attributes the
   * values that hold a secret of the state's own or one of {@code known}.
   *
   * @throws TerraformException when it is not JSON or of a format major version other than 1
   */
  public static TfState representation(String provider, byte[] bytes, Scrubber known) {
    JsonNode root = PlanReader.parse(bytes, "the state (show -json)");
    if (root.has("format_version")) {
      PlanReader.checkFormat(root.path("format_version").asText(""), "state");
    }
    Set<String> secrets = new LinkedHashSet<>();
    Map<ResourceKey, JsonNode> attributes = new TreeMap<>();
    Map<ResourceKey, Set<FieldPath>> masks = new TreeMap<>();
    module(provider, root.path("values").path("root_module"), attributes, masks, secrets);
    SortedMap<String, StateOutput> outputs = outputs(root.path("values").path("outputs"), secrets);
    return new TfState("", -1, objects(attributes, masks, known.with(secrets)), outputs, secrets);
  }

  /**
   * Adds every string under a sensitive mask of the resources of {@code module} (a {@code
   * root_module} of the state representation, child modules included) to {@code out}.
   */
  static void secrets(JsonNode module, Set<String> out) {
    module(null, module, null, null, out);
  }

  /**
   * Walks {@code module}: each resource's values and mask into {@code attributes} and {@code masks}
   * by key (when not null), the strings under its mask into {@code secrets}.
   */
  private static void module(String provider, JsonNode module, Map<ResourceKey, JsonNode> attributes,
      Map<ResourceKey, Set<FieldPath>> masks, Set<String> secrets) {
    String address = module.path("address").asText("");
    for (JsonNode r : module.path("resources")) {
      JsonNode values = r.path("values");
      Set<FieldPath> sensitive = Masks.paths(r.get("sensitive_values"));
      Masks.secrets(values, sensitive, secrets);
      if (attributes != null) {
        ResourceKey key = Addresses.resource(provider, r.path("mode").asText("managed"), r.path("type").asText(),
            address, r.path("name").asText(), r.get("index"), r.path("deposed_key").asText(""));
        attributes.put(key, values);
        masks.put(key, sensitive);
      }
    }
    for (JsonNode child : module.path("child_modules")) {
      module(provider, child, attributes, masks, secrets);
    }
  }

  private static StateOutput output(JsonNode o, Set<String> secrets) {
    boolean sensitive = o.path("sensitive").asBoolean(false);
    JsonNode value = o.has("value") ? o.get("value") : Documents.nodes().nullNode();
    if (sensitive) {
      Masks.strings(value, secrets);
      value = Documents.nodes().textNode(dev.gitops.core.redact.Redactor.MARKER);
    }
    return new StateOutput(Documents.freeze(value), sensitive);
  }

  /**
   * The paths of {@code sensitive_attributes}: a list of paths, each a list of steps {@code
   * {"type":"get_attr","value":"password"}} or {@code {"type":"index","value":{"value":0,"type":"number"}}}.
   * A step of a type this reader does not know marks everything from there on: hidden rather than shown.
   */
  static Set<FieldPath> sensitivePaths(JsonNode list) {
    Set<FieldPath> out = new TreeSet<>();
    for (JsonNode path : list) {
      FieldPath p = FieldPath.root();
      for (JsonNode step : path) {
        String type = step.path("type").asText("");
        JsonNode v = step.path("value");
        if (type.equals("get_attr")) {
          p = p.field(v.asText());
        } else if (type.equals("index") && v.path("value").isIntegralNumber()) {
          p = p.index(v.path("value").asInt());
        } else if (type.equals("index") && v.path("value").isTextual()) {
          p = p.field(v.path("value").asText());
        } else {
          break;
        }
      }
      out.add(p);
    }
    return out;
  }

  /**
   * {@code v} with every value of a dynamic type as {@code show -json} shows it. A state file
   * writes such a value (an attribute of type {@code any}: {@code terraform_data}'s {@code input}
   * and {@code output}, a Kubernetes manifest) as {@code {"value": V, "type": T}}, while its
   * sensitive paths, the plan and {@code show -json} address V itself. Taken for one: an object of
   * exactly those two fields whose {@code type} is a type in Terraform's JSON form and whose {@code
   * value} has that type. An object that only looks so loses nothing secret: its sensitive paths,
   * which then run past the value, hide where they stop ({@link #within}).
   */
  static JsonNode dynamicUnwrapped(JsonNode v) {
    if (v.isObject()) {
      if (v.size() == 2 && v.has("value") && v.has("type") && conforms(v.get("value"), v.get("type"))) {
        return dynamicUnwrapped(v.get("value"));
      }
      Map<String, JsonNode> m = new LinkedHashMap<>();
      boolean changed = false;
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode u = dynamicUnwrapped(e.getValue());
        changed |= u != e.getValue();
        m.put(e.getKey(), u);
      }
      return changed ? Documents.object(m) : v;
    }
    if (v.isArray()) {
      List<JsonNode> l = new ArrayList<>(v.size());
      boolean changed = false;
      for (JsonNode e : v) {
        JsonNode u = dynamicUnwrapped(e);
        changed |= u != e;
        l.add(u);
      }
      return changed ? Documents.array(l) : v;
    }
    return v;
  }

  /** Whether {@code value} has {@code type}, a type in Terraform's JSON form ({@code "string"}, {@code ["list","number"]}, ...). */
  private static boolean conforms(JsonNode value, JsonNode type) {
    if (type.isTextual()) {
      return switch (type.textValue()) {
        case "string" -> value.isNull() || value.isTextual();
        case "number" -> value.isNull() || value.isNumber();
        case "bool" -> value.isNull() || value.isBoolean();
        case "dynamic" -> true;
        default -> false;
      };
    }
    if (!type.isArray() || type.size() < 2 || !type.get(0).isTextual()) {
      return false;
    }
    JsonNode of = type.get(1);
    switch (type.get(0).textValue()) {
      case "list", "set", "map" -> {
        boolean map = type.get(0).textValue().equals("map");
        if (type.size() != 2 || !(value.isNull() || (map ? value.isObject() : value.isArray()))) {
          return false;
        }
        for (JsonNode e : value) {  // the elements, or the map's values
          if (!conforms(e, of)) {
            return false;
          }
        }
        return true;
      }
      case "tuple" -> {
        if (type.size() != 2 || !of.isArray() || !(value.isNull() || value.isArray() && value.size() == of.size())) {
          return false;
        }
        for (int i = 0; i < value.size(); i++) {
          if (!conforms(value.get(i), of.get(i))) {
            return false;
          }
        }
        return true;
      }
      case "object" -> {
        if (type.size() > 3 || !of.isObject() || !(value.isNull() || value.isObject())) {
          return false;
        }
        if (value.isNull()) {
          return true;
        }
        for (Iterator<String> names = value.fieldNames(); names.hasNext(); ) {
          if (!of.has(names.next())) {
            return false;
          }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = of.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          JsonNode field = value.get(e.getKey());
          if (field != null && !conforms(field, e.getValue())) {
            return false;
          }
        }
        return true;
      }
      default -> {
        return false;
      }
    }
  }

  /**
   * {@code paths}, each cut where it runs past a value of {@code doc} (into a string, or by field
   * into a list): that value is hidden whole, rather than nothing. A path to a field or element
   * that is not there stays as it is (there is nothing to hide).
   */
  static Set<FieldPath> within(JsonNode doc, Set<FieldPath> paths) {
    Set<FieldPath> out = new TreeSet<>();
    for (FieldPath p : paths) {
      JsonNode n = doc;
      FieldPath at = FieldPath.root();
      FieldPath cut = null;
      for (FieldPath.Segment s : p.segments()) {
        if (n == null || n.isNull() || n.isMissingNode()) {
          break;  // nothing there: the path as written
        }
        if (s instanceof FieldPath.Field f && n.isObject()) {
          at = at.field(f.name());
          n = n.get(f.name());
        } else if (s instanceof FieldPath.Index i && n.isArray()) {
          at = at.index(i.index());
          n = n.get(i.index());
        } else {
          cut = at;  // runs past this value
          break;
        }
      }
      out.add(cut != null ? cut : p);
    }
    return out;
  }

  /** The legacy flat attribute map as an object of strings (nested keys kept flat). */
  private static JsonNode flat(JsonNode flat) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = flat.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      m.put(e.getKey(), e.getValue());
    }
    return Documents.object(m);
  }
}
