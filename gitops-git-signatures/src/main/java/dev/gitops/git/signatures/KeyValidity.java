package dev.gitops.git.signatures;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.PGPSignatureSubpacketVector;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentVerifierBuilderProvider;
import org.bouncycastle.util.encoders.Hex;

/**
 * Whether a key of a trusted ring may have made a data signature, checked as GnuPG does before it
 * calls a signature good: the primary key carries a valid self-signature, is not revoked, and is
 * unexpired both at the signature's creation time and now; a subkey is bound to that primary key
 * by a binding signature the primary key made (and, for signing, cross-certified by a back
 * signature the subkey made), is not revoked, is unexpired at both times too, and its key flags
 * allow signing. Every binding and self-signature is verified, not only looked at.
 *
 * <p>Expiry is judged now as well as at signing because the creation time is the signer's to
 * choose ({@code gpg --faked-system-time}): a key that expired years ago, leaked, could otherwise
 * still sign by back-dating. {@code git verify-commit} refuses such a signature too ("Good
 * signature ... [expired]", exit 1).
 */
final class KeyValidity {

  private KeyValidity() {}

  /**
   * Why {@code key} (the primary key of {@code ring} or one of its subkeys) cannot be trusted for a
   * data signature made at {@code signedAt} and checked at {@code now}, as a phrase ("whose primary
   * key is revoked"), or null when it can: the key must be unexpired at both times.
   */
  static String problem(PGPPublicKeyRing ring, PGPPublicKey key, Date signedAt, Instant now) {
    PGPPublicKey primary = ring.getPublicKey();
    String primaryId = String.format("%016X", primary.getKeyID());
    boolean isPrimary = key.getKeyID() == primary.getKeyID();
    String whose = isPrimary ? "which" : "whose primary key " + primaryId;
    if (primary.hasRevocation()) {
      return whose + " is revoked";
    }
    PGPSignature self = latestSelfSignature(primary);
    if (self == null) {
      return whose + " carries no valid self-signature (user id certification)";
    }
    if (signedAt.before(primary.getCreationTime())) {
      return "at " + signedAt.toInstant() + ", before " + (isPrimary ? "the key" : "its primary key " + primaryId)
          + " was created";
    }
    String expired = expiry(primary, self, signedAt, now);
    if (expired != null) {
      return whose + " " + expired + renewal(primary, null);
    }
    if (isPrimary) {
      return canSign(primary, self) ? null : "which is not allowed to sign (its key flags lack signing)";
    }
    if (key.hasRevocation()) {
      return "a subkey of " + primaryId + " which is revoked";
    }
    PGPSignature binding = latestBinding(primary, key);
    if (binding == null) {
      return "a subkey no valid binding signature of its primary key " + primaryId + " binds to it";
    }
    if (signedAt.before(key.getCreationTime())) {
      return "at " + signedAt.toInstant() + ", before the subkey was created";
    }
    String subExpired = expiry(key, binding, signedAt, now);
    if (subExpired != null) {
      return "a subkey of " + primaryId + " which " + subExpired + renewal(primary, key);
    }
    if (!canSign(key, binding)) {
      return "a subkey of " + primaryId + " which is not allowed to sign (its key flags lack signing)";
    }
    if (!crossCertified(primary, key, binding)) {
      return "a signing subkey of " + primaryId + " which is not cross-certified (no valid back signature by the"
          + " subkey; GnuPG refuses such subkeys too)";
    }
    return null;
  }

  /**
   * Why {@code key} is expired by {@code sig}'s key expiration time, at {@code signedAt} or at {@code
   * now} ("expired at ..."), or null when it is valid at both.
   */
  private static String expiry(PGPPublicKey key, PGPSignature sig, Date signedAt, Instant now) {
    PGPSignatureSubpacketVector hashed = sig.getHashedSubPackets();
    long seconds = hashed == null ? 0 : hashed.getKeyExpirationTime();
    if (seconds <= 0) {
      return null;
    }
    Instant end = key.getCreationTime().toInstant().plusSeconds(seconds);
    if (signedAt.toInstant().isAfter(end)) {
      return "had expired (at " + end + ") when the signature was made (dated " + signedAt.toInstant() + ")";
    }
    if (now.isAfter(end)) {
      return "expired at " + end + ", before now (" + now + "): a signature dated " + signedAt.toInstant()
          + ", while the key was valid, is refused as well, since its signer chooses that date (git verify-commit"
          + " refuses it too)";
    }
    return null;
  }

  /**
   * How to make an expired {@code primary} (or its {@code subkey}, when not null) valid again, or to
   * do without it, as a phrase appended to the problem.
   */
  private static String renewal(PGPPublicKey primary, PGPPublicKey subkey) {
    String fingerprint = Hex.toHexString(primary.getFingerprint()).toUpperCase(Locale.ROOT);
    String sub = subkey == null ? "" : " " + Hex.toHexString(subkey.getFingerprint()).toUpperCase(Locale.ROOT);
    return "; extend its expiry (gpg --quick-set-expire " + fingerprint + " 1y" + sub + ") and put the updated"
        + " public key into the trusted key ring (gpg --export --armor " + fingerprint + "), or sign again with a"
        + " valid key";
  }

