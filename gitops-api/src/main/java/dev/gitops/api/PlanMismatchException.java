package dev.gitops.api;

import java.util.List;
import java.util.Objects;

/**
 * A reviewed plan does not run: it does not match its own id (it was edited after it was
 * computed), or the plan computed now differs from it. Nothing was applied. The first difference
 * is named by the key of the change (null when it lies outside the changes) and the field, a JSON
 * pointer into the plan file's form of that change or of the plan ({@code /action},
 * {@code /patch/0/value}, {@code /options/prune}).
 *
 * <pre>{@code
 * try {
 *   reconciler.apply(PlanCodec.fromJson(Files.readString(planFile)));
 * } catch (PlanMismatchException e) {
 *   log.warn("not run: {} differs at {}", e.key(), e.field());
 * }
 * }</pre>
 */
public class PlanMismatchException extends GitOpsException {
  private static final long serialVersionUID = 1L;
  private final String expectedId;
  private final String actualId;
  private final List<ResourceKey> moved;
  private final ResourceKey key;
  private final String field;

  /** The plan {@code expectedId} became {@code actualId}; {@code moved} are the keys that differ. */
  public PlanMismatchException(String expectedId, String actualId, List<ResourceKey> moved, String detail) {
    this(expectedId, actualId, moved, detail, null, null, "");
  }

  /**
   * The plan {@code expectedId} does not run; the plan computed now is {@code actualId}.
   *
   * @param moved every key whose change differs
   * @param detail why, in words
   * @param key the key of the first differing change, or null
   * @param field where the first difference lies (a JSON pointer), or null
   * @param values the two values at {@code field}, in words, or empty
   */
  public PlanMismatchException(String expectedId, String actualId, List<ResourceKey> moved, String detail,
      ResourceKey key, String field, String values) {
    super("plan " + brief(Objects.requireNonNull(expectedId, "expectedId")) + " no longer holds"
        + (expectedId.equals(Objects.requireNonNull(actualId, "actualId")) ? "" : " (now " + brief(actualId) + ")") + ": " + detail
        + (field == null ? "" : "; first difference: " + (key == null ? "" : key + " at ") + field
            + (values == null || values.isEmpty() ? "" : " (" + values + ")"))
        + (Objects.requireNonNull(moved, "moved").isEmpty() ? "" : "; keys that differ: " + moved));
    this.expectedId = expectedId;
    this.actualId = actualId;
    this.moved = List.copyOf(moved);
    this.key = key;
    this.field = field;
  }

  /** Ids are 64 hex digits; 12 tell plans apart in a message. */
  private static String brief(String id) {
    return id.length() > 12 ? id.substring(0, 12) : id;
  }

  /** The id of the reviewed plan. */
  public String expectedId() {
    return expectedId;
  }

  /** The id of the plan computed now. */
  public String actualId() {
    return actualId;
  }

  /** The keys whose change differs. */
  public List<ResourceKey> moved() {
    return moved;
  }

  /** The key of the first differing change, or null when the first difference is outside the changes. */
  public ResourceKey key() {
    return key;
  }

  /** Where the first difference lies, as a JSON pointer into the plan file's form, or null. */
  public String field() {
    return field;
  }
}
