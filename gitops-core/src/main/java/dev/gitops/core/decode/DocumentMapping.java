package dev.gitops.core.decode;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * How documents of your own shape become resources, so that a repository's format needs
 * configuration, not a decoder. A mapping matches documents by the text of fields (JSON
 * pointers, RFC 6901) and says where the resource key, the document and the metadata come from.
 * Give mappings to {@link YamlManifestDecoder.Builder#map(DocumentMapping)}; the first mapping
 * that matches a document reads it, and a document no mapping matches is read in the generic
 * manifest format.
 *
 * <pre>{@code
 * // kind: Setting
 * // name: checkout.timeout
 * // value: 30s
 * DocumentMapping settings = DocumentMapping.when("/kind", "Setting")
 *     .provider("db").type("setting")
 *     .nameFrom("/name")
 *     .without("/kind", "/name")          // the document: {"value": "30s"}
 *     .build();
 * Decoder decoder = YamlManifestDecoder.builder().map(settings).build();
 * }</pre>
 *
 * <p>Keys: the provider is a constant (or the decoder's {@linkplain
 * YamlManifestDecoder.Builder#defaultProvider default provider}); type and scope are constants
 * or fields; the name is a field. Key fields must be strings. The document is the whole
 * document (the default) or a sub-field ({@link Builder#documentFrom}), less the fields listed
 * in {@link Builder#without}. {@code dependsOn}, {@code wave}, {@code management} and {@code
 * sensitive} may be read from fields, with the meaning they have in the generic format (see
 * {@code docs/manifests.md}). A field a mapping needs that is missing or has the wrong type is a
 * {@link dev.gitops.api.DecodeException} naming the file, the line and the pointer.
 */
public final class DocumentMapping {

  private final Map<String, String> conditions;
  private final String provider;
  private final String type;
  private final String typeFrom;
  private final String scope;
  private final String scopeFrom;
  private final String nameFrom;
  private final String documentFrom;
  private final List<String> without;
  private final String dependsOnFrom;
  private final String waveFrom;
  private final String managementFrom;
  private final String sensitiveFrom;
  private final Map<String, JsonPointer> compiled = new LinkedHashMap<>();

  private DocumentMapping(Builder b) {
    this.conditions = Map.copyOf(b.conditions);
    this.provider = b.provider;
    this.type = b.type;
    this.typeFrom = b.typeFrom;
    this.scope = b.scope;
    this.scopeFrom = b.scopeFrom;
    this.nameFrom = b.nameFrom;
    this.documentFrom = b.documentFrom;
    this.without = List.copyOf(b.without);
    this.dependsOnFrom = b.dependsOnFrom;
    this.waveFrom = b.waveFrom;
    this.managementFrom = b.managementFrom;
    this.sensitiveFrom = b.sensitiveFrom;
    for (String p : pointers()) {
      compiled.put(p, JsonPointer.compile(p));
    }
  }

  /** A mapping for documents whose field at {@code pointer} is the string {@code value}. */
  public static Builder when(String pointer, String value) {
    return new Builder().and(pointer, value);
  }

  /** A mapping for every document (useful with a decoder given for one path glob). */
  public static Builder forEveryDocument() {
    return new Builder();
  }

  /** Whether this mapping reads {@code doc}: every condition's field holds its text. */
  boolean matches(JsonNode doc) {
    for (Map.Entry<String, String> c : conditions.entrySet()) {
      JsonNode v = at(doc, c.getKey());
      if (!v.isValueNode() || v.isNull() || !v.asText().equals(c.getValue())) {
        return false;
      }
    }
    return true;
  }

  /** The node at {@code pointer} (a pointer of this mapping), a missing node when absent. */
  JsonNode at(JsonNode doc, String pointer) {
    JsonPointer p = compiled.get(pointer);
    return doc.at(p != null ? p : JsonPointer.compile(pointer));
  }

  /** Every pointer this mapping reads, so the reader records their lines. */
  Set<String> pointers() {
    Set<String> out = new LinkedHashSet<>(conditions.keySet());
    for (String p : new String[] {typeFrom, scopeFrom, nameFrom, documentFrom, dependsOnFrom, waveFrom,
        managementFrom, sensitiveFrom}) {
      if (p != null) {
        out.add(p);
      }
    }
    return out;
  }

  String provider() {
    return provider;
  }

  String type() {
    return type;
  }

  String typeFrom() {
    return typeFrom;
  }

  String scope() {
    return scope;
  }

  String scopeFrom() {
    return scopeFrom;
  }

  String nameFrom() {
    return nameFrom;
  }

  String documentFrom() {
    return documentFrom;
  }

  List<String> without() {
    return without;
  }

  String dependsOnFrom() {
    return dependsOnFrom;
  }

  String waveFrom() {
    return waveFrom;
  }

  String managementFrom() {
    return managementFrom;
  }

  String sensitiveFrom() {
    return sensitiveFrom;
  }

  /** The conditions as {@code /kind=Setting}, for messages. */
  String describeMatch() {
    if (conditions.isEmpty()) {
      return "every document";
    }
    List<String> parts = new ArrayList<>();
    new java.util.TreeMap<>(conditions).forEach((k, v) -> parts.add(k + "=" + v));
    return String.join(" and ", parts);
  }

  /** Everything that shapes what the mapping reads (part of the decoder's fingerprint). */
  @Override
  public String toString() {
    return "DocumentMapping{when " + describeMatch() + ", provider=" + provider + ", type="
        + (type != null ? type : "@" + typeFrom) + ", scope=" + (scopeFrom != null ? "@" + scopeFrom : scope)
        + ", name=@" + nameFrom + ", document=@" + documentFrom + " without " + without
        + ", dependsOn=@" + dependsOnFrom + ", wave=@" + waveFrom + ", management=@" + managementFrom
        + ", sensitive=@" + sensitiveFrom + "}";
  }

  /** Builds a {@link DocumentMapping}; every pointer is checked when it is given. */
  public static final class Builder {
    private final Map<String, String> conditions = new LinkedHashMap<>();
    private String provider;
    private String type;
    private String typeFrom;
    private String scope = "";
    private String scopeFrom;
    private String nameFrom;
    private String documentFrom = "";
    private final List<String> without = new ArrayList<>();
    private String dependsOnFrom;
    private String waveFrom;
    private String managementFrom;
    private String sensitiveFrom;

    private Builder() {}

    /** Also requires the field at {@code pointer} to be the string (or scalar text) {@code value}. */
    public Builder and(String pointer, String value) {
      Objects.requireNonNull(value, "value");
      conditions.put(pointer(pointer, "condition"), value);
      return this;
    }

    /** The provider id of every resource this mapping reads (default: the decoder's default provider). */
    public Builder provider(String providerId) {
      this.provider = nonEmpty(providerId, "provider");
      return this;
    }

    /** The type of every resource this mapping reads. */
    public Builder type(String constant) {
      this.type = nonEmpty(constant, "type");
      this.typeFrom = null;
      return this;
    }

    /** The type is the string at {@code pointer} (for example {@code /kind}). */
    public Builder typeFrom(String pointer) {
      this.typeFrom = pointer(pointer, "typeFrom");
      this.type = null;
      return this;
    }

    /** The scope of every resource this mapping reads (default ""). */
    public Builder scope(String constant) {
      this.scope = Objects.requireNonNull(constant, "scope");
      this.scopeFrom = null;
      return this;
    }

    /** The scope is the string at {@code pointer}; "" when the field is absent. */
    public Builder scopeFrom(String pointer) {
      this.scopeFrom = pointer(pointer, "scopeFrom");
      return this;
    }

    /** The name is the string at {@code pointer} (required). */
    public Builder nameFrom(String pointer) {
      this.nameFrom = pointer(pointer, "nameFrom");
      return this;
    }

    /** The document is the value at {@code pointer}; "" (the default) is the whole document. */
    public Builder documentFrom(String pointer) {
      this.documentFrom = pointer(pointer, "documentFrom");
      return this;
    }

    /** Fields (pointers relative to the document taken) left out of the resource's document. */
    public Builder without(String... pointers) {
      for (String p : pointers) {
        String checked = pointer(p, "without");
        if (checked.isEmpty()) {
          throw new IllegalArgumentException("without(\"\") would remove the whole document");
        }
        without.add(checked);
      }
      return this;
    }

    /** {@code dependsOn} is read at {@code pointer}: a list of canonical key strings ({@code provider:type:scope:name}). */
    public Builder dependsOnFrom(String pointer) {
      this.dependsOnFrom = pointer(pointer, "dependsOnFrom");
      return this;
    }

    /** The wave is the integer at {@code pointer} (default 0 when absent). */
    public Builder waveFrom(String pointer) {
      this.waveFrom = pointer(pointer, "waveFrom");
      return this;
    }

    /** The management policy is the string at {@code pointer}, as in the generic format. */
    public Builder managementFrom(String pointer) {
      this.managementFrom = pointer(pointer, "managementFrom");
      return this;
    }

    /** Sensitive path patterns (of the resource's document) are the list of strings at {@code pointer}. */
    public Builder sensitiveFrom(String pointer) {
      this.sensitiveFrom = pointer(pointer, "sensitiveFrom");
      return this;
    }

    /**
     * The mapping.
     *
     * @throws IllegalStateException naming what is missing: a type ({@link #type} or {@link
     *     #typeFrom}) or a name ({@link #nameFrom})
     */
    public DocumentMapping build() {
      if (type == null && typeFrom == null) {
        throw new IllegalStateException("DocumentMapping for " + describe() + " needs a type: call .type(\"...\") or .typeFrom(\"/pointer\")");
      }
      if (nameFrom == null) {
        throw new IllegalStateException("DocumentMapping for " + describe() + " needs a name: call .nameFrom(\"/pointer\")");
      }
      return new DocumentMapping(this);
    }

    private String describe() {
      return conditions.isEmpty() ? "every document" : conditions.toString();
    }

    private static String pointer(String pointer, String what) {
      Objects.requireNonNull(pointer, what);
      try {
        JsonPointer.compile(pointer);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(what + ": '" + pointer
            + "' is not a JSON pointer (write \"\" for the whole document or \"/field/sub-field\")", e);
      }
      return pointer;
    }

    private static String nonEmpty(String value, String what) {
      Objects.requireNonNull(value, what);
      if (value.isEmpty()) {
        throw new IllegalArgumentException(what + " must not be empty");
      }
      return value;
    }
  }
}
