/**
 * Internal: durable file writes, large-file reads a slice at a time and file names for keys,
 * shared by the file state store, the local-files provider and the Terraform provider's state
 * read. Not API; it may change in any release.
 */
package dev.gitops.core.internal.fs;
