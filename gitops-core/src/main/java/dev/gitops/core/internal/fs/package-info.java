/**
 * Internal: durable file writes, large-file reads a slice at a time, file names for keys and the
 * lookup of the programs providers run, shared by the file state store, the local-files provider
 * and the Terraform and Ansible providers. Not API; it may change in any release.
 */
package dev.gitops.core.internal.fs;
