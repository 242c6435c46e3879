package dev.gitops.images.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Docker token server on 127.0.0.1 for tests: answers {@code GET /token?service=…&scope=…} with
 * a JWT signed (RS256, certificate in {@code x5c}) by a {@link TestCertificate}, granting what the
 * scope asks. With a user and password it demands HTTP basic credentials. It records every request.
 */
public final class TokenServer implements AutoCloseable {

  /** One token request as received. */
  public record Request(String service, List<String> scopes, String authorization) {}

  public static final String ISSUER = "gitops-test-issuer";

  private final HttpServer server;
  private final TestCertificate signer;
  private final String expectedAuth;
  private final long expiresIn;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private static final ObjectMapper JSON = new ObjectMapper();

  private TokenServer(TestCertificate signer, String user, String password, long expiresIn) throws IOException {
    this.signer = signer;
    this.expiresIn = expiresIn;
    this.expectedAuth = user == null ? null
        : "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/token", this::handle);
    server.start();
  }

  /** Starts a server issuing tokens valid {@code expiresIn} seconds; {@code user} null means anyone. */
  public static TokenServer start(TestCertificate signer, String user, String password, long expiresIn) throws IOException {
    return new TokenServer(signer, user, password, expiresIn);
  }

  /** The realm URL. */
  public String realm() {
    return "http://" + authority() + "/token";
  }

  /** host:port. */
  public String authority() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /** The requests so far. */
  public List<Request> requests() {
    return List.copyOf(requests);
  }

  /** A token granting {@code scopes} directly (what a test pusher uses). */
  public String token(String service, List<String> scopes) throws GeneralSecurityException {
    return jwt(service, scopes);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String query = ex.getRequestURI().getRawQuery() == null ? "" : ex.getRequestURI().getRawQuery();
      String service = "";
      List<String> scopes = new ArrayList<>();
      for (String part : query.split("&")) {
        int eq = part.indexOf('=');
        if (eq < 0) {
          continue;
        }
        String k = part.substring(0, eq);
        String v = URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
        if (k.equals("service")) {
          service = v;
        } else if (k.equals("scope")) {
          scopes.add(v);
        }
      }
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      requests.add(new Request(service, scopes, auth));
      if (expectedAuth != null && !expectedAuth.equals(auth)) {
        byte[] body = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad login\"}]}".getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(401, body.length);
        ex.getResponseBody().write(body);
        return;
      }
      ObjectNode answer = JSON.createObjectNode();
      answer.put("token", jwt(service, scopes));
      answer.put("expires_in", expiresIn);
      answer.put("issued_at", Instant.now().toString());
      byte[] body = JSON.writeValueAsBytes(answer);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  private String jwt(String service, List<String> scopes) throws GeneralSecurityException {
    ObjectNode header = JSON.createObjectNode();
    header.put("typ", "JWT");
    header.put("alg", "RS256");
    header.putArray("x5c").add(Base64.getEncoder().encodeToString(signer.certificate().getEncoded()));
    long now = Instant.now().getEpochSecond();
    ObjectNode claims = JSON.createObjectNode();
    claims.put("iss", ISSUER);
    claims.put("sub", "test");
    claims.put("aud", service);
    claims.put("exp", now + Math.max(expiresIn, 1) + 5);
    claims.put("nbf", now - 60);
    claims.put("iat", now);
    claims.put("jti", UUID.randomUUID().toString());
    ArrayNode access = claims.putArray("access");
    for (String scope : scopes) {
      String[] parts = scope.split(":");
      if (parts.length == 3) {
        ObjectNode a = access.addObject();
        a.put("type", parts[0]);
        a.put("name", parts[1]);
        ArrayNode actions = a.putArray("actions");
        for (String action : parts[2].split(",")) {
          actions.add(action);
        }
      }
    }
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String signingInput = b64.encodeToString(header.toString().getBytes(StandardCharsets.UTF_8)) + "."
        + b64.encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
    Signature sig = Signature.getInstance("SHA256withRSA");
    sig.initSign(signer.key());
    sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
    return signingInput + "." + b64.encodeToString(sig.sign());
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
