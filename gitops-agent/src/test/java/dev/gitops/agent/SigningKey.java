package dev.gitops.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
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
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.GpgSignature;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * An OpenPGP signing key made for a test (Bouncy Castle, no gpg needed), its public key ring, and
 * commits signed with it as {@code git commit -S} signs them: for {@code source.verify} here and
 * {@code --verify-key-ring} in gitops-cli's tests (this class reaches them through the test jar).
 */
public final class SigningKey {

  private final PGPKeyPair key;
  private final byte[] publicRing;
  private final byte[] secretRing;

  private SigningKey(PGPKeyPair key, byte[] publicRing, byte[] secretRing) {
    this.key = key;
    this.publicRing = publicRing;
    this.secretRing = secretRing;
  }

  /**
   * A new RSA key (1024 bits: made in tens of milliseconds; the checks do not judge key sizes)
   * created a day ago, so that any signature a test makes now is after it.
   */
  public static SigningKey generate(String userId) {
    try {
      RSAKeyPairGenerator gen = new RSAKeyPairGenerator();
      gen.init(new RSAKeyGenerationParameters(BigInteger.valueOf(0x10001), new SecureRandom(), 1024, 12));
      PGPKeyPair key = new BcPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, gen.generateKeyPair(),
          Date.from(Instant.now().minus(Duration.ofDays(1))));
      PGPKeyRingGenerator ring = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, key, userId,
          new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1), null, null,
          new BcPGPContentSignerBuilder(PublicKeyAlgorithmTags.RSA_GENERAL, HashAlgorithmTags.SHA256), null);
      return new SigningKey(key, ring.generatePublicKeyRing().getEncoded(), ring.generateSecretKeyRing().getEncoded());
    } catch (PGPException | IOException e) {
      throw new IllegalStateException("cannot make a test key: " + e, e);
    }
  }

  /** Writes the armored public key ring ({@code gpg --export --armor}) to {@code file}. */
  public Path writeArmoredRing(Path file) {
    return writeArmored(file, publicRing);
  }

  /**
   * Writes the armored secret key ring alone, unprotected ({@code gpg --export-secret-keys
   * --armor}), to {@code file}: a private key given where the public keys are expected.
   */
  public Path writeArmoredSecretRing(Path file) {
    return writeArmored(file, secretRing);
  }

  private static Path writeArmored(Path file, byte[] ring) {
    try {
      ByteArrayOutputStream armored = new ByteArrayOutputStream();
      try (ArmoredOutputStream out = new ArmoredOutputStream(armored)) {
        out.write(ring);
      }
      Files.createDirectories(file.toAbsolutePath().getParent());
      return Files.write(file, armored.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Replaces the commit the checked-out branch of the repository at {@code workTree} names with
   * the same commit (tree, parents, author, message) signed by this key.
   *
   * @return the signed commit's id
   */
  public String signHead(Path workTree) {
    try (Repository r = new FileRepositoryBuilder().setWorkTree(workTree.toFile()).setup().build();
        RevWalk walk = new RevWalk(r); ObjectInserter ins = r.newObjectInserter()) {
      String branch = r.exactRef(Constants.HEAD).getTarget().getName();
      RevCommit head = walk.parseCommit(r.resolve(branch));
      CommitBuilder cb = new CommitBuilder();
      cb.setTreeId(head.getTree());
      cb.setParentIds(head.getParents());
      cb.setAuthor(head.getAuthorIdent());
      cb.setCommitter(head.getCommitterIdent());
      cb.setMessage(head.getFullMessage());
      PGPSignatureGenerator sg = new PGPSignatureGenerator(
          new BcPGPContentSignerBuilder(key.getPublicKey().getAlgorithm(), HashAlgorithmTags.SHA256));
      sg.init(PGPSignature.BINARY_DOCUMENT, key.getPrivateKey());
      sg.update(cb.build());
      ByteArrayOutputStream armored = new ByteArrayOutputStream();
      try (ArmoredOutputStream out = new ArmoredOutputStream(armored)) {
        sg.generate().encode(out);
      }
      cb.setGpgSignature(new GpgSignature(armored.toByteArray()));
      ObjectId signed = ins.insert(cb);
      ins.flush();
      RefUpdate u = r.updateRef(branch);
      u.setNewObjectId(signed);
      u.setForceUpdate(true);
      RefUpdate.Result result = u.update();
      if (result != RefUpdate.Result.FORCED && result != RefUpdate.Result.FAST_FORWARD) {
        throw new IllegalStateException("cannot move " + branch + " to the signed commit: " + result);
      }
      return signed.name();
    } catch (IOException | PGPException e) {
      throw new IllegalStateException("cannot sign the head of " + workTree + ": " + e, e);
    }
  }
}
