package dev.gitops.core.internal.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.ProviderPlanner;
import dev.gitops.core.redact.Redactor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one planning provider (Terraform) planned for itself: its changes, which form one unit of
 * the dependency graph, the opaque token of its own state, and how many objects it manages (its
 * own state is its inventory).
 *
 * <p>A unit is made by {@link #plan}: it asks the provider's {@link ProviderPlanner}, checks what
 * comes back (every key names the provider, no key twice) and hides every value under a change's
 * {@link Change#sensitive() sensitive mask} in its documents, field entries and patch, whatever the
 * provider already did; the {@link Planner} then completes each mask with the engine's rules
 * (the provider's and the user's sensitive paths) before anything else reads the unit. A planner that throws, or returns changes that fail those checks, gives a
 * <em>failed</em> unit: nothing of it runs and the plan is incomplete.
 *
 * <pre>{@code
 * ProviderPlanner own = provider.planner().orElseThrow();
 * PlanningUnit unit = PlanningUnit.plan(provider.id(), own, List.of(resource), ctx);
 * if (unit.failure().isPresent()) log.warn("{} could not plan: {}", provider.id(), unit.failure().get());
 * unit.changes().forEach(c -> log.info("{} {}", c.action(), c.key()));
 * }</pre>
 */
public final class PlanningUnit {

  private static final Logger LOG = LoggerFactory.getLogger(PlanningUnit.class);

  private final String provider;
  private final SortedMap<ResourceKey, Resource> declared;
  private final List<Change> changes;
  private final Map<ResourceKey, Change> byKey;
  private final String stateToken;
  private final String failure;
  private final int owned;

  private PlanningUnit(String provider, List<Resource> declared, List<Change> changes, String stateToken,
      String failure, int owned) {
    this.provider = provider;
    TreeMap<ResourceKey, Resource> d = new TreeMap<>();
    declared.forEach(r -> d.put(r.key(), r));
    this.declared = Collections.unmodifiableSortedMap(d);
    this.changes = List.copyOf(changes);
    Map<ResourceKey, Change> m = new LinkedHashMap<>();
    this.changes.forEach(c -> m.put(c.key(), c));
    this.byKey = Collections.unmodifiableMap(m);
    this.stateToken = stateToken;
    this.failure = failure;
    this.owned = owned;
  }

  /**
   * Asks {@code planner} (of the provider {@code providerId}) for its changes to {@code declared},
   * the provider's desired resources. Never throws for what the planner does: a failure gives a
   * failed unit naming it.
   */
  public static PlanningUnit plan(String providerId, ProviderPlanner planner, List<Resource> declared,
      CallContext ctx) {
    Objects.requireNonNull(providerId, "providerId");
    Objects.requireNonNull(planner, "planner");
    List<Change> planned;
    String token;
    try {
      planned = List.copyOf(planner.plan(List.copyOf(declared), ctx));
      token = Objects.requireNonNullElse(planner.stateToken(ctx), "");
    } catch (RuntimeException e) {
      // The provider's keys become unknown: the unit runs nothing and the plan is incomplete.
      LOG.warn("planning provider '{}' could not plan at {}: {}", providerId, ctx.revision(), e.getMessage());
      return failed(providerId, declared, "could not plan: " + e.getMessage());
    }
    List<Change> checked = new ArrayList<>(planned.size());
    Set<ResourceKey> seen = new TreeSet<>();
    int owned = 0;
    for (Change c : planned) {
      if (c == null) {
        return failed(providerId, declared, "its planner returned a null change");
      }
      if (!c.key().provider().equals(providerId)) {
        return failed(providerId, declared, "its planner returned a change for " + c.key()
            + ", a key of another provider");
      }
      if (!seen.add(c.key())) {
        return failed(providerId, declared, "its planner returned two changes for " + c.key());
      }
      // A planning provider's documents would reach reviewers as they are: its mask is applied
      // here, by the one redaction path, whatever the provider already hid.
      Change safe = Redactor.marking().redact(c);
      checked.add(safe);
      if (safe.live() != null && safe.action() != Action.READ && planner.manages(safe.key())) {
        owned++;
      }
    }
    LOG.debug("planning provider '{}' planned {} changes at {} (state {})", providerId, checked.size(),
        ctx.revision(), token);
    return new PlanningUnit(providerId, declared, checked, token, null, owned);
  }

  /**
   * This unit with every change's mask completed by {@code complete} (the engine's rules: the
   * provider's and the user's sensitive paths, the decoder's marks) and its values hidden again,
   * so a planning provider's changes are redacted like every other change of a plan, and what
   * output references read from them is what reviewers see.
   */
  PlanningUnit completed(UnaryOperator<Change> complete) {
    if (changes.isEmpty()) {
      return this;
    }
    List<Change> out = new ArrayList<>(changes.size());
    changes.forEach(c -> out.add(Redactor.marking().redact(complete.apply(c))));
    return new PlanningUnit(provider, List.copyOf(declared.values()), out, stateToken, failure, owned);
  }

  /** A unit whose planner failed for {@code reason}: it has no changes and runs nothing. */
  public static PlanningUnit failed(String providerId, List<Resource> declared, String reason) {
    return new PlanningUnit(providerId, declared, List.of(), "", reason, 0);
  }

  /** The provider id. */
  public String provider() {
    return provider;
  }

  /** The provider's desired resources the unit was planned from (for Terraform: its configuration files). */
  public SortedMap<ResourceKey, Resource> declared() {
    return declared;
  }

  /** The planned changes, sensitive values hidden, in the order the provider gave them. */
  public List<Change> changes() {
    return changes;
  }

  /** The change planned for {@code key}, if any. */
  public Optional<Change> change(ResourceKey key) {
    return Optional.ofNullable(byKey.get(key));
  }

  /** The provider's opaque state token when it planned ("" for a failed unit). */
  public String stateToken() {
    return stateToken;
  }

  /** Why the unit could not plan, or empty when it did. */
  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  /**
   * Why the unit cannot run whole, or empty when it can: it failed, or the provider held some of
   * its changes back (SKIPs flagged {@link Change.Flag#HELD_BACK}, for example because its own plan
   * is incomplete).
   */
  public Optional<String> incomplete() {
    if (failure != null) {
      return Optional.of(failure);
    }
    for (Change c : changes) {
      if (c.has(Change.Flag.HELD_BACK)) {
        return Optional.of("held back " + c.key() + ": " + c.reason());
      }
    }
    return Optional.empty();
  }

  /** How many objects the provider manages now (planned changes with a live object that it manages). */
  public int owned() {
    return owned;
  }

  /**
   * The fingerprint of {@code c}, a change of this unit: the state token and the change's content,
   * so a reviewed plan stops matching once the provider's state or its plan moved.
   */
  String fingerprint(Change c) {
    StringBuilder sb = new StringBuilder(200).append(stateToken).append('|').append(c.action()).append('|')
        .append(c.previousKey()).append('|').append(digest(c.live())).append('|').append(digest(c.desired()))
        .append('|').append(digest(c.target())).append('|').append(new TreeSet<>(c.sensitive())).append('|')
        .append(new TreeSet<>(c.unknown())).append('|').append(new TreeSet<>(c.flags()));
    MessageDigest md = Documents.sha256();
    md.update(sb.toString().getBytes(StandardCharsets.UTF_8));
    return "unit:" + HexFormat.of().formatHex(md.digest(), 0, 16);
  }

  private static String digest(JsonNode doc) {
    return doc == null ? "-" : Documents.digest(doc);
  }
}
