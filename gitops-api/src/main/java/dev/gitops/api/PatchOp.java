package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * One RFC 6902 operation of the patch that turns the live document into the target. Paths are
 * RFC 6901 pointers (index-based, as the RFC requires), unlike {@link FieldPath}.
 *
 * <pre>{@code
 * PatchOp.replace("/spec/replicas", IntNode.valueOf(3));
 * PatchOp.add("/spec/containers/0", container);
 * PatchOp.remove("/metadata/labels/old");
 * }</pre>
 *
 * @param op the operation
 * @param path the RFC 6901 pointer the operation targets
 * @param value the value for add, replace and test; null otherwise
 * @param from the source pointer for move and copy; null otherwise
 */
public record PatchOp(Op op, String path, JsonNode value, String from) {

  /** RFC 6902 operation names. */
  public enum Op {
    /** add */ ADD,
    /** remove */ REMOVE,
    /** replace */ REPLACE,
    /** move */ MOVE,
    /** copy */ COPY,
    /** test */ TEST;

    /** The lower-case name used in JSON. */
    public String jsonName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Validates the operation's shape. */
  public PatchOp {
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(path, "path");
    boolean needsValue = op == Op.ADD || op == Op.REPLACE || op == Op.TEST;
    boolean needsFrom = op == Op.MOVE || op == Op.COPY;
    if (needsValue != (value != null)) {
      throw new IllegalArgumentException(op.jsonName() + " at '" + path + "' " + (needsValue ? "needs" : "takes no") + " value");
    }
    if (needsFrom != (from != null)) {
      throw new IllegalArgumentException(op.jsonName() + " at '" + path + "' " + (needsFrom ? "needs" : "takes no") + " from");
    }
    if (value != null) {
      value = Documents.freeze(value);
    }
  }

  /** {@code add} at {@code path}. */
  public static PatchOp add(String path, JsonNode value) {
    return new PatchOp(Op.ADD, path, value, null);
  }

  /** {@code remove} at {@code path}. */
  public static PatchOp remove(String path) {
    return new PatchOp(Op.REMOVE, path, null, null);
  }

  /** {@code replace} at {@code path}. */
  public static PatchOp replace(String path, JsonNode value) {
    return new PatchOp(Op.REPLACE, path, value, null);
  }

  /** {@code move} from {@code from} to {@code path}. */
  public static PatchOp move(String from, String path) {
    return new PatchOp(Op.MOVE, path, null, from);
  }

  /** The operation as an RFC 6902 JSON object. */
  public JsonNode toJson() {
    java.util.LinkedHashMap<String, JsonNode> m = new java.util.LinkedHashMap<>();
    m.put("op", Documents.nodes().textNode(op.jsonName()));
    if (from != null) {
      m.put("from", Documents.nodes().textNode(from));
    }
    m.put("path", Documents.nodes().textNode(path));
    if (value != null) {
      m.put("value", value);
    }
    return Documents.object(m);
  }
}
