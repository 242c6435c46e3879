package dev.gitops.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Health;
import java.util.Optional;

/**
 * A health check for objects of your own kinds, or one that overrides the built-in check of a
 * kind. Give it to {@link KubernetesProvider.Builder#healthCheck}, or list the class in {@code
 * META-INF/services/dev.gitops.k8s.HealthCheck} to have it found on the class path.
 *
 * <pre>{@code
 * HealthCheck widgets = new HealthCheck() {
 *   public boolean appliesTo(String type) { return type.equals("example.com/Widget"); }
 *   public Optional<Health> health(JsonNode live) {
 *     return live.at("/status/phase").asText().equals("Ready")
 *         ? Optional.of(Health.healthy()) : Optional.of(Health.progressing("phase " + live.at("/status/phase")));
 *   }
 * };
 * }</pre>
 *
 * <p>Checks see the live object as the API server returns it (with {@code status} and {@code
 * metadata.generation}). Dependents wait for HEALTHY and fail on DEGRADED; returning empty leaves
 * the object to the built-in check.
 */
public interface HealthCheck {

  /** Whether this check judges objects of key type {@code type} ({@code group/Kind}, {@code /Kind} for the core group). */
  boolean appliesTo(String type);

  /** The health of {@code live}, or empty to leave it to the built-in check. */
  Optional<Health> health(JsonNode live);
}
