/**
 * The engine's porcelain: {@link dev.gitops.core.Reconciler}, its options, and the periodic loop.
 * The plumbing lives in the sub-packages, in data-flow order: source, decode, merge, plan, apply, store.
 */
package dev.gitops.core;
