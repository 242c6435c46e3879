package dev.gitops.images.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.SignatureException;
import dev.gitops.git.signatures.OpenPgpSignatures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Date;
import java.util.Map;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPKeyPair;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPKeyPair;
import org.eclipse.jgit.lib.GpgConfig;
import org.eclipse.jgit.lib.GpgSignature;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.Signer;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commits signed through a JGit {@link Signer} (here one over BouncyCastle) verify with the
 * project's own OpenPGP verifier ({@code gitops-git-signatures}), and the executable bit of an
 * edited file survives.
 */
class SignedCommitTest {

  @TempDir
  Path tmp;

  /** Signs with one OpenPGP key, as org.eclipse.jgit.gpg.bc's signer would with a key from a ring. */
  record BcSigner(PGPKeyPair key) implements Signer {
    @Override
    public GpgSignature sign(Repository repository, GpgConfig config, byte[] data, PersonIdent committer,
        String signingKey, CredentialsProvider credentials) throws IOException {
      try {
        PGPSignatureGenerator sg = new PGPSignatureGenerator(
            new BcPGPContentSignerBuilder(key.getPublicKey().getAlgorithm(), HashAlgorithmTags.SHA256));
        sg.init(PGPSignature.BINARY_DOCUMENT, key.getPrivateKey());
        sg.update(data);
        ByteArrayOutputStream armored = new ByteArrayOutputStream();
        try (ArmoredOutputStream out = new ArmoredOutputStream(armored)) {
          sg.generate().encode(out);
        }
        return new GpgSignature(armored.toByteArray());
      } catch (PGPException e) {
        throw new IOException(e);
      }
    }

    @Override
    public boolean canLocateSigningKey(Repository repository, GpgConfig config, PersonIdent committer,
        String signingKey, CredentialsProvider credentials) {
      return true;
    }
  }

  private static PGPKeyPair rsaKey() throws Exception {
    RSAKeyPairGenerator gen = new RSAKeyPairGenerator();
    gen.init(new RSAKeyGenerationParameters(BigInteger.valueOf(0x10001), new SecureRandom(), 2048, 12));
    return new BcPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, gen.generateKeyPair(), new Date());
  }

  private static Path publicRing(PGPKeyPair key, Path file) throws Exception {
    PGPKeyRingGenerator gen = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, key, "Bot <bot@example.com>",
        new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1), null, null,
        new BcPGPContentSignerBuilder(PublicKeyAlgorithmTags.RSA_GENERAL, HashAlgorithmTags.SHA256), null);
    return Files.write(file, gen.generatePublicKeyRing().getEncoded());
  }

  @Test
  void signedCommitsVerifyAndTheExecutableBitStays() throws Exception {
    PGPKeyPair bot = rsaKey();
    Path ring = publicRing(bot, tmp.resolve("bot.gpg"));
    Path strangerRing = publicRing(rsaKey(), tmp.resolve("stranger.gpg"));
    String script = "#!/bin/sh\n# image: registry.example.com/team/web:v1.0.0 no marker in a comment line\n"
        + "image: registry.example.com/team/web:v1.0.0 # {\"$imagepolicy\": \"apps:web\"}\n";
    try (GitRemote remote = GitRemote.start(tmp.resolve("git"), Map.of("apps/run.yaml", script))) {
      Files.setPosixFilePermissions(remote.seed.dir().resolve("apps/run.yaml"), PosixFilePermissions.fromString("rwxr-xr-x"));
      remote.seed.commit("executable");
      remote.seed.git("push", "-q", remote.bare.toString(), "main");
      assertThat(remote.git("ls-tree", "main", "apps/run.yaml")).startsWith("100755");

      WriteResult r;
      try (GitWriteBack git = GitWriteBack.builder(remote.url).signer(new BcSigner(bot), "bot").build()) {
        r = git.write(GitWriteBackTest.choices("v1.0.1", "v2"));
      }

      assertThat(remote.git("ls-tree", "main", "apps/run.yaml")).startsWith("100755");
      assertThat(remote.show("main", "apps/run.yaml")).isEqualTo(script.replace(":v1.0.0 #", ":v1.0.1 #"));
      try (Repository repo = new FileRepositoryBuilder().setGitDir(remote.bare.toFile()).build();
           RevWalk walk = new RevWalk(repo)) {
        RevCommit commit = walk.parseCommit(ObjectId.fromString(r.commit().orElseThrow()));
        new OpenPgpSignatures().load(ring).verify(commit);
        assertThatThrownBy(() -> new OpenPgpSignatures().load(strangerRing).verify(commit))
            .isInstanceOf(SignatureException.class);
      }
    }
  }
}
