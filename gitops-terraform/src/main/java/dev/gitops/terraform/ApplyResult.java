package dev.gitops.terraform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What applying a saved plan did.
 *
 * <pre>{@code
 * ApplyResult r = tf.apply(planId, revision, false, ctx);
 * if (!r.isSuccessful()) r.outcomes().forEach((k, o) -> log.warn("{}: {}", k, o.message()));
 * JsonNode url = r.outputs().get("url");
 * }</pre>
 *
 * @param planId the plan applied
 * @param outcomes per changed key, what happened
 * @param outputs the root outputs after the apply, sensitive ones left out
 * @param stateToken the state's lineage and serial after the apply
 */
public record ApplyResult(String planId, SortedMap<ResourceKey, Outcome> outcomes, SortedMap<String, JsonNode> outputs,
    String stateToken) {

  /** Copies. */
  public ApplyResult {
    outcomes = Collections.unmodifiableSortedMap(new TreeMap<>(outcomes));
    outputs = Collections.unmodifiableSortedMap(new TreeMap<>(outputs));
  }

  /** Whether every change succeeded. */
  public boolean isSuccessful() {
    return outcomes.values().stream().allMatch(Outcome::isOk);
  }
}
