package dev.gitops.ansible.internal;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Loads a YAML or JSON file the way Ansible's {@code DataLoader} does: JSON first (Python's {@code
 * json.loads}), then YAML 1.1 as PyYAML resolves it ({@code yes} and {@code on} are booleans,
 * {@code 0777} is octal, {@code 1:20} is sexagesimal, {@code 2001-12-14} a date, {@code 1e5} a
 * string), with Ansible's tags: {@code !vault} becomes {@code {"__ansible_vault": ciphertext}}
 * and {@code !unsafe} wraps text as {@code {"__ansible_unsafe": text}}, which is how {@code
 * ansible-inventory --list} prints them. YAML's {@code !!binary} (Python bytes to Ansible) becomes
 * {@code {"__yaml_binary": base64 text as written}} and {@code !!set} (a Python set of the
 * mapping's keys) {@code {"__yaml_set": [keys]}}, which {@link InventoryYaml} writes back with
 * their tags, so that Ansible reads the managed inventory to the same bytes and set ({@code
 * ansible-inventory --list} has no form for them: it fails on both). Merge keys ({@code <<}) merge
 * as in PyYAML.
 *
 * <p>Unlike Ansible, input from Git is held to limits: duplicate keys in one mapping are an error
 * naming both lines (Ansible warns and keeps the last), aliases and nodes are bounded, and tags
 * other than the core ones and Ansible's are refused (Python's, {@code !!omap}, {@code !!pairs}, a
 * local tag), as is a mapping whose only key is one of the markers above, which would be written
 * back as the tagged value it is not.
 */
public final class AnsibleYaml {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .build();

  /** Tag names. */
  static final String VAULT_KEY = "__ansible_vault";
  static final String UNSAFE_KEY = "__ansible_unsafe";
  /** The marker of a {@code !!binary} value: its base64 text, as written. */
  static final String BINARY_KEY = "__yaml_binary";
  /** The marker of a {@code !!set} value: its elements (the mapping's keys), in file order. */
  static final String SET_KEY = "__yaml_set";
  private static final String CORE = "tag:yaml.org,2002:";

  private static final int MAX_ALIASES = 200;
  private static final int MAX_NODES = 5_000_000;
  private static final int MAX_DEPTH = 200;
  private static final int MAX_CODE_POINTS = 64 * 1024 * 1024;

  /** A problem at a line (1-based; 0 when unknown) of the file being loaded. */
  public static final class YamlError extends RuntimeException {
    private final int line;

    YamlError(int line, String message) {
      super(message);
      this.line = line;
    }

    /** The 1-based line, or 0. */
    public int line() {
      return line;
    }
  }

  /**
   * What a file held: its value (null for an empty file) and the line of every mapping key, for
   * error messages about the structure.
   */
  public static final class Loaded {
    private final JsonNode value;
    private final IdentityHashMap<JsonNode, Map<String, Integer>> keyLines;
    private final IdentityHashMap<JsonNode, java.util.Set<String>> nonStringKeys;

    Loaded(JsonNode value, IdentityHashMap<JsonNode, Map<String, Integer>> keyLines,
        IdentityHashMap<JsonNode, java.util.Set<String>> nonStringKeys) {
      this.value = value;
      this.keyLines = keyLines;
      this.nonStringKeys = nonStringKeys;
    }

    /** Whether {@code key} of {@code mapping} was a string in the file (not a number, bool or null made text). */
    public boolean isStringKey(JsonNode mapping, String key) {
      java.util.Set<String> s = nonStringKeys.get(mapping);
      return s == null || !s.contains(key);
    }

    /** The value, or null when the file held nothing. */
    public JsonNode value() {
      return value;
    }

    /** The line of {@code key} in {@code mapping}, or 0 when not known (JSON input). */
    public int lineOf(JsonNode mapping, String key) {
      Map<String, Integer> m = keyLines.get(mapping);
      Integer l = m == null ? null : m.get(key);
      return l == null ? 0 : l;
    }
  }

  private AnsibleYaml() {}

