package dev.gitops.images.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FluxPoliciesTest {

  @TempDir
  Path tmp;

  static final String FILE = """
      apiVersion: image.toolkit.fluxcd.io/v1beta2
      kind: ImageRepository
      metadata: {name: web, namespace: apps}
      spec:
        image: 127.0.0.1:5000/team/web
        interval: 5m
        insecure: true
        exclusionList: ["^.*\\\\.sig$", "-debug$"]
      ---
      apiVersion: image.toolkit.fluxcd.io/v1beta2
      kind: ImagePolicy
      metadata: {name: web, namespace: apps}
      spec:
        imageRepositoryRef: {name: web}
        policy:
          semver: {range: ">=1.0.0 <2.0.0"}
      ---
      apiVersion: image.toolkit.fluxcd.io/v1beta2
      kind: ImagePolicy
      metadata: {name: nightly, namespace: apps}
      spec:
        imageRepositoryRef: {name: web}
        filterTags: {pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts'}
        policy:
          numerical: {order: asc}
        digestReflectionPolicy: Always
      ---
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: unrelated}
      """;

  @Test
  void aPolicyNamingTwoKindsIsRefusedNamingTheFileThePolicyAndTheLine() throws Exception {
    Path f = Files.writeString(tmp.resolve("images.yaml"), FILE.replace("    numerical: {order: asc}\n",
        "    numerical: {order: asc}\n    alphabetical: {order: desc}\n"));
    assertThatThrownBy(() -> FluxPolicies.read(f)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("policy file " + f + ", ImagePolicy apps:nightly: spec.policy (line 25) names alphabetical and"
            + " numerical; it takes exactly one of semver, alphabetical, numerical");
  }

  @Test
  void aSuspendedPolicyOrRepositoryIsLeftOutAndSaidWithItsLine() throws Exception {
    Path repoSuspended = Files.writeString(tmp.resolve("repo.yaml"), FILE.replace("  interval: 5m\n",
        "  interval: 5m\n  suspend: true\n"));
    FluxPolicies r = FluxPolicies.read(repoSuspended);
    assertThat(r.policies()).isEmpty();
    assertThat(r.suspended()).containsExactly(
        java.util.Map.entry("apps:web", "ImageRepository apps:web says spec.suspend: true (line 7)"),
        java.util.Map.entry("apps:nightly", "ImageRepository apps:web says spec.suspend: true (line 7)"));

    Path policySuspended = Files.writeString(tmp.resolve("policy.yaml"), FILE.replace(
        "  digestReflectionPolicy: Always\n", "  digestReflectionPolicy: Always\n  suspend: true\n"));
    FluxPolicies p = FluxPolicies.read(policySuspended);
    assertThat(p.policies()).extracting(ImagePolicy::name).containsExactly("apps:web");
    assertThat(p.suspended()).containsExactly(
        java.util.Map.entry("apps:nightly", "ImagePolicy apps:nightly says spec.suspend: true (line 27)"));
    // a mistake in a suspended policy is still one
    Path bad = Files.writeString(tmp.resolve("bad.yaml"), FILE.replace("  interval: 5m\n",
        "  interval: 5m\n  suspend: true\n").replace(">=1.0.0 <2.0.0", ">=1.0.0 <<2.0.0"));
    assertThatThrownBy(() -> FluxPolicies.read(bad)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ImagePolicy apps:web");
  }

  @Test
  void repositoryFieldsThisToolDoesNotActOnAreEachSaidWithTheirLineAndTheScanGoesOn() throws Exception {
    Path f = Files.writeString(tmp.resolve("images.yaml"), FILE.replace("  interval: 5m\n", """
          interval: 5m
          timeout: 30s
          secretRef: {name: regcred}
          certSecretRef: {name: ca}
          provider: aws
          serviceAccountName: puller
          proxySecretRef: {name: proxy}
        """) + """
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImageRepository
        metadata: {name: plain, namespace: apps}
        spec: {image: 127.0.0.1:5000/team/plain, provider: generic, timeout: null}
        """);
    FluxPolicies flux = FluxPolicies.read(f);
    assertThat(flux.policies()).hasSize(2);
    String at = "policy file " + f + ", ImageRepository apps:web: spec.";
    // spec.timeout is acted on (ImagePolicy.listTimeout), so it is not among them
    assertThat(flux.unsupported()).containsExactly(
        at + "secretRef (line 8) is not supported and is ignored: no Kubernetes Secret is read; the login comes from a"
            + " Docker config.json (RegistryCredentials.dockerConfig, the CLI's --docker-config), else none",
        at + "serviceAccountName (line 11) is not supported and is ignored: no Kubernetes service account's image pull"
            + " secrets are read; the login comes from a Docker config.json (RegistryCredentials.dockerConfig, the"
            + " CLI's --docker-config), else none",
        at + "certSecretRef (line 9) is not supported and is ignored: no Kubernetes Secret is read; extra CA"
            + " certificates come from RegistryClient.Builder.trustCertificates (the CLI's --ca-file), besides the JDK's",
        at + "proxySecretRef (line 12) is not supported and is ignored: no proxy is set; the registry is asked directly",
        at + "provider (line 10) is not supported and is ignored: no cloud provider login (aws, azure, gcp) is made; the"
            + " login comes from a Docker config.json (the CLI's --docker-config), else none");
    assertThat(FluxPolicies.read(Files.writeString(tmp.resolve("plain.yaml"), FILE)).unsupported()).isEmpty();
  }

  @Test
  void anImageRepositorysTimeoutBoundsItsPoliciesListingsAndSaysWhereItWasSet() throws Exception {
    Path f = Files.writeString(tmp.resolve("images.yaml"), FILE.replace("  interval: 5m\n",
        "  interval: 5m\n  timeout: 1m30s\n") + """
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImageRepository
        metadata: {name: quick, namespace: apps}
        spec: {image: 127.0.0.1:5000/team/quick, timeout: 500ms}
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImagePolicy
        metadata: {name: quick, namespace: apps}
        spec:
          imageRepositoryRef: {name: quick}
          policy: {semver: {range: "*"}}
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImageRepository
        metadata: {name: plain, namespace: apps}
        spec: {image: 127.0.0.1:5000/team/plain}
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImagePolicy
        metadata: {name: plain, namespace: apps}
        spec:
          imageRepositoryRef: {name: plain}
          policy: {semver: {range: "*"}}
        """);
    FluxPolicies flux = FluxPolicies.read(f);
    assertThat(flux.unsupported()).isEmpty();
    java.util.Map<String, ImagePolicy> byName = new java.util.HashMap<>();
    flux.policies().forEach(p -> byName.put(p.name(), p));
    String web = "spec.timeout of ImageRepository apps:web (policy file " + f + ", line 7)";
    for (String name : List.of("apps:web", "apps:nightly")) {
      assertThat(byName.get(name).listTimeout()).as(name).contains(java.time.Duration.ofSeconds(90));
      assertThat(byName.get(name).listTimeoutSource()).as(name).isEqualTo(web);
    }
    // Flux's GetTimeout takes less than a second as one second
    assertThat(byName.get("apps:quick").listTimeout()).contains(java.time.Duration.ofSeconds(1));
    assertThat(byName.get("apps:quick").listTimeoutSource())
        .isEqualTo("spec.timeout of ImageRepository apps:quick (policy file " + f + ", line 36)");
    // none: the registry client's own listing timeout
    assertThat(byName.get("apps:plain").listTimeout()).isEmpty();
    assertThat(byName.get("apps:plain").listTimeoutSource()).isEmpty();
  }

  @Test
  void withoutATimeoutTheIntervalBoundsTheReadsAsFluxTakesItAndAnIntervalThatIsNoDurationIsRefused() throws Exception {
    // Flux's GetTimeout: spec.timeout when set, else spec.interval; here web has only interval: 5m
    Path f = Files.writeString(tmp.resolve("images.yaml"), FILE);
    for (ImagePolicy p : FluxPolicies.read(f).policies()) {
      assertThat(p.listTimeout()).as(p.name()).contains(java.time.Duration.ofMinutes(5));
      assertThat(p.listTimeoutSource()).as(p.name()).isEqualTo("spec.interval of ImageRepository apps:web (policy file "
          + f + ", line 6; Flux's timeout when spec.timeout is not set)");
    }
    // a timeout wins over the interval, wherever it stands
    Path both = Files.writeString(tmp.resolve("both.yaml"), FILE.replace("  interval: 5m\n",
        "  timeout: 2m\n  interval: 5m\n"));
    assertThat(FluxPolicies.read(both).policies()).allSatisfy(p -> {
      assertThat(p.listTimeout()).contains(java.time.Duration.ofMinutes(2));
      assertThat(p.listTimeoutSource()).startsWith("spec.timeout of ImageRepository apps:web (policy file " + both
          + ", line 6)");
    });
    Path bad = Files.writeString(tmp.resolve("bad.yaml"), FILE.replace("  interval: 5m\n", "  interval: -5m\n"));
    assertThatThrownBy(() -> FluxPolicies.read(bad)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("policy file " + bad + ", ImageRepository apps:web: spec.interval (line 6) must not be negative, not"
            + " '-5m': it is how often Flux scans the repository, and bounds how long reading it may take without"
            + " spec.timeout (zero and anything under 1 s are taken as 1 s)");
    Path word = Files.writeString(tmp.resolve("word.yaml"), FILE.replace("  interval: 5m\n", "  interval: hourly\n"));
    assertThatThrownBy(() -> FluxPolicies.read(word)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("policy file " + word + ", ImageRepository apps:web: spec.interval (line 6): 'hourly'"
            + " is not a duration");
  }

  @Test
  void aZeroTimeoutIsTakenAsOneSecondAsFluxsGetTimeoutTakesIt() throws Exception {
    // Flux's CRD admits 0s (^([0-9]+(\.[0-9]+)?(ms|s|m))+$) and GetTimeout raises anything under 1 s to 1 s
    for (String zero : List.of("0s", "\"0\"", "0ms", "0m0s", "0.0s")) {
      Path f = Files.writeString(tmp.resolve("zero.yaml"), FILE.replace("  interval: 5m\n",
          "  interval: 5m\n  timeout: " + zero + "\n"));
      FluxPolicies flux = FluxPolicies.read(f);
      for (ImagePolicy p : flux.policies()) {
        assertThat(p.listTimeout()).as(zero + " " + p.name()).contains(java.time.Duration.ofSeconds(1));
        assertThat(p.listTimeoutSource()).as(zero + " " + p.name())
            .isEqualTo("spec.timeout of ImageRepository apps:web (policy file " + f + ", line 7)");
      }
      assertThat(flux.policies()).as(zero).extracting(ImagePolicy::name).containsExactly("apps:web", "apps:nightly");
    }
  }

  @Test
  void aTimeoutThatIsNoGoDurationOrIsNegativeIsRefusedNamingTheFileTheRepositoryTheFieldAndTheLine() throws Exception {
    java.util.Map<String, String> cases = java.util.Map.of(
        "abc", ": 'abc' is not a duration (a number is expected at 'abc')",
        "-5s", " must not be negative, not '-5s'",
        "-0.5ms", " must not be negative, not '-0.5ms'",
        "5d", ": '5d' is not a duration (unknown unit 'd')",
        "30", " must be a string, a duration such as 60s or 1m30s, not the number 30",
        "{seconds: 30}", " must be a string, a duration such as 60s or 1m30s, not a mapping");
    // a repository no policy names is checked all the same: its mistake is in the file
    String unused = """
        ---
        apiVersion: image.toolkit.fluxcd.io/v1beta2
        kind: ImageRepository
        metadata: {name: unused, namespace: apps}
        spec:
          image: 127.0.0.1:5000/team/unused
          timeout: %s
        """;
    for (var c : cases.entrySet()) {
      Path f = Files.writeString(tmp.resolve("bad.yaml"), FILE.replace("  interval: 5m\n",
          "  interval: 5m\n  timeout: " + c.getKey() + "\n"));
      assertThatThrownBy(() -> FluxPolicies.read(f)).as(c.getKey()).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("policy file " + f + ", ImageRepository apps:web: spec.timeout (line 7)" + c.getValue());
      Path g = Files.writeString(tmp.resolve("unused.yaml"), FILE + unused.formatted(c.getKey()));
      assertThatThrownBy(() -> FluxPolicies.read(g)).as(c.getKey()).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("policy file " + g + ", ImageRepository apps:unused: spec.timeout (line 37)"
              + c.getValue());
    }
  }

  @Test
  void readsFluxImageRepositoriesAndPolicies() throws Exception {
    Path f = Files.writeString(tmp.resolve("images.yaml"), FILE);
    FluxPolicies flux = FluxPolicies.read(f);

    assertThat(flux.policies()).extracting(ImagePolicy::name).containsExactly("apps:web", "apps:nightly");
    assertThat(flux.plainHttp()).containsExactly("127.0.0.1:5000");
    ImagePolicy web = flux.policies().get(0);
    assertThat(web.image().name()).isEqualTo("127.0.0.1:5000/team/web");
    assertThat(web.exclusions()).containsExactly("^.*\\.sig$", "-debug$");
    assertThat(web.followDigest()).isFalse();
    assertThat(web.select(List.of("v1.2.3", "v1.9.0", "v2.0.0")).tag()).contains("v1.9.0");
    ImagePolicy nightly = flux.policies().get(1);
    assertThat(nightly.followDigest()).isTrue();
    assertThat(nightly.select(List.of("main-abc-100", "main-def-99", "v1.0.0")).tag()).contains("main-abc-100");
  }

  @Test
  void mistakesNameTheFileThePolicyAndTheLine() throws Exception {
    Path f = Files.writeString(tmp.resolve("bad.yaml"), FILE.replace("imageRepositoryRef: {name: web}\n  policy:\n    semver",
        "imageRepositoryRef: {name: api}\n  policy:\n    semver"));
    assertThatThrownBy(() -> FluxPolicies.read(f))
        .hasMessage("policy file " + f + ", ImagePolicy apps:web: spec.imageRepositoryRef (line 14) names ImageRepository"
            + " apps:api, which the file does not hold");
    Path g = Files.writeString(tmp.resolve("order.yaml"), FILE.replace("order: asc", "order: up"));
    assertThatThrownBy(() -> FluxPolicies.read(g)).hasMessage("policy file " + g + ", ImagePolicy apps:nightly: "
        + "spec.policy.numerical.order (line 25): order 'up' must be asc or desc");
    Path none = Files.writeString(tmp.resolve("none.yaml"), FILE.replace("  policy:\n    numerical: {order: asc}\n", ""));
    assertThatThrownBy(() -> FluxPolicies.read(none)).hasMessage("policy file " + none + ", ImagePolicy apps:nightly: "
        + "spec.policy (line 22) needs one of semver, alphabetical, numerical");
    Path twice = Files.writeString(tmp.resolve("twice.yaml"), FILE.replace("name: nightly", "name: web"));
    assertThatThrownBy(() -> FluxPolicies.read(twice))
        .hasMessageContaining("policy file " + twice + ", ImagePolicy apps:web: a second ImagePolicy with this namespace and"
            + " name (line 18;");
    assertThatThrownBy(() -> FluxPolicies.read(tmp.resolve("nope.yaml"))).hasMessageContaining("nope.yaml does not exist");
    Path sometimes = Files.writeString(tmp.resolve("digest.yaml"),
        FILE.replace("digestReflectionPolicy: Always", "digestReflectionPolicy: Sometimes"));
    assertThatThrownBy(() -> FluxPolicies.read(sometimes)).hasMessageContaining("digest.yaml")
        .hasMessageContaining("ImagePolicy apps:nightly: spec.digestReflectionPolicy 'Sometimes' (line 26) must be Never,"
            + " IfNotPresent or Always");
    Path ifNotPresent = Files.writeString(tmp.resolve("ifnp.yaml"),
        FILE.replace("digestReflectionPolicy: Always", "digestReflectionPolicy: IfNotPresent"));
    assertThat(FluxPolicies.read(ifNotPresent).policies().get(1).followDigest()).isTrue();
  }

  @Test
  void aPolicyOrRepositoryWithoutANameIsAnErrorNamingTheFileAndLine() throws Exception {
    Path f = Files.writeString(tmp.resolve("nameless.yaml"),
        FILE.replace("metadata: {name: nightly, namespace: apps}", "metadata: {namespace: apps}"));
    assertThatThrownBy(() -> FluxPolicies.read(f)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("policy file " + f + ", ImagePolicy at line 18: metadata.name is missing");
    Path g = Files.writeString(tmp.resolve("listname.yaml"),
        FILE.replace("metadata: {name: nightly, namespace: apps}", "metadata: {name: [nightly], namespace: apps}"));
    assertThatThrownBy(() -> FluxPolicies.read(g))
        .hasMessage("policy file " + g + ", ImagePolicy at line 18: metadata.name must be a non-empty string, not a list");
    Path r = Files.writeString(tmp.resolve("repo.yaml"), FILE.replaceFirst("metadata: \\{name: web, namespace: apps}",
        "metadata: {namespace: apps}"));
    assertThatThrownBy(() -> FluxPolicies.read(r))
        .hasMessage("policy file " + r + ", ImageRepository at line 1: metadata.name is missing");
  }

  @Test
  void aPatternOrExclusionThatIsNotAStringIsAnErrorNamingTheFieldAndLine() throws Exception {
    String filter = "filterTags: {pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts'}";
    Path map = Files.writeString(tmp.resolve("map.yaml"), FILE.replace(filter, "filterTags: {pattern: {regex: '^main-'}}"));
    assertThatThrownBy(() -> FluxPolicies.read(map)).hasMessage("policy file " + map + ", ImagePolicy apps:nightly: "
        + "spec.filterTags.pattern must be a string (a regular expression), not a mapping (line 23)");
    Path number = Files.writeString(tmp.resolve("number.yaml"), FILE.replace(filter, "filterTags:\n    pattern: 5"));
    assertThatThrownBy(() -> FluxPolicies.read(number)).hasMessage("policy file " + number + ", ImagePolicy apps:nightly: "
        + "spec.filterTags.pattern must be a string (a regular expression), not the number 5 (line 24)");
    Path extract = Files.writeString(tmp.resolve("extract.yaml"), FILE.replace("extract: '$ts'", "extract: [ts]"));
    assertThatThrownBy(() -> FluxPolicies.read(extract)).hasMessageContaining("ImagePolicy apps:nightly: "
        + "spec.filterTags.extract must be a string (a template), not a list (line 23)");
    Path entry = Files.writeString(tmp.resolve("entry.yaml"),
        FILE.replace("exclusionList: [\"^.*\\\\.sig$\", \"-debug$\"]", "exclusionList:\n    - '-debug$'\n    - {sig: true}"));
    assertThatThrownBy(() -> FluxPolicies.read(entry)).hasMessage("policy file " + entry + ", ImagePolicy apps:web: "
        + "spec.exclusionList[1] of ImageRepository apps:web must be a string (a regular expression), not a mapping (line 10)");
    Path scalar = Files.writeString(tmp.resolve("scalar.yaml"),
        FILE.replace("exclusionList: [\"^.*\\\\.sig$\", \"-debug$\"]", "exclusionList: '-debug$'"));
    assertThatThrownBy(() -> FluxPolicies.read(scalar)).hasMessageContaining("ImagePolicy apps:web: "
        + "spec.exclusionList of ImageRepository apps:web must be a list of strings, not a string (line 8)");
  }

  @Test
  void whatRe2RefusesInAPatternOrExclusionIsAnErrorNamingTheFileAndLine() throws Exception {
    String filter = "filterTags: {pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts'}";
    Path ahead = Files.writeString(tmp.resolve("ahead.yaml"), FILE.replace(filter,
        "filterTags: {pattern: '^main-(?=[a-f0-9]+)', extract: '$ts'}"));
    assertThatThrownBy(() -> FluxPolicies.read(ahead)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("policy file " + ahead + ", ImagePolicy apps:nightly: spec.filterTags.pattern (line 23): "
            + "tag filter pattern '^main-(?=[a-f0-9]+)' is not a valid RE2 regular expression")
        .hasMessageContaining("lookahead `(?=`");
    Path count = Files.writeString(tmp.resolve("count.yaml"), FILE.replace(filter,
        "filterTags:\n    pattern: '^v[0-9]{1001}$'"));
    assertThatThrownBy(() -> FluxPolicies.read(count)).hasMessageContaining("spec.filterTags.pattern (line 24)")
        .hasMessageContaining("invalid repeat count `{1001}`");
    Path exclusion = Files.writeString(tmp.resolve("exclusion.yaml"),
        FILE.replace("exclusionList: [\"^.*\\\\.sig$\", \"-debug$\"]", "exclusionList:\n    - '-debug$'\n    - '-(rc)\\1$'"));
    assertThatThrownBy(() -> FluxPolicies.read(exclusion))
        .hasMessageStartingWith("policy file " + exclusion + ", ImagePolicy apps:web: spec.exclusionList[1] of "
            + "ImageRepository apps:web (line 10): exclusion pattern '-(rc)\\1$' is not a valid RE2 regular expression")
        .hasMessageContaining("backreference");
    // Go spellings Java lacks are read, not refused
    Path posix = Files.writeString(tmp.resolve("posix.yaml"), FILE.replace(filter,
        "filterTags: {pattern: '^main-[[:xdigit:]]+-(?P<ts>\\d+)\\z', extract: '$ts'}"));
    assertThat(FluxPolicies.read(posix).policies().get(1).select(List.of("main-abc-7", "main-xyz-9")).tag())
        .contains("main-abc-7");
  }

  @Test
  void anExtractTemplateNamingAGroupThePatternLacksIsAnErrorNamingTheFieldAndLine() throws Exception {
    // Flux expands $timestamp to nothing for every tag; here that policy is refused where it is written
    Path typo = Files.writeString(tmp.resolve("typo.yaml"), FILE.replace(
        "filterTags: {pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts'}",
        "filterTags:\n    pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$'\n    extract: '$timestamp'"));
    assertThatThrownBy(() -> FluxPolicies.read(typo)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("policy file " + typo + ", ImagePolicy apps:nightly: spec.filterTags.extract (line 25): "
            + "extract template '$timestamp' names group 'timestamp', which pattern '^main-[a-f0-9]+-(?P<ts>[0-9]+)$'"
            + " does not have (its groups: $1, $ts)");
  }

  @Test
  void aFileThatIsNotYamlIsNamedWithTheLineAndColumnOnOneLine() throws Exception {
    Path tab = Files.writeString(tmp.resolve("tab.yaml"), FILE.replace("  interval: 5m", "\tinterval: 5m"));
    assertThatThrownBy(() -> FluxPolicies.read(tab)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("policy file " + tab + " is not valid YAML at line 6, column 1: while scanning for the next token:"
            + " found character '\\t(TAB)' that cannot start any token. (Do not use \\t(TAB) for indentation)");
    Path open = Files.writeString(tmp.resolve("open.yaml"), FILE.replace("exclusionList: [\"^.*\\\\.sig$\", \"-debug$\"]",
        "exclusionList: [\"-debug$\""));
    assertThatThrownBy(() -> FluxPolicies.read(open))
        .hasMessageStartingWith("policy file " + open + " is not valid YAML at line 9, column 1: while parsing a flow"
            + " sequence: expected ',' or ']', but got")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("^"));
  }

  @Test
  void aRangeOrOrderThatIsNotAStringIsAnErrorNamingTheFieldAndLine() throws Exception {
    Path number = Files.writeString(tmp.resolve("range.yaml"), FILE.replace("semver: {range: \">=1.0.0 <2.0.0\"}",
        "semver: {range: 1.2}"));
    assertThatThrownBy(() -> FluxPolicies.read(number)).hasMessage("policy file " + number + ", ImagePolicy apps:web: "
        + "spec.policy.semver.range must be a string (a semver range such as '>=1.0.0 <2.0.0'), not the number 1.2 (line 16)");
    Path empty = Files.writeString(tmp.resolve("null.yaml"), FILE.replace("semver: {range: \">=1.0.0 <2.0.0\"}",
        "semver: {range: ~}"));
    assertThatThrownBy(() -> FluxPolicies.read(empty)).hasMessageContaining("spec.policy.semver.range must be a string")
        .hasMessageContaining("not null (line 16)");
    Path bad = Files.writeString(tmp.resolve("badrange.yaml"), FILE.replace("semver: {range: \">=1.0.0 <2.0.0\"}",
        "semver: {range: latest}"));
    assertThatThrownBy(() -> FluxPolicies.read(bad)).hasMessageContaining("ImagePolicy apps:web: spec.policy.semver.range"
        + " (line 16): 'latest' is not a semver range");
    Path order = Files.writeString(tmp.resolve("boolorder.yaml"), FILE.replace("order: asc", "order: true"));
    assertThatThrownBy(() -> FluxPolicies.read(order)).hasMessageContaining("ImagePolicy apps:nightly: "
        + "spec.policy.numerical.order must be a string (asc or desc), not the boolean true (line 25)");
    Path image = Files.writeString(tmp.resolve("image.yaml"), FILE.replace("image: 127.0.0.1:5000/team/web",
        "image: [127.0.0.1:5000/team/web]"));
    assertThatThrownBy(() -> FluxPolicies.read(image)).hasMessageContaining("ImageRepository apps:web: "
        + "spec.image must be a string (an image repository such as ghcr.io/org/app), not a list (line 5)");
  }
}
