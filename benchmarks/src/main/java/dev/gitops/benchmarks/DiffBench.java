package dev.gitops.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.PatchOp;
import dev.gitops.core.merge.MergeResult;
import dev.gitops.core.merge.ThreeWayMerge;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The four contenders of benchmark B1 on one {@link Deployments.Case}, outside JMH so the smoke
 * test and the patch-size report run exactly the code the benchmark times.
 *
 * <p>Peers diff the live document against <em>our</em> merged target, the same pair our patch
 * covers; all three diff the same frozen trees. The floor compares two plain Jackson deep copies
 * of the live document.
 *
 * <pre>{@code
 * DiffBench b = new DiffBench(Deployments.of(Deployments.Edit.REPLICAS));
 * b.ours().size();   // ops of our patch
 * }</pre>
 */
public final class DiffBench {

  private final Deployments.Case input;
  private final ThreeWayMerge merge = new ThreeWayMerge(Deployments.rules());
  private final JsonNode target;
  private final JsonNode targetCopy;
  private final JsonNode floorA;
  private final JsonNode floorB;

  /** Prepares the inputs of {@code c}. */
  public DiffBench(Deployments.Case c) {
    this.input = c;
    this.target = merge.merge(Deployments.KEY, c.lastApplied(), c.desired(), c.live()).target();
    this.targetCopy = Documents.freeze(Documents.mutableCopy(target));
    this.floorA = Documents.mutableCopy(c.live());
    this.floorB = Documents.mutableCopy(c.live());
  }

  /** The input. */
  public Deployments.Case input() {
    return input;
  }

  /** Our merged target (what the peers diff towards). */
  public JsonNode target() {
    return target;
  }

  /** Ours: the three-way merge of L, D and V, and the patch from V to the target. */
  public List<PatchOp> ours() {
    MergeResult r = merge.merge(Deployments.KEY, input.lastApplied(), input.desired(), input.live());
    return r.patch();
  }

  /** java-json-tools json-patch: {@code JsonDiff.asJson(live, target)}. */
  public JsonNode jsonPatch() {
    return com.github.fge.jsonpatch.diff.JsonDiff.asJson(input.live(), target);
  }

  /** zjsonpatch: {@code JsonDiff.asJson(live, target)}. */
  public JsonNode zjsonpatch() {
    return com.flipkart.zjsonpatch.JsonDiff.asJson(input.live(), target);
  }

  /**
   * zjsonpatch against a copy of our target that shares no nodes with live, as a diff library
   * would see two documents that were built apart (no identity short-cuts in {@code equals}).
   */
  public JsonNode zjsonpatchCopy() {
    return com.flipkart.zjsonpatch.JsonDiff.asJson(input.live(), targetCopy);
  }

  /** The floor: {@code JsonNode.equals} over two identical plain deep copies of the live document. */
  public boolean equalsFloor() {
    return floorA.equals(floorB);
  }

  /** Patch sizes (number of operations) per contender, in a stable order. */
  public Map<String, Integer> patchSizes() {
    Map<String, Integer> m = new LinkedHashMap<>();
    m.put("ours", ours().size());
    m.put("jsonPatch", jsonPatch().size());
    m.put("zjsonpatch", zjsonpatch().size());
    return m;
  }

  /** The size of the live document as compact JSON, in bytes. */
  public int liveBytes() {
    return Documents.canonicalJson(input.live()).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  /** The size of the desired document as compact JSON, in bytes. */
  public int desiredBytes() {
    return Documents.canonicalJson(input.desired()).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }
}
