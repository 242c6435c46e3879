package dev.gitops.images.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.core.internal.Durations;
import dev.gitops.core.internal.JsonErrors;
import dev.gitops.images.regex.GoRegex;
import dev.gitops.images.regex.GoRegexException;
import dev.gitops.images.registry.internal.BoundedText;
import dev.gitops.images.registry.internal.Challenge;
import dev.gitops.images.registry.internal.HttpHeaders;
import dev.gitops.images.registry.internal.TokenCache;
import dev.gitops.images.registry.internal.TrustedCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads image repositories from container registries over the OCI Distribution API: lists tags
 * and reads the digest a tag points at.
 *
 * <pre>{@code
 * RegistryClient registry = RegistryClient.builder()
 *     .credentials(RegistryCredentials.dockerConfig(Path.of("/etc/gitops/docker-config.json")))
 *     .trustCertificates(Path.of("/etc/gitops/registry-ca.pem"))
 *     .plainHttp("127.0.0.1:5000")            // only this registry may be read without TLS
 *     .build();
 * ImageReference web = ImageReference.parse("registry.example.com/team/web");
 * TagList tags = registry.listTags(web);      // every page, sorted, signature tags excluded
 * String digest = registry.digest(web, "v1.2.4");
 * }</pre>
 *
 * <p><b>Tags</b>: {@code GET /v2/<repository>/tags/list}, following {@code Link: <…>; rel="next"}
 * pages (of the same listing only: the same scheme, host, port and path, another query); the tags are sorted here because registries
 * return them in any order. Tags matching an exclusion pattern (RE2 syntax, as Flux's {@code
 * exclusionList}) are dropped and counted ({@link #DEFAULT_EXCLUSIONS}: cosign signature tags), and
 * so are names that are no valid tag and entries that are not strings. At most {@link #MAX_TAGS}
 * tags are read.
 *
 * <p><b>Digests</b>: {@code HEAD /v2/<repository>/manifests/<tag>} accepting OCI manifests and
 * indexes and Docker v2 manifests and manifest lists; the digest is the {@code
 * Docker-Content-Digest} header when it is a valid digest ({@link ImageReference#isDigest}), or else
 * the SHA-256 of the manifest body (fetched with {@code GET}). Given a timeout ({@link
 * #digest(ImageReference, String, Duration)}), the whole read, token fetch and retries included,
 * ends within it.
 *
 * <p><b>Authentication</b>: anonymous until the registry answers 401. A {@code Basic} challenge is
 * answered with the registry's login from {@link RegistryCredentials}; a {@code Bearer} challenge
 * with a token from its realm (asked with the login when there is one), cached per registry and
 * scope until its {@code expires_in} runs out. A realm must be HTTPS unless its host is allowed
 * {@linkplain Builder#plainHttp plain HTTP}. The registry's login goes only to a realm of its own
 * domain (its host, a host under it or under its parent domain: {@code auth.docker.io} for {@code
 * registry-1.docker.io}, unless that domain is shared by different parties, as {@code github.io}
 * is); a realm elsewhere gets a login configured for its own host, or the read fails naming the
 * realm, and no login is sent.
 *
 * <p><b>Transport</b>: HTTPS by default (the JDK's CAs plus {@link Builder#trustCertificates});
 * plain HTTP only for the registries named in {@link Builder#plainHttp}; a connect and a request
 * timeout, and one for a whole tag listing ({@link Builder#listTimeout}); answers 429 and 5xx and network errors are retried with exponential backoff and jitter,
 * honouring {@code Retry-After} up to {@link Builder#maxRetryAfter}. Redirects are followed, but
 * credentials go only to the origin they were meant for, and never over plain HTTP to a host not
 * allowed it. A client is thread-safe.
 */
public final class RegistryClient {

  /** The exclusions used when none are given: cosign signature tags ({@code sha256-….sig}). */
  public static final List<String> DEFAULT_EXCLUSIONS = List.of("^.*\\.sig$");

  /** The manifest media types a digest request accepts. */
  public static final List<String> MANIFEST_TYPES = List.of(
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json");

  private static final Logger LOG = LoggerFactory.getLogger(RegistryClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_PAGES = 10_000;
  /** The most tags one repository's listing may hold: a registry sending more is an error, not an out-of-memory. */
  public static final int MAX_TAGS = 1_000_000;
  private static final int MAX_BODY = 32 * 1024 * 1024;
  private static final int MAX_REDIRECTS = 5;
  /** The longest a bearer token is kept, whatever {@code expires_in} says. */
  private static final Duration MAX_TOKEN_LIFETIME = Duration.ofDays(1);

  /** What one image repository holds: its tags (sorted, without excluded ones) and how many were excluded. */
  public record TagList(ImageReference image, List<String> tags, int excluded, int pages) {
    /** A tag list. */
    public TagList {
      tags = List.copyOf(tags);
    }
  }

  private final HttpClient http;
  private final RegistryCredentials credentials;
  private final Set<String> plainHttp;
  private final Duration requestTimeout;
  private final Duration listTimeout;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Duration maxRetryAfter;
  private final Clock clock;
  private final TokenCache tokens;
  /** Registries that asked for basic authentication: their login is sent up front from then on. */
  private final Set<String> basicRegistries = ConcurrentHashMap.newKeySet();

  private RegistryClient(Builder b) {
    HttpClient.Builder hb = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(b.connectTimeout)
        .followRedirects(HttpClient.Redirect.NEVER);  // followed here: credentials never leave their origin
    if (!b.caFiles.isEmpty()) {
      hb.sslContext(TrustedCertificates.sslContext(b.caFiles));
    }
    this.http = hb.build();
    this.credentials = b.credentials;
    this.plainHttp = Set.copyOf(b.plainHttp);
    this.requestTimeout = b.requestTimeout;
    this.listTimeout = b.listTimeout;
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.maxRetryAfter = b.maxRetryAfter;
    this.clock = b.clock;
    this.tokens = new TokenCache(b.clock);
  }

  /** A builder: anonymous, HTTPS only, 10 s connect and 30 s request timeouts, 10 min per tag listing, 4 attempts. */
  public static Builder builder() {
    return new Builder();
  }

  /** Every tag of {@code image}'s repository, sorted, without {@link #DEFAULT_EXCLUSIONS}. */
  public TagList listTags(ImageReference image) {
    return listTags(image, DEFAULT_EXCLUSIONS);
  }

  /**
   * Every tag of {@code image}'s repository (all pages), sorted, without the tags that match one
   * of {@code exclusions} (RE2 regular expressions, Go's syntax as in Flux's {@code exclusionList},
   * searched anywhere in the tag; anchor them) and without names that are no valid tag or entries
   * that are not strings (a number, a boolean, null: all counted as excluded).
   *
   * @throws IllegalArgumentException naming the pattern when one is not RE2 syntax
   * @throws RegistryTimeoutException when the listing takes longer than {@link Builder#listTimeout}
   * @throws RegistryException when the registry cannot be read
   */
  public TagList listTags(ImageReference image, List<String> exclusions) {
    return listTags(image, exclusions, listTimeout);
  }

  /**
   * As {@link #listTags(ImageReference, List)}, within {@code timeout} instead of the client's
   * {@link Builder#listTimeout}: the whole listing (every page, every retry and its wait, redirects,
   * and the token fetched for the repository) ends within it, or fails with a {@link
   * RegistryTimeoutException} naming the repository and the timeout. Each request is still bounded
   * by the request timeout as well. This is what a Flux {@code ImageRepository}'s {@code
   * spec.timeout} sets for its repository.
   *
   * <pre>{@code
   * ImageReference web = ImageReference.parse("registry.example.com/team/web");
   * TagList tags = registryClient.listTags(web, RegistryClient.DEFAULT_EXCLUSIONS, Duration.ofSeconds(60));
   * }</pre>
   *
   * @throws IllegalArgumentException naming the pattern when one is not RE2 syntax, or when {@code
   *     timeout} is not positive
   * @throws RegistryTimeoutException when the listing takes longer than {@code timeout}
   * @throws RegistryException when the registry cannot be read
   */
  public TagList listTags(ImageReference image, List<String> exclusions, Duration timeout) {
    Deadline deadline = new Deadline(Durations.positive(timeout, "timeout"));
    List<GoRegex> excluded = compile(exclusions);
    URI uri = endpoint(image, "/tags/list");
    URI origin = uri;
    TreeSet<String> tags = new TreeSet<>();
    Set<URI> seen = new HashSet<>();
    int pages = 0;
    int notStrings = 0;
    while (uri != null) {
      if (pages > 0 && deadline.passed()) {
        // a registry linking page after page, each in time, is stopped here
        throw timeoutError(image, deadline, pages, tags.size(), "the next page " + redacted(uri), null);
      }
      if (!seen.add(uri) || pages >= MAX_PAGES) {
        throw error(image, -1, "tag pagination does not end: page " + uri + " comes again or more than "
            + MAX_PAGES + " pages", null);
      }
      Answer a;
      try {
        a = send(image, "GET", uri, "application/json", deadline);
      } catch (DeadlinePassed e) {
        // within a page: a stalled answer, a retry's wait or the token fetch ran past the listing's end
        throw timeoutError(image, deadline, pages, tags.size(), e.getMessage(), e.getCause());
      }
      pages++;
      if (a.status != 200) {
        throw statusError(image, "GET " + uri.getRawPath(), a);
      }
      JsonNode body = readJson(image, a, "tag list");
      JsonNode list = body.path("tags");
      if (!list.isArray() && !list.isNull() && !list.isMissingNode()) {
        throw error(image, a.status, "tag list from " + uri.getRawPath() + " has no 'tags' array", null);
      }
      for (JsonNode t : list) {
        if (t.isTextual()) {
          tags.add(t.asText());
        } else {
          notStrings++;  // 1, true, null, {}: no tag, never read as the text "1", "true" or "null"
        }
      }
      if (tags.size() > MAX_TAGS) {
        throw error(image, a.status, "the tag list holds more than " + MAX_TAGS + " tags (after " + pages
            + " pages); refusing to read more", null);
      }
      URI requested = a.response.uri();
      try {
        uri = HttpHeaders.nextLink(a.response.headers().allValues("Link"), requested).orElse(null);
      } catch (IllegalArgumentException e) {
        // the registry's text, not ours: a link no URI can hold (a space, an open '[') is its mistake, named
        throw error(image, a.status, "tag list page link in the Link header of " + requested.getRawPath()
            + " is not a URL: " + ImageReference.quoted(String.valueOf(e.getMessage())), e);
      }
      if (uri != null && (uri.getScheme() == null || uri.getHost() == null || !sameOrigin(origin, uri))) {
        // the next page is asked with the registry's credentials: never of another host, port or scheme (no https -> http)
        throw error(image, a.status, "tag list page link " + (uri.getHost() == null ? "'" + uri + "'" : redacted(uri))
            + " leaves the registry (" + redacted(origin) + ")", null);
      }
      if (uri != null && !uri.getRawPath().equals(origin.getRawPath())) {
        // the same registry, but another repository's listing (or another endpoint): its tags are not this
        // repository's, and the token or login asked for this repository's scope would go with the request
        throw error(image, a.status, "tag list page link " + redacted(uri) + " is not this repository's tag list ("
            + origin.getRawPath() + "); a page link may only name the next page of the same listing", null);
      }
    }
    List<String> kept = new ArrayList<>();
    int dropped = notStrings;
    List<String> invalid = new ArrayList<>();
    if (notStrings > 0) {
      LOG.warn("{}: {} entries of the tag list are not strings (numbers, booleans, null) and are skipped",
          image.name(), notStrings);
    }
    for (String tag : tags) {
      if (!ImageReference.isTag(tag)) {
        // not a tag an image reference can hold: never chosen, never written into Git or a URL
        dropped++;
        invalid.add(tag);
      } else if (excluded(image, excluded, tag)) {
        dropped++;
      } else {
        kept.add(tag);
      }
    }
    if (!invalid.isEmpty()) {
      LOG.warn("{}: {} tags are not valid tag names ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) and are skipped, such as {}",
          image.name(), invalid.size(), ImageReference.quoted(invalid.get(0)));
    }
    LOG.debug("{}: {} tags in {} pages, {} excluded", image.name(), kept.size(), pages, dropped);
    return new TagList(image, kept, dropped, pages);
  }

  /**
   * The digest ({@code sha256:…}) of the manifest {@code tag} points at in {@code image}'s repository;
   * each of its requests is bounded by the request timeout.
   *
   * @throws RegistryException when the tag does not exist or the registry cannot be read
   */
  public String digest(ImageReference image, String tag) {
    return readDigest(image, tag, null);
  }

  /**
   * As {@link #digest(ImageReference, String)}, within {@code timeout}: the whole read (the {@code
   * HEAD}, the {@code GET} when one is needed, every retry and its wait, redirects, and the token
   * fetched for the repository) ends within it, or fails with a {@link RegistryTimeoutException}
   * naming the repository, the tag and the timeout. Each request is still bounded by the request
   * timeout as well. This is what a Flux {@code ImageRepository}'s {@code spec.timeout} sets for the
   * digest reads of its policies, as it does for the listing of its tags.
   *
   * <pre>{@code
   * ImageReference web = ImageReference.parse("registry.example.com/team/web");
   * String digest = registryClient.digest(web, "latest", Duration.ofSeconds(60));
   * }</pre>
   *
   * @throws IllegalArgumentException when {@code timeout} is not positive
   * @throws RegistryTimeoutException when the read takes longer than {@code timeout}
   * @throws RegistryException when the tag does not exist or the registry cannot be read
   */
  public String digest(ImageReference image, String tag, Duration timeout) {
    Deadline deadline = new Deadline(Durations.positive(timeout, "timeout"));
    try {
      return readDigest(image, tag, deadline);
    } catch (DeadlinePassed e) {
      // a stalled answer, a retry's wait or the token fetch ran past the read's end
      throw new RegistryTimeoutException(image.registry(), image.repository(), deadline.timeout, "registry "
          + image.registry() + ", repository " + image.repository() + ": reading the digest of tag "
          + ImageReference.quoted(tag) + " took longer than " + Durations.human(deadline.timeout) + " ("
          + e.getMessage() + "); refusing to read more", e.getCause());
    }
  }

  /** The digest of {@code tag}, by {@code deadline} when there is one (null: each request by the request timeout). */
  private String readDigest(ImageReference image, String tag, Deadline deadline) {
    URI uri = endpoint(image, "/manifests/" + tag);
    String accept = String.join(", ", MANIFEST_TYPES);
    Answer head = send(image, "HEAD", uri, accept, deadline);
    if (head.status == 200) {
      Optional<String> d = head.response.headers().firstValue("Docker-Content-Digest").map(String::trim);
      if (d.isPresent() && ImageReference.isDigest(d.get())) {
        return d.get();
      }
    } else if (head.status != 405) {
      throw statusError(image, "HEAD " + uri.getRawPath(), head);
    }
    // No digest header (or no HEAD): the digest is the hash of the manifest's bytes.
    Answer get = send(image, "GET", uri, accept, deadline);
    if (get.status != 200) {
      throw statusError(image, "GET " + uri.getRawPath(), get);
    }
    Optional<String> d = get.response.headers().firstValue("Docker-Content-Digest").map(String::trim);
    if (d.isPresent() && ImageReference.isDigest(d.get())) {
      return d.get();
    }
    return sha256(get.body);
  }

  /** Whether an exclusion matches {@code tag}; a pattern that backtracks past its budget is an error naming it. */
  private static boolean excluded(ImageReference image, List<GoRegex> exclusions, String tag) {
    for (GoRegex p : exclusions) {
      try {
        if (p.matcher(new BoundedText(tag, BoundedText.DEFAULT_STEPS)).find()) {
          return true;
        }
      } catch (BoundedText.Exhausted e) {
        throw error(image, -1, "exclusion pattern '" + p.source() + "' takes too long on tag '" + tag + "' ("
            + e.getMessage() + "; Java regexes backtrack where Flux's Go regexes do not): simplify the pattern", null);
      }
    }
    return false;
  }

  /** {@code sha256:<hex>} of {@code bytes}. */
  static String sha256(byte[] bytes) {
    return "sha256:" + dev.gitops.api.internal.Sha256.hex(bytes);
  }

  /**
   * The exclusion patterns, read as RE2 (Go's syntax, as Flux's {@code exclusionList}).
   *
   * @throws IllegalArgumentException naming the pattern and what RE2 refuses in it
   */
  public static List<GoRegex> compile(List<String> patterns) {
    List<GoRegex> out = new ArrayList<>();
    for (int i = 0; i < patterns.size(); i++) {
      String p = patterns.get(i);
      if (p == null) {
        throw new IllegalArgumentException("exclusion pattern " + (i + 1) + " is null, not a regular expression");
      }
      try {
        out.add(GoRegex.compile(p));
      } catch (GoRegexException e) {
        throw new IllegalArgumentException("exclusion pattern " + e.getMessage(), e);
      }
    }
    return out;
  }

  private URI endpoint(ImageReference image, String suffix) {
    String host = image.registry().equals(ImageReference.DOCKER_HUB) ? "registry-1.docker.io" : image.registry();
    String scheme = plainHttp.contains(image.registry().toLowerCase(Locale.ROOT)) ? "http" : "https";
    return URI.create(scheme + "://" + host + "/v2/" + image.repository() + suffix);
  }

  /** An answer: the response and its body (empty for HEAD). */
  private record Answer(HttpResponse<byte[]> response, int status, byte[] body) {}

  /**
   * Sends a request for {@code image}'s repository, answering authentication challenges, by {@code
   * deadline} when there is one (null: each request bounded by the request timeout alone).
   */
  private Answer send(ImageReference image, String method, URI uri, String accept, Deadline deadline) {
    String registry = image.registry();
    String scope = "repository:" + image.repository() + ":pull";
    Optional<RegistryCredentials.Login> login = credentials.find(registry);
    String auth = tokens.get(registry, scope).map(t -> "Bearer " + t)
        .orElse(basicRegistries.contains(registry) && login.isPresent() ? basic(login.get()) : null);
    Answer a = sendWithRetries(image, method, uri, accept, auth, deadline);
    if (a.status != 401) {
      return a;
    }
    List<String> header = a.response.headers().allValues("WWW-Authenticate");
    List<Challenge> challenges = Challenge.parse(header);
    Optional<Challenge> bearer = challenges.stream().filter(c -> c.scheme().equals("bearer")).findFirst();
    if (bearer.isPresent() && bearer.get().param("realm").filter(r -> !r.isBlank()).isEmpty()) {
      // no token can be asked for: the header as the registry sent it says what is wrong with it
      throw error(image, 401, method + " " + uri.getRawPath() + " answered 401 with a Bearer challenge that names no"
          + " realm to ask for a token: WWW-Authenticate " + ImageReference.quoted(String.join(", ", header))
          + registryMessage(a), null);
    }
    if (bearer.isPresent()) {
      String asked = bearer.get().param("scope").orElse(scope);
      tokens.invalidate(registry, scope);
      String token = fetchToken(image, bearer.get(), asked, login, deadline);
      Answer retried = sendWithRetries(image, method, uri, accept, "Bearer " + token, deadline);
      if (retried.status == 401 || retried.status == 403) {
        tokens.invalidate(registry, asked);
        tokens.invalidate(registry, scope);
        throw error(image, retried.status, method + " " + uri.getRawPath() + " refused the token from "
            + bearer.get().param("realm").orElse("?") + " (scope " + asked + ")" + registryMessage(retried), null);
      }
      return retried;
    }
    if (challenges.stream().anyMatch(c -> c.scheme().equals("basic"))) {
      if (login.isEmpty()) {
        throw error(image, 401, method + " " + uri.getRawPath() + " needs credentials and none are configured for "
            + registry + registryMessage(a), null);
      }
      basicRegistries.add(registry);
      Answer retried = sendWithRetries(image, method, uri, accept, basic(login.get()), deadline);
      if (retried.status == 401 || retried.status == 403) {
        throw error(image, retried.status, method + " " + uri.getRawPath() + " refused the login of user '"
            + login.get().username() + "'" + registryMessage(retried), null);
      }
      return retried;
    }
    throw error(image, 401, method + " " + uri.getRawPath() + " answered 401 without a Basic or Bearer challenge"
        + registryMessage(a), null);
  }

  private static String basic(RegistryCredentials.Login login) {
    return "Basic " + Base64.getEncoder().encodeToString(
        (login.username() + ":" + login.password()).getBytes(StandardCharsets.UTF_8));
  }

  /** Asks the challenge's realm for a token and caches it under the scope the registry asked for and ours. */
  private String fetchToken(ImageReference image, Challenge challenge, String scope,
      Optional<RegistryCredentials.Login> login, Deadline deadline) {
    String realm = challenge.param("realm").orElseThrow(() -> error(image, 401,
        "the registry's Bearer challenge names no realm", null));
    URI realmUri;
    try {
      realmUri = URI.create(realm);
    } catch (IllegalArgumentException e) {
      throw error(image, 401, "the registry's token realm '" + realm + "' is not a URL", e);
    }
    if (realmUri.getScheme() != null && realmUri.getHost() == null) {
      // https:///token, https://user@/token: no request can be made of it, and none is
      throw error(image, 401, "the registry's token realm " + ImageReference.quoted(realm) + " names no host", null);
    }
    String scheme = String.valueOf(realmUri.getScheme()).toLowerCase(Locale.ROOT);
    boolean plainAllowed = realmUri.getAuthority() != null
        && plainHttp.contains(realmUri.getAuthority().toLowerCase(Locale.ROOT));
    if (!scheme.equals("https") && !(scheme.equals("http") && plainAllowed)) {
      throw error(image, 401, "the token realm " + realm + " is not HTTPS and its host is not allowed plain HTTP"
          + " (a login must not travel in clear text)", null);
    }
    String realmHost = realmUri.getHost() == null ? "" : realmUri.getHost();
    Optional<RegistryCredentials.Login> sent = login;
    if (login.isPresent() && !sameDomain(realmHost, image.registry())) {
      // the registry's login goes to its own token service only, never to a host another party may run (a realm
      // on another domain, or one a hostile registry names to collect it); a login configured for that host is its own
      sent = credentials.find(realmUri.getRawAuthority()).or(() -> credentials.find(realmHost));
      if (sent.isEmpty()) {
        throw error(image, 401, "the registry's token realm " + realm + " is on host " + realmHost + ", outside the"
            + " domain of registry " + image.registry() + ", so its login (user '" + login.get().username() + "') is"
            + " not sent there and no token is asked for; if that host is the registry's token service, give it a"
            + " login of its own (an auths entry for " + realmUri.getRawAuthority() + " in the Docker config)", null);
      }
    }
    StringBuilder query = new StringBuilder();
    challenge.param("service").ifPresent(s -> query.append("service=").append(enc(s)));
    for (String s : scope.split(" ")) {
      if (!s.isBlank()) {
        query.append(query.isEmpty() ? "" : "&").append("scope=").append(enc(s));
      }
    }
    URI uri = URI.create(realm + (realm.contains("?") ? "&" : "?") + query);
    Answer a = sendWithRetries(image, "GET", uri, "application/json", sent.map(RegistryClient::basic).orElse(null),
        deadline);
    if (a.status != 200) {
      throw error(image, a.status, "the token endpoint " + realm + " answered " + a.status
          + (sent.isPresent() ? " for user '" + sent.get().username() + "'" : " (anonymous)") + registryMessage(a), null);
    }
    JsonNode body = readJson(image, a, "token answer");
    // OAuth2's access_token first, then token, as Docker reads the answer: a server may send both, or an empty token
    // beside its access_token
    String access = body.path("access_token").isTextual() ? body.path("access_token").asText() : "";
    String token = !access.isEmpty() ? access : body.path("token").isTextual() ? body.path("token").asText() : "";
    if (token.isEmpty()) {
      throw error(image, a.status, "the token endpoint " + realm + " answered without a token", null);
    }
    if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      // it goes into an Authorization header, which the HTTP client refuses quoting it: never the token itself
      throw error(image, a.status, "the token endpoint " + realm + " answered a token that cannot be sent in a header"
          + " (it holds a space, a line break, a control or a non-ASCII character); the token is not shown", null);
    }
    long seconds = body.path("expires_in").asLong(60);
    // at most a day: a lifetime of years (or Long.MAX_VALUE s) would overflow the cache's clock arithmetic
    Duration lifetime = Duration.ofSeconds(seconds > 0 ? Math.min(seconds, MAX_TOKEN_LIFETIME.toSeconds()) : 60);
    tokens.put(image.registry(), scope, token, lifetime);
    String ours = "repository:" + image.repository() + ":pull";
    if (!scope.equals(ours)) {
      tokens.put(image.registry(), ours, token, lifetime);
    }
    LOG.debug("{}: token for {} from {} valid {} s", image.registry(), scope, realm, lifetime.toSeconds());
    return token;
  }

  /**
   * Whether a token realm on {@code realmHost} belongs to {@code registry} (a host, with port when
   * it has one), so that the registry's login may go there: the same host (any port), a host under
   * it, or a host under its parent domain when that has two labels or more ({@code
   * registry-1.docker.io} and {@code auth.docker.io}, {@code registry.gitlab.com} and {@code
   * gitlab.com}) and is no domain shared by different parties ({@code github.io}, {@code azurecr.io},
   * {@code co.uk}: {@code b.github.io} is not {@code a.github.io}'s). An IP address matches itself only.
   */
  static boolean sameDomain(String realmHost, String registry) {
    String realm = bareHost(realmHost);
    String reg = bareHost(URI.create("https://" + (registry.equals(ImageReference.DOCKER_HUB)
        ? "registry-1.docker.io" : registry)).getHost());
    if (realm.isEmpty() || reg.isEmpty()) {
      return false;
    }
    if (realm.equals(reg)) {
      return true;
    }
    if (reg.contains(":") || reg.matches("[0-9.]+") || realm.contains(":") || realm.matches("[0-9.]+")) {
      return false;  // an address is no domain: only itself
    }
    if (realm.endsWith("." + reg)) {
      return true;
    }
    String parent = reg.substring(reg.indexOf('.') + 1);
    return reg.contains(".") && parent.contains(".") && !sharedSuffix(parent)
        && (realm.equals(parent) || realm.endsWith("." + parent));
  }

  /**
   * Domains whose hosts belong to different parties (no public suffix list is read; these are the
   * hosting, tunnel and cloud domains a registry or a look-alike of it is likely to be under): a
   * registry's parent domain that is one of them, or under one, is no domain of the registry's own.
   */
  private static final Set<String> SHARED_SUFFIXES = Set.of("amazonaws.com", "appspot.com", "azurecr.io",
      "azurewebsites.net", "cloudapp.net", "cloudfront.net", "core.windows.net", "digitaloceanspaces.com",
      "duckdns.org", "firebaseapp.com", "fly.dev", "github.io", "gitlab.io", "herokuapp.com", "jfrog.io",
      "netlify.app", "ngrok-free.app", "ngrok.io", "nip.io", "onrender.com", "pages.dev", "sslip.io",
      "trycloudflare.com", "vercel.app", "web.app", "workers.dev");
  /** A country's second-level domain that is a public suffix ({@code co.uk}, {@code com.au}, {@code ne.jp}). */
  private static final java.util.regex.Pattern COUNTRY_SUFFIX =
      java.util.regex.Pattern.compile("(?:ac|co|com|edu|go|gob|gov|ltd|ne|net|or|org|plc)\\.[a-z]{2}");

  /** Whether {@code domain} is shared by hosts of different parties ({@link #SHARED_SUFFIXES}, {@code co.uk}). */
  private static boolean sharedSuffix(String domain) {
    if (COUNTRY_SUFFIX.matcher(domain).matches()) {
      return true;
    }
    for (String shared : SHARED_SUFFIXES) {
      if (domain.equals(shared) || domain.endsWith("." + shared)) {
        return true;
      }
    }
    return false;
  }

  private static String bareHost(String host) {
    if (host == null) {
      return "";
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /**
   * Sends one request, following redirects: the {@code Authorization} header goes only to the
   * origin (scheme, host and port) it was meant for, never to the host a redirect names, and
   * HTTPS is never left for plain HTTP unless that host is allowed it.
   */
  private Answer sendWithRetries(ImageReference image, String method, URI uri, String accept, String authorization,
      Deadline deadline) {
    URI at = uri;
    String auth = authorization;
    for (int hop = 0; ; hop++) {
      Answer a = sendOnce(image, method, at, accept, auth, deadline);
      Optional<String> location = a.response.headers().firstValue("Location");
      if (!isRedirect(a.status) || location.isEmpty()) {
        return a;
      }
      if (hop >= MAX_REDIRECTS) {
        throw error(image, a.status, method + " " + uri.getRawPath() + " redirected more than " + MAX_REDIRECTS
            + " times", null);
      }
      URI next;
      try {
        next = HttpHeaders.resolve(at, location.get().trim());
      } catch (IllegalArgumentException e) {
        throw error(image, a.status, method + " " + at.getRawPath() + " redirected to '" + location.get()
            + "', which is not a URL", e);
      }
      String scheme = String.valueOf(next.getScheme()).toLowerCase(Locale.ROOT);
      boolean plainAllowed = next.getAuthority() != null && plainHttp.contains(next.getAuthority().toLowerCase(Locale.ROOT));
      if (next.getHost() == null || !(scheme.equals("https") || (scheme.equals("http") && plainAllowed))) {
        throw error(image, a.status, method + " " + at.getRawPath() + " redirected to " + redacted(next)
            + ", which is not HTTPS and not allowed plain HTTP", null);
      }
      if (auth != null && !sameOrigin(at, next)) {
        LOG.debug("{}: {} {} redirected to {}; the credentials stay with {}", image.registry(), method,
            at.getRawPath(), redacted(next), at.getAuthority());
        auth = null;
      }
      at = next;
    }
  }

  private static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
        && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
  }

  /** {@code uri} without user info and query (where signed URLs keep their secrets), for messages. */
  private static String redacted(URI uri) {
    return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") + uri.getRawPath();
  }

  /**
   * Sends one request to one URI, retrying network errors, 429 and 5xx with backoff (and {@code
   * Retry-After}); with a {@code deadline}, each attempt ends by it and no retry waits past it.
   *
   * @throws DeadlinePassed when the deadline passed, saying what was pending
   */
  private Answer sendOnce(ImageReference image, String method, URI uri, String accept, String authorization,
      Deadline deadline) {
    for (int attempt = 1; ; attempt++) {
      Duration timeout = requestTimeout;
      boolean byDeadline = false;
      if (deadline != null) {
        long left = deadline.remainingNanos();
        if (left <= 0) {
          throw new DeadlinePassed("no time was left to send " + method + " " + redacted(uri), null);
        }
        if (left < requestTimeout.toNanos()) {
          timeout = Duration.ofNanos(left);
          byDeadline = true;
        }
      }
      HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(timeout)
          .header("Accept", accept).header("User-Agent", "gitops-images")
          .method(method, HttpRequest.BodyPublishers.noBody());
      if (authorization != null) {
        rb.header("Authorization", authorization);
      }
      Duration wait;
      String why;
      try {
        HttpResponse<byte[]> r = exchange(rb.build(), timeout);
        byte[] body = r.body();
        if (body.length > MAX_BODY) {
          throw error(image, r.statusCode(), method + " " + uri.getRawPath() + " answered more than " + MAX_BODY + " bytes", null);
        }
        Answer a = new Answer(r, r.statusCode(), body);
        if (!retryable(a.status)) {
          return a;
        }
        why = "answered " + a.status;
        Optional<Duration> asked = HttpHeaders.retryAfter(r.headers().firstValue("Retry-After"), clock);
        if (attempt >= maxAttempts) {
          throw error(image, a.status, method + " " + uri.getRawPath() + " " + why + " " + attempt + " times"
              + registryMessage(a), null);
        }
        if (asked.isPresent() && asked.get().compareTo(maxRetryAfter) > 0) {
          throw error(image, a.status, method + " " + uri.getRawPath() + " " + why + " and asks to retry after "
              + asked.get().toSeconds() + " s, more than the " + maxRetryAfter.toSeconds() + " s allowed", null);
        }
        wait = asked.isPresent() ? asked.get() : backoff(attempt);
      } catch (IOException e) {
        why = "failed (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")";
        if (deadline != null && (deadline.passed() || (byDeadline && e instanceof HttpTimeoutException))) {
          // the listing's time is up, not this request's: no retry can end within it
          throw new DeadlinePassed(method + " " + redacted(uri) + " had no complete answer", e);
        }
        String hint = plainHttpHint(image, uri, e);
        if (hint != null) {
          throw error(image, -1, method + " " + redacted(uri) + " " + why + hint, e);  // a setting to fix, not worth a retry
        }
        if (attempt >= maxAttempts) {
          throw error(image, -1, method + " " + redacted(uri) + " " + why + " after " + attempt + " attempts", e);
        }
        wait = backoff(attempt);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw error(image, -1, method + " " + uri.getRawPath() + " interrupted", e);
      }
      if (deadline != null && wait.toNanos() >= deadline.remainingNanos()) {
        throw new DeadlinePassed(method + " " + redacted(uri) + " " + why + ", and its retry in " + wait.toMillis()
            + " ms would come after that", null);
      }
      LOG.info("{}/{}: {} {} {}; retrying in {} ms (attempt {} of {})", image.registry(), image.repository(),
          method, uri.getRawPath(), why, wait.toMillis(), attempt + 1, maxAttempts);
      try {
        Thread.sleep(wait.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw error(image, -1, method + " " + uri.getRawPath() + " interrupted while waiting to retry", e);
      }
    }
  }

  /**
   * One exchange, body included, bounded by {@code timeout}: the client's own timeout ends at the
   * headers, and a registry that stalls mid-body must not hold a run forever.
   */
  private HttpResponse<byte[]> exchange(HttpRequest request, Duration timeout) throws IOException, InterruptedException {
    CompletableFuture<HttpResponse<byte[]>> pending = http.sendAsync(request, info -> new CappedBody(MAX_BODY));
    try {
      return pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      pending.cancel(true);
      throw new HttpTimeoutException("no complete answer within " + Durations.human(timeout));
    } catch (InterruptedException e) {
      pending.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException(cause);
    }
  }

  /**
   * Collects a body up to {@code cap} bytes and one more, then stops reading: the caller sees that
   * the answer was too long without the rest being held in memory.
   */
  private static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final int cap;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    CappedBody(int cap) {
      this.cap = cap;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        int take = Math.min(b.remaining(), cap + 1 - bytes.size());
        byte[] chunk = new byte[take];
        b.get(chunk);
        bytes.write(chunk, 0, take);
        if (bytes.size() > cap) {
          subscription.cancel();
          result.complete(bytes.toByteArray());
          return;
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(bytes.toByteArray());
    }
  }

  /**
   * What to do about a failed HTTPS exchange that will fail the same way every time, or null: with
   * a registry whose host without its port is allowed plain HTTP (a TLS error, or a plain HTTP server
   * that never answers the handshake), plain HTTP is allowed per host:port as in image references;
   * a server that answered the handshake in plain HTTP needs plain HTTP allowed. Said at once, not
   * retried.
   */
  private String plainHttpHint(ImageReference image, URI uri, IOException e) {
    if (!"https".equals(uri.getScheme())) {
      return null;
    }
    String registry = image.registry().toLowerCase(Locale.ROOT);
    int colon = registry.lastIndexOf(':');
    if (colon < 0 || registry.endsWith("]") || !plainHttp.contains(registry.substring(0, colon))) {
      return answeredInPlainHttp(e) ? plaintextHint(uri) : null;
    }
    String host = registry.substring(0, colon);
    return "; plain HTTP is allowed for '" + host + "' but not for '" + registry + "': list the registry as host:port ("
        + registry + ") to read it without TLS";
  }

  /**
   * Whether the TLS handshake failed because the server answered in plain HTTP (JSSE: "Unrecognized
   * SSL message, plaintext connection?"): it will answer the same way every time.
   */
  private static boolean answeredInPlainHttp(Throwable e) {
    int depth = 0;
    for (Throwable t = e; t != null && depth < 20; t = t.getCause(), depth++) {
      if (t instanceof javax.net.ssl.SSLException && t.getMessage() != null
          && (t.getMessage().contains("plaintext connection") || t.getMessage().contains("Unrecognized SSL message"))) {
        return true;
      }
    }
    return false;
  }

  /** What to do about a server ({@code uri}'s) that answers HTTPS in plain HTTP. */
  private static String plaintextHint(URI uri) {
    String hostPort = uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
    return "; " + hostPort + " answers in plain HTTP, not TLS. If it is meant to be read without TLS, allow it plain"
        + " HTTP: 'insecure: true' in the spec of its Flux ImageRepository, '--plain-http " + hostPort + "' for gitops"
        + " images update, or RegistryClient.Builder.plainHttp(\"" + hostPort + "\"); else make it serve HTTPS there";
  }

  private static boolean retryable(int status) {
    return status == 429 || (status >= 500 && status != 501 && status != 505);
  }

  /** Exponential backoff with jitter: a random delay in [half, all] of initial × 2^(attempt-1), capped. */
  private Duration backoff(int attempt) {
    long full = Math.min(maxBackoff.toMillis(), initialBackoff.toMillis() << Math.min(20, attempt - 1));
    long half = full / 2;
    return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(full - half + 1));
  }

  /**
   * The JSON object of an answer, or an error naming the URL that answered (a token realm is often
   * another host than the registry), what it sent when that was no JSON, and where its text breaks.
   */
  private JsonNode readJson(ImageReference image, Answer a, String what) {
    String from = what + " from " + redacted(a.response.uri()) + a.response.headers().firstValue("Content-Type")
        .map(t -> " (Content-Type " + shortLine(t) + ")").orElse("");
    JsonNode n;
    try {
      n = JSON.readTree(a.body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw error(image, a.status, from + " is not JSON" + JsonErrors.at(e) + ": " + JsonErrors.problem(e), e);
    } catch (IOException e) {
      throw error(image, a.status, from + " cannot be read: " + e.getMessage(), e);
    }
    if (n == null || n.isMissingNode() || !n.isObject()) {
      throw error(image, a.status, from + " is not a JSON object" + (a.body.length == 0 ? " (the body is empty)" : ""),
          null);
    }
    return n;
  }

  private RegistryException statusError(ImageReference image, String request, Answer a) {
    String what = a.status == 404 ? " (no such repository or tag)" : "";
    return error(image, a.status, request + " answered " + a.status + what + registryMessage(a), null);
  }

  /** The registry's own error text ({@code errors[].code: message}), for messages. */
  private static String registryMessage(Answer a) {
    if (a.body.length == 0) {
      return "";
    }
    try {
      JsonNode n = JSON.readTree(a.body);
      List<String> parts = new ArrayList<>();
      if (n != null) {
        n.path("errors").forEach(e -> parts.add(e.path("code").asText("") + ": " + e.path("message").asText("")));
        if (parts.isEmpty() && n.hasNonNull("error")) {
          parts.add(n.get("error").asText());
        }
      }
      // the registry's words on one printable line, bounded: a "\n" in its JSON must not start a log line of its own
      return parts.isEmpty() ? "" : " (" + shortLine(String.join("; ", parts)) + ")";
    } catch (IOException notJson) {
      // an HTML or text error page: its first line says enough
      String text = new String(a.body, 0, Math.min(a.body.length, 200), StandardCharsets.UTF_8).strip();
      int nl = text.indexOf('\n');
      return text.isEmpty() ? "" : " (" + shortLine(nl > 0 ? text.substring(0, nl) : text) + ")";
    }
  }

  /** {@code text} as one printable line of at most 300 characters. */
  private static String shortLine(String text) {
    String line = dev.gitops.core.render.PlanRenderer.oneLine(text);
    return line.length() > 300 ? line.substring(0, 300) + "…" : line;
  }

  /** The listing's timeout passed, with how far it got and what was pending. */
  private static RegistryTimeoutException timeoutError(ImageReference image, Deadline deadline, int pages, int tags,
      String pending, Throwable cause) {
    return new RegistryTimeoutException(image.registry(), image.repository(), deadline.timeout, "registry "
        + image.registry() + ", repository " + image.repository() + ": listing the tags took longer than "
        + Durations.human(deadline.timeout) + " (" + pages + " pages, " + tags + " tags so far; " + pending
        + "); refusing to read more", cause);
  }

  /** When a listing or a digest read must have ended: its timeout, from when it began. */
  private static final class Deadline {
    private final Duration timeout;
    private final long start = System.nanoTime();
    private final long nanos;

    Deadline(Duration timeout) {
      this.timeout = timeout;
      this.nanos = timeout.toNanos();  // at most Durations.MAX (about 100 years): no overflow
    }

    long remainingNanos() {
      return nanos - (System.nanoTime() - start);
    }

    boolean passed() {
      return remainingNanos() <= 0;
    }
  }

  /**
   * A listing's or a digest read's deadline passed inside one of its requests; {@link
   * #listTags(ImageReference, List, Duration)} turns it into a {@link RegistryTimeoutException} with
   * how far the listing got, {@link #digest(ImageReference, String, Duration)} into one naming the tag.
   */
  private static final class DeadlinePassed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DeadlinePassed(String pending, Throwable cause) {
      super(pending, cause, false, false);
    }
  }

  private static RegistryException error(ImageReference image, int status, String message, Throwable cause) {
    return new RegistryException(image.registry(), image.repository(),
        status, "registry " + image.registry() + ", repository " + image.repository() + ": " + message, cause);
  }

  /** Builds a {@link RegistryClient}. */
  public static final class Builder {
    private RegistryCredentials credentials = RegistryCredentials.anonymous();
    private final Set<String> plainHttp = new HashSet<>();
    private final List<Path> caFiles = new ArrayList<>();
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Duration listTimeout = Duration.ofMinutes(10);
    private int maxAttempts = 4;
    private Duration initialBackoff = Duration.ofMillis(500);
    private Duration maxBackoff = Duration.ofSeconds(30);
    private Duration maxRetryAfter = Duration.ofSeconds(60);
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** Where logins come from (default: anonymous). */
    public Builder credentials(RegistryCredentials c) {
      this.credentials = Objects.requireNonNull(c, "credentials");
      return this;
    }

    /**
     * Registries (host, or host:port, as in image references) read over plain HTTP instead of
     * HTTPS; also token realms on these hosts may be plain HTTP. Every other registry is HTTPS only.
     */
    public Builder plainHttp(String... registries) {
      for (String r : registries) {
        plainHttp.add(RegistryCredentials.normalizeHost(r));
      }
      return this;
    }

    /** Trusts the certificates in {@code pemFile} (a CA or a self-signed registry certificate) besides the JDK's CAs. */
    public Builder trustCertificates(Path pemFile) {
      caFiles.add(Objects.requireNonNull(pemFile, "pemFile"));
      return this;
    }

    /** How long to wait for a connection (default 10 s). */
    public Builder connectTimeout(Duration d) {
      this.connectTimeout = positive(d, "connectTimeout");
      return this;
    }

    /** How long to wait for each answer, its whole body included (default 30 s). */
    public Builder requestTimeout(Duration d) {
      this.requestTimeout = positive(d, "requestTimeout");
      return this;
    }

    /**
     * How long listing one repository's tags may take, all its pages, their retries and the token
     * fetch together (default 10 min, at most 36,500 days): a registry that links page after page,
     * each in time, or that stalls an answer past it, fails the listing with a {@link
     * RegistryTimeoutException} once this has passed. {@link RegistryClient#listTags(ImageReference,
     * List, Duration)} sets it for one listing.
     */
    public Builder listTimeout(Duration d) {
      this.listTimeout = Durations.positive(d, "listTimeout");
      return this;
    }

    /** Attempts per request, first included (default 4; 1 turns retries off). */
    public Builder maxAttempts(int n) {
      if (n < 1 || n > 20) {
        throw new IllegalArgumentException("maxAttempts must be 1..20, got " + n);
      }
      this.maxAttempts = n;
      return this;
    }

    /** The first backoff (default 500 ms) and the longest one (default 30 s); each retry doubles it, with jitter. */
    public Builder backoff(Duration initial, Duration max) {
      this.initialBackoff = positive(initial, "initial backoff");
      this.maxBackoff = positive(max, "max backoff");
      return this;
    }

    /** The longest {@code Retry-After} honoured (default 60 s); a registry asking for more fails the request. */
    public Builder maxRetryAfter(Duration d) {
      this.maxRetryAfter = Objects.requireNonNull(d, "maxRetryAfter");
      return this;
    }

    /** The clock token lifetimes and HTTP dates are read against (tests). */
    Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }

    /** The client. */
    public RegistryClient build() {
      return new RegistryClient(this);
    }
  }
}
