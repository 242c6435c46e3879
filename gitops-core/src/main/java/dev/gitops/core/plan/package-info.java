/**
 * Plans as files and the deletion budget: {@link dev.gitops.core.plan.PlanCodec} writes a plan
 * as a reviewable JSON file and reads it back for {@code Reconciler.apply};
 * {@link dev.gitops.core.plan.DeletionBudget} bounds how much one sync may delete. The planning
 * engine itself is internal ({@code dev.gitops.core.internal.plan}).
 */
package dev.gitops.core.plan;
