package dev.gitops.images.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed RSA certificate for 127.0.0.1 made with the JDK's {@code keytool}: a registry's TLS
 * certificate, and the key a test token server signs its tokens with.
 */
public final class TestCertificate {

  private final X509Certificate certificate;
  private final PrivateKey key;
  private final Path certPem;
  private final Path keyPem;

  private TestCertificate(X509Certificate certificate, PrivateKey key, Path certPem, Path keyPem) {
    this.certificate = certificate;
    this.key = key;
    this.certPem = certPem;
    this.keyPem = keyPem;
  }

  /** Creates a certificate with CN {@code name} and SAN IP 127.0.0.1 in {@code dir}. */
  public static TestCertificate create(Path dir, String name) throws IOException, GeneralSecurityException {
    Files.createDirectories(dir);
    Path store = dir.resolve(name + ".p12");
    Files.deleteIfExists(store);
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-alias", name, "-keyalg", "RSA",
        "-keysize", "2048", "-dname", "CN=" + name, "-ext", "SAN=ip:127.0.0.1", "-validity", "2",
        "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit"))
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("keytool failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    X509Certificate cert = (X509Certificate) ks.getCertificate(name);
    PrivateKey key = (PrivateKey) ks.getKey(name, "changeit".toCharArray());
    Path certPem = dir.resolve(name + ".crt");
    Path keyPem = dir.resolve(name + ".key");
    Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
    Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
    return new TestCertificate(cert, key, certPem, keyPem);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  /** The certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The private key. */
  public PrivateKey key() {
    return key;
  }

  /** The certificate as a PEM file. */
  public Path certPem() {
    return certPem;
  }

  /** The private key as a PKCS#8 PEM file. */
  public Path keyPem() {
    return keyPem;
  }
}
