package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * One changed leaf between the live document and the target, key-addressed, for review.
 *
 * <pre>{@code
 * // one changed leaf of change.fields(), as a plan shows it
 * FieldChange f = new FieldChange(FieldPath.of("spec", "replicas"), IntNode.valueOf(2), IntNode.valueOf(3), false);
 * char symbol = f.symbol();   // '~' changed; '+' added (no before); '-' removed (no after)
 * }</pre>
 *
 * @param path the key-addressed path of the leaf
 * @param before the live value, or null when the field is added
 * @param after the target value, or null when the field is removed
 * @param sensitive whether the values must be redacted when shown
 */
public record FieldChange(FieldPath path, JsonNode before, JsonNode after, boolean sensitive) {

  /** Validates and freezes. */
  public FieldChange {
    Objects.requireNonNull(path, "path");
    if (before == null && after == null) {
      throw new IllegalArgumentException("field change at " + path + " has neither before nor after");
    }
    before = before == null ? null : Documents.freeze(before);
    after = after == null ? null : Documents.freeze(after);
  }

  /** {@code +} added, {@code -} removed, {@code ~} changed: as {@code terraform plan} shows it. */
  public char symbol() {
    return before == null ? '+' : after == null ? '-' : '~';
  }

  /** The path and both values, or {@code (sensitive)} in place of the values when they are secret. */
  @Override
  public String toString() {
    if (sensitive) {
      return "FieldChange[" + symbol() + " " + path + " (sensitive)]";
    }
    return "FieldChange[" + symbol() + " " + path + ": " + before + " -> " + after + "]";
  }
}
