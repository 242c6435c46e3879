package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.gitops.core.source.TestGitRepo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gitops images update} against a loopback registry stub and a local bare repository. */
class ImagesCommandTest {

  @TempDir
  Path tmp;
  HttpServer registry;
  String host;
  Path bare;
  TestGitRepo seed;
  Path policies;

  @BeforeEach
  void start() throws Exception {
    registry = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
    registry.createContext("/v2/team/web/tags/list", ex -> {
      byte[] body = "{\"name\":\"team/web\",\"tags\":[\"v1.2.4\",\"v1.2.3\",\"v2.0.0\"]}".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    registry.start();
    host = "127.0.0.1:" + registry.getAddress().getPort();
    seed = TestGitRepo.init(tmp.resolve("seed"));
    seed.write("apps/web.yaml", "image: " + host + "/team/web:v1.2.3 # {\"$imagepolicy\": \"apps:web\"}\n").commit("seed");
    bare = tmp.resolve("cluster.git");
    seed.git("clone", "-q", "--bare", seed.dir().toString(), bare.toString());
    policies = Files.writeString(tmp.resolve("images.yaml"), """
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImageRepository
        metadata: {name: web, namespace: apps}
        spec: {image: %s/team/web, insecure: true}
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImagePolicy
        metadata: {name: web, namespace: apps}
        spec:
          imageRepositoryRef: {name: web}
          policy: {semver: {range: ^1.2}}
        """.formatted(host));
  }

  @AfterEach
  void stop() {
    registry.stop(0);
  }

  private int run(StringWriter out, StringWriter err, String... args) {
    return Main.commandLine(new GitopsCommand(), new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void theGitTimeoutEndsAnUpdateAgainstARepositoryThatNeverAnswers() throws Exception {
    try (dev.gitops.core.source.SilentServer silent = dev.gitops.core.source.SilentServer.start()) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = run(out, err, "images", "update", "--repo", "git://127.0.0.1:" + silent.port() + "/cluster.git",
          "--policies", policies.toString(), "--git-timeout", "1s");
      assertThat(code).as(err.toString()).isEqualTo(ExitCodes.ERROR);
      assertThat(err.toString()).contains("timed out");
      assertThat(silent.connections()).isPositive();
    }
    StringWriter err = new StringWriter();
    assertThat(run(new StringWriter(), err, "images", "update", "--repo", bare.toString(), "--policies",
        policies.toString(), "--git-timeout", "soon")).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("--git-timeout").contains("positive duration");
  }

  @Test
  void previewsThenCommitsAndPushes() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int preview = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString());
    assertThat(preview).as(err.toString()).isEqualTo(ExitCodes.PENDING);
    assertThat(out.toString()).contains("apps/web.yaml:1 image: " + host + "/team/web:v1.2.3 -> " + host
        + "/team/web:v1.2.4 (apps:web)").contains("run with --push");
    String before = seed.git("--git-dir", bare.toString(), "rev-parse", "main").trim();

    out = new StringWriter();
    int pushed = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(), "--push",
        "--author", "Bot", "--author-email", "bot@example.com");
    assertThat(pushed).as(err.toString()).isEqualTo(ExitCodes.OK);
    String after = seed.git("--git-dir", bare.toString(), "rev-parse", "main").trim();
    assertThat(after).isNotEqualTo(before);
    assertThat(out.toString()).contains("Pushed " + after + " to main.");
    assertThat(seed.git("--git-dir", bare.toString(), "show", "main:apps/web.yaml"))
        .isEqualTo("image: " + host + "/team/web:v1.2.4 # {\"$imagepolicy\": \"apps:web\"}\n");
    assertThat(seed.git("--git-dir", bare.toString(), "log", "-1", "--format=%an", "main").trim()).isEqualTo("Bot");
  }

