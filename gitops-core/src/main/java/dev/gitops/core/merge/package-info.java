/**
 * The three-way merge of last-applied, desired and live documents: target, RFC 6902 patch,
 * key-addressed field changes, ownership, drift, conflicts, takeovers, and sensitive values.
 */
package dev.gitops.core.merge;
