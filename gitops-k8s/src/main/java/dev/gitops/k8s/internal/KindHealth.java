package dev.gitops.k8s.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Health;
import java.util.List;

/**
 * The built-in health of Kubernetes objects, read from their status the way {@code kubectl
 * rollout status} and the controllers' own conditions tell it. Every check first asks whether the
 * controller has seen the latest spec ({@code status.observedGeneration} against {@code
 * metadata.generation}), so a status from before the change is never taken for its result.
 */
public final class KindHealth {

  private KindHealth() {}

  /** The health of {@code live}, an object of key type {@code type}. */
  public static Health of(String type, JsonNode live) {
    if (!live.path("metadata").path("deletionTimestamp").isMissingNode()) {
      JsonNode finalizers = live.path("metadata").path("finalizers");
      List<String> waiting = new java.util.ArrayList<>();
      finalizers.forEach(f -> waiting.add(f.asText()));
      return Health.progressing("being deleted" + (waiting.isEmpty() ? ""
          : ", waiting for finalizer" + (waiting.size() == 1 ? " " : "s ") + String.join(", ", waiting)
          + " (the controller that set it removes it)"));
    }
    return switch (type) {
      case "apps/Deployment" -> deployment(live);
      case "apps/StatefulSet" -> statefulSet(live);
      case "apps/DaemonSet" -> daemonSet(live);
      case "apps/ReplicaSet" -> replicaSet(live);
      case "batch/Job" -> job(live);
      case "/Pod" -> pod(live);
      case "/PersistentVolumeClaim" -> phase(live, "Bound", "Lost");
      case "/Service" -> service(live);
      case "networking.k8s.io/Ingress" -> loadBalancer(live, "ingress");
      case "apiextensions.k8s.io/CustomResourceDefinition" -> crd(live);
      case "/Namespace" -> "Terminating".equals(live.at("/status/phase").asText())
          ? Health.progressing("terminating") : Health.healthy();
      default -> KindTable.builtIn(type).isPresent() ? Health.healthy() : conditions(live);
    };
  }

  /** PROGRESSING when the controller has not yet seen the latest generation; null otherwise. */
  private static Health notObserved(JsonNode live) {
    long generation = live.path("metadata").path("generation").asLong(0);
    long observed = live.path("status").path("observedGeneration").asLong(0);
    return generation > observed
        ? Health.progressing("waiting for the controller to observe generation " + generation + " (observed " + observed + ")")
        : null;
  }

  private static long replicas(JsonNode live) {
    return live.path("spec").path("replicas").asLong(1);
  }

  private static JsonNode condition(JsonNode live, String type) {
    for (JsonNode c : live.path("status").path("conditions")) {
      if (type.equals(c.path("type").asText())) {
        return c;
      }
    }
    return null;
  }

  private static Health deployment(JsonNode live) {
    // the generation first, as kubectl rollout status and Argo CD: the deadline a rollout before this change exceeded
    // is in the status until the controller observes the change, and would fail the change that fixes it
    Health h = notObserved(live);
    if (h != null) {
      return h;
    }
    JsonNode progressing = condition(live, "Progressing");
    if (progressing != null && "ProgressDeadlineExceeded".equals(progressing.path("reason").asText())) {
      return Health.degraded("progress deadline exceeded: " + progressing.path("message").asText());
    }
    JsonNode s = live.path("status");
    long want = replicas(live);
    long updated = s.path("updatedReplicas").asLong(0);
    long total = s.path("replicas").asLong(0);
    long available = s.path("availableReplicas").asLong(0);
    if (updated < want) {
      return Health.progressing(updated + " of " + want + " replicas updated");
    }
    if (total > updated) {
      return Health.progressing((total - updated) + " old replicas pending termination");
    }
    if (available < updated) {
      return Health.progressing(available + " of " + updated + " updated replicas available");
    }
    return Health.healthy();
  }

  private static Health statefulSet(JsonNode live) {
    Health h = notObserved(live);
    if (h != null) {
      return h;
    }
    JsonNode s = live.path("status");
    long want = replicas(live);
    long ready = s.path("readyReplicas").asLong(0);
    if (ready < want) {
      return Health.progressing(ready + " of " + want + " replicas ready");
    }
    if (!"OnDelete".equals(live.at("/spec/updateStrategy/type").asText())) {
      String current = s.path("currentRevision").asText("");
      String update = s.path("updateRevision").asText("");
      long partition = live.at("/spec/updateStrategy/rollingUpdate/partition").asLong(0);
      if (partition == 0 && !update.isEmpty() && !update.equals(current)) {
        return Health.progressing("rolling out revision " + update);
      }
    }
    return Health.healthy();
  }

  private static Health daemonSet(JsonNode live) {
    Health h = notObserved(live);
    if (h != null) {
      return h;
    }
    JsonNode s = live.path("status");
    long want = s.path("desiredNumberScheduled").asLong(0);
    long updated = s.path("updatedNumberScheduled").asLong(0);
    long available = s.path("numberAvailable").asLong(0);
    if (updated < want) {
      return Health.progressing(updated + " of " + want + " pods updated");
    }
    if (available < want) {
      return Health.progressing(available + " of " + want + " pods available");
    }
    return Health.healthy();
  }