  @Test
  void aPathIsNormalisedAndAPathMatchingNothingIsAnErrorNamingTheFlag() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int dotted = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(),
        "--path", "./apps/");
    assertThat(dotted).as(err.toString()).isEqualTo(ExitCodes.PENDING);
    assertThat(out.toString()).contains("apps/web.yaml:1 image: ");

    out = new StringWriter();
    err = new StringWriter();
    int missing = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(),
        "--path", "nosuchdir");
    assertThat(missing).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("--path 'nosuchdir' matches nothing in the repository")
        .contains("path 'nosuchdir' is not in branch main");
    assertThat(out.toString()).doesNotContain("up to date");
  }

  @Test
  void aBranchThatIsNotInTheRepositoryIsAnErrorNamingTheFlag() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(),
        "--branch", "nope");
    assertThat(code).as(err.toString()).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("--branch 'nope' names no branch of --repo: ")
        .contains(": branch nope does not exist");
    assertThat(out.toString()).isEmpty();

    err = new StringWriter();
    assertThat(run(new StringWriter(), err, "images", "update", "--repo", bare.toString(), "--policies",
        policies.toString(), "--branch", "nope", "--push-branch", "bot/images", "--push")).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("--branch 'nope' (nor --push-branch 'bot/images') names no branch of --repo: ");
  }

  @Test
  void aUtf16FileIsAWarningWithoutAMarkerAndAnUnusableFileWithOne() throws Exception {
    seed.write("apps/notes.yaml", "\ufeffnote: plain\n".getBytes(StandardCharsets.UTF_16LE)).commit("utf-16");
    seed.git("push", "-q", bare.toString(), "HEAD:main");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString());
    assertThat(code).as(err.toString()).isEqualTo(ExitCodes.PENDING);  // no marker is lost: no failure
    assertThat(err.toString()).isEqualTo("gitops: warning: apps/notes.yaml: UTF-16LE text (it starts with a byte"
        + " order mark), not UTF-8 (iconv -f UTF-16LE -t UTF-8 converts it); it mentions no $imagepolicy in its encoding"
        + " and is not read for markers (markers are only read in UTF-8 files)\n");

    seed.write("apps/api.yaml", ("\ufeffimage: " + host + "/team/web:v1.0.0 # {\"$imagepolicy\": \"apps:web\"}\n")
        .getBytes(StandardCharsets.UTF_16LE)).commit("a marker in utf-16");
    seed.git("push", "-q", bare.toString(), "HEAD:main");
    err = new StringWriter();
    assertThat(run(new StringWriter(), err, "images", "update", "--repo", bare.toString(), "--policies",
        policies.toString(), "--push")).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("gitops: apps/api.yaml: UTF-16LE text (it starts with a byte order mark),"
        + " not UTF-8").contains("1 unusable marker(s) or file(s)");
  }

  @Test
  void anImageRepositoryFieldThisToolDoesNotActOnIsWarnedAboutOnceNamingItsLine() throws Exception {
    Files.writeString(policies, Files.readString(policies).replace("insecure: true}",
        "insecure: true, secretRef: {name: regcred}}"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString());
    assertThat(code).as(err.toString()).isEqualTo(ExitCodes.PENDING);
    assertThat(err.toString()).isEqualTo("gitops: warning: policy file " + policies + ", ImageRepository apps:web:"
        + " spec.secretRef (line 4) is not supported and is ignored: no Kubernetes Secret is read; the login comes"
        + " from a Docker config.json (RegistryCredentials.dockerConfig, the CLI's --docker-config), else none\n");
    assertThat(out.toString()).contains("apps/web.yaml:1 image: ");
  }

  @Test
  void aFailedPolicyIsNeverReportedUpToDate() throws Exception {
    Files.writeString(policies, Files.readString(policies).replace("range: ^1.2", "range: ^9"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(), "--push");
    assertThat(code).isEqualTo(ExitCodes.ERROR);
    assertThat(out.toString()).doesNotContain("up to date");
    assertThat(err.toString()).contains("gitops: image policy apps:web: no tag of")
        .contains("images not brought up to date: 1 policy failure(s)");
  }

  @Test
  void aMarkerNamingNoPolicyOfTheFileIsWarnedAboutAndLeftAsItIs() throws Exception {
    seed.write("apps/api.yaml", "image: " + host + "/team/web:v1.0.0 # {\"$imagepolicy\": \"apps:wbe\"}\n")
        .commit("a typo");
    seed.git("push", "-q", bare.toString(), "HEAD:main");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString());
    assertThat(code).as(err.toString()).isEqualTo(ExitCodes.PENDING);  // what Flux does with it: nothing, so no failure
    assertThat(err.toString()).contains("gitops: warning: apps/api.yaml:1 apps:wbe: the marker names no policy of"
        + " --policies " + policies + "; left as it is");
    assertThat(out.toString()).contains("apps/web.yaml:1 image: ").doesNotContain("apps/api.yaml");

    // a marker of a policy that failed is said with the failure, not again as unknown
    Files.writeString(policies, Files.readString(policies).replace("range: ^1.2", "range: ^9"));
    seed.write("apps/api.yaml", "image: " + host + "/team/web:v1.0.0 # {\"$imagepolicy\": \"apps:web\"}\n")
        .commit("fixed");
    seed.git("push", "-q", bare.toString(), "HEAD:main");
    err = new StringWriter();
    assertThat(run(new StringWriter(), err, "images", "update", "--repo", bare.toString(), "--policies",
        policies.toString())).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("gitops: image policy apps:web: no tag of").doesNotContain("warning");
  }

  @Test
  void aMarkerWhosePolicyNameHoldsASpaceIsNamedWholeNeverByItsLastWord() throws Exception {
    // the policy fails (^9 fits no tag); "x apps:web" names no policy, though its last word names the failed one
    Files.writeString(policies, Files.readString(policies).replace("range: ^1.2", "range: ^9"));
    seed.write("apps/api.yaml", "image: " + host + "/team/web:v1.0.0 # {\"$imagepolicy\": \"x apps:web\"}\n")
        .commit("a marker naming 'x apps:web'");
    seed.git("push", "-q", bare.toString(), "HEAD:main");
    StringWriter err = new StringWriter();
    assertThat(run(new StringWriter(), err, "images", "update", "--repo", bare.toString(), "--policies",
        policies.toString())).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("gitops: image policy apps:web: no tag of")
        .contains("gitops: warning: apps/api.yaml:1 x apps:web: the marker names no policy of --policies " + policies
            + "; left as it is");

    // a policy without metadata.namespace is flux-system:web; the hint names the marker's file, line and whole setter
    Path flux = Files.writeString(tmp.resolve("flux-system.yaml"), Files.readString(policies)
        .replace("range: ^9", "range: ^1.2").replace("metadata: {name: web, namespace: apps}", "metadata: {name: web}"));
    seed.write("apps/api.yaml", "image: " + host + "/team/web:v1.0.0\n")
        .write("apps/web.yaml", "image: " + host + "/team/web:v1.2.3 # {\"$imagepolicy\": \"my apps:web\"}\n")
        .commit("a marker naming 'my apps:web'");
    seed.git("push", "-q", bare.toString(), "HEAD:main");
    err = new StringWriter();
    assertThat(run(new StringWriter(), err, "images", "update", "--repo", bare.toString(), "--policies",
        flux.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
    assertThat(err.toString()).contains("; apps/web.yaml:1 names my apps:web: the policy's namespace is flux-system"
        + " (its metadata.namespace; flux-system when it has none)");
  }

  @Test
  void aSuspendedImageRepositoryIsNotScannedItsMarkersStayAndItIsSaid() throws Exception {
    // flux suspend image repository web: Flux scans nothing, so nothing newer is written
    Files.writeString(policies, Files.readString(policies).replace("insecure: true}", "insecure: true, suspend: true}"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(), "--push");
    assertThat(code).as(err.toString()).isEqualTo(ExitCodes.OK);
    assertThat(err.toString()).isEqualTo("gitops: warning: image policy apps:web is suspended (ImageRepository apps:web"
        + " says spec.suspend: true (line 4)): not scanned, its markers are left as they are\n");
    assertThat(out.toString()).isEqualTo("Every image policy of --policies " + policies
        + " is suspended: no image was checked.\n");
    assertThat(seed.git("--git-dir", bare.toString(), "show", "main:apps/web.yaml")).contains("/team/web:v1.2.3 #");
  }

  @Test
  void aPolicyNoMarkerNamesIsSaidNamingTheFormMarkersMustUseAndNothingIsCalledUpToDate() throws Exception {
    // no metadata.namespace: the policy is flux-system:web, while the marker names apps:web
    Path flux = Files.writeString(tmp.resolve("flux-system.yaml"), Files.readString(policies)
        .replace("metadata: {name: web, namespace: apps}", "metadata: {name: web}"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", flux.toString(),
        "--path", "apps", "--push");
    assertThat(code).as(err.toString()).isEqualTo(ExitCodes.OK);  // as a marker naming no policy: no failure
    assertThat(err.toString()).contains("gitops: warning: image policy flux-system:web of --policies " + flux
        + ": no marker under --path 'apps' names it, so it set nothing; a marker names it as # {\"$imagepolicy\": "
        + "\"flux-system:web\"} (or with :tag, :name, :digest); apps/web.yaml:1 names apps:web: the policy's namespace"
        + " is flux-system (its metadata.namespace; flux-system when it has none)");
    assertThat(out.toString()).doesNotContain("up to date")
        .contains("No marker under --path 'apps' names a policy of --policies " + flux + ": no image was checked.");

    // one policy marked and brought up to date, another that no marker names: only the first is said up to date
    Files.writeString(policies, Files.readString(policies) + """
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImagePolicy
        metadata: {name: web-next, namespace: apps}
        spec:
          imageRepositoryRef: {name: web}
          policy: {semver: {range: ^2}}
        """);
    out = new StringWriter();
    err = new StringWriter();
    assertThat(run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(), "--push"))
        .as(err.toString()).isEqualTo(ExitCodes.OK);
    assertThat(out.toString()).contains("Pushed ");
    assertThat(err.toString()).contains("gitops: warning: image policy apps:web-next of --policies " + policies
        + ": no marker in the repository names it, so it set nothing; a marker names it as # {\"$imagepolicy\": "
        + "\"apps:web-next\"} (or with :tag, :name, :digest)\n");
    out = new StringWriter();
    err = new StringWriter();
    assertThat(run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(), "--push"))
        .as(err.toString()).isEqualTo(ExitCodes.OK);
    assertThat(out.toString()).contains("Images are up to date for the 1 policy(ies) markers name; 1 policy(ies) no"
        + " marker names set nothing (warned above).").doesNotContain("Images are up to date.");
    assertThat(err.toString()).contains("image policy apps:web-next").doesNotContain("image policy apps:web ");
  }

  @Test
  void badFlagValuesNameTheFlag() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertThat(run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(),
        "--push-branch", "a..b")).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("--push-branch: push branch 'a..b' is not a valid branch name");
    assertThat(run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(),
        "--docker-config", tmp.resolve("no-config.json").toString())).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("--docker-config " + tmp.resolve("no-config.json") + " does not exist");
    assertThat(run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(),
        "--ca-file", tmp.resolve("no-ca.pem").toString())).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("--ca-file " + tmp.resolve("no-ca.pem") + " does not exist");
    assertThat(run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(),
        "--message", "images ${nope}")).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("gitops: --message: message template: unknown placeholder ${nope}");
    assertThat(run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(),
        "--author", " ")).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("gitops: --author: author name must not be empty");
    assertThat(run(out, err, "images", "update", "--repo", " ", "--policies", policies.toString()))
        .isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("gitops: --repo: the repository's URL or path is empty");
    assertThat(run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString(),
        "--author-email", "bot@example.com\nCommitter: someone <s@example.com>")).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("gitops: --author-email: author email 'bot@example.com\\nCommitter: someone"
        + " <s@example.com>' holds a line break");
  }

  @Test
  void aMissingPolicyFileIsNamed() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", tmp.resolve("nope.yaml").toString());
    assertThat(code).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("--policies " + tmp.resolve("nope.yaml") + " does not exist");
  }

  @Test
  void aHandWrittenNewerTagIsKeptAndSaidNeverDowngradedAndIsNoFailure() throws Exception {
    // v1.3.0 is in no registry listing: written by hand, above v1.2.4, the best ^1.2 finds
    seed.write("apps/web.yaml", "image: " + host + "/team/web:v1.3.0 # {\"$imagepolicy\": \"apps:web\"}\n").commit("pin");
    Path newer = tmp.resolve("newer.git");
    seed.git("clone", "-q", "--bare", seed.dir().toString(), newer.toString());
    String before = seed.git("--git-dir", newer.toString(), "rev-parse", "main").trim();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", newer.toString(), "--policies", policies.toString(), "--push");
    assertThat(code).as(err.toString()).isEqualTo(ExitCodes.OK);
    assertThat(out.toString()).contains("Not downgraded: apps/web.yaml:1 image (apps:web): " + host
        + "/team/web:v1.3.0 kept, not changed to " + host + "/team/web:v1.2.4: v1.3.0 ranks above v1.2.4")
        .contains("Images are up to date (1 marked value(s) newer than their policy allows kept as they are).");
    assertThat(seed.git("--git-dir", newer.toString(), "rev-parse", "main").trim()).isEqualTo(before);
  }

  @Test
  void oneFailedPolicyExitsOneNamingItWhileTheOthersAreStillWritten() throws Exception {
    seed.write("apps/api.yaml", "image: " + host + "/team/api:v1.0.0 # {\"$imagepolicy\": \"apps:api\"}\n").commit("api");
    Path two = tmp.resolve("two.git");
    seed.git("clone", "-q", "--bare", seed.dir().toString(), two.toString());
    Files.writeString(policies, Files.readString(policies) + """
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImageRepository
        metadata: {name: api, namespace: apps}
        spec: {image: %s/team/api, insecure: true}
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImagePolicy
        metadata: {name: api, namespace: apps}
        spec:
          imageRepositoryRef: {name: api}
          policy: {semver: {range: ^1}}
        """.formatted(host));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", two.toString(), "--policies", policies.toString(), "--push");
    assertThat(code).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("gitops: image policy apps:api: registry " + host + ", repository team/api: GET "
        + "/v2/team/api/tags/list answered 404").contains("images not brought up to date: 1 policy failure(s)");
    assertThat(seed.git("--git-dir", two.toString(), "show", "main:apps/web.yaml")).contains("/team/web:v1.2.4");
  }

  @Test
  void aPolicyFilePatternRe2RefusesExitsOneNamingTheFileAndLine() throws Exception {
    Files.writeString(policies, Files.readString(policies).replace("policy: {semver: {range: ^1.2}}",
        "filterTags: {pattern: '^v(?=1)'}\n  policy: {semver: {range: ^1.2}}"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = run(out, err, "images", "update", "--repo", bare.toString(), "--policies", policies.toString());
    assertThat(code).isEqualTo(ExitCodes.ERROR);
    assertThat(err.toString()).contains("gitops: policy file " + policies + ", ImagePolicy apps:web: "
        + "spec.filterTags.pattern (line 11): tag filter pattern '^v(?=1)' is not a valid RE2 regular expression");
  }

  @Test
  void aTokenInTheRepoUrlIsNeverPrintedWhateverGitFails() throws Exception {
    String token = "ghp_Cq81LmX7vR4sB1nK8dZ0cW5yH3jA6uEz";
    Path served = tmp.resolve("served/cluster.git");
    seed.git("clone", "-q", "--bare", bare.toString(), served.toString());
    seed.git("-C", served.toString(), "config", "http.receivepack", "true");
    // a hook that quotes what it was given: the server's words are printed, the token is not
    Path hook = served.resolve("hooks/pre-receive");
    Files.createDirectories(hook.getParent());
    Files.writeString(hook, "#!/bin/sh\necho 'token " + token + " may not push to main' >&2\nexit 1\n");
    assertThat(hook.toFile().setExecutable(true)).isTrue();
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    try (dev.gitops.core.source.GitHttpServer http = dev.gitops.core.source.GitHttpServer.start(tmp.resolve("served"))) {
      String[][] cases = {
          {"https://x-access-token:" + token + "@127.0.0.1:" + closed + "/r.git", "cannot list branches"},
          {"https://" + token + "@127.0.0.1:" + closed + "/r.git", "cannot list branches"},
          {http.url("missing.git").replace("http://", "http://" + token + "@"), "cannot list branches"},
          {http.url("cluster.git").replace("http://", "http://x-access-token:" + token + "@"),
              "push to main refused: REJECTED_OTHER_REASON"},
          {http.url("cluster.git").replace("http://", "http://" + token + "@"), "may not push to main"}};
      for (String[] c : cases) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = run(out, err, "images", "update", "--repo", c[0], "--policies", policies.toString(), "--push",
            "--verbose");
        assertThat(code).as(c[0] + "\n" + err).isEqualTo(ExitCodes.ERROR);
        assertThat(err.toString()).as(c[0]).contains("gitops: ").contains(c[1]).contains("***@")
            .contains("\tat ");  // --verbose: the stack trace, whose every message is scrubbed too
        assertThat(out + "\n" + err).as(c[0]).doesNotContain(token);
      }
    }
  }
}
