/**
 * Internal, no compatibility promise: the planning engine behind {@code Reconciler} — the per-key
 * decision table ({@link dev.gitops.core.internal.plan.Planner}), the dependency graph, plan ids
 * and fingerprints, last-applied records, the mass-deletion guard, planning units and output
 * references. Users call {@code Reconciler.plan()} and {@code PlanCodec}; see docs/api.md.
 */
package dev.gitops.core.internal.plan;
