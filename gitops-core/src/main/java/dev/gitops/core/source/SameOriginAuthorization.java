package dev.gitops.core.source;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Proxy;
import java.net.ProtocolException;
import java.net.URL;
import java.security.GeneralSecurityException;
import java.security.KeyManagementException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.transport.http.HttpConnection;
import org.eclipse.jgit.transport.http.HttpConnectionFactory;
import org.eclipse.jgit.transport.http.HttpConnectionFactory2;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP connections of one transport, whose requests to an origin (scheme, host, port) other
 * than the repository's carry no {@code Authorization} header. JGit keeps the authentication a
 * server asked for and sends it again after a redirect, to whatever host the redirect names; the
 * credentials provider ({@link Credentials#toProvider}) alone covers only a first challenge there.
 */
final class SameOriginAuthorization implements HttpConnectionFactory2 {

  private static final Logger LOG = LoggerFactory.getLogger(SameOriginAuthorization.class);

  private final HttpConnectionFactory delegate;
  private final String origin;

  SameOriginAuthorization(HttpConnectionFactory delegate, URIish repository) {
    this.delegate = delegate;
    this.origin = Credentials.origin(repository);
  }

  @Override
  public HttpConnection create(URL url) throws IOException {
    return scoped(url, delegate.create(url));
  }

  @Override
  public HttpConnection create(URL url, Proxy proxy) throws IOException {
    return scoped(url, delegate.create(url, proxy));
  }

  @Override
  public GitSession newSession() {
    if (!(delegate instanceof HttpConnectionFactory2 f)) {
      return new GitSession() {
        @Override
        public HttpConnection configure(HttpConnection connection, boolean sslVerify) {
          return connection;
        }

        @Override
        public void close() {
          // nothing held
        }
      };
    }
    GitSession session = f.newSession();
    return new GitSession() {
      @Override
      public HttpConnection configure(HttpConnection connection, boolean sslVerify)
          throws IOException, GeneralSecurityException {
        // the delegate's session knows its own connection type only
        if (connection instanceof NoAuthorization n) {
          session.configure(n.inner, sslVerify);
          return connection;
        }
        return session.configure(connection, sslVerify);
      }

      @Override
      public void close() {
        session.close();
      }
    };
  }

  private HttpConnection scoped(URL url, HttpConnection connection) {
    String to;
    try {
      to = Credentials.origin(new URIish(url));
    } catch (RuntimeException e) {
      to = "?";
    }
    return origin.equals(to) ? connection : new NoAuthorization(connection, to);
  }

  /** A connection that drops the {@code Authorization} header: it goes to another origin. */
  private final class NoAuthorization implements HttpConnection {
    private final HttpConnection inner;
    private final String to;

    NoAuthorization(HttpConnection inner, String to) {
      this.inner = inner;
      this.to = to;
    }

    @Override
    public void setRequestProperty(String key, String value) {
      if ("Authorization".equalsIgnoreCase(key)) {
        LOG.debug("no Authorization header for {}: the credentials are for {}", to, origin);
        return;
      }
      inner.setRequestProperty(key, value);
    }

    @Override
    public int getResponseCode() throws IOException {
      return inner.getResponseCode();
    }

    @Override
    public URL getURL() {
      return inner.getURL();
    }

    @Override
    public String getResponseMessage() throws IOException {
      return inner.getResponseMessage();
    }

    @Override
    public Map<String, List<String>> getHeaderFields() {
      return inner.getHeaderFields();
    }

    @Override
    public void setRequestMethod(String method) throws ProtocolException {
      inner.setRequestMethod(method);
    }

    @Override
    public void setUseCaches(boolean usecaches) {
      inner.setUseCaches(usecaches);
    }

    @Override
    public void setConnectTimeout(int timeout) {
      inner.setConnectTimeout(timeout);
    }

    @Override
    public void setReadTimeout(int timeout) {
      inner.setReadTimeout(timeout);
    }

    @Override
    public String getContentType() {
      return inner.getContentType();
    }

    @Override
    public InputStream getInputStream() throws IOException {
      return inner.getInputStream();
    }

    @Override
    public String getHeaderField(String name) {
      return inner.getHeaderField(name);
    }

    @Override
    public List<String> getHeaderFields(String name) {
      return inner.getHeaderFields(name);
    }

    @Override
    public int getContentLength() {
      return inner.getContentLength();
    }

    @Override
    public void setInstanceFollowRedirects(boolean followRedirects) {
      inner.setInstanceFollowRedirects(followRedirects);
    }

    @Override
    public void setDoOutput(boolean dooutput) {
      inner.setDoOutput(dooutput);
    }

    @Override
    public void setFixedLengthStreamingMode(int contentLength) {
      inner.setFixedLengthStreamingMode(contentLength);
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
      return inner.getOutputStream();
    }

    @Override
    public void setChunkedStreamingMode(int chunklen) {
      inner.setChunkedStreamingMode(chunklen);
    }

    @Override
    public String getRequestMethod() {
      return inner.getRequestMethod();
    }

    @Override
    public boolean usingProxy() {
      return inner.usingProxy();
    }

    @Override
    public void connect() throws IOException {
      inner.connect();
    }

    @Override
    public void configure(KeyManager[] km, TrustManager[] tm, SecureRandom random)
        throws NoSuchAlgorithmException, KeyManagementException {
      inner.configure(km, tm, random);
    }

    @Override
    public void setHostnameVerifier(HostnameVerifier hostnameverifier)
        throws NoSuchAlgorithmException, KeyManagementException {
      inner.setHostnameVerifier(hostnameverifier);
    }
  }
}
