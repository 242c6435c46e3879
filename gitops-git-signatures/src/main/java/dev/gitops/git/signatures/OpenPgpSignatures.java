package dev.gitops.git.signatures;

import dev.gitops.core.source.spi.CommitSignatures;
import java.nio.file.Path;

/**
 * OpenPGP commit and annotated tag signature checks for {@link dev.gitops.core.source.GitSource}
 * over BouncyCastle.
 * Found by {@code GitSource} through {@code META-INF/services}: applications add this module's
 * artifact ({@code dev.gitops:gitops-git-signatures}) and never call this class.
 *
 * <pre>{@code
 * GitSource signed = GitSource.builder()
 *     .url("https://git.example.com/ops/desired.git")
 *     .requireSignedBy(Path.of("/etc/gitops/trusted-keys.asc"))   // this module checks every commit read
 *     .build();
 * }</pre>
 */
public final class OpenPgpSignatures implements CommitSignatures {

  /** Called by {@link java.util.ServiceLoader}. */
  public OpenPgpSignatures() {}

  @Override
  public Verifier load(Path publicKeyRing) {
    return CommitSignatureVerifier.load(publicKeyRing);
  }
}
