package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.ResourceKey;
import dev.gitops.terraform.TerraformException;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
 * modules). Sensitive values are hidden in what comes out; their plain strings are collected for
 * scrubbing messages.
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
    if (bytes.length == 0 || new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
      return TfState.empty();
    }
    JsonNode root = PlanReader.parse(bytes, what);
    int version = root.path("version").asInt(-1);
    if (version != 4) {
      throw new TerraformException(what + " has state format version " + (version < 0 ? "(none)" : version)
          + "; this provider reads version 4 (upgrade it with a current Terraform first)");
    }
    Set<String> secrets = new LinkedHashSet<>();
    SortedMap<ResourceKey, StateObject> objects = new TreeMap<>();
    for (JsonNode res : root.path("resources")) {
      for (JsonNode inst : res.path("instances")) {
        ResourceKey key = Addresses.resource(provider, res.path("mode").asText("managed"), res.path("type").asText(),
            res.path("module").asText(""), res.path("name").asText(), inst.get("index_key"),
            inst.path("deposed").asText(""));
        JsonNode attrs = inst.has("attributes") ? inst.get("attributes") : flat(inst.path("attributes_flat"));
        Set<FieldPath> sensitive = sensitivePaths(inst.path("sensitive_attributes"));
        Masks.secrets(attrs, sensitive, secrets);
        objects.put(key, new StateObject(Masks.redact(attrs, sensitive), sensitive));
      }
    }
    SortedMap<String, StateOutput> outputs = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("outputs").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      outputs.put(e.getKey(), output(e.getValue(), secrets));
    }
    return new TfState(root.path("lineage").asText(""), root.path("serial").asLong(0),
        Collections.unmodifiableSortedMap(objects), Collections.unmodifiableSortedMap(outputs), secrets);
  }

  /**
   * Reads the state representation of {@code show -json} (no serial or lineage there).
   *
   * @throws TerraformException when it is not JSON or of a format major version other than 1
   */
  public static TfState representation(String provider, byte[] bytes) {
    JsonNode root = PlanReader.parse(bytes, "the state (show -json)");
    if (root.has("format_version")) {
      PlanReader.checkFormat(root.path("format_version").asText(""), "state");
    }
    Set<String> secrets = new LinkedHashSet<>();
    SortedMap<ResourceKey, StateObject> objects = new TreeMap<>();
    module(provider, root.path("values").path("root_module"), objects, secrets);
    SortedMap<String, StateOutput> outputs = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("values").path("outputs").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      outputs.put(e.getKey(), output(e.getValue(), secrets));
    }
    return new TfState("", -1, Collections.unmodifiableSortedMap(objects), Collections.unmodifiableSortedMap(outputs),
        secrets);
  }

  private static void module(String provider, JsonNode module, SortedMap<ResourceKey, StateObject> objects,
      Set<String> secrets) {
    String address = module.path("address").asText("");
    for (JsonNode r : module.path("resources")) {
      ResourceKey key = Addresses.resource(provider, r.path("mode").asText("managed"), r.path("type").asText(),
          address, r.path("name").asText(), r.get("index"), r.path("deposed_key").asText(""));
      JsonNode values = r.path("values");
      Set<FieldPath> sensitive = Masks.paths(r.get("sensitive_values"));
      Masks.secrets(values, sensitive, secrets);
      objects.put(key, new StateObject(Masks.redact(values, sensitive), sensitive));
    }
    for (JsonNode child : module.path("child_modules")) {
      module(provider, child, objects, secrets);
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
