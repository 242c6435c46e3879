package dev.gitops.images.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.images.registry.internal.TrustedCertificates;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's {@code docker-registry} (distribution 2.8) started for a test on 127.0.0.1 with a free
 * port, a storage directory and a config the test writes — never the package's own config. Images
 * are pushed with plain HTTP calls (blob uploads, then a manifest PUT), no Docker needed.
 *
 * <p>{@link #assumeAvailable()} skips a test only when the binary is missing <em>and</em> the run is
 * not CI ({@code CI} unset); in CI a missing binary fails the test, since {@code .ci/run} installs it.
 *
 * <pre>{@code
 * DockerRegistry.assumeAvailable();
 * try (DockerRegistry registry = DockerRegistry.builder(dir).start()) {
 *   registry.push("team/web", "v1.2.4");
 * }
 * }</pre>
 */
public final class DockerRegistry implements AutoCloseable {

  private static final String BINARY = "docker-registry";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final int port;
  private final Path log;
  private final boolean tls;
  private final TokenServer tokens;
  private final String service;
  private final HttpClient http;

  private DockerRegistry(Process process, int port, Path log, boolean tls, TokenServer tokens, String service,
      HttpClient http) {
    this.process = process;
    this.port = port;
    this.log = log;
    this.tls = tls;
    this.tokens = tokens;
    this.service = service;
    this.http = http;
  }

  /** The binary, when on the PATH. */
  public static Optional<Path> binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, BINARY);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** Skips the calling test when the binary is missing outside CI; in CI a missing binary is a failure later. */
  public static void assumeAvailable() {
    boolean ci = System.getenv("CI") != null && !System.getenv("CI").isBlank();
    Assumptions.assumeTrue(binary().isPresent() || ci,
        BINARY + " is not installed (apt-get install docker-registry); .ci/run installs it");
  }

  /** A builder storing blobs under {@code dir}. */
  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  /** host:port, as in image references. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  /** The registry's log so far. */
  public String log() throws IOException {
    return Files.readString(log);
  }

  /**
   * Pushes a small image as {@code repository:tag}: a config blob and one layer blob whose content
   * holds {@code tag} and {@code salt} (so each push has its own digest), then a Docker v2 manifest.
   * Returns the manifest digest.
   */
  public String push(String repository, String tag, String salt) throws IOException, InterruptedException {
    String auth = authorization(repository);
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
        + "\"diff_ids\":[]},\"comment\":\"" + tag + " " + salt + "\"}").getBytes(StandardCharsets.UTF_8);
    byte[] layer = ("layer of " + repository + ":" + tag + " " + salt).getBytes(StandardCharsets.UTF_8);
    String configDigest = upload(repository, config, auth);
    String layerDigest = upload(repository, layer, auth);
    ObjectNode m = JSON.createObjectNode();
    m.put("schemaVersion", 2);
    m.put("mediaType", "application/vnd.docker.distribution.manifest.v2+json");
    ObjectNode c = m.putObject("config");
    c.put("mediaType", "application/vnd.docker.container.image.v1+json");
    c.put("size", config.length);
    c.put("digest", configDigest);
    ObjectNode l = m.putArray("layers").addObject();
    l.put("mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip");
    l.put("size", layer.length);
    l.put("digest", layerDigest);
    byte[] manifest = JSON.writeValueAsBytes(m);
    HttpResponse<String> r = http.send(request(base() + "/v2/" + repository + "/manifests/" + tag, auth)
        .header("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) {
      throw new IOException("manifest PUT " + repository + ":" + tag + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.headers().firstValue("Docker-Content-Digest").orElse(RegistryClient.sha256(manifest));
  }

  /** Pushes {@code repository:tag} with no salt. */
  public String push(String repository, String tag) throws IOException, InterruptedException {
    return push(repository, tag, "");
  }

  private String upload(String repository, byte[] blob, String auth) throws IOException, InterruptedException {
    String digest = RegistryClient.sha256(blob);
    HttpResponse<String> start = http.send(request(base() + "/v2/" + repository + "/blobs/uploads/", auth)
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    if (start.statusCode() != 202) {
      throw new IOException("blob upload POST answered " + start.statusCode() + ": " + start.body());
    }
    String location = start.headers().firstValue("Location").orElseThrow();
    URI put = URI.create(base() + "/").resolve(location);
    String target = put + (put.getRawQuery() == null ? "?" : "&") + "digest=" + digest;
    HttpResponse<String> done = http.send(request(target, auth).header("Content-Type", "application/octet-stream")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(blob)).build(), HttpResponse.BodyHandlers.ofString());
    if (done.statusCode() != 201) {
      throw new IOException("blob upload PUT answered " + done.statusCode() + ": " + done.body());
    }
    return digest;
  }

  private HttpRequest.Builder request(String uri, String auth) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(30));
    if (auth != null) {
      b.header("Authorization", auth);
    }
    return b;
  }

  private String authorization(String repository) throws IOException {
    if (tokens == null) {
      return null;
    }
    try {
      return "Bearer " + tokens.token(service, List.of("repository:" + repository + ":pull,push"));
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  private String base() {
    return (tls ? "https" : "http") + "://" + host();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Configures and starts a registry. */
  public static final class Builder {
    private final Path dir;
    private TestCertificate tlsCertificate;
    private TokenServer tokenServer;
    private TestCertificate tokenSigner;

    private Builder(Path dir) {
      this.dir = dir;
    }

    /** Serves HTTPS with {@code cert}. */
    public Builder tls(TestCertificate cert) {
      this.tlsCertificate = cert;
      return this;
    }

    /** Requires bearer tokens from {@code server}, signed by {@code signer}. */
    public Builder tokenAuth(TokenServer server, TestCertificate signer) {
      this.tokenServer = server;
      this.tokenSigner = signer;
      return this;
    }

    /** Writes the config, starts the registry and waits until it answers. */
    public DockerRegistry start() throws IOException, InterruptedException {
      Path bin = binary().orElseThrow(() -> new IOException(BINARY + " is not installed (apt-get install docker-registry)"));
      Files.createDirectories(dir);
      Path log = dir.resolve("registry.log");
      String service = "gitops-test-registry";
      IOException last = null;
      for (int attempt = 0; attempt < 3; attempt++) {
        int port = freePort();
        StringBuilder cfg = new StringBuilder();
        cfg.append("version: 0.1\n")
            .append("log:\n  level: warn\n  accesslog:\n    disabled: true\n")
            .append("storage:\n  filesystem:\n    rootdirectory: ").append(dir.resolve("data")).append('\n')
            .append("  delete:\n    enabled: true\n")
            .append("http:\n  addr: 127.0.0.1:").append(port).append('\n')
            .append("  secret: gitops-test-secret\n");
        if (tlsCertificate != null) {
          cfg.append("  tls:\n    certificate: ").append(tlsCertificate.certPem())
              .append("\n    key: ").append(tlsCertificate.keyPem()).append('\n');
        }
        if (tokenServer != null) {
          cfg.append("auth:\n  token:\n    realm: ").append(tokenServer.realm())
              .append("\n    service: ").append(service)
              .append("\n    issuer: ").append(TokenServer.ISSUER)
              .append("\n    rootcertbundle: ").append(tokenSigner.certPem()).append('\n');
        }
        Path config = dir.resolve("config.yml");
        Files.writeString(config, cfg);
        Process p = new ProcessBuilder(List.of(bin.toString(), "serve", config.toString()))
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HttpClient.Builder hb = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2));
        if (tlsCertificate != null) {
          hb.sslContext(TrustedCertificates.sslContext(List.of(tlsCertificate.certPem())));
        }
        HttpClient http = hb.build();
        URI ping = URI.create((tlsCertificate != null ? "https" : "http") + "://127.0.0.1:" + port + "/v2/");
        for (int i = 0; i < 100 && p.isAlive(); i++) {  // bounded: about 10 s
          try {
            http.send(HttpRequest.newBuilder(ping).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.discarding());
            return new DockerRegistry(p, port, log, tlsCertificate != null, tokenServer, service, http);
          } catch (IOException e) {
            last = e;
            Thread.sleep(100);
          }
        }
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
      throw new IOException("docker-registry did not start; log: " + Files.readString(log), last);
    }

    private static int freePort() throws IOException {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      }
    }
  }
}
