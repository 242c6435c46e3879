package dev.gitops.core.source.spi;

import java.nio.file.Path;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevTag;

/**
 * OpenPGP commit and tag signature checks for {@link
 * dev.gitops.core.source.GitSource.Builder#requireSignedBy(Path, dev.gitops.core.source.SignatureMode)}.
 * The {@code gitops-git-signatures} module implements it over BouncyCastle and registers it in
 * {@code META-INF/services}; without that module on the classpath, building a {@code GitSource}
 * that requires signatures fails with a message naming {@link #ARTIFACT}. Applications add the
 * artifact, nothing else:
 *
 * <pre class="language-xml">{@code
 * <dependency>
 *   <groupId>dev.gitops</groupId>
 *   <artifactId>gitops-git-signatures</artifactId>
 * </dependency>
 * }</pre>
 */
public interface CommitSignatures {

  /** The Maven coordinates of the module that implements this interface, for error messages. */
  String ARTIFACT = "dev.gitops:gitops-git-signatures";

  /**
   * Loads the trusted public keys of {@code publicKeyRing} (armored or binary, one or more key
   * rings); no other key, and never the GnuPG home, is trusted.
   *
   * @param publicKeyRing the key ring file
   * @return a verifier trusting exactly those keys
   * @throws dev.gitops.api.SourceException naming the file when it cannot be read or holds no
   *     public key
   */
  Verifier load(Path publicKeyRing);

  /** Checks commits and annotated tags against one key ring. */
  interface Verifier {

    /**
     * Verifies the signature of {@code commit}.
     *
     * @param commit a parsed commit (its raw buffer is read)
     * @throws dev.gitops.api.SignatureException naming the commit when it is unsigned, signed by a
     *     key outside the ring or by one not valid both at the signature's creation time and now
     *     (revoked, expired), or the signature does not match its content
     */
    void verify(RevCommit commit);

    /**
     * Verifies the signature of the annotated tag {@code tag}: the OpenPGP signature block git
     * appends to the tag object's message ({@code git tag -s}), over the tag object's raw bytes
     * before that block, under the same rules as a commit's. This default refuses every tag: an
     * implementation written for commits alone cannot check one.
     *
     * @param tag a parsed tag (its raw buffer is read)
     * @throws dev.gitops.api.SignatureException naming the tag and the commit it names when it is
     *     unsigned, signed by a key outside the ring or by one not valid both at the signature's
     *     creation time and now, or the signature does not match its content
     */
    default void verifyTag(RevTag tag) {
      throw new UnsupportedOperationException(getClass().getName() + " checks commit signatures only, not the"
          + " signature of the tag " + tag.getTagName() + ": put " + ARTIFACT + " of gitops-core's version on the"
          + " classpath");
    }
  }
}