  /**
   * Loads {@code text}: JSON when it is one JSON value, else one YAML document.
   *
   * @throws YamlError naming the line
   */
  public static Loaded load(String text) {
    JsonNode json = tryJson(text);
    if (json != null) {
      return new Loaded(json, new IdentityHashMap<>(), new IdentityHashMap<>());
    }
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setMaxAliasesForCollections(MAX_ALIASES);
      options.setCodePointLimit(MAX_CODE_POINTS);
      options.setNestingDepthLimit(MAX_DEPTH);
      options.setProcessComments(false);
      Composer composer = new Composer(new ParserImpl(new StreamReader(text), options), new PyYamlResolver(), options);
      root = composer.getSingleNode();
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      throw new YamlError(m == null ? 0 : m.getLine() + 1, oneLine(e.getProblem() != null ? e.getProblem() : e.getMessage()));
    } catch (YAMLException e) {
      throw new YamlError(0, oneLine(e.getMessage()));
    }
    if (root == null) {
      return new Loaded(null, new IdentityHashMap<>(), new IdentityHashMap<>());
    }
    Constructor c = new Constructor();
    return new Loaded(c.construct(root, 0), c.keyLines, c.nonStringKeys);
  }

  /** How deep the syntax check lets YAML nest: about where Python's recursion would end PyYAML's. */
  private static final int SYNTAX_MAX_DEPTH = 1000;

  /**
   * The syntax error PyYAML would meet in {@code text}, with its line, or empty when the text is
   * JSON or well-formed YAML: the parse alone, without this reader's checks that are stricter than
   * Ansible's (duplicate keys, tags, the number of aliases), for a file Ansible loads and this
   * reader does not (a vars file of the playbook's directory). A limit of the parser passed (no
   * line to name) is left to Ansible too.
   */
  public static java.util.Optional<YamlError> syntaxError(String text) {
    try {
      JSON.readTree(text);
      return java.util.Optional.empty();
    } catch (IOException | RuntimeException e) {
      // not JSON: YAML's turn, which reports problems with lines
    }
    try {
      LoaderOptions options = new LoaderOptions();
      options.setMaxAliasesForCollections(Integer.MAX_VALUE);  // composing does not expand them
      options.setCodePointLimit(MAX_CODE_POINTS);
      options.setNestingDepthLimit(SYNTAX_MAX_DEPTH);
      options.setProcessComments(false);
      new Composer(new ParserImpl(new StreamReader(text), options), new PyYamlResolver(), options).getSingleNode();
      return java.util.Optional.empty();
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      return java.util.Optional.of(new YamlError(m == null ? 0 : m.getLine() + 1,
          oneLine(e.getProblem() != null ? e.getProblem() : e.getMessage())));
    } catch (YAMLException e) {
      return java.util.Optional.empty();  // a limit of this parser, not of PyYAML's: Ansible's to judge
    }
  }

  private static String oneLine(String s) {
    return s == null ? "invalid YAML" : s.replace('\n', ' ').trim();
  }

  /** {@code json.loads} then Ansible's object hook, or null when the text is not JSON. */
  private static JsonNode tryJson(String text) {
    String t = text.strip();
    if (t.isEmpty() || "{[\"-0123456789tfn".indexOf(t.charAt(0)) < 0) {
      return null;
    }
    try {
      return objectHook(JSON.readTree(text));
    } catch (IOException | RuntimeException e) {
      // not JSON (or JSON with duplicate keys): YAML gets its turn and reports problems with lines
      return null;
    }
  }

  /** {@code AnsibleJSONDecoder.object_hook}: vault and unsafe markers, bottom up. */
  private static JsonNode objectHook(JsonNode n) {
    if (n.isArray()) {
      ArrayNode out = NODES.arrayNode();
      n.forEach(e -> out.add(objectHook(e)));
      return out;
    }
    if (!n.isObject()) {
      return n;
    }
    ObjectNode out = NODES.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.set(e.getKey(), objectHook(e.getValue()));
    }
    for (Iterator<String> it = out.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (k.equals(VAULT_KEY)) {
        ObjectNode v = NODES.objectNode();
        v.set(VAULT_KEY, out.get(k));
        return v;
      }
      if (k.equals(UNSAFE_KEY)) {
        return Unsafe.wrap(out.get(k));
      }
    }
    if (isBinary(out) || isSet(out)) {
      // JSON is YAML: the YAML reader reads it again and names the line
      throw new YamlError(0, "reserved marker");
    }
    return out;
  }

  /** Ansible's {@code wrap_var} on the JSON form. */
  static final class Unsafe {
    private Unsafe() {}

    static JsonNode wrap(JsonNode v) {
      if (v.isTextual()) {
        ObjectNode o = NODES.objectNode();
        o.set(UNSAFE_KEY, v);
        return o;
      }
      if (v.isObject()) {
        if (v.size() == 1 && (v.has(UNSAFE_KEY) || v.has(VAULT_KEY) || v.has(BINARY_KEY) || v.has(SET_KEY))) {
          return v;
        }
        ObjectNode o = NODES.objectNode();
        v.fields().forEachRemaining(e -> o.set(e.getKey(), wrap(e.getValue())));
        return o;
      }
      if (v.isArray()) {
        ArrayNode a = NODES.arrayNode();
        v.forEach(e -> a.add(wrap(e)));
        return a;
      }
      return v;
    }
  }

  // ------------------------------------------------------------------ PyYAML's resolver

  /** PyYAML's implicit resolvers (YAML 1.1), replacing SnakeYAML's. */
  static final class PyYamlResolver extends Resolver {
    static final Pattern BOOL = Pattern.compile(
        "^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$");
    static final Pattern FLOAT = Pattern.compile("^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
        + "|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        + "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
        + "|[-+]?\\.(?:inf|Inf|INF)"
        + "|\\.(?:nan|NaN|NAN))$");
    static final Pattern INT = Pattern.compile("^(?:[-+]?0b[0-1_]+"
        + "|[-+]?0[0-7_]+"
        + "|[-+]?(?:0|[1-9][0-9_]*)"
        + "|[-+]?0x[0-9a-fA-F_]+"
        + "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$");
    static final Pattern MERGE = Pattern.compile("^(?:<<)$");
    static final Pattern NULL = Pattern.compile("^(?:~|null|Null|NULL|)$");
    static final Pattern TIMESTAMP = Pattern.compile("^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
        + "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
        + "(?:[Tt]|[ \\t]+)[0-9][0-9]?"
        + ":[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
        + "(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$");
    static final Pattern VALUE = Pattern.compile("^(?:=)$");
    static final Pattern YAML = Pattern.compile("^(?:!|&|\\*)$");

    @Override
    protected void addImplicitResolvers() {
      // none of SnakeYAML's: resolve() below is PyYAML's
    }

    @Override
    public Tag resolve(NodeId kind, String value, boolean implicit) {
      if (kind == NodeId.scalar && implicit) {
        char first = value.isEmpty() ? '\0' : value.charAt(0);
        if ("yYnNtTfFoO".indexOf(first) >= 0 && BOOL.matcher(value).matches()) {
          return Tag.BOOL;
        }
        if ("-+0123456789.".indexOf(first) >= 0 && first != '\0' && FLOAT.matcher(value).matches()) {
          return Tag.FLOAT;
        }
        if ("-+0123456789".indexOf(first) >= 0 && first != '\0' && INT.matcher(value).matches()) {
          return Tag.INT;
        }
        if (first == '<' && MERGE.matcher(value).matches()) {
          return Tag.MERGE;
        }
        if ((value.isEmpty() || first == '~' || first == 'n' || first == 'N') && NULL.matcher(value).matches()) {
          return Tag.NULL;
        }
        if (first >= '0' && first <= '9' && TIMESTAMP.matcher(value).matches()) {
          return Tag.TIMESTAMP;
        }
        if (first == '=' && VALUE.matcher(value).matches()) {
          return new Tag(CORE + "value");
        }
        if ("!&*".indexOf(first) >= 0 && first != '\0' && YAML.matcher(value).matches()) {
          return new Tag(CORE + "yaml");
        }
      }
      switch (kind) {
        case scalar:
          return Tag.STR;
        case sequence:
          return Tag.SEQ;
        default:
          return Tag.MAP;
      }
    }
  }

  // ------------------------------------------------------------------ PyYAML's constructor

  private static final Pattern TIMESTAMP_PARTS = Pattern.compile(
      "^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)"
      + "(?:(?:[Tt]|[ \\t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\\.([0-9]*))?"
      + "(?:[ \\t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?)?$");

  /** Builds JSON from composed nodes, as Ansible's constructor builds Python values. */
  private static final class Constructor {
    final IdentityHashMap<JsonNode, Map<String, Integer>> keyLines = new IdentityHashMap<>();
    final IdentityHashMap<JsonNode, java.util.Set<String>> nonStringKeys = new IdentityHashMap<>();
    private int nodes;

    JsonNode construct(Node node, int depth) {
      if (++nodes > MAX_NODES) {
        throw error(node, "more than " + MAX_NODES + " values after expanding aliases");
      }
      if (depth > MAX_DEPTH) {
        throw error(node, "nested deeper than " + MAX_DEPTH + " levels (or a recursive alias)");
      }
      String tag = node.getTag().getValue();
      if (tag.equals("!unsafe")) {
        JsonNode inner = node instanceof ScalarNode s ? NODES.textNode(s.getValue()) : constructAs(node, depth, null);
        return Unsafe.wrap(inner);
      }
      if (tag.equals("!vault") || tag.equals("!vault-encrypted")) {
        if (!(node instanceof ScalarNode s)) {
          throw error(node, tag + " must tag a scalar (the encrypted text)");
        }
        ObjectNode v = NODES.objectNode();
        v.put(VAULT_KEY, s.getValue());
        return v;
      }
      return constructAs(node, depth, tag);
    }

    private JsonNode constructAs(Node node, int depth, String tag) {
      if (node instanceof MappingNode m) {
        if ((CORE + "set").equals(tag)) {
          return set(m, depth);
        }
        if ((CORE + "binary").equals(tag)) {
          throw error(node, "!!binary must tag a scalar, the base64 text of the bytes, not a mapping");
        }
        if (tag != null && !tag.equals(CORE + "map") && !tag.equals(CORE + "python/dict")) {
          throw unsupported(node, tag);
        }
        ObjectNode out = mapping(m, depth);
        if (isBinary(out) || isSet(out)) {
          throw error(node, "a mapping whose only key is '" + out.fieldNames().next() + "' is how this reader holds"
              + " a " + (isBinary(out) ? "!!binary" : "!!set") + " value, and would be written to the managed"
              + " inventory as one; rename the key");
        }
        return out;
      }
      if (node instanceof SequenceNode s) {
        if ((CORE + "set").equals(tag) || (CORE + "binary").equals(tag)) {
          throw error(node, (tag.endsWith("set") ? "!!set must tag a mapping ({a, b}, or '? a' lines): its keys are"
              + " the set's elements" : "!!binary must tag a scalar, the base64 text of the bytes") + ", not a sequence");
        }
        if (tag != null && !tag.equals(CORE + "seq")) {
          throw unsupported(node, tag);
        }
        ArrayNode out = NODES.arrayNode();
        for (Node child : s.getValue()) {
          out.add(construct(child, depth + 1));
        }
        return out;
      }
      ScalarNode s = (ScalarNode) node;
      String v = s.getValue();
      String t = tag == null ? CORE + "str" : tag;
      switch (t) {
        case CORE + "str":
        case CORE + "python/unicode":
          return NODES.textNode(v);
        case CORE + "null":
          return NODES.nullNode();
        case CORE + "bool":
          return NODES.booleanNode(v.equalsIgnoreCase("yes") || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("on"));
        case CORE + "int":
          return integer(node, v);
        case CORE + "float":
          return floating(node, v);
        case CORE + "timestamp":
          return NODES.textNode(timestamp(node, v));
        case CORE + "binary":
          return binary(node, v);
        case CORE + "set":
          throw error(node, "!!set must tag a mapping ({a, b}, or '? a' lines): its keys are the set's elements, not"
              + " a scalar");
        default:
          throw unsupported(node, t);
      }
    }

    private ObjectNode mapping(MappingNode node, int depth) {
      List<NodeTuple> pairs = flatten(node, depth);
      int own = pairs.size() - node.getValue().size() + countMergeKeys(node);
      ObjectNode out = NODES.objectNode();
      Map<String, Integer> lines = new LinkedHashMap<>();
      Map<String, Integer> ownLines = new HashMap<>();
      for (int k = 0; k < pairs.size(); k++) {
        NodeTuple p = pairs.get(k);
        Node keyNode = p.getKeyNode();
        String key = keyText(keyNode, depth);
        if (!isStringKey(keyNode)) {
          nonStringKeys.computeIfAbsent(out, x -> new java.util.HashSet<>()).add(key);
        }
        int line = keyNode.getStartMark().getLine() + 1;
        if (k >= own) {
          Integer first = ownLines.putIfAbsent(key, line);
          if (first != null) {
            throw new YamlError(line, "duplicate key '" + key + "' (first at line " + first + ")");
          }
        }
        out.set(key, construct(p.getValueNode(), depth + 1));
        lines.put(key, line);
      }
      keyLines.put(out, lines);
      return out;
    }

    /**
     * {@code !!binary}: PyYAML's {@code base64.decodebytes} of the text, which must be ASCII and
     * base64 (characters outside the alphabet, such as line breaks, are skipped); kept as written.
     */
    private static JsonNode binary(Node node, String text) {
      for (int i = 0; i < text.length(); i++) {
        if (text.charAt(i) > 0x7f) {
          throw error(node, "!!binary value is not base64: it holds the character '" + text.charAt(i) + "'");
        }
      }
      try {
        java.util.Base64.getMimeDecoder().decode(text);
      } catch (IllegalArgumentException e) {
        throw error(node, "!!binary value is not base64 (" + e.getMessage() + ")");
      }
      ObjectNode out = NODES.objectNode();
      out.put(BINARY_KEY, text);
      return out;
    }

    /**
     * {@code !!set}: PyYAML's set of the mapping's keys (its values are read and dropped), each a
     * scalar as a mapping key is; one written twice is an error naming both lines, as in a mapping.
     */
    private JsonNode set(MappingNode node, int depth) {
      ArrayNode elements = NODES.arrayNode();
      Map<String, Integer> lines = new HashMap<>();
      for (NodeTuple p : flatten(node, depth)) {
        Node keyNode = p.getKeyNode();
        String key = keyText(keyNode, depth);
        int line = keyNode.getStartMark().getLine() + 1;
        Integer first = lines.putIfAbsent(key, line);
        if (first != null) {
          throw new YamlError(line, "duplicate element '" + key + "' of a !!set (first at line " + first + ")");
        }
        construct(p.getValueNode(), depth + 1);
        elements.add(construct(keyNode, depth + 1));
      }
      ObjectNode out = NODES.objectNode();
      out.set(SET_KEY, elements);
      return out;
    }

    private static int countMergeKeys(MappingNode node) {
      int n = 0;
      for (NodeTuple t : node.getValue()) {
        if (t.getKeyNode().getTag().equals(Tag.MERGE)) {
          n++;
        }
      }
      return n;
    }

    /** PyYAML's {@code flatten_mapping}: merged pairs first (later merges lose), then the node's own. */
    private List<NodeTuple> flatten(MappingNode node, int depth) {
      if (depth > MAX_DEPTH) {
        throw error(node, "merge keys nested deeper than " + MAX_DEPTH + " levels");
      }
      List<NodeTuple> merged = new ArrayList<>();
      List<NodeTuple> own = new ArrayList<>();
      for (NodeTuple t : node.getValue()) {
        Node k = t.getKeyNode();
        if (k.getTag().equals(Tag.MERGE)) {
          Node v = t.getValueNode();
          if (v instanceof MappingNode m) {
            merged.addAll(flatten(m, depth + 1));
          } else if (v instanceof SequenceNode s) {
            List<List<NodeTuple>> subs = new ArrayList<>();
            for (Node sub : s.getValue()) {
              if (!(sub instanceof MappingNode sm)) {
                throw error(sub, "expected a mapping for merging, but found " + sub.getNodeId());
              }
              subs.add(flatten(sm, depth + 1));
            }
            for (int i = subs.size() - 1; i >= 0; i--) {
              merged.addAll(subs.get(i));
            }
          } else {
            throw error(v, "expected a mapping or list of mappings for merging, but found " + v.getNodeId());
          }
        } else {
          own.add(t);
        }
      }
      merged.addAll(own);
      return merged;
    }

    private static boolean isStringKey(Node keyNode) {
      String t = keyNode.getTag().getValue();
      return t.equals(CORE + "str") || t.equals(CORE + "python/unicode") || t.equals("!unsafe") || t.equals(CORE + "value");
    }

    /** A key as Python's {@code json.dumps} writes it. */
    private String keyText(Node keyNode, int depth) {
      if (keyNode instanceof ScalarNode s && keyNode.getTag().getValue().equals(CORE + "value")) {
        return s.getValue();  // PyYAML turns a '=' key into a string
      }
      if (!(keyNode instanceof ScalarNode)) {
        throw error(keyNode, "found unacceptable key (unhashable type: '"
            + (keyNode instanceof MappingNode ? "dict" : "list") + "')");
      }
      JsonNode k = construct(keyNode, depth + 1);
      if (k.isTextual()) {
        return k.textValue();
      }
      if (k.isObject() && k.has(UNSAFE_KEY)) {
        return k.get(UNSAFE_KEY).asText();
      }
      if (k.isBoolean()) {
        return k.booleanValue() ? "true" : "false";
      }
      if (k.isNull()) {
        return "null";
      }
      if (k.isIntegralNumber()) {
        return k.bigIntegerValue().toString();
      }
      if (k.isDouble()) {
        return PythonLiteral.floatRepr(k.doubleValue());
      }
      throw error(keyNode, "unsupported mapping key " + k);
    }

    private JsonNode integer(Node node, String text) {
      String v = text.replace("_", "");
      int sign = 1;
      if (!v.isEmpty() && v.charAt(0) == '-') {
        sign = -1;
        v = v.substring(1);
      } else if (!v.isEmpty() && v.charAt(0) == '+') {
        v = v.substring(1);
      }
      BigInteger r;
      try {
        if (v.equals("0")) {
          r = BigInteger.ZERO;
        } else if (v.startsWith("0b")) {
          r = new BigInteger(v.substring(2), 2);
        } else if (v.startsWith("0x")) {
          r = new BigInteger(v.substring(2), 16);
        } else if (v.startsWith("0")) {
          r = new BigInteger(v, 8);
        } else if (v.indexOf(':') >= 0) {
          r = BigInteger.ZERO;
          for (String digit : v.split(":")) {
            r = r.multiply(BigInteger.valueOf(60)).add(new BigInteger(digit));
          }
        } else {
          r = new BigInteger(v);
        }
      } catch (NumberFormatException e) {
        throw error(node, "invalid integer '" + text + "'");
      }
      if (sign < 0) {
        r = r.negate();
      }
      return r.bitLength() < 64 ? NODES.numberNode(r.longValue()) : NODES.numberNode(r);
    }

    private JsonNode floating(Node node, String text) {
      String v = text.replace("_", "").toLowerCase(java.util.Locale.ROOT);
      double sign = 1;
      if (!v.isEmpty() && v.charAt(0) == '-') {
        sign = -1;
        v = v.substring(1);
      } else if (!v.isEmpty() && v.charAt(0) == '+') {
        v = v.substring(1);
      }
      if (v.equals(".inf") || v.equals(".nan")) {
        throw error(node, "'" + text + "' is not a finite number; JSON (and so this inventory reader) cannot hold it");
      }
      try {
        if (v.indexOf(':') >= 0) {
          String[] parts = v.split(":");
          double r = 0;
          for (String p : parts) {
            r = r * 60 + Double.parseDouble(p);
          }
          return NODES.numberNode(sign * r);
        }
        return NODES.numberNode(sign * Double.parseDouble(v));
      } catch (NumberFormatException e) {
        throw error(node, "invalid float '" + text + "'");
      }
    }

    /** PyYAML's timestamp as Python's {@code isoformat()} prints it. */
    private String timestamp(Node node, String text) {
      Matcher m = TIMESTAMP_PARTS.matcher(text);
      if (!m.matches()) {
        throw error(node, "invalid timestamp '" + text + "'");
      }
      int year = Integer.parseInt(m.group(1));
      int month = Integer.parseInt(m.group(2));
      int day = Integer.parseInt(m.group(3));
      try {
        if (year < 1) {
          throw new java.time.DateTimeException("year 0 is out of range");
        }
        java.time.LocalDate.of(year, month, day);
      } catch (java.time.DateTimeException e) {
        throw error(node, "invalid date '" + text + "': " + e.getMessage());
      }
      String date = String.format("%04d-%02d-%02d", year, month, day);
      if (m.group(4) == null) {
        return date;
      }
      int hour = Integer.parseInt(m.group(4));
      int minute = Integer.parseInt(m.group(5));
      int second = Integer.parseInt(m.group(6));
      if (hour > 23 || minute > 59 || second > 59) {
        throw error(node, "invalid time in '" + text + "'");
      }
      StringBuilder out = new StringBuilder(date).append('T')
          .append(String.format("%02d:%02d:%02d", hour, minute, second));
      String fraction = m.group(7);
      if (fraction != null && !fraction.isEmpty()) {
        String f = (fraction.length() > 6 ? fraction.substring(0, 6) : fraction);
        f = f + "0".repeat(6 - f.length());
        if (Integer.parseInt(f) != 0) {
          out.append('.').append(f);
        }
      }
      if (m.group(9) != null) {
        int tzHour = Integer.parseInt(m.group(10));
        int tzMinute = m.group(11) == null ? 0 : Integer.parseInt(m.group(11));
        int total = tzHour * 60 + tzMinute;
        if (total >= 24 * 60) {
          throw error(node, "invalid time zone offset in '" + text + "'");
        }
        boolean negative = m.group(9).equals("-") && total != 0;
        out.append(negative ? '-' : '+').append(String.format("%02d:%02d", total / 60, total % 60));
      } else if (m.group(8) != null) {
        out.append("+00:00");
      }
      return out.toString();
    }

    /**
     * A tag this loader does not read, named as the file writes it ({@code !!binary}, not {@code
     * tag:yaml.org,2002:binary}), with the tags it reads: PyYAML's raw "could not determine a
     * constructor for the tag" says neither which tags would do nor what to write instead.
     */
    private static YamlError unsupported(Node node, String tag) {
      String written = tag.startsWith(CORE) ? "!!" + tag.substring(CORE.length()) : tag;
      String kind = node instanceof MappingNode ? "mapping" : node instanceof SequenceNode ? "sequence" : "scalar";
      return error(node, "unsupported YAML tag '" + written + "' on a " + kind + ": the tags read here are Ansible's"
          + " !vault and !unsafe and YAML's !!str, !!int, !!float, !!bool, !!null, !!timestamp, !!binary, !!map,"
          + " !!set and !!seq; remove the tag, or quote the value to keep it as text");
    }

    private static YamlError error(Node node, String message) {
      return new YamlError(node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1, message);
    }
  }

  /** Whether {@code node} is Ansible's vault marker. */
  public static boolean isVault(JsonNode node) {
    return node != null && node.isObject() && node.size() == 1 && node.has(VAULT_KEY);
  }

  /** Whether {@code node} is Ansible's unsafe-text marker. */
  public static boolean isUnsafe(JsonNode node) {
    return node != null && node.isObject() && node.size() == 1 && node.has(UNSAFE_KEY);
  }

  /** Whether {@code node} is the marker of a {@code !!binary} value ({@link #binaryText}). */
  public static boolean isBinary(JsonNode node) {
    return node != null && node.isObject() && node.size() == 1 && node.path(BINARY_KEY).isTextual();
  }

  /** The base64 text of a {@code !!binary} marker, as written. */
  public static String binaryText(JsonNode node) {
    return node.get(BINARY_KEY).textValue();
  }

  /** Whether {@code node} is the marker of a {@code !!set} value ({@link #setElements}). */
  public static boolean isSet(JsonNode node) {
    return node != null && node.isObject() && node.size() == 1 && node.path(SET_KEY).isArray();
  }

  /** The elements of a {@code !!set} marker. */
  public static JsonNode setElements(JsonNode node) {
    return node.get(SET_KEY);
  }

  /** Whether {@code node} holds a vault value anywhere inside. */
  public static boolean containsVault(JsonNode node) {
    if (isVault(node)) {
      return true;
    }
    for (JsonNode child : node) {
      if (containsVault(child)) {
        return true;
      }
    }
    return false;
  }
}
