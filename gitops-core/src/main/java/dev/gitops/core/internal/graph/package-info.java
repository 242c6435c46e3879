/**
 * Internal, no compatibility promise: graph algorithms shared by planning and execution (finding
 * a dependency cycle to name it), so each is written once.
 */
package dev.gitops.core.internal.graph;
