package dev.gitops.ansible.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.Function;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Decrypts whole files encrypted with {@code ansible-vault} (format 1.1 and 1.2, AES256), so the
 * inventory reader can read a vault-encrypted inventory or {@code group_vars} file as Ansible
 * does: PBKDF2-SHA256 (10,000 rounds) derives the AES-256-CTR key, the HMAC-SHA256 key and the counter from the
 * password and the salt; the HMAC is checked before anything is decrypted.
 */
public final class VaultFiles {

  private VaultFiles() {}

  /**
   * A decryptor with the password in {@code passwordFile} (read, then stripped, as Ansible does).
   * A password that does not decrypt the text is an {@link IllegalArgumentException} whose message
   * starts with "HMAC mismatch" and names {@code passwordFile} as given: the file a user reads the
   * error about is one of the repository, the password one of this machine's configuration.
   */
  public static Function<String, String> decryptor(Path passwordFile) {
    return text -> {
      byte[] password;
      try {
        password = new String(Files.readAllBytes(passwordFile), StandardCharsets.UTF_8).strip()
            .getBytes(StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the vault password file " + passwordFile, e);
      }
      try {
        return decrypt(text, password);
      } catch (IllegalArgumentException e) {
        if (!String.valueOf(e.getMessage()).startsWith(HMAC_MISMATCH)) {
          throw e;
        }
        throw new IllegalArgumentException(HMAC_MISMATCH + ": the vault password in the vault password file "
            + passwordFile + " (vaultPasswordFile, the CLI's --vault-password-file) is not the one it was encrypted"
            + " with, or it is damaged", e);
      }
    };
  }

  /** How a wrong password (or a damaged file) is told: the HMAC over the cipher text does not match. */
  private static final String HMAC_MISMATCH = "HMAC mismatch";

  /**
   * The plain text of a vault file.
   *
   * @throws IllegalArgumentException when the text is not a vault file or the password is wrong
   */
  public static String decrypt(String vaultText, byte[] password) {
    String[] lines = vaultText.strip().split("\\R");
    String[] header = lines[0].strip().split(";");
    if (header.length < 3 || !header[0].equals("$ANSIBLE_VAULT") || !header[2].strip().equals("AES256")) {
      throw new IllegalArgumentException("not an AES256 vault file (header '" + lines[0].strip() + "')");
    }
    StringBuilder hex = new StringBuilder();
    for (int i = 1; i < lines.length; i++) {
      hex.append(lines[i].strip());
    }
    try {
      String[] parts = new String(HexFormat.of().parseHex(hex.toString()), StandardCharsets.US_ASCII).split("\n");
      if (parts.length != 3) {
        throw new IllegalArgumentException("the vault payload does not have salt, HMAC and cipher text");
      }
      byte[] salt = HexFormat.of().parseHex(parts[0].strip());
      byte[] hmac = HexFormat.of().parseHex(parts[1].strip());
      byte[] cipherText = HexFormat.of().parseHex(parts[2].strip());
      char[] pw = new String(password, StandardCharsets.UTF_8).toCharArray();
      byte[] derived = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
          .generateSecret(new PBEKeySpec(pw, salt, 10_000, 80 * 8)).getEncoded();
      byte[] key1 = Arrays.copyOfRange(derived, 0, 32);
      byte[] key2 = Arrays.copyOfRange(derived, 32, 64);
      byte[] iv = Arrays.copyOfRange(derived, 64, 80);
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key2, "HmacSHA256"));
      if (!MessageDigest.isEqual(mac.doFinal(cipherText), hmac)) {
        throw new IllegalArgumentException(HMAC_MISMATCH + ": wrong vault password or damaged file");
      }
      Cipher aes = Cipher.getInstance("AES/CTR/NoPadding");
      aes.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key1, "AES"), new IvParameterSpec(iv));
      byte[] padded = aes.doFinal(cipherText);
      int pad = padded.length == 0 ? 0 : padded[padded.length - 1] & 0xff;
      if (pad < 1 || pad > 16 || pad > padded.length) {
        throw new IllegalArgumentException("bad padding in the decrypted vault");
      }
      return new String(padded, 0, padded.length - pad, StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot decrypt: " + e.getMessage(), e);
    }
  }
}