  /** Whether {@code sig}'s key flags allow signing; without key flags, whether the algorithm can sign. */
  private static boolean canSign(PGPPublicKey key, PGPSignature sig) {
    PGPSignatureSubpacketVector hashed = sig.getHashedSubPackets();
    if (hashed != null && hashed.hasSubpacket(org.bouncycastle.bcpg.SignatureSubpacketTags.KEY_FLAGS)) {
      return (hashed.getKeyFlags() & KeyFlags.SIGN_DATA) != 0;
    }
    int a = key.getAlgorithm();
    return a != PublicKeyAlgorithmTags.RSA_ENCRYPT && a != PublicKeyAlgorithmTags.ELGAMAL_ENCRYPT
        && a != PublicKeyAlgorithmTags.ELGAMAL_GENERAL && a != PublicKeyAlgorithmTags.ECDH;
  }

  /** The newest user id certification or direct-key signature {@code primary} made on itself that verifies. */
  private static PGPSignature latestSelfSignature(PGPPublicKey primary) {
    PGPSignature latest = null;
    for (Iterator<String> ids = primary.getUserIDs(); ids.hasNext(); ) {
      String uid = ids.next();
      for (Iterator<PGPSignature> it = primary.getSignaturesForID(uid); it != null && it.hasNext(); ) {
        PGPSignature sig = it.next();
        if (isCertification(sig.getSignatureType()) && sig.getKeyID() == primary.getKeyID()
            && verifies(sig, primary, s -> s.verifyCertification(uid, primary)) && newer(sig, latest)) {
          latest = sig;
        }
      }
    }
    for (Iterator<PGPSignature> it = primary.getSignaturesOfType(PGPSignature.DIRECT_KEY); it.hasNext(); ) {
      PGPSignature sig = it.next();
      if (sig.getKeyID() == primary.getKeyID() && verifies(sig, primary, s -> s.verifyCertification(primary))
          && newer(sig, latest)) {
        latest = sig;
      }
    }
    return latest;
  }

  /** The newest subkey binding signature by {@code primary} over {@code sub} that verifies. */
  private static PGPSignature latestBinding(PGPPublicKey primary, PGPPublicKey sub) {
    PGPSignature latest = null;
    for (Iterator<PGPSignature> it = sub.getSignaturesOfType(PGPSignature.SUBKEY_BINDING); it.hasNext(); ) {
      PGPSignature sig = it.next();
      if (sig.getKeyID() == primary.getKeyID() && verifies(sig, primary, s -> s.verifyCertification(primary, sub))
          && newer(sig, latest)) {
        latest = sig;
      }
    }
    return latest;
  }

  /** Whether {@code binding} embeds a primary key binding signature by {@code sub} that verifies. */
  private static boolean crossCertified(PGPPublicKey primary, PGPPublicKey sub, PGPSignature binding) {
    List<PGPSignature> embedded = new ArrayList<>();
    for (PGPSignatureSubpacketVector v : new PGPSignatureSubpacketVector[] {binding.getHashedSubPackets(),
        binding.getUnhashedSubPackets()}) {
      if (v == null) {
        continue;
      }
      try {
        PGPSignatureList list = v.getEmbeddedSignatures();
        list.forEach(embedded::add);
      } catch (PGPException | RuntimeException e) {
        // an unreadable embedded signature certifies nothing
      }
    }
    for (PGPSignature back : embedded) {
      if (back.getSignatureType() == PGPSignature.PRIMARYKEY_BINDING
          && verifies(back, sub, s -> s.verifyCertification(primary, sub))) {
        return true;
      }
    }
    return false;
  }

  private static boolean isCertification(int type) {
    return type == PGPSignature.DEFAULT_CERTIFICATION || type == PGPSignature.NO_CERTIFICATION
        || type == PGPSignature.CASUAL_CERTIFICATION || type == PGPSignature.POSITIVE_CERTIFICATION;
  }

  private static boolean newer(PGPSignature sig, PGPSignature than) {
    return than == null || sig.getCreationTime().after(than.getCreationTime());
  }

  private interface Check {
    boolean verify(PGPSignature sig) throws PGPException;
  }

  /** Whether {@code sig}, made by {@code signer}, verifies by {@code check}; false when it cannot be checked. */
  private static boolean verifies(PGPSignature sig, PGPPublicKey signer, Check check) {
    try {
      sig.init(new BcPGPContentVerifierBuilderProvider(), signer);
      return check.verify(sig);
    } catch (PGPException | RuntimeException e) {
      return false;
    }
  }
}
