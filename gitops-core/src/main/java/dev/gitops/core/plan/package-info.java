/**
 * Planning: the per-key decision table, the dependency graph, plan ids and fingerprints, the
 * mass-deletion guard, and the plan file format.
 */
package dev.gitops.core.plan;
