/**
 * OpenPGP commit and tag signature checks for {@link
 * dev.gitops.core.source.GitSource.Builder#requireSignedBy(java.nio.file.Path,
 * dev.gitops.core.source.SignatureMode)}: a commit (or the annotated tag it is read through, or
 * both, as the mode says) is read only when a key of the ring the user supplies signed it, valid as GnuPG judges
 * it (not revoked; primary key and signing subkey unexpired both at the signature's creation time,
 * which the signer chooses, and now), over a hash algorithm GnuPG accepts (MD5 is refused, as
 * {@code git verify-commit} refuses it), by a signature dated no more than 5 minutes ahead of now
 * that has not expired (its signature expiration time, if any, is still to come).
 */
package dev.gitops.git.signatures;
