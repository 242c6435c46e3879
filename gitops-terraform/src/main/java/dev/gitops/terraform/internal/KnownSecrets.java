package dev.gitops.terraform.internal;

import dev.gitops.core.redact.Scrubber;
import java.util.Collection;

/**
 * The secret strings a Terraform provider has learned so far (values under Terraform's sensitive
 * masks, sensitive outputs and variables), removed from text before it is logged, thrown or handed
 * to a listener. Terraform redacts sensitive values in its own messages; this is the second line,
 * for a provider or a wrapper that prints one anyway. The hiding is {@link Scrubber}'s; this keeps
 * adding to it as plans and states are read. Thread-safe.
 */
public final class KnownSecrets {

  private volatile Scrubber scrubber = Scrubber.none();

  /** Remembers {@code values} as secrets (nulls skipped). */
  public synchronized void addAll(Collection<String> values) {
    scrubber = scrubber.with(values);
  }

  /** The secrets known now, to mark the values that hold one ({@link Masks#holding}). */
  public Scrubber current() {
    return scrubber;
  }

  /** {@code text} with every known secret hidden, as {@link Scrubber#scrub} does. */
  public String scrub(String text) {
    return scrubber.scrub(text);
  }
}
