/** State stores: where the engine records last-applied state, pending writes, revisions and history. */
/* FileStateStore is the crash-safe default; InMemoryStateStore serves tests and embedding. */
package dev.gitops.core.store;
