/**
 * OpenPGP commit signature checks for {@link dev.gitops.core.source.GitSource.Builder#requireSignedBy(java.nio.file.Path)}:
 * a commit is read only when a key of the ring the user supplies signed it.
 */
package dev.gitops.git.signatures;
