/**
 * The engine's own helpers shared across its packages; not API (subpackages: the planner, the file
 * system, the loops, redaction, the dependency graph).
 */
package dev.gitops.core.internal;
