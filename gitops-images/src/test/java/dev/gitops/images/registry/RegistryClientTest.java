package dev.gitops.images.registry;

import static dev.gitops.images.registry.RegistryStub.reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry client against scripted loopback servers: paging, retries, auth, digests, transport rules. */
class RegistryClientTest {

  @TempDir
  Path tmp;

  private static RegistryClient.Builder client(RegistryStub stub) {
    return RegistryClient.builder().plainHttp(stub.host()).backoff(Duration.ofMillis(10), Duration.ofMillis(50));
  }

  @Test
  void followsLinkPagesAndSortsTagsInTheClient() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> {
      String q = ex.getRequestURI().getRawQuery();
      if (q == null) {
        reply(ex, 200, "{\"name\":\"team/web\",\"tags\":[\"v1.10.0\",\"v1.2.0\"]}",
            "Link", "</v2/team/web/tags/list?n=2&last=v1.2.0>; rel=\"next\"");
      } else if (q.contains("last=v1.2.0")) {
        reply(ex, 200, "{\"name\":\"team/web\",\"tags\":[\"a-first\",\"v0.9.0\"]}",
            "Link", "<http://" + ex.getRequestHeaders().getFirst("Host") + "/v2/team/web/tags/list?n=2&last=v0.9.0>; rel=next");
      } else {
        reply(ex, 200, "{\"name\":\"team/web\",\"tags\":[\"v1.2.0\",\"sha256-abc.sig\"]}");
      }
    })) {
      RegistryClient.TagList list = client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web"));

      assertThat(list.tags()).containsExactly("a-first", "v0.9.0", "v1.10.0", "v1.2.0");
      assertThat(list.pages()).isEqualTo(3);
      assertThat(list.excluded()).isEqualTo(1);
      assertThat(stub.seen()).hasSize(3);
    }
  }

  @Test
  void aPageLinkOfAQueryAloneIsTheNextPageOfTheSameListingAsRfc3986ResolvesIt() throws Exception {
    // <?last=a&n=1> keeps the path it was sent with (RFC 3986 5.2.2); URI.resolve (RFC 2396) made it
    // /v2/team/web/tags/?last=a&n=1, which was refused as another listing and failed the policy
    try (RegistryStub stub = RegistryStub.start(ex -> {
      String q = ex.getRequestURI().getRawQuery();
      if (q == null) {
        reply(ex, 200, "{\"tags\":[\"a\"]}", "Link", "<?last=a&n=1>; rel=\"next\"");
      } else if (q.equals("last=a&n=1")) {
        reply(ex, 200, "{\"tags\":[\"b\"]}", "Link", "<?last=b&n=1>; rel=\"next\"");
      } else {
        reply(ex, 200, "{\"tags\":[\"c\"]}");
      }
    })) {
      RegistryClient.TagList list = client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web"));

      assertThat(list.tags()).containsExactly("a", "b", "c");
      assertThat(stub.seen()).extracting(RegistryStub.Seen::uri).containsExactly("/v2/team/web/tags/list",
          "/v2/team/web/tags/list?last=a&n=1", "/v2/team/web/tags/list?last=b&n=1");
    }
  }

  @Test
  void paginationThatLoopsIsAnErrorNotAHang() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"a\"]}",
        "Link", "</v2/team/web/tags/list?last=a>; rel=\"next\""))) {
      assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("pagination does not end");
      assertThat(stub.seen()).hasSize(2);
    }
  }

  @Test
  void aRegistryLinkingPageAfterPageSlowlyIsStoppedByTheListingTimeout() throws Exception {
    AtomicInteger page = new AtomicInteger();
    try (RegistryStub stub = RegistryStub.start(ex -> {
      int n = page.incrementAndGet();
      try {
        Thread.sleep(40);  // each page well within the request timeout
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      reply(ex, 200, "{\"tags\":[\"t" + n + "\"]}", "Link", "</v2/team/web/tags/list?last=t" + n + ">; rel=\"next\"");
    })) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> client(stub).listTimeout(Duration.ofMillis(300)).build()
          .listTags(ImageReference.parse(stub.host() + "/team/web")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("repository team/web: listing the tags took longer than 300 ms (")
          .hasMessageContaining(" pages, ")
          .hasMessageContaining("refusing to read more");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
      assertThat(page.get()).isBetween(1, 40);  // stopped long before MAX_PAGES (10,000)
    }
  }

  @Test
  void customExclusionsAreCountedAndABadPatternIsNamed() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"1.0\",\"1.0-debug\",\"x.sig\"]}"))) {
      RegistryClient c = client(stub).build();
      ImageReference img = ImageReference.parse(stub.host() + "/app");
      RegistryClient.TagList list = c.listTags(img, List.of("-debug$"));
      assertThat(list.tags()).containsExactly("1.0", "x.sig");
      assertThat(list.excluded()).isEqualTo(1);
      assertThatThrownBy(() -> c.listTags(img, List.of("([")))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'(['");
    }
  }

  @Test
  void entriesThatAreNotStringsAreSkippedAndCountedNeverReadAsText() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200,
        "{\"tags\":[\"1.0\", 2, 1.10, true, null, {\"a\":1}, [\"x\"], \"2.0\"]}"))) {
      RegistryClient.TagList list = client(stub).build().listTags(ImageReference.parse(stub.host() + "/app"));
      // never "2", "1.1", "true" or "null": a tag the registry does not hold
      assertThat(list.tags()).containsExactly("1.0", "2.0");
      assertThat(list.excluded()).isEqualTo(6);
    }
  }

  @Test
  void exclusionsAreRe2AndWhatRe2RefusesIsNamed() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"v1\",\"v1-debug\",\"x.sig\"]}"))) {
      RegistryClient c = client(stub).build();
      ImageReference img = ImageReference.parse(stub.host() + "/app");
      // RE2's [[:alpha:]] and \z (Java would read the first as a class of '[', ':', 'a', ...)
      assertThat(c.listTags(img, List.of("-[[:alpha:]]+\\z")).tags()).containsExactly("v1", "x.sig");
      assertThatThrownBy(() -> c.listTags(img, List.of("^v(?!1)")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("exclusion pattern '^v(?!1)' is not a valid RE2 regular expression")
          .hasMessageContaining("lookahead");
    }
  }

  @Test
  void aPageLinkToAnotherSchemeOrPortIsRefusedBeforeTheCredentialsGoThere() throws Exception {
    try (RegistryStub other = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"stolen\"]}"));
         RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"a\"]}",
             "Link", "<http://" + other.host() + "/v2/app/tags/list?last=a>; rel=\"next\""))) {
      assertThatThrownBy(() -> client(stub).plainHttp(other.host()).build()
          .listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("tag list page link http://" + other.host() + "/v2/app/tags/list leaves the registry");
      assertThat(other.seen()).isEmpty();
    }
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"a\"]}",
        "Link", "<https://" + ex.getRequestHeaders().getFirst("Host") + "/v2/app/tags/list?last=a>; rel=\"next\""))) {
      // the same host and port over another scheme is another origin too
      assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class).hasMessageContaining("leaves the registry");
    }
  }

  @Test
  void aPageLinkToAnotherRepositoryOfTheSameRegistryIsRefusedBeforeItIsAsked() throws Exception {
    // the same origin, but another repository's listing (or no listing at all): its tags are not team/web's
    for (String link : List.of("/v2/team/other/tags/list?last=a", "/v2/team/web/../other/tags/list?last=a",
        "/v2/team/web/manifests/latest", "/v2/team/web/tags/list/?last=a")) {
      try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"a\"]}",
          "Link", "<" + link + ">; rel=\"next\""))) {
        assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web")))
            .as(link)
            .isInstanceOf(RegistryException.class)
            .hasMessageContaining("registry " + stub.host() + ", repository team/web: tag list page link http://"
                + stub.host() + link.substring(0, link.contains("?") ? link.indexOf('?') : link.length())
                + " is not this repository's tag list (/v2/team/web/tags/list)");
        assertThat(stub.seen()).as(link).hasSize(1);
      }
    }
  }

  @Test
  void namesThatAreNoValidTagAreSkippedAndCountedNeverChosen() throws Exception {
    String tooLong = "a".repeat(129);
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"1.0\",\"zz x\",\"zz\\u2028evil: 1\","
        + "\"-lead\",\".dot\",\"zz/../../v2\",\"" + tooLong + "\",\"a_ok-1.2\"]}"))) {
      RegistryClient.TagList list = client(stub).build().listTags(ImageReference.parse(stub.host() + "/app"));
      assertThat(list.tags()).containsExactly("1.0", "a_ok-1.2");
      assertThat(list.excluded()).isEqualTo(6);
    }
  }

  @Test
  void aBacktrackingExclusionIsAnErrorNamingThePatternNotAHang() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"1.0\",\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-\"]}"))) {
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
          assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/app"), List.of("(.*a){12}$")))
              .isInstanceOf(RegistryException.class)
              .hasMessageContaining("exclusion pattern '(.*a){12}$' takes too long on tag 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-'"));
    }
  }

  @Test
  void retriesA429AfterTheDelayRetryAfterAsks() throws Exception {
    AtomicInteger n = new AtomicInteger();
    try (RegistryStub stub = RegistryStub.start(ex -> {
      if (n.getAndIncrement() == 0) {
        reply(ex, 429, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}", "Retry-After", "1");
      } else {
        reply(ex, 200, "{\"tags\":[\"1.0\"]}");
      }
    })) {
      RegistryClient.TagList list = client(stub).build().listTags(ImageReference.parse(stub.host() + "/app"));

      assertThat(list.tags()).containsExactly("1.0");
      List<RegistryStub.Seen> seen = stub.seen();
      assertThat(seen).hasSize(2);
      // the client's own backoff is 10-50 ms here: only Retry-After explains a second's wait
      assertThat(Duration.ofNanos(seen.get(1).nanos() - seen.get(0).nanos())).isGreaterThanOrEqualTo(Duration.ofMillis(950));
    }
  }

  @Test
  void gives5xxABoundedNumberOfAttemptsAndNamesTheStatus() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 503, "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"maintenance\"}]}"))) {
      assertThatThrownBy(() -> client(stub).maxAttempts(3).build().listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("registry " + stub.host())
          .hasMessageContaining("repository app")
          .hasMessageContaining("503 3 times")
          .hasMessageContaining("maintenance")
          .satisfies(e -> assertThat(((RegistryException) e).status()).isEqualTo(503));
      assertThat(stub.seen()).hasSize(3);
    }
  }

  @Test
  void aRetryAfterBeyondTheLimitFailsAtOnce() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 503, null, "Retry-After", "3600"))) {
      assertThatThrownBy(() -> client(stub).maxRetryAfter(Duration.ofSeconds(5)).build()
          .listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("retry after 3600 s, more than the 5 s allowed");
      assertThat(stub.seen()).hasSize(1);
    }
  }

  @Test
  void notFoundIsNotRetriedAndSaysWhat() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 404,
        "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"}]}"))) {
      assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/nope")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("404 (no such repository or tag)")
          .hasMessageContaining("NAME_UNKNOWN");
      assertThat(stub.seen()).hasSize(1);
    }
  }

  @Test
  void theRegistrysErrorTextIsOnePrintableBoundedLine() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 404,
        "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"gone\\n[main] INFO forged line\\u001b[2J"
            + "x".repeat(5000) + "\"}]}"))) {
      assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("(NAME_UNKNOWN: gone [main] INFO forged line\\u001b[2Jxxx")
          .hasMessageNotContaining("\n")
          .hasMessageNotContaining("\u001b")
          .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(600));
    }
  }

  @Test
  void answersABasicChallengeWithTheLoginFromADockerConfig() throws Exception {
    String good = "Basic " + Base64.getEncoder().encodeToString("robot:s3cret".getBytes(StandardCharsets.UTF_8));
    try (RegistryStub stub = RegistryStub.start(ex -> {
      if (good.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        reply(ex, 200, "{\"tags\":[\"1.0\"]}");
      } else {
        reply(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
            "WWW-Authenticate", "Basic realm=\"registry\"");
      }
    })) {
      Path config = tmp.resolve("config.json");
      Files.writeString(config, "{\"auths\":{\"http://" + stub.host() + "/v2/\":{\"auth\":\""
          + Base64.getEncoder().encodeToString("robot:s3cret".getBytes(StandardCharsets.UTF_8)) + "\"}}}");
      RegistryClient c = client(stub).credentials(RegistryCredentials.dockerConfig(config)).build();
      ImageReference img = ImageReference.parse(stub.host() + "/app");

      assertThat(c.listTags(img).tags()).containsExactly("1.0");
      assertThat(c.listTags(img).tags()).containsExactly("1.0");
      // the second listing sends the login up front: 401, retry, then one request
      assertThat(stub.seen()).hasSize(3);

      RegistryClient wrong = client(stub).credentials(RegistryCredentials.basic(stub.host(), "robot", "wrong-pw")).build();
      assertThatThrownBy(() -> wrong.listTags(img))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("refused the login of user 'robot'")
          .hasMessageNotContaining("wrong-pw");
      assertThatThrownBy(() -> client(stub).build().listTags(img))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("needs credentials and none are configured for " + stub.host());
    }
  }

  @Test
  void aRedirectToAnotherHostDoesNotCarryTheLogin() throws Exception {
    String good = "Basic " + Base64.getEncoder().encodeToString("robot:s3cret".getBytes(StandardCharsets.UTF_8));
    try (RegistryStub other = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"2.0\"]}"));
         RegistryStub stub = RegistryStub.start(ex -> {
           if (!good.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
             reply(ex, 401, null, "WWW-Authenticate", "Basic realm=\"registry\"");
           } else if (ex.getRequestURI().getRawQuery() == null) {
             reply(ex, 307, null, "Location", ex.getRequestURI().getRawPath() + "?moved=1");  // same origin
           } else {
             reply(ex, 307, null, "Location", "http://" + other.host() + ex.getRequestURI().getRawPath());
           }
         })) {
      RegistryClient c = client(stub).plainHttp(other.host())
          .credentials(RegistryCredentials.basic(stub.host(), "robot", "s3cret")).build();

      assertThat(c.listTags(ImageReference.parse(stub.host() + "/app")).tags()).containsExactly("2.0");
      assertThat(stub.seen()).extracting(RegistryStub.Seen::uri)
          .containsExactly("/v2/app/tags/list", "/v2/app/tags/list", "/v2/app/tags/list?moved=1");
      assertThat(other.seen()).hasSize(1);
      assertThat(other.seen().get(0).header("Authorization")).isNull();
    }
  }

  @Test
  void aRedirectToAHostNotAllowedPlainHttpIsRefusedWithoutItsQuery() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 302, null, "Location",
        "http://127.0.0.2:9/x?X-Amz-Signature=abc"))) {
      assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("redirected to http://127.0.0.2:9/x, which is not HTTPS and not allowed plain HTTP")
          .hasMessageNotContaining("X-Amz-Signature");
      assertThat(stub.seen()).hasSize(1);
    }
  }

  @Test
  void bearerTokensAreCachedPerRegistryAndScopeUntilTheyExpire() throws Exception {
    TestCertificate signer = TestCertificate.create(tmp, "tokens");
    try (TokenServer tokens = TokenServer.start(signer, "robot", "s3cret", 300);
         RegistryStub stub = RegistryStub.start(ex -> {
           String auth = ex.getRequestHeaders().getFirst("Authorization");
           if (auth != null && auth.startsWith("Bearer ey")) {
             reply(ex, 200, "{\"tags\":[\"1.0\"]}");
           } else {
             String repo = ex.getRequestURI().getPath().replaceFirst("^/v2/(.*)/tags/list$", "$1");
             reply(ex, 401, null, "WWW-Authenticate", "Bearer realm=\"" + tokens.realm() + "\","
                 + "service=\"stub\",scope=\"repository:" + repo + ":pull\"");
           }
         })) {
      MutableClock clock = new MutableClock();
      RegistryClient c = client(stub).plainHttp(tokens.authority())
          .credentials(RegistryCredentials.basic(stub.host(), "robot", "s3cret")).clock(clock).build();
      ImageReference web = ImageReference.parse(stub.host() + "/team/web");
      ImageReference api = ImageReference.parse(stub.host() + "/team/api");

      c.listTags(web);
      c.listTags(web);
      c.listTags(api);
      assertThat(tokens.requests()).hasSize(2);
      assertThat(tokens.requests().get(0).scopes()).containsExactly("repository:team/web:pull");
      assertThat(tokens.requests().get(0).service()).isEqualTo("stub");
      assertThat(tokens.requests().get(0).authorization()).startsWith("Basic ");

      clock.advance(Duration.ofSeconds(280));  // inside the lifetime less its margin: still cached
      c.listTags(web);
      assertThat(tokens.requests()).hasSize(2);
      clock.advance(Duration.ofSeconds(30));   // past it: a new token
      c.listTags(web);
      assertThat(tokens.requests()).hasSize(3);

      RegistryClient wrong = client(stub).plainHttp(tokens.authority())
          .credentials(RegistryCredentials.basic(stub.host(), "robot", "nope")).build();
      assertThatThrownBy(() -> wrong.listTags(web))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("token endpoint " + tokens.realm() + " answered 401 for user 'robot'")
          .hasMessageNotContaining("nope");

      RegistryClient noPlainRealm = client(stub).credentials(RegistryCredentials.basic(stub.host(), "robot", "s3cret")).build();
      assertThatThrownBy(() -> noPlainRealm.listTags(web))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("is not HTTPS and its host is not allowed plain HTTP");
    }
  }

  @Test
  void aLoginGoesOnlyToATokenRealmOfTheRegistrysOwnDomain() throws Exception {
    TestCertificate signer = TestCertificate.create(tmp, "tokens");
    try (TokenServer tokens = TokenServer.start(signer, "robot", "s3cret", 300)) {
      // the same server named by another host: "localhost" is not the registry's 127.0.0.1
      String elsewhere = "localhost:" + tokens.authority().substring(tokens.authority().indexOf(':') + 1);
      try (RegistryStub stub = RegistryStub.start(ex -> {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null && auth.startsWith("Bearer ey")) {
          reply(ex, 200, "{\"tags\":[\"1.0\"]}");
        } else {
          reply(ex, 401, null, "WWW-Authenticate", "Bearer realm=\"http://" + elsewhere + "/token\",service=\"stub\"");
        }
      })) {
        ImageReference web = ImageReference.parse(stub.host() + "/team/web");
        RegistryClient registryLoginOnly = client(stub).plainHttp(elsewhere)
            .credentials(RegistryCredentials.basic(stub.host(), "robot", "s3cret")).build();
        assertThatThrownBy(() -> registryLoginOnly.listTags(web))
            .isInstanceOf(RegistryException.class)
            .hasMessageContaining("token realm http://" + elsewhere + "/token is on host localhost, outside the domain of"
                + " registry " + stub.host() + ", so its login (user 'robot') is not sent there")
            .hasMessageContaining("an auths entry for " + elsewhere)
            .hasMessageNotContaining("s3cret");
        assertThat(tokens.requests()).isEmpty();

        // a login configured for the realm's host is that host's own: it is sent there
        RegistryClient both = client(stub).plainHttp(elsewhere)
            .credentials(RegistryCredentials.basic(stub.host(), "robot", "wrong")
                .or(RegistryCredentials.basic(elsewhere, "robot", "s3cret"))).build();
        assertThat(both.listTags(web).tags()).containsExactly("1.0");
        assertThat(tokens.requests()).hasSize(1);
      }
    }
    assertThat(RegistryClient.sameDomain("auth.docker.io", ImageReference.DOCKER_HUB)).isTrue();
    assertThat(RegistryClient.sameDomain("gitlab.com", "registry.gitlab.com")).isTrue();
    assertThat(RegistryClient.sameDomain("auth.example.com", "registry.example.com:5000")).isTrue();
    assertThat(RegistryClient.sameDomain("ghcr.io", "ghcr.io")).isTrue();
    assertThat(RegistryClient.sameDomain("token.ghcr.io", "ghcr.io")).isTrue();
    assertThat(RegistryClient.sameDomain("evil.io", "ghcr.io")).isFalse();
    assertThat(RegistryClient.sameDomain("auth.example.net", "registry.example.com")).isFalse();
    assertThat(RegistryClient.sameDomain("example.com.evil.net", "registry.example.com")).isFalse();
    assertThat(RegistryClient.sameDomain("10.0.0.6", "10.0.0.5:5000")).isFalse();
    assertThat(RegistryClient.sameDomain("0.5", "10.0.0.5")).isFalse();
    assertThat(RegistryClient.sameDomain("127.0.0.1", "127.0.0.1:5000")).isTrue();
  }

  @Test
  void aSiblingHostUnderADomainSharedByManyPartiesIsNotTheRegistrysDomain() {
    // no public suffix list: a hosting or cloud domain's hosts are each another party's, as are a country's co.uk ones
    assertThat(RegistryClient.sameDomain("b.github.io", "a.github.io")).isFalse();
    assertThat(RegistryClient.sameDomain("github.io", "a.github.io")).isFalse();
    assertThat(RegistryClient.sameDomain("evil.azurecr.io", "mine.azurecr.io")).isFalse();
    assertThat(RegistryClient.sameDomain("evil.jfrog.io", "acme.jfrog.io")).isFalse();
    assertThat(RegistryClient.sameDomain("456.dkr.ecr.us-east-1.amazonaws.com", "123.dkr.ecr.us-east-1.amazonaws.com"))
        .isFalse();
    assertThat(RegistryClient.sameDomain("evil.co.uk", "acme.co.uk")).isFalse();
    assertThat(RegistryClient.sameDomain("evil.com.au", "acme.com.au:5000")).isFalse();
    // the registry's own host, and hosts under it, stay its own; so does a parent of its own under such a domain
    assertThat(RegistryClient.sameDomain("mine.azurecr.io", "mine.azurecr.io")).isTrue();
    assertThat(RegistryClient.sameDomain("auth.acme.jfrog.io", "acme.jfrog.io")).isTrue();
    assertThat(RegistryClient.sameDomain("auth.acme.co.uk", "registry.acme.co.uk")).isTrue();
    assertThat(RegistryClient.sameDomain("auth.docker.io", "registry-1.docker.io")).isTrue();
  }

  @Test
  void digestComesFromTheHeaderElseFromTheHashOfTheManifest() throws Exception {
    String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}";
    String headerDigest = "sha256:" + "ab".repeat(32);
    try (RegistryStub stub = RegistryStub.start(ex -> {
      if (ex.getRequestURI().getPath().endsWith("/with-header")) {
        reply(ex, 200, manifest, "Docker-Content-Digest", headerDigest);
      } else {
        reply(ex, 200, manifest);
      }
    })) {
      RegistryClient c = client(stub).build();
      ImageReference img = ImageReference.parse(stub.host() + "/app");

      assertThat(c.digest(img, "with-header")).isEqualTo(headerDigest);
      assertThat(c.digest(img, "no-header")).isEqualTo(RegistryClient.sha256(manifest.getBytes(StandardCharsets.UTF_8)));
      List<RegistryStub.Seen> seen = stub.seen();
      assertThat(seen).extracting(RegistryStub.Seen::method).containsExactly("HEAD", "HEAD", "GET");
      assertThat(seen.get(0).header("Accept")).contains(
          "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.docker.distribution.manifest.list.v2+json",
          "application/vnd.docker.distribution.manifest.v2+json");
    }
  }

  @Test
  void aHeaderDigestThatIsNotAValidDigestIsNotTrustedTheManifestIsHashed() throws Exception {
    String manifest = "{\"schemaVersion\":2}";
    // upper-case hex, too short, an unregistered algorithm: none is what a reference may pin
    for (String bad : new String[] {"sha256:" + "AB".repeat(32), "sha256:" + "ab".repeat(16), "md5:" + "ab".repeat(16)}) {
      try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, manifest, "Docker-Content-Digest", bad))) {
        String d = client(stub).build().digest(ImageReference.parse(stub.host() + "/app"), "v1");
        assertThat(d).as(bad).isEqualTo(RegistryClient.sha256(manifest.getBytes(StandardCharsets.UTF_8)));
        assertThat(ImageReference.isDigest(d)).isTrue();
      }
    }
  }

  @Test
  void plainHttpIsUsedOnlyForRegistriesAllowedIt() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[]}"))) {
      RegistryClient tlsOnly = RegistryClient.builder().maxAttempts(1).requestTimeout(Duration.ofSeconds(1)).build();
      assertThatThrownBy(() -> tlsOnly.listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("https://" + stub.host());
      assertThat(client(stub).build().listTags(ImageReference.parse(stub.host() + "/app")).tags()).isEmpty();
    }
  }

  @Test
  void plainHttpForTheHostWithoutItsPortSaysToListHostAndPort() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[]}"))) {
      RegistryClient c = RegistryClient.builder().plainHttp("127.0.0.1").maxAttempts(4)
          .requestTimeout(Duration.ofMillis(500)).backoff(Duration.ofSeconds(2), Duration.ofSeconds(2)).build();
      long start = System.nanoTime();
      assertThatThrownBy(() -> c.listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("plain HTTP is allowed for '127.0.0.1' but not for '" + stub.host() + "'")
          .hasMessageContaining("list the registry as host:port");
      // not retried: a setting to fix
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }
  }

  @Test
  void aRegistryAnsweringHttpsInPlainHttpFailsAtOnceNamingHowToAllowIt() throws Exception {
    // a plain HTTP server answers the TLS client hello with "400 Bad Request": JSSE's "Unrecognized SSL
    // message, plaintext connection?", the same at every attempt
    AtomicInteger connections = new AtomicInteger();
    try (java.net.ServerSocket server = new java.net.ServerSocket(0, 16, java.net.InetAddress.getLoopbackAddress())) {
      Thread answering = new Thread(() -> {
        for (int i = 0; i < 20 && !server.isClosed(); i++) {  // bounded: a retrying client makes at most a few
          try (java.net.Socket s = server.accept()) {
            connections.incrementAndGet();
            s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
          } catch (java.io.IOException closed) {
            return;
          }
        }
      }, "plain-http-registry");
      answering.setDaemon(true);
      answering.start();
      String host = "127.0.0.1:" + server.getLocalPort();
      RegistryClient c = RegistryClient.builder().maxAttempts(4).requestTimeout(Duration.ofSeconds(5))
          .backoff(Duration.ofMillis(10), Duration.ofMillis(20)).build();
      assertThatThrownBy(() -> c.listTags(ImageReference.parse(host + "/team/web")))
          .isInstanceOf(RegistryException.class)
          // the JDK client reports JSSE's "Unrecognized SSL message" itself, or as the cause of an IOException
          // ("header parser received no bytes") when the server's answer and close race the handshake
          .hasMessageContaining("GET https://" + host + "/v2/team/web/tags/list failed (")
          .hasMessageContaining(host + " answers in plain HTTP, not TLS")
          .hasMessageContaining("'insecure: true' in the spec of its Flux ImageRepository")
          .hasMessageContaining("'--plain-http " + host + "'")
          .hasMessageNotContaining("attempts");
      // one attempt of the client's four; the JDK's client may itself open a second connection for a GET
      // whose answer it could not read (it retries an idempotent request once)
      assertThat(connections.get()).as("connections: not retried").isBetween(1, 2);
    }
  }

  @Test
  void aSlowRegistryTimesOut() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> {
      try {
        Thread.sleep(3000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      reply(ex, 200, "{\"tags\":[]}");
    })) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> client(stub).maxAttempts(2).requestTimeout(Duration.ofMillis(200)).build()
          .listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("HttpTimeoutException")
          .hasMessageContaining("after 2 attempts");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }
  }

  @Test
  void aRegistryThatStallsMidBodyTimesOut() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> {
      ex.sendResponseHeaders(200, 1000);
      ex.getResponseBody().write("{\"tags\":[".getBytes(StandardCharsets.UTF_8));
      ex.getResponseBody().flush();
      try {
        Thread.sleep(10_000);  // the rest of the promised 1000 bytes never comes
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    })) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> client(stub).maxAttempts(2).requestTimeout(Duration.ofMillis(300)).build()
          .listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("HttpTimeoutException")
          .hasMessageContaining("after 2 attempts");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void aListingTimeoutEndsAStalledPageAStalledTokenFetchAndARetryWaitNotOnlyTheGapsBetweenPages() throws Exception {
    Duration timeout = Duration.ofMillis(300);
    for (String where : List.of("first page", "second page", "token", "retry")) {
      CountDownLatch release = new CountDownLatch(1);
      RegistryStub stub = RegistryStub.start(ex -> {
        String path = ex.getRequestURI().getPath();
        boolean nextPage = ex.getRequestURI().getRawQuery() != null;
        if (where.equals("token") && path.equals("/token")) {
          stall(release);
          reply(ex, 200, "{\"token\":\"tok\"}");
        } else if (where.equals("token") && !"Bearer tok".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
          reply(ex, 401, null, "WWW-Authenticate",
              "Bearer realm=\"http://" + ex.getRequestHeaders().getFirst("Host") + "/token\",service=\"s\"");
        } else if (where.equals("retry")) {
          reply(ex, 503, null, "Retry-After", "5");
        } else if (where.equals("second page") && !nextPage) {
          reply(ex, 200, "{\"tags\":[\"1.0\"]}", "Link", "</v2/team/web/tags/list?last=1.0>; rel=\"next\"");
        } else {
          stall(release);
          reply(ex, 200, "{\"tags\":[\"2.0\"]}");
        }
      });
      try {
        String at = "http://" + stub.host();
        String pending = switch (where) {
          case "first page" -> "0 pages, 0 tags so far; GET " + at + "/v2/team/web/tags/list had no complete answer";
          case "second page" -> "1 pages, 1 tags so far; GET " + at + "/v2/team/web/tags/list had no complete answer";
          case "token" -> "0 pages, 0 tags so far; GET " + at + "/token had no complete answer";
          default -> "0 pages, 0 tags so far; GET " + at + "/v2/team/web/tags/list answered 503, and its retry in 5000 ms"
              + " would come after that";
        };
        long start = System.nanoTime();
        assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web"),
            RegistryClient.DEFAULT_EXCLUSIONS, timeout))
            .as(where)
            .isInstanceOfSatisfying(RegistryTimeoutException.class, e -> assertThat(e.timeout()).isEqualTo(timeout))
            .hasMessage("registry " + stub.host() + ", repository team/web: listing the tags took longer than 300 ms ("
                + pending + "); refusing to read more");
        // the stall is 10 s and the retry's wait 5 s: the listing ended at its own timeout, long before either
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as(where).isLessThan(Duration.ofSeconds(4));
      } finally {
        release.countDown();
        stub.close();
      }
    }
  }

  @Test
  void aDigestReadWithATimeoutEndsAStalledHeadAStalledGetAStalledTokenFetchAndARetryWait() throws Exception {
    Duration timeout = Duration.ofMillis(300);
    for (String where : List.of("head", "get", "token", "retry")) {
      CountDownLatch release = new CountDownLatch(1);
      RegistryStub stub = RegistryStub.start(ex -> {
        boolean head = ex.getRequestMethod().equals("HEAD");
        if (where.equals("token") && ex.getRequestURI().getPath().equals("/token")) {
          stall(release);
          reply(ex, 200, "{\"token\":\"tok\"}");
        } else if (where.equals("token") && !"Bearer tok".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
          reply(ex, 401, null, "WWW-Authenticate",
              "Bearer realm=\"http://" + ex.getRequestHeaders().getFirst("Host") + "/token\",service=\"s\"");
        } else if (where.equals("retry")) {
          reply(ex, 503, null, "Retry-After", "5");
        } else if (where.equals("get") && head) {
          reply(ex, 200, null);  // no Docker-Content-Digest: the manifest is read with GET and hashed
        } else {
          stall(release);
          reply(ex, 200, "{}", "Docker-Content-Digest", "sha256:" + "a".repeat(64));
        }
      });
      try {
        String manifest = "http://" + stub.host() + "/v2/team/web/manifests/latest";
        String pending = switch (where) {
          case "head" -> "HEAD " + manifest + " had no complete answer";
          case "get" -> "GET " + manifest + " had no complete answer";
          case "token" -> "GET http://" + stub.host() + "/token had no complete answer";
          default -> "HEAD " + manifest + " answered 503, and its retry in 5000 ms would come after that";
        };
        long start = System.nanoTime();
        assertThatThrownBy(() -> client(stub).build().digest(ImageReference.parse(stub.host() + "/team/web"),
            "latest", timeout))
            .as(where)
            .isInstanceOfSatisfying(RegistryTimeoutException.class, e -> assertThat(e.timeout()).isEqualTo(timeout))
            .hasMessage("registry " + stub.host() + ", repository team/web: reading the digest of tag 'latest' took"
                + " longer than 300 ms (" + pending + "); refusing to read more");
        // the stall is 10 s, the retry's wait 5 s and the request timeout 30 s: the read ended at its own timeout
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as(where).isLessThan(Duration.ofSeconds(4));
      } finally {
        release.countDown();
        stub.close();
      }
    }
  }

  /** Holds a request until the test releases it, 10 s at most. */
  private static void stall(CountDownLatch release) {
    try {
      release.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();  // the stub is closing: answer at once
    }
  }

  /** A stub whose {@code /token} answers {@code tokenAnswer} and whose registry takes the bearer token {@code tok}. */
  private static RegistryStub tokenStub(String tokenAnswer) throws Exception {
    return RegistryStub.start(ex -> {
      if (ex.getRequestURI().getPath().equals("/token")) {
        reply(ex, 200, tokenAnswer);
      } else if ("Bearer tok".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        reply(ex, 200, "{\"tags\":[\"1.0\"]}");
      } else {
        reply(ex, 401, null, "WWW-Authenticate",
            "Bearer realm=\"http://" + ex.getRequestHeaders().getFirst("Host") + "/token\",service=\"s\"");
      }
    });
  }

  @Test
  void aTokenLifetimeOfAgesIsKeptADayNotAnOverflowOfTheCache() throws Exception {
    for (String expires : List.of("9223372036854775807", "1e30", "10000000000000000")) {
      try (RegistryStub stub = tokenStub("{\"token\":\"tok\",\"expires_in\":" + expires + "}")) {
        MutableClock clock = new MutableClock();
        RegistryClient c = client(stub).clock(clock).build();
        ImageReference web = ImageReference.parse(stub.host() + "/team/web");
        assertThat(c.listTags(web).tags()).as(expires).containsExactly("1.0");
        c.listTags(web);
        assertThat(stub.seen().stream().filter(s -> s.uri().startsWith("/token")).count()).isEqualTo(1);
        clock.advance(Duration.ofDays(1));  // kept a day at most
        c.listTags(web);
        assertThat(stub.seen().stream().filter(s -> s.uri().startsWith("/token")).count()).isEqualTo(2);
      }
    }
  }

  @Test
  void aTokenThatCannotGoInAHeaderIsARegistryErrorThatNeverShowsIt() throws Exception {
    for (String token : List.of("s3cret\\nX-Injected: 1", "s3cret token", "s3cr\\u00e9t")) {
      try (RegistryStub stub = tokenStub("{\"token\":\"" + token + "\"}")) {
        assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web")))
            .as(token)
            .isInstanceOf(RegistryException.class)
            .hasMessageContaining("token endpoint http://" + stub.host() + "/token answered a token that cannot be sent")
            .hasMessageNotContaining("s3c");
        assertThat(stub.seen()).hasSize(2);  // the registry, the realm: the token is sent nowhere
      }
    }
  }

  @Test
  void aTokenAnswerIsReadAsDockerReadsItTheAccessTokenFirstAnEmptyTokenBesideIt() throws Exception {
    // Docker's client takes access_token when it is there, else token; an empty "token" beside the access
    // token was read as no token at all
    for (String answer : List.of("{\"token\":\"\",\"access_token\":\"tok\"}", "{\"access_token\":\"tok\"}",
        "{\"token\":\"other\",\"access_token\":\"tok\"}", "{\"token\":\"tok\",\"access_token\":\"\"}")) {
      try (RegistryStub stub = tokenStub(answer)) {
        assertThat(client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web")).tags())
            .as(answer).containsExactly("1.0");
      }
    }
  }

  @Test
  void anAnswerThatIsNoJsonNamesTheUrlThatSentItAndWhereOnOneLine() throws Exception {
    RegistryStub.Handler html = ex -> {
      byte[] page = "<html>\n<body>Service Unavailable</body></html>".getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "text/html");
      ex.sendResponseHeaders(200, page.length);
      ex.getResponseBody().write(page);
    };
    try (RegistryStub realm = RegistryStub.start(html);
         RegistryStub stub = RegistryStub.start(ex -> reply(ex, 401, null, "WWW-Authenticate",
             "Bearer realm=\"http://" + realm.host() + "/token\",service=\"s\""))) {
      // the token realm is another host than the registry: the message names it, not only its path
      assertThatThrownBy(() -> client(stub).plainHttp(realm.host()).build()
          .listTags(ImageReference.parse(stub.host() + "/team/web")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("registry " + stub.host() + ", repository team/web: token answer from http://"
              + realm.host() + "/token (Content-Type text/html) is not JSON at line 1, column 1: Unexpected character")
          .hasMessageNotContaining("[Source:")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
    try (RegistryStub stub = RegistryStub.start(html)) {
      assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("tag list from http://" + stub.host() + "/v2/team/web/tags/list (Content-Type text/html)"
              + " is not JSON at line 1, column 1")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
  }

  @Test
  void aBearerChallengeWithBlanksAroundItsEqualsSignsIsReadAndOneWithoutARealmIsNamedAsSent() throws Exception {
    // RFC 7235: auth-param = token BWS "=" BWS value; 'realm = "..."' was read as a challenge of its own
    try (RegistryStub stub = RegistryStub.start(ex -> {
      if (ex.getRequestURI().getPath().equals("/token")) {
        reply(ex, 200, "{\"token\":\"tok\"}");
      } else if ("Bearer tok".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        reply(ex, 200, "{\"tags\":[\"1.0\"]}");
      } else {
        reply(ex, 401, null, "WWW-Authenticate", "Bearer realm = \"http://" + ex.getRequestHeaders().getFirst("Host")
            + "/token\" ,\tservice\t=\"s\"");
      }
    })) {
      assertThat(client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web")).tags())
          .containsExactly("1.0");
      assertThat(stub.seen().get(1).uri()).isEqualTo("/token?service=s&scope=repository%3Ateam%2Fweb%3Apull");
    }
    for (String challenge : List.of("Bearer realm=\"\",service=\"s\"", "Bearer error=\"invalid_token\"")) {
      try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 401, null, "WWW-Authenticate", challenge))) {
        assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web")))
            .as(challenge)
            .isInstanceOf(RegistryException.class)
            .hasMessageContaining("registry " + stub.host() + ", repository team/web: GET /v2/team/web/tags/list"
                + " answered 401 with a Bearer challenge that names no realm to ask for a token: WWW-Authenticate '"
                + challenge + "'");
        assertThat(stub.seen()).hasSize(1);
      }
    }
  }

  @Test
  void aPageLinkThatIsNoUrlIsARegistryErrorNamingTheLinkHeader() throws Exception {
    for (String link : List.of("</v2/team/web/tags/list?last=a b>; rel=\"next\"", "<http://[::1>; rel=next")) {
      try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 200, "{\"tags\":[\"1.0\"]}", "Link", link))) {
        assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web")))
            .as(link)
            .isInstanceOf(RegistryException.class)
            .hasMessageContaining("repository team/web: tag list page link in the Link header of /v2/team/web/tags/list"
                + " is not a URL");
      }
    }
  }

  @Test
  void aTokenRealmWithoutAHostIsNamed() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 401, null, "WWW-Authenticate",
        "Bearer realm=\"https:///token\",service=\"s\""))) {
      assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/team/web")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("token realm 'https:///token' names no host");
      assertThat(stub.seen()).hasSize(1);
    }
  }

  @Test
  void aRetryAfterOfMoreDigitsThanAnIntIsBeyondTheLimitNotIgnored() throws Exception {
    try (RegistryStub stub = RegistryStub.start(ex -> reply(ex, 429, null, "Retry-After", "99999999999999999999"))) {
      assertThatThrownBy(() -> client(stub).build().listTags(ImageReference.parse(stub.host() + "/app")))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("asks to retry after")
          .hasMessageContaining("more than the 60 s allowed");
      assertThat(stub.seen()).hasSize(1);
    }
  }

  /** A clock tests move by hand. */
  static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
