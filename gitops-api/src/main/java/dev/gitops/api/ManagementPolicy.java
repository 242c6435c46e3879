package dev.gitops.api;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The actions the engine may take on one resource (Crossplane's management policies).
 *
 * <pre>{@code
 * ManagementPolicy all = ManagementPolicy.ALL;                 // observe, create, update, delete
 * ManagementPolicy paused = ManagementPolicy.PAUSED;           // observe only: drift is reported, nothing is changed
 * ManagementPolicy noPrune = ManagementPolicy.NO_PRUNE;        // never deleted by the engine
 * ManagementPolicy createOnly = ManagementPolicy.CREATE_ONLY;  // created when missing, never updated or deleted
 * }</pre>
 */
public final class ManagementPolicy {

  /** One action the engine may take. */
  public enum Permission {
    /** Read the live object and report drift. */
    OBSERVE,
    /** Create the object when it is absent. */
    CREATE,
    /** Change the object to match the desired state. */
    UPDATE,
    /** Delete the object when it leaves the desired state. */
    DELETE
  }

  /** Everything is allowed: the default. */
  public static final ManagementPolicy ALL = new ManagementPolicy(EnumSet.allOf(Permission.class));
  /** Observe only. */
  public static final ManagementPolicy PAUSED = new ManagementPolicy(EnumSet.of(Permission.OBSERVE));
  /** Everything but delete. */
  public static final ManagementPolicy NO_PRUNE =
      new ManagementPolicy(EnumSet.of(Permission.OBSERVE, Permission.CREATE, Permission.UPDATE));
  /** Observe and create. */
  public static final ManagementPolicy CREATE_ONLY =
      new ManagementPolicy(EnumSet.of(Permission.OBSERVE, Permission.CREATE));

  private final Set<Permission> allowed;
  private final String text;

  private ManagementPolicy(EnumSet<Permission> allowed) {
    this.allowed = Collections.unmodifiableSet(allowed);
    StringBuilder sb = new StringBuilder();
    for (Permission p : allowed) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(p.name().toLowerCase(java.util.Locale.ROOT));
    }
    this.text = sb.toString();
  }

  /** Returns the policy allowing exactly {@code permissions}; OBSERVE is always added. */
  public static ManagementPolicy of(Set<Permission> permissions) {
    Objects.requireNonNull(permissions, "permissions");
    EnumSet<Permission> set = EnumSet.of(Permission.OBSERVE);
    set.addAll(permissions);
    for (ManagementPolicy known : new ManagementPolicy[] {ALL, PAUSED, NO_PRUNE, CREATE_ONLY}) {
      if (known.allowed.equals(set)) {
        return known;
      }
    }
    return new ManagementPolicy(set);
  }

  /**
   * Parses a comma-separated list of permissions such as {@code "observe,create"}, or one of the
   * names {@code all}, {@code paused}, {@code no-prune}, {@code create-only}.
   */
  public static ManagementPolicy parse(String text) {
    String t = Objects.requireNonNull(text, "text").trim().toLowerCase(java.util.Locale.ROOT);
    switch (t) {
      case "all": return ALL;
      case "paused": return PAUSED;
      case "no-prune": return NO_PRUNE;
      case "create-only": return CREATE_ONLY;
      default:
        EnumSet<Permission> set = EnumSet.of(Permission.OBSERVE);
        for (String part : t.split(",")) {
          String p = part.trim();
          if (p.isEmpty()) {
            continue;
          }
          try {
            set.add(Permission.valueOf(p.toUpperCase(java.util.Locale.ROOT)));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                "unknown management permission '" + p + "' in '" + text
                    + "' (want observe, create, update, delete, or all, paused, no-prune, create-only)", e);
          }
        }
        return of(set);
    }
  }

  /** Whether {@code permission} is allowed. */
  public boolean allows(Permission permission) {
    return allowed.contains(Objects.requireNonNull(permission, "permission"));
  }

  /** The allowed permissions, read-only. */
  public Set<Permission> permissions() {
    return allowed;
  }

  /** This policy without DELETE. */
  public ManagementPolicy withoutDelete() {
    EnumSet<Permission> set = EnumSet.copyOf(allowed);
    set.remove(Permission.DELETE);
    return of(set);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ManagementPolicy other && other.allowed.equals(allowed);
  }

  @Override
  public int hashCode() {
    return allowed.hashCode();
  }

  /** The lower-case permission list, for example {@code observe,create}. */
  @Override
  public String toString() {
    return text;
  }
}
