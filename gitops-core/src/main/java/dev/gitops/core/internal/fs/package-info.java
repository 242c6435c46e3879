/**
 * Internal: durable file writes, large-file reads a slice at a time, file names for keys, the
 * lookup of the programs providers run and the OS lock of a lock file, shared by the file state
 * store, the local-files provider, the Terraform and Ansible providers and the agent. Not API; it
 * may change in any release.
 */
package dev.gitops.core.internal.fs;
