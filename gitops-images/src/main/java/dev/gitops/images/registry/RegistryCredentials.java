package dev.gitops.images.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.core.internal.JsonErrors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the registry client finds a user name and password for a registry host: nowhere
 * (anonymous), from the caller, or from a Docker {@code config.json}. The client sends them as HTTP
 * basic credentials, to the registry when it asks for basic authentication, or to the token
 * endpoint of a bearer-token challenge.
 *
 * <pre>{@code
 * RegistryCredentials creds = RegistryCredentials.dockerConfig(Path.of(System.getProperty("user.home"), ".docker/config.json"))
 *     .or(RegistryCredentials.basic("registry.example.com", "robot", System.getenv("REGISTRY_TOKEN")));
 * }</pre>
 */
@FunctionalInterface
public interface RegistryCredentials {

  /** A user name and password (or access token); {@link #toString()} never shows the password. */
  record Login(String username, String password) {
    /** A login; both parts are required. */
    public Login {
      Objects.requireNonNull(username, "username");
      Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
      return "Login[" + username + ", password=***]";
    }
  }

  /**
   * The login for {@code registry} (a host, with port when it has one; Docker Hub is {@code
   * docker.io}), or empty for anonymous access.
   */
  Optional<Login> find(String registry);

  /** These credentials, and {@code other}'s for registries these have none for. */
  default RegistryCredentials or(RegistryCredentials other) {
    Objects.requireNonNull(other, "other");
    return registry -> {
      Optional<Login> mine = find(registry);
      return mine.isPresent() ? mine : other.find(registry);
    };
  }

  /** No credentials: every registry is read anonymously. */
  static RegistryCredentials anonymous() {
    return registry -> Optional.empty();
  }

  /** {@code username} and {@code password} for {@code registry} only. */
  static RegistryCredentials basic(String registry, String username, String password) {
    String host = normalizeHost(registry);
    Login login = new Login(username, password);
    return r -> host.equals(normalizeHost(r)) ? Optional.of(login) : Optional.empty();
  }

  /**
   * The {@code auths} of a Docker {@code config.json}: each entry's {@code auth} (base64 of {@code
   * user:password}) or {@code username} and {@code password}. Keys may be hosts or URLs ({@code
   * https://index.docker.io/v1/} is Docker Hub). Credential helpers ({@code credsStore}, {@code
   * credHelpers}) are not run; registries they serve get a warning and no login. The file is read
   * once, now.
   *
   * @throws RegistryException naming the file when it cannot be read or is not a Docker config
   */
  static RegistryCredentials dockerConfig(Path configJson) {
    Logger log = LoggerFactory.getLogger(RegistryCredentials.class);
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readAllBytes(configJson));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new RegistryException("", "", -1, "Docker config " + configJson + " does not exist", e);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new RegistryException("", "", -1, "Docker config " + configJson + " is not valid JSON" + JsonErrors.at(e)
          + ": " + JsonErrors.problem(e), e);
    } catch (IOException e) {
      throw new RegistryException("", "", -1, "Docker config " + configJson + " cannot be read: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new RegistryException("", "", -1, "Docker config " + configJson + " is not a JSON object");
    }
    Map<String, Login> logins = new HashMap<>();
    JsonNode auths = root.path("auths");
    for (Map.Entry<String, JsonNode> e : auths.properties()) {
      String host = normalizeHost(e.getKey());
      JsonNode entry = e.getValue();
      String auth = entry.path("auth").asText("");
      if (!auth.isEmpty()) {
        String decoded;
        try {
          decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException bad) {
          throw new RegistryException(host, "", -1, "Docker config " + configJson + ": auths." + e.getKey()
              + ".auth is not base64", bad);
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
          throw new RegistryException(host, "", -1, "Docker config " + configJson + ": auths." + e.getKey()
              + ".auth does not decode to user:password");
        }
        logins.put(host, new Login(decoded.substring(0, colon), decoded.substring(colon + 1)));
      } else if (entry.hasNonNull("username") && entry.hasNonNull("password")) {
        logins.put(host, new Login(entry.get("username").asText(), entry.get("password").asText()));
      }
    }
    List<String> helpers = new ArrayList<>();
    if (root.hasNonNull("credsStore")) {
      helpers.add("credsStore " + root.get("credsStore").asText());
    }
    root.path("credHelpers").fieldNames().forEachRemaining(h -> helpers.add("credHelpers." + h));
    if (!helpers.isEmpty()) {
      log.warn("Docker config {}: credential helpers are not run ({}); registries served only by them are read anonymously",
          configJson, String.join(", ", helpers));
    }
    Map<String, Login> frozen = Map.copyOf(logins);
    return registry -> Optional.ofNullable(frozen.get(normalizeHost(registry)));
  }

  /**
   * The host (and port) of a registry name or URL, lower-cased; Docker Hub's aliases become {@code
   * docker.io}.
   */
  static String normalizeHost(String registryOrUrl) {
    String h = registryOrUrl.trim().toLowerCase(Locale.ROOT);
    int scheme = h.indexOf("://");
    if (scheme >= 0) {
      h = h.substring(scheme + 3);
    }
    int slash = h.indexOf('/');
    if (slash >= 0) {
      h = h.substring(0, slash);
    }
    return switch (h) {
      case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" -> ImageReference.DOCKER_HUB;
      default -> h;
    };
  }
}
