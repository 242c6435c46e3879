package dev.gitops.git.signatures;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.SignatureException;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.Locale;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.openpgp.PGPKeyPair;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketVector;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPKeyPair;
import org.bouncycastle.util.encoders.Hex;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.GpgSignature;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A signing key is judged at the signature's creation time, which its signer chooses, and at the
 * verifier's "now", which the signer does not: a signature back-dated into a key's validity is
 * refused once the key (primary or signing subkey) has expired, and a signature dated in the future
 * beyond {@link CommitSignatureVerifier#CLOCK_SKEW} is refused. Times are fixed: the verifier's
 * clock is given.
 */
class KeyValidityNowTest {

  private static final Instant CREATED = Instant.parse("2020-01-01T00:00:00Z");
  private static final long ONE_YEAR = Duration.ofDays(365).toSeconds();
  private static final Instant EXPIRES = CREATED.plusSeconds(ONE_YEAR);
  private static final Instant SIGNED = Instant.parse("2020-06-01T00:00:00Z");
  private static final String USER_ID = "Old Signer <old@example.com>";

  private static PGPKeyPair primary;
  private static PGPKeyPair sub;

  @TempDir Path tmp;

  @BeforeAll
  static void keys() throws Exception {
    primary = rsaKey();
    sub = rsaKey();
  }

  private static PGPKeyPair rsaKey() throws Exception {
    RSAKeyPairGenerator gen = new RSAKeyPairGenerator();
    gen.init(new RSAKeyGenerationParameters(BigInteger.valueOf(0x10001), new SecureRandom(), 1024, 12));
    return new BcPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, gen.generateKeyPair(), Date.from(CREATED));
  }

  private static BcPGPContentSignerBuilder signer(PGPKeyPair key) {
    return new BcPGPContentSignerBuilder(key.getPublicKey().getAlgorithm(), HashAlgorithmTags.SHA256);
  }

  /** Key flags and, when {@code expirySeconds} > 0, a key expiration time, in a self-signature made at creation. */
  private static PGPSignatureSubpacketVector selfSigned(int keyFlags, long expirySeconds) {
    PGPSignatureSubpacketGenerator g = new PGPSignatureSubpacketGenerator();
    g.setSignatureCreationTime(false, Date.from(CREATED));
    g.setKeyFlags(false, keyFlags);
    if (expirySeconds > 0) {
      g.setKeyExpirationTime(false, expirySeconds);
    }
    return g.generate();
  }

  /** The primary key (signs and certifies) with a signing subkey, each expiring when its expiry is > 0. */
  private Path ring(long primaryExpiry, long subExpiry) throws Exception {
    PGPKeyRingGenerator gen = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, primary, USER_ID,
        new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1),
        selfSigned(KeyFlags.CERTIFY_OTHER | KeyFlags.SIGN_DATA, primaryExpiry), null, signer(primary), null);
    gen.addSubKey(sub, selfSigned(KeyFlags.SIGN_DATA, subExpiry), null, signer(sub));
    PGPPublicKeyRing ring = gen.generatePublicKeyRing();
    ByteArrayOutputStream armored = new ByteArrayOutputStream();
    try (ArmoredOutputStream out = new ArmoredOutputStream(armored)) {
      ring.encode(out);
    }
    return Files.write(tmp.resolve("ring.asc"), armored.toByteArray());
  }

  /** A commit signed by {@code key} with a signature dated {@code signedAt}. */
  private static RevCommit commit(PGPKeyPair key, Instant signedAt) throws Exception {
    CommitBuilder cb = new CommitBuilder();
    cb.setTreeId(ObjectId.fromString("4b825dc642cb6eb9a060e54bf8d69288fbee4904"));
    PersonIdent who = new PersonIdent("Old Signer", "old@example.com", Date.from(signedAt),
        java.util.TimeZone.getTimeZone(ZoneOffset.UTC));
    cb.setAuthor(who);
    cb.setCommitter(who);
    cb.setMessage("back-dated\n");
    PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
    hashed.setSignatureCreationTime(false, Date.from(signedAt));
    PGPSignatureGenerator sg = new PGPSignatureGenerator(signer(key));
    sg.init(PGPSignature.BINARY_DOCUMENT, key.getPrivateKey());
    sg.setHashedSubpackets(hashed.generate());
    sg.update(cb.build());
    ByteArrayOutputStream armored = new ByteArrayOutputStream();
    try (ArmoredOutputStream out = new ArmoredOutputStream(armored)) {
      sg.generate().encode(out);
    }
    cb.setGpgSignature(new GpgSignature(armored.toByteArray()));
    return RevCommit.parse(cb.build());
  }

  private static Clock at(Instant now) {
    return Clock.fixed(now, ZoneOffset.UTC);
  }

  private static String fingerprint(PGPKeyPair key) {
    return Hex.toHexString(key.getPublicKey().getFingerprint()).toUpperCase(Locale.ROOT);
  }

  @Test
  void aBackDatedSignatureByAPrimaryKeyThatHasSinceExpiredIsRefused() throws Exception {
    Path ring = ring(ONE_YEAR, 0);
    RevCommit commit = commit(primary, SIGNED);
    CommitSignatureVerifier before = CommitSignatureVerifier.load(ring, at(EXPIRES.minus(Duration.ofHours(1))));
    assertThatCode(() -> before.verify(commit)).doesNotThrowAnyException();
    CommitSignatureVerifier after = CommitSignatureVerifier.load(ring, at(Instant.parse("2026-12-06T00:00:00Z")));
    assertThatThrownBy(() -> after.verify(commit)).isInstanceOf(SignatureException.class)
        .hasMessageContaining("commit " + commit.name() + " refused")
        .hasMessageContaining(String.format("%016X", primary.getKeyID()))
        .hasMessageContaining(USER_ID)
        .hasMessageContaining("expired at " + EXPIRES)
        .hasMessageContaining("gpg --quick-set-expire " + fingerprint(primary) + " 1y)")
        .hasMessageContaining("gpg --export --armor " + fingerprint(primary))
        .hasMessageContaining("sign again with a valid key");
  }

  @Test
  void aBackDatedSignatureByASubkeyThatHasSinceExpiredIsRefused() throws Exception {
    Path ring = ring(0, ONE_YEAR);
    RevCommit commit = commit(sub, SIGNED);
    CommitSignatureVerifier before = CommitSignatureVerifier.load(ring, at(EXPIRES.minus(Duration.ofHours(1))));
    assertThatCode(() -> before.verify(commit)).doesNotThrowAnyException();
    CommitSignatureVerifier after = CommitSignatureVerifier.load(ring, at(EXPIRES.plus(Duration.ofHours(1))));
    assertThatThrownBy(() -> after.verify(commit)).isInstanceOf(SignatureException.class)
        .hasMessageContaining("commit " + commit.name() + " refused")
        .hasMessageContaining(String.format("%016X", sub.getKeyID()))
        .hasMessageContaining(USER_ID)
        .hasMessageContaining("a subkey of " + String.format("%016X", primary.getKeyID()))
        .hasMessageContaining("expired at " + EXPIRES)
        .hasMessageContaining("gpg --quick-set-expire " + fingerprint(primary) + " 1y " + fingerprint(sub) + ")");
  }

  /** The subkey valid now does not help when its primary key has expired: both are judged now. */
  @Test
  void aSubkeyWhosePrimaryKeyHasSinceExpiredIsRefused() throws Exception {
    Path ring = ring(ONE_YEAR, 0);
    RevCommit commit = commit(sub, SIGNED);
    CommitSignatureVerifier after = CommitSignatureVerifier.load(ring, at(EXPIRES.plus(Duration.ofHours(1))));
    assertThatThrownBy(() -> after.verify(commit)).isInstanceOf(SignatureException.class)
        .hasMessageContaining("whose primary key " + String.format("%016X", primary.getKeyID()) + " expired at "
            + EXPIRES);
  }

  @Test
  void aKeyThatNeverExpiresStillVerifiesAnOldSignature() throws Exception {
    Path ring = ring(0, 0);
    RevCommit byPrimary = commit(primary, SIGNED);
    RevCommit bySub = commit(sub, SIGNED);
    CommitSignatureVerifier years = CommitSignatureVerifier.load(ring, at(Instant.parse("2030-01-01T00:00:00Z")));
    assertThatCode(() -> years.verify(byPrimary)).doesNotThrowAnyException();
    assertThatCode(() -> years.verify(bySub)).doesNotThrowAnyException();
  }

  @Test
  void aSignatureDatedBeyondTheClockSkewIsRefusedAsFromTheFuture() throws Exception {
    Path ring = ring(0, 0);
    RevCommit commit = commit(sub, SIGNED);
    Instant slow = SIGNED.minus(CommitSignatureVerifier.CLOCK_SKEW).plusSeconds(1);
    assertThatCode(() -> CommitSignatureVerifier.load(ring, at(slow)).verify(commit)).doesNotThrowAnyException();
    Instant behind = SIGNED.minus(CommitSignatureVerifier.CLOCK_SKEW).minusSeconds(1);
    assertThatThrownBy(() -> CommitSignatureVerifier.load(ring, at(behind)).verify(commit))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("commit " + commit.name() + " refused")
        .hasMessageContaining("dated " + SIGNED + ", in the future")
        .hasMessageContaining(String.format("%016X", sub.getKeyID()));
  }
}