  private static Health replicaSet(JsonNode live) {
    Health h = notObserved(live);  // first: a failure of an earlier generation is no verdict on this one
    if (h != null) {
      return h;
    }
    JsonNode failure = condition(live, "ReplicaFailure");
    if (failure != null && "True".equals(failure.path("status").asText())) {
      return Health.degraded(failure.path("message").asText("replica failure"));
    }
    long want = replicas(live);
    long available = live.path("status").path("availableReplicas").asLong(0);
    return available < want ? Health.progressing(available + " of " + want + " replicas available") : Health.healthy();
  }

  private static Health job(JsonNode live) {
    JsonNode failed = condition(live, "Failed");
    if (failed != null && "True".equals(failed.path("status").asText())) {
      return Health.degraded("job failed: " + failed.path("message").asText(failed.path("reason").asText()));
    }
    JsonNode complete = condition(live, "Complete");
    if (complete != null && "True".equals(complete.path("status").asText())) {
      return Health.healthy();
    }
    if (live.path("spec").path("suspend").asBoolean(false)) {
      return Health.healthy();
    }
    return Health.progressing("job running (" + live.at("/status/succeeded").asLong(0) + " succeeded)");
  }

  private static Health pod(JsonNode live) {
    String phase = live.at("/status/phase").asText("");
    if (phase.equals("Succeeded")) {
      return Health.healthy();
    }
    if (phase.equals("Failed")) {
      return Health.degraded("pod failed: " + live.at("/status/message").asText(live.at("/status/reason").asText()));
    }
    for (JsonNode cs : live.at("/status/containerStatuses")) {
      String reason = cs.at("/state/waiting/reason").asText("");
      if (reason.equals("CrashLoopBackOff") || reason.equals("ImagePullBackOff") || reason.equals("ErrImagePull")
          || reason.equals("CreateContainerConfigError") || reason.equals("InvalidImageName")) {
        return Health.degraded("container " + cs.path("name").asText() + ": " + reason);
      }
    }
    JsonNode ready = condition(live, "Ready");
    if (phase.equals("Running") && ready != null && "True".equals(ready.path("status").asText())) {
      return Health.healthy();
    }
    return Health.progressing("pod " + (phase.isEmpty() ? "not scheduled yet" : phase.toLowerCase(java.util.Locale.ROOT)));
  }

  private static Health phase(JsonNode live, String good, String bad) {
    String phase = live.at("/status/phase").asText("");
    if (phase.equals(good)) {
      return Health.healthy();
    }
    if (phase.equals(bad)) {
      return Health.degraded("phase " + phase);
    }
    return Health.progressing(phase.isEmpty() ? "no phase yet" : "phase " + phase);
  }

  private static Health service(JsonNode live) {
    return "LoadBalancer".equals(live.at("/spec/type").asText()) ? loadBalancer(live, "load balancer") : Health.healthy();
  }

  private static Health loadBalancer(JsonNode live, String what) {
    JsonNode ingress = live.at("/status/loadBalancer/ingress");
    return ingress.isArray() && !ingress.isEmpty() ? Health.healthy()
        : Health.progressing("waiting for the " + what + " address");
  }

  private static Health crd(JsonNode live) {
    JsonNode names = condition(live, "NamesAccepted");
    if (names != null && "False".equals(names.path("status").asText())) {
      return Health.degraded("names not accepted: " + names.path("message").asText());
    }
    JsonNode established = condition(live, "Established");
    return established != null && "True".equals(established.path("status").asText()) ? Health.healthy()
        : Health.progressing("not established yet");
  }

  /** Custom resources: the Ready (or Available) condition, once it speaks of the latest generation. */
  private static Health conditions(JsonNode live) {
    long generation = live.path("metadata").path("generation").asLong(0);
    JsonNode stalled = condition(live, "Stalled");
    if (stalled != null && "True".equals(stalled.path("status").asText())) {
      long observed = observed(live, stalled, generation);
      // a Stalled of an earlier generation (kstatus reads the generation first) would fail the change that fixes it
      return observed >= generation
          ? Health.degraded("stalled: " + stalled.path("message").asText(stalled.path("reason").asText()))
          : Health.progressing("waiting for the controller to observe generation " + generation + " (observed "
              + observed + ", stalled then)");
    }
    JsonNode c = condition(live, "Ready");
    if (c == null) {
      c = condition(live, "Available");
    }
    if (c == null) {
      return live.path("status").has("observedGeneration") ? orHealthy(notObserved(live)) : Health.healthy();
    }
    long observed = observed(live, c, generation);
    if (generation > observed) {
      return Health.progressing("waiting for the controller to observe generation " + generation + " (observed " + observed + ")");
    }
    String type = c.path("type").asText();
    String message = c.path("message").asText(c.path("reason").asText(""));
    return switch (c.path("status").asText()) {
      case "True" -> Health.healthy();
      case "False" -> {
        String reason = c.path("reason").asText("").toLowerCase(java.util.Locale.ROOT);
        yield reason.contains("fail") || reason.contains("error") ? Health.degraded(type + "=False: " + message)
            : Health.progressing(type + "=False: " + message);
      }
      default -> Health.progressing(type + " unknown: " + message);
    };
  }

  /**
   * The generation condition {@code c} speaks of: its own {@code observedGeneration}, else the
   * status's, else {@code generation} (a controller that records neither).
   */
  private static long observed(JsonNode live, JsonNode c, long generation) {
    return c.has("observedGeneration") ? c.path("observedGeneration").asLong(0)
        : live.path("status").path("observedGeneration").asLong(generation);
  }

  private static Health orHealthy(Health h) {
    return h == null ? Health.healthy() : h;
  }
}
