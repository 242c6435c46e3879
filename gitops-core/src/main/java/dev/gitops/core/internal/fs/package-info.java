/**
 * Internal: durable file writes and file names for keys, shared by the file state store and the
 * local-files provider. Not API; it may change in any release.
 */
package dev.gitops.core.internal.fs;
