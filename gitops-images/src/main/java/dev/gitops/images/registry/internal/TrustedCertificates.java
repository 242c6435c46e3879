package dev.gitops.images.registry.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** An {@link SSLContext} that trusts the JDK's default CAs plus certificates from PEM files. */
public final class TrustedCertificates {

  private TrustedCertificates() {}

  /**
   * A TLS context trusting the default CAs and every certificate in {@code pemFiles}.
   *
   * @throws IllegalArgumentException naming the file that cannot be read or holds no certificate
   */
  public static SSLContext sslContext(List<Path> pemFiles) {
    try {
      KeyStore extra = KeyStore.getInstance(KeyStore.getDefaultType());
      extra.load(null, null);
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      int n = 0;
      for (Path file : pemFiles) {
        Collection<? extends Certificate> certs;
        try (InputStream in = Files.newInputStream(file)) {
          certs = cf.generateCertificates(in);
        } catch (java.nio.file.NoSuchFileException e) {
          throw new IllegalArgumentException("CA file " + file + " does not exist", e);
        } catch (IOException | CertificateException e) {
          throw new IllegalArgumentException("CA file " + file + " cannot be read as PEM certificates: " + e.getMessage(), e);
        }
        if (certs.isEmpty()) {
          throw new IllegalArgumentException("CA file " + file + " holds no certificate");
        }
        for (Certificate c : certs) {
          extra.setCertificateEntry("ca-" + n++, c);
        }
      }
      X509TrustManager custom = trustManager(extra);
      X509TrustManager defaults = trustManager(null);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {new Either(custom, defaults)}, null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot set up TLS trust: " + e.getMessage(), e);
    }
  }

  private static X509TrustManager trustManager(KeyStore store) throws GeneralSecurityException {
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("no X509TrustManager");
  }

  /** Trusts a chain when either manager does: the custom CAs first, then the defaults. */
  private record Either(X509TrustManager first, X509TrustManager second) implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      second.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      try {
        first.checkServerTrusted(chain, authType);
      } catch (CertificateException notOurs) {
        // not signed by a configured CA: the JDK's defaults decide, and their error is the one reported
        second.checkServerTrusted(chain, authType);
      }
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      List<X509Certificate> all = new ArrayList<>(List.of(first.getAcceptedIssuers()));
      all.addAll(List.of(second.getAcceptedIssuers()));
      return all.toArray(new X509Certificate[0]);
    }
  }
}
