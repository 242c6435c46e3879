package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A key-addressed path into a document: object fields by name, elements of keyed lists by their
 * key, elements of set lists by their value, never by an index that a reorder would shift.
 *
 * <p>String form: {@code /spec/containers/[name=app]/image}, {@code /metadata/finalizers/[=a]},
 * {@code /ports/[containerPort=80,protocol=TCP]}. In field names {@code ~} is written {@code ~0},
 * {@code /} {@code ~1} and {@code [} {@code ~2}; inside brackets {@code ]} is {@code ~3},
 * {@code ,} {@code ~4} and {@code =} {@code ~5}. An element that has no key (kept only because
 * the live system has it) is addressed by position as {@code [#3]}.
 *
 * <p>Paths never carry sensitive values: an element whose value or key is sensitive (a set element
 * under a sensitive rule, a keyed element below one or whose key field is one) is addressed by a
 * keyed hash of its plain segment, {@code [#hmac:1f0c…]} ({@link Hashed}), made under the state
 * store's secret key, so the same element has the same path in every plan, report and process.
 *
 * <pre>{@code
 * FieldPath p = FieldPath.root().field("spec").key(Map.of("name", TextNode.valueOf("app"))).field("image");
 * p.toString();                       // "/spec/[name=app]/image"
 * FieldPath.parse(p.toString()).equals(p);
 * }</pre>
 */
public final class FieldPath implements Comparable<FieldPath> {

  /** One step of a path. */
  public sealed interface Segment permits Field, Key, Element, Index, Hashed {
    /** The segment as it appears in the string form (without the leading slash). */
    String text();
  }

  /** An object field. */
  public record Field(String name) implements Segment {
    /** Validates the name. */
    public Field {
      Objects.requireNonNull(name, "name");
    }

    @Override
    public String text() {
      return escapeField(name);
    }
  }

  /** An element of a keyed list, addressed by its key fields (defaults applied). */
  public record Key(Map<String, JsonNode> fields) implements Segment {
    /** Copies the fields, keeping their order. */
    public Key {
      fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    @Override
    public String text() {
      StringBuilder sb = new StringBuilder("[");
      boolean first = true;
      for (Map.Entry<String, JsonNode> e : fields.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        sb.append(escapeKey(e.getKey())).append('=').append(escapeKey(scalarText(e.getValue())));
      }
      return sb.append(']').toString();
    }
  }

  /** An element of a set list, addressed by its value. */
  public record Element(JsonNode value) implements Segment {
    /** Validates the value. */
    public Element {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public String text() {
      return "[=" + escapeKey(scalarText(value)) + "]";
    }
  }

  /** An element addressed by position: only for elements that have no key of their own. */
  public record Index(int index) implements Segment {
    @Override
    public String text() {
      return "[#" + index + "]";
    }
  }

  /**
   * An element whose plain segment ({@link Key} or {@link Element}) would show a sensitive value,
   * addressed by a keyed hash of that segment's string form instead: {@code [#hmac:<hex>]}.
   *
   * @param digest lower-case hex, as the merge computes it under the store's secret key
   */
  public record Hashed(String digest) implements Segment {
    /** The prefix of the string form's body. */
    public static final String PREFIX = "#hmac:";

    /** Validates the digest. */
    public Hashed {
      Objects.requireNonNull(digest, "digest");
      if (digest.isEmpty() || !digest.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw new IllegalArgumentException("a hashed element's digest is lower-case hex, got '" + digest + "'");
      }
    }

    @Override
    public String text() {
      return "[" + PREFIX + digest + "]";
    }
  }

  private static final FieldPath ROOT = new FieldPath(List.of());

  private final List<Segment> segments;
  private String text;

  private FieldPath(List<Segment> segments) {
    this.segments = segments;
  }

  /** The empty path: the whole document. */
  public static FieldPath root() {
    return ROOT;
  }

  /** Builds a path of object fields, for example {@code FieldPath.of("spec", "replicas")}. */
  public static FieldPath of(String... fields) {
    Objects.requireNonNull(fields, "fields");
    FieldPath p = ROOT;
    for (String f : fields) {
      p = p.field(f);
    }
    return p;
  }

  /** Parses the string form; "" and "/" are the root. */
  public static FieldPath parse(String text) {
    Objects.requireNonNull(text, "text");
    if (text.isEmpty() || text.equals("/")) {
      return ROOT;
    }
    if (text.charAt(0) != '/') {
      throw new IllegalArgumentException("a field path starts with '/': '" + text + "'");
    }
    List<Segment> out = new ArrayList<>();
    for (String raw : text.substring(1).split("/", -1)) {
      out.add(parseSegment(raw, text));
    }
    return new FieldPath(List.copyOf(out));
  }

  private static Segment parseSegment(String raw, String whole) {
    if (raw.startsWith("[") && raw.endsWith("]")) {
      String body = raw.substring(1, raw.length() - 1);
      if (body.startsWith(Hashed.PREFIX)) {
        try {
          return new Hashed(body.substring(Hashed.PREFIX.length()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("bad hashed segment '" + raw + "' in '" + whole + "'", e);
        }
      }
      if (body.startsWith("#")) {
        try {
          return new Index(Integer.parseInt(body.substring(1)));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("bad index segment '" + raw + "' in '" + whole + "'", e);
        }
      }
      if (body.startsWith("=")) {
        return new Element(Documents.nodes().textNode(unescape(body.substring(1))));
      }
      Map<String, JsonNode> fields = new LinkedHashMap<>();
      for (String pair : body.split(",", -1)) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("bad key segment '" + raw + "' in '" + whole + "'");
        }
        fields.put(unescape(pair.substring(0, eq)), Documents.nodes().textNode(unescape(pair.substring(eq + 1))));
      }
      return new Key(fields);
    }
    return new Field(unescape(raw));
  }

  /** This path followed by an object field. */
  public FieldPath field(String name) {
    return append(new Field(name));
  }

  /** This path followed by a keyed-list element. */
  public FieldPath key(Map<String, JsonNode> keyFields) {
    Objects.requireNonNull(keyFields, "keyFields");
    return append(new Key(keyFields));
  }

  /** This path followed by a set-list element. */
  public FieldPath element(JsonNode value) {
    return append(new Element(value));
  }

  /** This path followed by a positional element. */
  public FieldPath index(int index) {
    return append(new Index(index));
  }

  /** This path followed by {@code segment}. */
  public FieldPath append(Segment segment) {
    Objects.requireNonNull(segment, "segment");
    List<Segment> next = new ArrayList<>(segments.size() + 1);
    next.addAll(segments);
    next.add(segment);
    return new FieldPath(Collections.unmodifiableList(next));
  }

  /** The segments, read-only. */
  public List<Segment> segments() {
    return segments;
  }

  /** The number of segments. */
  public int size() {
    return segments.size();
  }

  /** Whether this is the root path. */
  public boolean isRoot() {
    return segments.isEmpty();
  }

  /** The parent path; the root's parent is the root. */
  public FieldPath parent() {
    return segments.isEmpty() ? ROOT : new FieldPath(segments.subList(0, segments.size() - 1));
  }

  /** The last segment, or {@code null} for the root. */
  public Segment last() {
    return segments.isEmpty() ? null : segments.get(segments.size() - 1);
  }

  /** Whether {@code other} equals this path or lies below it. */
  public boolean isPrefixOf(FieldPath other) {
    Objects.requireNonNull(other, "other");
    if (other.segments.size() < segments.size()) {
      return false;
    }
    return other.segments.subList(0, segments.size()).equals(segments);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FieldPath p && p.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }

  @Override
  public int compareTo(FieldPath o) {
    return toString().compareTo(o.toString());
  }

  /** The string form, for example {@code /spec/containers/[name=app]/image}; "" for the root. */
  @Override
  public String toString() {
    String t = text;
    if (t == null) {
      StringBuilder sb = new StringBuilder();
      for (Segment s : segments) {
        sb.append('/').append(s.text());
      }
      t = sb.toString();
      text = t;
    }
    return t;
  }

  static String scalarText(JsonNode v) {
    return v.isTextual() ? v.textValue() : v.toString();
  }

  static String escapeField(String name) {
    if (name.indexOf('~') < 0 && name.indexOf('/') < 0 && name.indexOf('[') < 0) {
      return name;
    }
    return name.replace("~", "~0").replace("/", "~1").replace("[", "~2");
  }

  static String escapeKey(String s) {
    if (s.indexOf('~') < 0 && s.indexOf('/') < 0 && s.indexOf(']') < 0 && s.indexOf(',') < 0 && s.indexOf('=') < 0) {
      return s;
    }
    return s.replace("~", "~0").replace("/", "~1").replace("]", "~3").replace(",", "~4").replace("=", "~5");
  }

  static String unescape(String s) {
    if (s.indexOf('~') < 0) {
      return s;
    }
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '~' && i + 1 < s.length()) {
        char n = s.charAt(++i);
        switch (n) {
          case '0': sb.append('~'); break;
          case '1': sb.append('/'); break;
          case '2': sb.append('['); break;
          case '3': sb.append(']'); break;
          case '4': sb.append(','); break;
          case '5': sb.append('='); break;
          default: sb.append('~').append(n);
        }
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
